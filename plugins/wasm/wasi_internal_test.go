package wasm

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
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
	randomGet, _, err := wazeroWASI(ctx, r)
	require.NoError(t, err)
	get := boundedRandomGet(randomGet)
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

// poll_oneoff refuses a subscription count above the bound before reading
// any of them.
func TestPollOneoffIsBounded(t *testing.T) {
	ctx := context.Background()
	r := wazero.NewRuntime(ctx)
	t.Cleanup(func() { _ = r.Close(ctx) })
	_, pollOneoff, err := wazeroWASI(ctx, r)
	require.NoError(t, err)
	poll := boundedPollOneoff(pollOneoff)
	mod := memoryModule(t, ctx, r, 200, &countingReader{})

	stack := []uint64{0, 100 * 65536, maxPollSubscriptions + 1, 150 * 65536}
	poll.Call(ctx, mod, stack)
	require.Equal(t, uint64(errnoInval), stack[0])

	// One clock subscription (relative, 1 ns) is wazero's to serve: it
	// succeeds and writes one event.
	sub := make([]byte, 48)
	sub[8] = 0 // tag: clock
	sub[24] = 1
	require.True(t, mod.Memory().Write(0, sub))
	stack = []uint64{0, 100 * 65536, 1, 150 * 65536}
	poll.Call(ctx, mod, stack)
	require.Equal(t, uint64(0), stack[0])
	n, ok := mod.Memory().ReadUint32Le(150 * 65536)
	require.True(t, ok)
	require.Equal(t, uint32(1), n)
}
