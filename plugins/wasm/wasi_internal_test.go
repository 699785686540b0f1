package wasm

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// countingReader counts what the guest's random_get reads.
type countingReader struct{ n int }

func (r *countingReader) Read(p []byte) (int, error) {
	r.n += len(p)
	return rand.Read(p)
}

// memoryModule instantiates a module of pages pages of memory and nothing
// else, reading randomness from rnd.
func memoryModule(t *testing.T, ctx context.Context, r wazero.Runtime, pages byte, rnd *countingReader) api.Module {
	t.Helper()
	// magic, version, then a memory section: one memory, no maximum, pages.
	bin := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, 4, 1, 0, pages | 0x80, pages >> 7}
	mod, err := r.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithName("").WithRandSource(rnd))
	require.NoError(t, err)
	t.Cleanup(func() { _ = mod.Close(context.Background()) })
	return mod
}

// random_get fills what it is asked to, a chunk at a time, and stops at the
// first chunk boundary once the call's context is done: a guest cannot
// hold the host past its deadline by asking for its whole memory.
func TestRandomGetIsBounded(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = r.Close(ctx) })
	fns, err := wazeroWASI(ctx, r)
	require.NoError(t, err)
	get := boundedRandomGet(fns["random_get"].fn)
	const size = 100 * 65536 // 100 pages, not a multiple of the chunk

	rnd := &countingReader{}
	mod := memoryModule(t, ctx, r, 100, rnd)
	stack := []uint64{0, size}
	get.Call(ctx, mod, stack)
	require.Equal(t, uint64(0), stack[0], "errno")
	require.Equal(t, size, rnd.n, "every byte is read once")
	tail, ok := mod.Memory().Read(size-64, 64)
	require.True(t, ok)
	require.NotEqual(t, make([]byte, 64), tail, "the last chunk is filled")

	rnd.n = 0
	done, cancel := context.WithCancel(ctx)
	cancel()
	stack = []uint64{0, size}
	get.Call(done, mod, stack)
	require.Equal(t, uint64(errnoIO), stack[0], "a done call gets EIO")
	require.Equal(t, randomChunk, rnd.n, "and no more than one chunk")

	stack = []uint64{size - 10, 20} // past the end of memory
	get.Call(ctx, mod, stack)
	require.NotEqual(t, uint64(0), stack[0], "EFAULT")
	stack = []uint64{8, 0}
	get.Call(ctx, mod, stack)
	require.Equal(t, uint64(0), stack[0], "an empty buffer")
}

// Each bounded function refuses a length over its bound with its errno,
// before reading anything, and passes a length at the bound to wazero.
func TestWASIBounds(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = r.Close(ctx) })
	fns, err := wazeroWASI(ctx, r)
	require.NoError(t, err)
	mod := memoryModule(t, ctx, r, 1, &countingReader{}) // 64 KiB: a bounded length fits

	for _, bd := range bounds {
		f := fns[bd.fn]
		fn, err := bd.wrap(f.fn, f.def)
		require.NoError(t, err, bd.fn)
		for _, p := range bd.params {
			i := slices.Index(f.def.ParamNames(), p)
			require.GreaterOrEqual(t, i, 0, "%s.%s", bd.fn, p)

			stack := make([]uint64, max(len(f.def.ParamTypes()), len(f.def.ResultTypes())))
			stack[i] = uint64(bd.max) + 1
			fn.Call(ctx, mod, stack)
			require.Equal(t, bd.errno, stack[0], "%s with %s over the bound", bd.fn, p)

			// At the bound, wazero answers (whatever it answers: a bad
			// descriptor, mostly), not the bound.
			stack = make([]uint64, max(len(f.def.ParamTypes()), len(f.def.ResultTypes())))
			stack[i] = uint64(bd.max)
			stack[0] = 1 << 20 // a descriptor nobody has, or an address
			fn.Call(ctx, mod, stack)
			if bd.errno == errnoNameTooLong { // wazero answers EINVAL and EBADF itself
				require.NotEqual(t, bd.errno, stack[0], "%s with %s at the bound", bd.fn, p)
			}
		}
	}
}

// The runtime's WASI module is the bounded one: its path_open answers a
// path over the bound with ENAMETOOLONG (wazero's own reads the path, then
// finds no descriptor 3: EBADF), and its random_get stops at a done
// context.
func TestRuntimeUsesBoundedWASI(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = r.Close(ctx) })
	require.NoError(t, instantiateWASI(ctx, r))
	defs := r.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions()
	rnd := &countingReader{}
	mod := memoryModule(t, ctx, r, 100, rnd)

	open := defs["path_open"].GoFunction().(api.GoModuleFunction)
	stack := []uint64{3, 0, 0, maxPath + 1, 0, 0, 0, 0, 0}
	open.Call(ctx, mod, stack)
	require.Equal(t, uint64(errnoNameTooLong), stack[0])

	get := defs["random_get"].GoFunction().(api.GoModuleFunction)
	done, cancel := context.WithCancel(ctx)
	cancel()
	stack = []uint64{0, 100 * 65536}
	get.Call(done, mod, stack)
	require.Equal(t, uint64(errnoIO), stack[0])
	require.Equal(t, randomChunk, rnd.n)
}
