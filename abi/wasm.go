package abi

// The WebAssembly binding (see docs/abi.md, "WebAssembly binding").
//
// A Wasm plugin is a WASI preview 1 reactor module (for Go: GOOS=wasip1
// GOARCH=wasm go build -buildmode=c-shared). The host instantiates it with
// no arguments, no environment and no files unless granted, calls
// "_initialize" if exported, then ExportABIVersion, ExportDescribe and
// ExportConfigure, and then ExportHandle for each hook call. An instance is
// never called concurrently.
//
// Memory: the host asks the guest for input buffers with ExportAlloc and
// writes request bytes into them; the guest owns them and may reuse them
// across calls. The host releases a buffer with ExportFree when it wants a
// bigger one. Results live in guest memory and stay valid until the next
// call into the instance; the host copies them out at once.
//
// Results are packed into one i64: the guest memory offset in the high 32
// bits and the byte length in the low 32 bits. The first byte at that
// offset is a [Status]; the rest is the JSON payload. For example, a
// result of 0x0000_1000_0000_0020 (4096<<32 | 32) means 32 bytes at offset
// 4096: a status byte followed by 31 bytes of JSON.
const (
	// ExportMemory is the guest's exported linear memory.
	ExportMemory = "memory"
	// ExportInitialize is the reactor initializer, called once if present.
	ExportInitialize = "_initialize"
	// ExportABIVersion: () -> i32. Returns the ABI major version the guest
	// speaks ([Version]). Called first; a mismatch refuses the module.
	ExportABIVersion = "codexhost_abi_version"
	// ExportAlloc: (size i32) -> i32. Returns the offset of a guest buffer
	// of at least size bytes that the host may write to, or 0 if the
	// guest cannot allocate it.
	ExportAlloc = "codexhost_alloc"
	// ExportFree: (ptr i32) -> (). Releases a buffer returned by ExportAlloc.
	ExportFree = "codexhost_free"
	// ExportDescribe: () -> i64 (packed result). The payload is the
	// [Manifest] JSON.
	ExportDescribe = "codexhost_describe"
	// ExportConfigure: (ptr i32, len i32) -> i64 (packed result). The input
	// is the operator's settings for the plugin (a JSON value, "null" when
	// there are none), written into a buffer from ExportAlloc. The payload
	// of an OK result is ignored; an error result refuses the plugin.
	ExportConfigure = "codexhost_configure"
	// ExportHandle: (hook i32, ptr i32, len i32) -> i64 (packed result).
	// The input is the hook's request JSON; an OK payload is the hook's
	// response JSON, an error payload an [Error] JSON.
	ExportHandle = "codexhost_handle"

	// ImportModule is the module name of the functions the host provides.
	ImportModule = "codexhost"
	// ImportLog: (level i32, ptr i32, len i32) -> (). Writes a UTF-8 log
	// line from guest memory to the host's logger. Level is a [LogLevel].
	ImportLog = "log"
)

// Status is the first byte of a packed result.
type Status byte

const (
	// StatusOK: the payload is the result.
	StatusOK Status = 0
	// StatusError: the payload is an [Error].
	StatusError Status = 1
)

// PackResult packs a guest offset and length into an i64 result.
func PackResult(ptr, length uint32) uint64 { return uint64(ptr)<<32 | uint64(length) }

// UnpackResult splits a packed result.
func UnpackResult(v uint64) (ptr, length uint32) { return uint32(v >> 32), uint32(v) }

// LogLevel is the level of ImportLog; the values match log/slog's.
type LogLevel int32

const (
	LogDebug LogLevel = -4
	LogInfo  LogLevel = 0
	LogWarn  LogLevel = 4
	LogError LogLevel = 8
)
