package wasm

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// The WASI functions a guest gets: wazero's, except where a length the
// guest chooses, up to its whole linear memory, sizes the work of one host
// call. The call deadline cannot interrupt a host function (wazero checks
// the context between guest instructions), so such a call could hold the
// host for seconds past the deadline, and some allocate what they read:
// with a memory limit raised to 4 GiB, one random_get of all of it ran
// seconds past the deadline (review, round 11), and every path_* function
// copies its path into a Go string, and cleans it into another, before it
// even looks at the descriptor.
//
//   - random_get fills the buffer in chunks of randomChunk bytes and stops
//     with EIO once the call's context is done; the guest is then closed
//     at its next instruction, as for any call that overruns.
//   - the functions of bounds refuse a length over its bound before
//     reading anything: more than maxIovecs buffers (Linux's IOV_MAX) or
//     maxPollSubscriptions subscriptions with EINVAL, a path over maxPath
//     bytes (PATH_MAX) with ENAMETOOLONG, a directory buffer over
//     maxReaddirBytes with EINVAL. Go's runtime writes one buffer at a
//     time, polls one clock and a subscription per waiting descriptor,
//     and reads directories 8 KiB at a time.
//   - fd_read and fd_pread read at most maxReadBytes in one call (a short
//     read, which both allow), and nothing once the call's context is
//     done: 1024 buffers may all name the whole memory, and a granted
//     directory may hold a sparse file of any size (review, round 13:
//     one call read for 33 s).
//   - descriptors stay below maxFD: fd_renumber to a higher number gets
//     EBADF (wazero's table grows to the number, 8 bytes each: 16 GiB in
//     one call), and a path_open that would return one is undone, with
//     EMFILE. Each open descriptor holds a host file and, for a directory,
//     what fd_readdir read of it; an instance lives as long as its calls
//     succeed.
//
// Everything they accept is served by wazero's own code.

const (
	randomChunk          = 64 << 10
	maxIovecs            = 1024
	maxPollSubscriptions = 1024
	maxPath              = 4096
	maxReaddirBytes      = 64 << 10
	maxReadBytes         = 1 << 20
	maxFD                = 64
	// WASI errno values (wasi_snapshot_preview1's errno enum).
	errnoBadF        = 8
	errnoInval       = 28
	errnoIO          = 29
	errnoMFile       = 33
	errnoNameTooLong = 37
)

// A bound limits the parameters named params of the WASI function fn.
type bound struct {
	fn     string
	params []string
	max    uint32
	errno  uint64
}

var bounds = []bound{
	{"fd_read", []string{"iovs_len"}, maxIovecs, errnoInval},
	{"fd_write", []string{"iovs_len"}, maxIovecs, errnoInval},
	{"fd_pread", []string{"iovs_len"}, maxIovecs, errnoInval},
	{"fd_pwrite", []string{"iovs_len"}, maxIovecs, errnoInval},
	{"sock_recv", []string{"ri_data_len"}, maxIovecs, errnoInval},
	{"sock_send", []string{"si_data_len"}, maxIovecs, errnoInval},
	{"poll_oneoff", []string{"nsubscriptions"}, maxPollSubscriptions, errnoInval},
	{"path_create_directory", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"path_filestat_get", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"path_filestat_set_times", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"path_link", []string{"old_path_len", "new_path_len"}, maxPath, errnoNameTooLong},
	{"path_open", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"path_readlink", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"path_remove_directory", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"path_rename", []string{"old_path_len", "new_path_len"}, maxPath, errnoNameTooLong},
	{"path_symlink", []string{"old_path_len", "new_path_len"}, maxPath, errnoNameTooLong},
	{"path_unlink_file", []string{"path_len"}, maxPath, errnoNameTooLong},
	{"fd_readdir", []string{"buf_len"}, maxReaddirBytes, errnoInval},
	{"fd_renumber", []string{"to"}, maxFD - 1, errnoBadF},
}

// instantiateWASI instantiates wasi_snapshot_preview1 into r with the
// bounded functions.
func instantiateWASI(ctx context.Context, r wazero.Runtime) error {
	fns, err := wazeroWASI(ctx, r)
	if err != nil {
		return err
	}
	b := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	export := func(name string, fn api.GoModuleFunction) {
		d := fns[name].def
		b.NewFunctionBuilder().
			WithGoModuleFunction(fn, d.ParamTypes(), d.ResultTypes()).
			WithParameterNames(d.ParamNames()...).WithResultNames(d.ResultNames()...).
			Export(name)
	}
	// The special wrappers below take parameters by position: check the
	// positions against wazero's names.
	for name, params := range map[string][]string{
		"path_open": {8: "result.opened_fd"},
		"fd_read":   {1: "iovs", 2: "iovs_len", 3: "result.nread"},
		"fd_pread":  {1: "iovs", 2: "iovs_len", 4: "result.nread"},
		"fd_close":  {0: "fd"},
	} {
		names := fns[name].def.ParamNames()
		for i, p := range params {
			if p != "" && (i >= len(names) || names[i] != p) {
				return fmt.Errorf("wazero's WASI %s has no parameter %s at position %d", name, p, i)
			}
		}
	}
	wrapped := map[string]api.GoModuleFunction{}
	for _, bd := range bounds {
		f := fns[bd.fn]
		fn, err := bd.wrap(f.fn, f.def)
		if err != nil {
			return err
		}
		wrapped[bd.fn] = fn
	}
	wrapped["random_get"] = boundedRandomGet(fns["random_get"].fn)
	wrapped["path_open"] = openBelowMaxFD(wrapped["path_open"], fns["fd_close"].fn)
	wrapped["fd_read"] = shortRead(wrapped["fd_read"], 3)   // result.nread
	wrapped["fd_pread"] = shortRead(wrapped["fd_pread"], 4) // after the offset
	for name, fn := range wrapped {
		export(name, fn)
	}
	_, err = b.Instantiate(ctx)
	return err
}

// A wasiFunc is one of wazero's WASI functions.
type wasiFunc struct {
	fn  api.GoModuleFunction
	def api.FunctionDefinition
}

// wazeroWASI returns wazero's own WASI functions, taken from a compiled
// copy of its module (never instantiated).
func wazeroWASI(ctx context.Context, r wazero.Runtime) (map[string]wasiFunc, error) {
	b := r.NewHostModuleBuilder(wasi_snapshot_preview1.ModuleName)
	wasi_snapshot_preview1.NewFunctionExporter().ExportFunctions(b)
	cm, err := b.Compile(ctx)
	if err != nil {
		return nil, err
	}
	defer cm.Close(ctx)
	fns := make(map[string]wasiFunc)
	for name, d := range cm.ExportedFunctions() {
		if fn, ok := d.GoFunction().(api.GoModuleFunction); ok {
			fns[name] = wasiFunc{fn, d}
		}
	}
	for _, name := range append([]string{"random_get", "fd_close"}, boundNames()...) {
		if fns[name].fn == nil {
			return nil, fmt.Errorf("wazero's WASI has no Go module function %s", name)
		}
	}
	return fns, nil
}

func boundNames() []string {
	names := make([]string, len(bounds))
	for i, bd := range bounds {
		names[i] = bd.fn
	}
	return names
}

// wrap returns orig refusing calls whose bounded parameters exceed the
// bound. The parameters are found by name in wazero's definition, so that
// a wazero whose signatures differ fails here, at start, not open.
func (bd bound) wrap(orig api.GoModuleFunction, d api.FunctionDefinition) (api.GoModuleFunction, error) {
	var idx []int
	for _, p := range bd.params {
		i := -1
		for j, n := range d.ParamNames() {
			if n == p {
				i = j
			}
		}
		if i < 0 || d.ParamTypes()[i] != api.ValueTypeI32 {
			return nil, fmt.Errorf("wazero's WASI %s has no i32 parameter %s", bd.fn, p)
		}
		idx = append(idx, i)
	}
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		for _, i := range idx {
			if uint32(stack[i]) > bd.max {
				stack[0] = bd.errno
				return
			}
		}
		orig.Call(ctx, mod, stack)
	}), nil
}

// boundedRandomGet calls random_get on at most randomChunk bytes at a
// time, and stops when ctx is done.
func boundedRandomGet(orig api.GoModuleFunction) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		buf, n := uint32(stack[0]), uint32(stack[1])
		for {
			chunk := min(n, randomChunk)
			stack[0], stack[1] = uint64(buf), uint64(chunk)
			orig.Call(ctx, mod, stack)
			if stack[0] != 0 || n == chunk {
				return // an error (EFAULT, EIO), or done
			}
			buf, n = buf+chunk, n-chunk
			if ctx.Err() != nil {
				stack[0] = errnoIO
				return
			}
		}
	})
}

// openBelowMaxFD undoes a path_open whose descriptor is maxFD or more
// (wazero gives the lowest free one: the guest holds maxFD-3 others) and
// answers EMFILE.
func openBelowMaxFD(open, closeFD api.GoModuleFunction) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		result := uint32(stack[8]) // result.opened_fd
		open.Call(ctx, mod, stack)
		if stack[0] != 0 {
			return
		}
		fd, ok := mod.Memory().ReadUint32Le(result)
		if !ok || fd < maxFD {
			return
		}
		closeFD.Call(ctx, mod, []uint64{uint64(fd)})
		stack[0] = errnoMFile
	})
}

// shortRead serves fd_read and fd_pread ((fd, iovs, iovs_len, ...,
// result.nread) -> errno; resultAt is result.nread's position) with at
// most maxReadBytes: it shortens the guest's buffer list for the call and
// restores it after. A call whose context is done reads nothing. A buffer
// or the result that overlaps the list gets EINVAL: wazero reads the list
// entry by entry while it writes the file's bytes, so a read could rewrite
// the entries still to come (8 bytes of a file made the next entry 8 MiB:
// review, round 14), and the restore would undo what the read wrote.
func shortRead(read api.GoModuleFunction, resultAt int) api.GoModuleFunction {
	return api.GoModuleFunc(func(ctx context.Context, mod api.Module, stack []uint64) {
		if ctx.Err() != nil {
			stack[0] = errnoIO
			return
		}
		iovs, n := uint32(stack[1]), uint32(stack[2])
		if n > maxIovecs {
			stack[0] = errnoInval
			return
		}
		mem := mod.Memory()
		list, ok := mem.Read(iovs, n*8)
		if !ok {
			read.Call(ctx, mod, stack) // wazero answers EFAULT
			return
		}
		lo, hi := uint64(iovs), uint64(iovs)+uint64(n)*8
		overlaps := func(at, size uint64) bool { return size > 0 && at < hi && lo < at+size }
		if overlaps(uint64(uint32(stack[resultAt])), 4) {
			stack[0] = errnoInval
			return
		}
		var total uint64
		cut := -1
		for i := range int(n) {
			buf, size := binary.LittleEndian.Uint32(list[8*i:]), binary.LittleEndian.Uint32(list[8*i+4:])
			if overlaps(uint64(buf), uint64(size)) {
				stack[0] = errnoInval
				return
			}
			total += uint64(size)
			if cut < 0 && total > maxReadBytes {
				cut = i
			}
		}
		if cut < 0 {
			read.Call(ctx, mod, stack)
			return
		}
		// Buffer cut keeps what fits; the list ends with it. No buffer
		// overlaps the list, so the read leaves it as set here.
		size := binary.LittleEndian.Uint32(list[8*cut+4:])
		before := total
		for i := cut + 1; i < int(n); i++ {
			before -= uint64(binary.LittleEndian.Uint32(list[8*i+4:]))
		}
		over := uint32(before - maxReadBytes)
		binary.LittleEndian.PutUint32(list[8*cut+4:], size-over)
		stack[2] = uint64(cut + 1)
		read.Call(ctx, mod, stack)
		binary.LittleEndian.PutUint32(list[8*cut+4:], size)
	})
}
