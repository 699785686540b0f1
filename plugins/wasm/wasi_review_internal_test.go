package wasm

// WASI functions that wazero serves unbounded, through which a guest made
// the host allocate or work in proportion to a number it chooses (review,
// round 13). Each test failed on the code it was written against.

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/codexhost/codexhost/abi"
)

// boundedWASI returns a runtime with the bounded WASI module instantiated and
// a function calling its export name.
func boundedWASI(t *testing.T) (wazero.Runtime, func(ctx context.Context, mod api.Module, name string, params ...uint64) []uint64) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = r.Close(ctx) })
	require.NoError(t, instantiateWASI(ctx, r))
	defs := r.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions()
	call := func(ctx context.Context, mod api.Module, name string, params ...uint64) []uint64 {
		d := defs[name]
		stack := make([]uint64, max(len(d.ParamTypes()), len(d.ResultTypes())))
		copy(stack, params)
		d.GoFunction().(api.GoModuleFunction).Call(ctx, mod, stack)
		return stack
	}
	return r, call
}

// grantedModule instantiates a module of pages pages of memory in the
// sandbox of a plugin granted dir (moduleConfig).
func grantedModule(t *testing.T, r wazero.Runtime, pages byte, dir string) api.Module {
	t.Helper()
	ctx := context.Background()
	cfg, err := moduleConfig(&abi.Capabilities{ReadDirs: []string{dir}})
	require.NoError(t, err)
	bin := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 4, 1, 0, pages | 0x80, pages >> 7}
	mod, err := r.InstantiateWithConfig(ctx, bin, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mod.Close(context.Background()) })
	return mod
}

func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// fd_renumber(fd, to) moved a descriptor to any number the
// guest names: wazero's descriptor table (internal/descriptor.Table)
// grows its item slice to `to`+64 entries, 8 bytes each (and a bitmap),
// and keeps it for the instance's life. Any descriptor the guest opened in
// a granted directory will do (stdio and preopens are refused):
// fd_renumber(4, 0x7fffffff) asks the host for a 16 GiB slice in one
// call. Here 1<<24: 128 MiB of host heap, with 1 page of guest memory.
func TestFdRenumberStaysBelowMaxFD(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 1, dir)
	require.True(t, mod.Memory().WriteString(0, "f"))
	st := call(context.Background(), mod, "path_open", 3, 0, 0, 1, 0, 1<<1, 0, 0, 64)
	require.Zero(t, st[0], "path_open")
	fd, _ := mod.Memory().ReadUint32Le(64)
	before := heapInUse()
	start := time.Now()
	errno := call(context.Background(), mod, "fd_renumber", uint64(fd), 1<<24)[0]
	took := time.Since(start)
	grown := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(mod)
	t.Logf("fd_renumber(%d, 1<<24): errno %d in %v, host heap +%d MiB", fd, errno, took, grown>>20)
	require.Less(t, grown, int64(16<<20), "fd_renumber to a high number grows the host heap by 8 bytes a number")
}

// Every path_open of a granted directory (or a file in it)
// keeps a host file descriptor (grantedFS.Open returns an *os.File) until
// the guest closes it or the instance is closed, and an instance lives as
// long as its calls succeed. Nothing bounds how many: a guest fills the
// process's RLIMIT_NOFILE (Go raises the soft limit to the hard one), and
// the host then fails every open, pipe, socket and accept with EMFILE.
func TestPathOpenHostDescriptorsBounded(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("counts /proc/self/fd")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 1, dir)
	require.True(t, mod.Memory().WriteString(0, "f"))
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		require.NoError(t, err)
		return len(es)
	}
	before := fds()
	opened := 0
	for range 3000 {
		// path_open(3, dirflags 0, path 0, len 1, oflags 0, rights, 0, fdflags 0, result 64)
		st := call(context.Background(), mod, "path_open", 3, 0, 0, 1, 0, 1<<1, 0, 0, 64)
		if st[0] == 0 {
			opened++
		}
	}
	held := fds() - before
	t.Logf("3000 path_open: %d succeeded, the host holds %d more descriptors", opened, held)
	require.LessOrEqual(t, opened, maxFD, "descriptors stay below maxFD")
	require.LessOrEqual(t, held, maxFD, "one instance holds at most maxFD host descriptors")
}

// writeIovecs writes n iovecs {buf, l} at iovs.
func writeIovecs(t *testing.T, mem api.Memory, iovs uint32, n int, buf, l uint32) {
	t.Helper()
	b := make([]byte, 8*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[8*i:], buf)
		binary.LittleEndian.PutUint32(b[8*i+4:], l)
	}
	require.True(t, mem.Write(iovs, b))
}

// fd_read/fd_pread accept up to 1024 iovecs, but the iovecs may
// all name the same buffer, and a buffer may be the whole memory: one call
// reads up to 1024 times the guest's memory (32 GiB at the default 32 MiB,
// 4 TiB at 4 GiB) from a large or sparse file in a granted directory (the
// agent can write there: dirfs.go). The host cannot stop the read at the
// deadline (one call read for 33 s). A call now reads at most
// maxReadBytes, a short read, and nothing once its context is done.
func TestReadAliasedIovecsIsShort(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "sparse")
	f, err := os.Create(big)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<40)) // 1 TiB of hole
	require.NoError(t, f.Close())

	r, call := boundedWASI(t)
	mod := grantedModule(t, r, 2, dir)
	mem := mod.Memory()
	require.True(t, mem.WriteString(0, "sparse"))
	st := call(context.Background(), mod, "path_open", 3, 0, 0, 6, 0, 1<<1|1<<2, 0, 0, 64)
	require.Zero(t, st[0], "path_open")
	fd, _ := mem.ReadUint32Le(64)

	const iovs = 65536 // the second page: 1024 iovecs naming the first
	writeIovecs(t, mem, iovs, maxIovecs, 0, 65536)
	list, ok := mem.Read(iovs, 8*maxIovecs)
	require.True(t, ok)
	want := slices.Clone(list)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for _, ctx := range []context.Context{context.Background(), done} {
		for _, fn := range []string{"fd_pread", "fd_read"} {
			require.True(t, mem.WriteUint32Le(128, 0))
			var st []uint64
			if fn == "fd_pread" {
				st = call(ctx, mod, fn, uint64(fd), iovs, maxIovecs, 0, 128)
			} else {
				st = call(ctx, mod, fn, uint64(fd), iovs, maxIovecs, 128)
			}
			n, _ := mem.ReadUint32Le(128)
			if ctx.Err() != nil {
				require.Equal(t, uint64(errnoIO), st[0], "%s: a done call reads nothing", fn)
				require.Zero(t, n, fn)
			} else {
				require.Zero(t, st[0], fn)
				require.Equal(t, uint32(maxReadBytes), n, "%s: a short read of maxReadBytes", fn)
			}
			require.Equal(t, want, list, "%s: the guest's buffer list is as it was", fn)
		}
	}
	// A list within the bound is read whole.
	writeIovecs(t, mem, iovs, 4, 0, 1000)
	st = call(context.Background(), mod, "fd_pread", uint64(fd), iovs, 4, 0, 128)
	require.Zero(t, st[0])
	n, _ := mem.ReadUint32Le(128)
	require.Equal(t, uint32(4000), n)
}
