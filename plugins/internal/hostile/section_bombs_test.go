package hostile

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Module sections whose entries the admission scan did not count
// (review, round 7). Each entry is a few bytes of the module and tens to hundreds of
// bytes of host memory once wazero decodes it, so a module well under
// the 64 MiB size limit makes the host allocate gigabytes before any
// export is looked at. The suite's promise (docs/security.md, Resource
// limits): a bomb is refused at load, in milliseconds, and the host's
// peak RSS grows by less than 100 MB.

// r7Module returns the header and one section of n entries, each entry
// the bytes of entry.
func r7Module(id byte, n int, entry []byte, pre ...[]byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	for _, p := range pre {
		b = append(b, p...)
	}
	body := leb(nil, uint64(n))
	for range n {
		body = append(body, entry...)
	}
	return section(b, id, body)
}

// r7Globals: n immutable i32 globals, 5 bytes each.
func r7Globals(n int) []byte { return r7Module(6, n, []byte{0x7f, 0x00, 0x41, 0x00, 0x0b}) }

// r7Types: n function types () -> (), 3 bytes each.
func r7Types(n int) []byte { return r7Module(1, n, []byte{0x60, 0x00, 0x00}) }

// r7Data: n empty passive data segments, 2 bytes each, with a memory of
// one page.
func r7Data(n int) []byte {
	return r7Module(11, n, []byte{0x01, 0x00}, section(nil, 5, []byte{1, 0, 1}))
}

// r7Imports: n imports of WASI sched_yield, which the host allows, 37
// bytes each.
func r7Imports(n int) []byte {
	entry := append([]byte{22}, "wasi_snapshot_preview1"...)
	entry = append(entry, 11)
	entry = append(entry, "sched_yield"...)
	entry = append(entry, 0, 0) // func, type 0
	return r7Module(2, n, entry, section(nil, 1, []byte{1, 0x60, 0, 1, 0x7f}))
}

// r7Elems: n empty passive element segments, 3 bytes each, with one
// function.
func r7Elems(n int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = section(b, 1, []byte{1, 0x60, 0, 0})
	b = section(b, 3, []byte{1, 0})
	body := leb(nil, uint64(n))
	for range n {
		body = append(body, 0x01, 0x00, 0x00) // passive, funcref, no elements
	}
	b = section(b, 9, body)
	return section(b, 10, []byte{1, 2, 0, 0x0b})
}

// r7Names: a custom "name" section naming n locals of one function, 3 to
// 6 bytes each: wazero decodes it into maps at compile time.
func r7Names(n int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = section(b, 1, []byte{1, 0x60, 0, 0})
	b = section(b, 3, []byte{1, 0})
	b = section(b, 10, []byte{1, 2, 0, 0x0b})
	sub := []byte{1, 0} // one function, index 0
	sub = leb(sub, uint64(n))
	for i := range n {
		sub = leb(sub, uint64(i))
		sub = append(sub, 1, 'x')
	}
	body := append([]byte{4}, "name"...)
	body = append(body, 2) // local names
	body = leb(body, uint64(len(sub)))
	body = append(body, sub...)
	return section(b, 0, body)
}

func TestSectionBombs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	for _, c := range []struct {
		name string
		gen  func() []byte
	}{
		{"globals", func() []byte { return r7Globals(4_000_000) }},      // 20 MB
		{"types", func() []byte { return r7Types(2_000_000) }},          // 6 MB
		{"data-segments", func() []byte { return r7Data(10_000_000) }},  // 20 MB
		{"wasi-imports", func() []byte { return r7Imports(1_500_000) }}, // 55 MB
		{"elem-segments", func() []byte { return r7Elems(8_000_000) }},  // 24 MB
		{"name-section", func() []byte { return r7Names(8_000_000) }},   // 46 MB
	} {
		bound := WasmLoad
		if raceEnabled {
			// The refusal is one scan of the module (up to 55 MB here) in
			// race-instrumented Go: 0.7 s seen for wasi-imports on a
			// loaded 2-core machine, past WasmLoad. Decoding the bomb
			// instead takes gigabytes (the RSS bound) and seconds: 5 s
			// still tells the two apart.
			bound = 5 * time.Second
		}
		t.Run(c.name, func(t *testing.T) {
			took, growth, err := loadMeasured(t, nil, c.gen(), 10*time.Second)
			assert.ErrorIs(t, err, plugins.ErrLimits, "refused at load by a limit, naming it")
			assert.Less(t, growth, int64(maxGrowth), "the host's peak RSS grows by less than 100 MB")
			assert.Less(t, took, bound, "a bomb is refused within the load deadline")
		})
	}
}

// loadMeasured loads mod into a runtime of its own (opts), within wait,
// and returns the load's error, how long it took and how much the
// process's peak RSS grew. wait must let a compilation end: a Load that
// returns at its deadline leaves the compilation running, and the next
// measurement would count it.
func loadMeasured(t *testing.T, opts *wasm.RuntimeOptions, mod []byte, wait time.Duration) (took time.Duration, growth int64, err error) {
	t.Helper()
	rt, err := wasm.NewRuntime(t.Context(), opts)
	require.NoError(t, err)
	defer rt.Close(context.Background())
	runtime.GC()
	debug.FreeOSMemory()
	before := rss(t)
	resetPeak(t)
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	start := time.Now()
	_, err = rt.Load(ctx, mod, nil)
	took = time.Since(start)
	growth = peak(t) - before
	t.Logf("%d bytes: %v, in %v, peak RSS +%d MB", len(mod), err, took, growth>>20)
	return took, growth, err
}
