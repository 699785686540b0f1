// Package warmcache fills the caches the tests of a fresh clone need, so
// that `go test -race` finds them warm: it builds every Go plugin guest of
// the module for WebAssembly and compiles it into the default wazero
// compilation cache, and builds one guest natively, which compiles what
// every process plugin shares (go-plugin, gRPC, protobuf). Its one test, TestWarmGuests, does the work; `make
// warm` (a step of `make test`) runs it without the race detector, under
// which wazero compiles a Go guest ~8x slower (13-18 s instead of ~2 s).
//
// It is a test, not a program, because a test binary is what the other
// tests are: the compilation cache's directory and wazero's own cache key
// depend on the binary's build information, which test binaries lack
// (wasm.DefaultCacheDir ends in "wazero-unknown" in them).
package warmcache
