//go:build wasip1

package guest

// The WebAssembly binding (abi/wasm.go). The host instantiates the reactor
// module, which runs the Go runtime's initialization and every init
// function, and then calls these exports. An instance is never called
// concurrently, so the state below needs no locking.

import (
	"context"
	"unsafe"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/sdk-guest/internal/abijson"
)

// maxAlloc bounds one codexhost_alloc; larger requests get 0.
const maxAlloc = 1 << 30

// keepResult bounds the capacity of the result buffer kept between calls.
const keepResult = 256 << 10

var (
	// pins keeps the buffers codexhost_alloc handed out alive (the Go GC
	// does not move objects), by their address, until codexhost_free.
	pins = map[uint32][]byte{}
	// last caches the most recent pinned buffer: the host reuses one input
	// buffer for call after call.
	lastPtr uint32
	lastBuf []byte
	// result holds the last result (status byte + payload) until the next
	// call, as the ABI requires; it is reused.
	result []byte
)

//go:wasmexport codexhost_abi_version
func wasmABIVersion() uint32 { return abi.Version }

//go:wasmexport codexhost_alloc
func wasmAlloc(size uint32) uint32 {
	if size > maxAlloc {
		return 0
	}
	b := make([]byte, max(size, 1))
	ptr := addr(b)
	pins[ptr] = b
	lastPtr, lastBuf = ptr, b
	return ptr
}

//go:wasmexport codexhost_free
func wasmFree(ptr uint32) {
	delete(pins, ptr)
	if ptr == lastPtr {
		lastPtr, lastBuf = 0, nil
	}
}

//go:wasmexport codexhost_describe
func wasmDescribe() uint64 {
	out := beginResult()
	b, err := std.describe(out)
	if err != nil {
		out[0] = byte(abi.StatusError)
		return endResult(abijson.AppendError(out, &abi.Error{Code: abi.CodeInternal, Message: "encode manifest: " + err.Error()}))
	}
	return endResult(b)
}

//go:wasmexport codexhost_configure
func wasmConfigure(ptr, size uint32) uint64 {
	out := beginResult()
	in, ok := input(ptr, size)
	if !ok {
		return endResult(badInput(out))
	}
	status, payload := std.configureCall(in)
	out[0] = byte(status)
	return endResult(append(out, payload...))
}

//go:wasmexport codexhost_handle
func wasmHandle(hook, ptr, size uint32) uint64 {
	out := beginResult()
	in, ok := input(ptr, size)
	if !ok {
		return endResult(badInput(out))
	}
	status, out := std.handle(context.Background(), abi.Hook(hook), in, out)
	out[0] = byte(status)
	return endResult(out)
}

// input returns the size bytes at ptr, which must lie in a buffer from
// codexhost_alloc. The slice aliases that buffer: it is valid during this
// call only.
func input(ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	if ptr == lastPtr && size <= uint32(len(lastBuf)) {
		return lastBuf[:size:size], true
	}
	for base, b := range pins {
		if ptr >= base && uint64(ptr-base)+uint64(size) <= uint64(len(b)) {
			off := ptr - base
			return b[off : off+size : off+size], true
		}
	}
	return nil, false
}

func badInput(out []byte) []byte {
	out[0] = byte(abi.StatusError)
	return abijson.AppendError(out, &abi.Error{Code: abi.CodeBadRequest, Message: "input is not inside a buffer from " + abi.ExportAlloc})
}

// beginResult returns the result buffer, emptied, with a status byte.
func beginResult() []byte {
	if cap(result) > keepResult {
		result = nil // let a huge earlier result go
	}
	return append(result[:0], byte(abi.StatusOK))
}

// endResult keeps out until the next call and packs its address and length.
func endResult(out []byte) uint64 {
	result = out
	return abi.PackResult(addr(out), uint32(len(out)))
}

// addr is the linear-memory offset of b's first byte.
func addr(b []byte) uint32 {
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

//go:wasmimport codexhost log
func wasmLog(level int32, ptr unsafe.Pointer, size uint32)

func hostLog(level abi.LogLevel, msg string) {
	wasmLog(int32(level), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
}

// serve does nothing: the runtime never calls main in a reactor module.
func serve() {}
