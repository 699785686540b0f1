package chain_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Hostile render members (found by an adversarial review): a renderer
// that hangs, or panics, costs the host one failure of its crash budget
// each time, and is then disabled; the host stays up and the other
// renderers render every event.

// hangingRenderer blocks every call until its context ends, as a plugin
// runtime whose own deadline is the call's does.
type hangingRenderer struct{ calls atomic.Int32 }

func (p *hangingRenderer) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "hangs", ABI: abi.Version, Hooks: []abi.Hook{abi.HookEventRender}}
}
func (p *hangingRenderer) Close(context.Context) error { return nil }
func (p *hangingRenderer) Call(ctx context.Context, hook abi.Hook, _ []byte) ([]byte, error) {
	p.calls.Add(1)
	<-ctx.Done()
	return nil, &plugins.CallError{Plugin: "hangs", Hook: hook, Kind: plugins.FailTimeout, Err: ctx.Err()}
}

func delta(seq int) *host.Event {
	return &host.Event{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: uint64(seq), ItemID: "m", Delta: "x"}
}

// A render call that outlasts RenderOptions.Timeout is the renderer's
// failure: it used to count as "the request ended", so a renderer that
// hung on every call cost every event a full timeout, for ever.
func TestRenderTimeoutsSpendTheCrashBudget(t *testing.T) {
	t.Parallel()
	p := &hangingRenderer{}
	ok := &renderPlugin{name: "good", features: abi.FeatureRenderBatch}
	var out syncBuffer
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p, ok},
		CrashBudget: chain.CrashBudget{Failures: 2, Window: time.Hour},
		Render:      chain.RenderOptions{Output: &out, Timeout: 20 * time.Millisecond}})
	require.NoError(t, err)
	defer ch.Close()
	for i := 1; i <= 4; i++ {
		ch.ObserveEvent(delta(i))
		require.NoError(t, ch.Flush(t.Context()))
	}
	st := ch.Status()[0]
	assert.Equal(t, chain.PluginDisabled, st.State, "failures charged: %d", st.Failures)
	assert.EqualValues(t, 2, p.calls.Load(), "not called once disabled")
	assert.Equal(t, "xxxx", out.String(), "the other renderer rendered every event")
}

// The same with a real Wasm renderer that loops for ever in every call,
// its own deadline equal to the render timeout (as in codexhost run,
// where both are plugins.DefaultTimeout).
func TestRenderTimeoutsSpendTheCrashBudgetWasm(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	man := `{"name":"render-loop","version":"0.1.0","abi":1,"hooks":["event-render"]}`
	wat := fmt.Sprintf(`(module
  (memory (export "memory") 1)
  (data (i32.const 16) "\00%s")
  (data (i32.const 200) "\00")
  (global $next (mut i32) (i32.const 4096))
  (func $pack (param $ptr i32) (param $len i32) (result i64)
    (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "codexhost_abi_version") (result i32) (i32.const 1))
  (func (export "codexhost_alloc") (param $size i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (local.get $ptr) (local.get $size)))
    (if (i32.gt_u (global.get $next) (i32.shl (memory.size) (i32.const 16)))
      (then (drop (memory.grow (i32.add (i32.shr_u (local.get $size) (i32.const 16)) (i32.const 1))))))
    (local.get $ptr))
  (func (export "codexhost_free") (param $p i32))
  (func (export "codexhost_describe") (result i64) (call $pack (i32.const 16) (i32.const %d)))
  (func (export "codexhost_configure") (param i32 i32) (result i64) (call $pack (i32.const 200) (i32.const 1)))
  (func (export "codexhost_handle") (param $hook i32) (param $ptr i32) (param $len i32) (result i64)
    (loop $forever (br $forever)) (i64.const 0))
)`, strings.ReplaceAll(man, `"`, `\"`), len(man)+1)
	path := filepath.Join(t.TempDir(), "render-loop.wat")
	require.NoError(t, os.WriteFile(path, []byte(wat), 0o644))
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil)
	require.NoError(t, err)
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, plugintest.BuildWAT(t, path), &wasm.Options{Options: plugins.Options{Timeout: timeout}})
	require.NoError(t, err)
	defer p.Close(ctx)
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p},
		CrashBudget: chain.CrashBudget{Failures: 2, Window: time.Hour},
		Render:      chain.RenderOptions{Output: io.Discard, Timeout: timeout}})
	require.NoError(t, err)
	defer ch.Close()
	for i := 1; i <= 3; i++ {
		ch.ObserveEvent(delta(i))
		require.NoError(t, ch.Flush(t.Context()))
	}
	assert.Equal(t, chain.PluginDisabled, ch.Status()[0].State, "failures charged: %d", ch.Status()[0].Failures)
}

type panickyRenderer struct{}

func (panickyRenderer) Render(w io.Writer, ev *abi.Event) error {
	if ev.Seq == 2 {
		panic("renderer bug on one event")
	}
	_, err := io.WriteString(w, "p")
	return err
}

// A render member run in process that panics does not take the host down
// (it used to: the render goroutine had no recover); the panic counts
// against its budget, and the other renderers render every event.
func TestRenderPanicFailsOpen(t *testing.T) {
	t.Parallel()
	ok := &renderPlugin{name: "good", features: abi.FeatureRenderBatch}
	var out syncBuffer
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{chain.RendererPlugin("panicky", panickyRenderer{}), ok},
		Render: chain.RenderOptions{Output: &out}})
	require.NoError(t, err)
	defer ch.Close()
	for i := 1; i <= 3; i++ {
		ch.ObserveEvent(delta(i))
		require.NoError(t, ch.Flush(t.Context()))
	}
	assert.Equal(t, "pxxpx", out.String(), "every event rendered by the good renderer; the panicky one lost only its own")
	assert.EqualValues(t, 1, ch.Status()[0].Failures)
}

// writeRecorder records each Write it gets.
type writeRecorder struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeRecorder) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, string(p))
	return len(p), nil
}

// The render pipeline hands its Output whole outputs: codexhost run
// --json shares stdout between the JSON lines and its decision lines, and
// a 32 KiB bufio.Writer used to cut a long line in two, so that a
// decision written between the pieces landed inside it.
func TestRenderOutputIsWrittenWhole(t *testing.T) {
	t.Parallel()
	rec := &writeRecorder{}
	ch, err := chain.New(&chain.Options{
		Plugins: []plugins.Plugin{chain.RendererPlugin("exec-json", &render.ExecJSON{})},
		Render:  chain.RenderOptions{Output: rec, Plain: true},
	})
	require.NoError(t, err)
	defer ch.Close()
	ch.ObserveEvent(&host.Event{Kind: abi.EventTurnStarted, Method: "turn/started", Seq: 1, ThreadID: "th", TurnID: "tu", Turn: &abi.TurnStatus{ID: "tu", State: "inProgress"}})
	for i := range 6 { // 6 messages of 20-40 KB: the batch passes 32 KiB more than once
		text := strings.Repeat(string(rune('a'+i)), (20+4*i)<<10)
		ch.ObserveEvent(&host.Event{Kind: abi.EventItemCompleted, Method: "item/completed", Seq: uint64(2 + i), ThreadID: "th", TurnID: "tu",
			ItemID: fmt.Sprint("m", i), Item: &host.Item{ID: fmt.Sprint("m", i), Type: host.ItemAgentMessage, Text: text}})
	}
	require.NoError(t, ch.Flush(t.Context()))
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.writes)
	var all strings.Builder
	for i, w := range rec.writes {
		assert.True(t, strings.HasSuffix(w, "\n"), "write %d of %d bytes ends mid-line", i, len(w))
		all.WriteString(w)
	}
	n := 0
	for line := range strings.Lines(all.String()) {
		assert.True(t, json.Valid([]byte(line)), "not a JSON line: %.60q", line)
		n++
	}
	assert.Equal(t, 8, n, "thread.started, turn.started and 6 item.completed lines")
}

// stuckRenderer blocks its first call until released.
type stuckRenderer struct {
	entered, release chan struct{}
	first            atomic.Bool
}

func (p *stuckRenderer) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "stuck", ABI: abi.Version, Hooks: []abi.Hook{abi.HookEventRender}, Features: abi.FeatureRenderBatch}
}
func (p *stuckRenderer) Close(context.Context) error { return nil }
func (p *stuckRenderer) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if p.first.CompareAndSwap(false, true) {
		close(p.entered)
		<-p.release
	}
	return json.Marshal(abi.RenderResponse{})
}

// The render queue is bounded in bytes too: with a slow renderer, a turn
// of large deltas blocks delivery (backpressure) once MaxQueuedBytes are
// waiting, instead of queueing 8192 events of any size (it used to hold
// a whole 25 MiB turn with the connection bounded to 1 MiB).
func TestRenderQueueIsBoundedInBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxBytes = 1 << 20
		p := &stuckRenderer{entered: make(chan struct{}), release: make(chan struct{})}
		ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}, Render: chain.RenderOptions{MaxQueuedBytes: maxBytes}})
		require.NoError(t, err)
		defer ch.Close()
		big := strings.Repeat("x", 64<<10)
		var observed atomic.Int32
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 400 {
				ch.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: uint64(i + 1), ItemID: "m", Delta: big})
				observed.Add(1)
			}
		}()
		<-p.entered
		synctest.Wait() // the producer is blocked: by bytes, or it finished
		n := int(observed.Load())
		cost := 256 + len(big)
		assert.Less(t, n, 400, "delivery never blocked")
		assert.LessOrEqual(t, (n-1)*cost, maxBytes+cost, "%d events of %d bytes queued past the %d-byte bound (one batch in the renderer besides)", n, cost, maxBytes)
		close(p.release)
		<-done
		require.NoError(t, ch.Flush(t.Context()))
	})
}

// blockedWriter blocks every write until released; entered is closed by
// the first.
type blockedWriter struct {
	entered, release chan struct{}
	once             sync.Once
}

func (w *blockedWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	return len(p), nil
}

// TestCloseAbandonsAStalledOutput: Close waits for a write to the output
// at most RenderOptions.CloseTimeout, then returns ErrOutputStalled: a
// pipe nobody reads (codexhost run's stdout, stalled) made Close, and so
// the run after Ctrl-C, wait for ever (review).
func TestCloseAbandonsAStalledOutput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		out := &blockedWriter{entered: make(chan struct{}), release: make(chan struct{})}
		ch, err := chain.New(&chain.Options{
			Plugins: []plugins.Plugin{chain.RendererPlugin("exec-json", &render.ExecJSON{})},
			Render:  chain.RenderOptions{Output: out, Plain: true, CloseTimeout: 3 * time.Second},
		})
		require.NoError(t, err)
		ch.ObserveEvent(&host.Event{Kind: abi.EventTurnStarted, Method: "turn/started", Seq: 1, ThreadID: "th", TurnID: "tu", Turn: &abi.TurnStatus{ID: "tu", State: "inProgress"}})
		<-out.entered
		start := time.Now()
		require.ErrorIs(t, ch.Close(), chain.ErrOutputStalled)
		assert.Equal(t, 3*time.Second, time.Since(start))
		close(out.release) // the abandoned goroutine ends with its write
		synctest.Wait()
	})
}
