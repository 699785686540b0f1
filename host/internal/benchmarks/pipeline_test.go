package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// The recorded turn of figure 2: codex 0.169.0's notifications, in its
// wire shape, for one agent message streamed in pipelineDeltas deltas.
const (
	replayTurnID = "019a6f3e-6c2d-7e3b-8f50-1d2c3b4e5f60"
	replayItemID = "msg_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
)

var (
	pipelineDeltas = 100_000
	// pipelineEvents counts the turn's events: turn/started, item/started,
	// the deltas, item/completed, turn/completed.
	pipelineEvents = pipelineDeltas + 4
)

func init() {
	if smoke {
		pipelineDeltas = 2000
		pipelineEvents = pipelineDeltas + 4
	}
}

// deltaWords are the deltas of the recorded message, in turn: tokens of a
// few bytes, as a model streams them.
var deltaWords = strings.Fields("The change adds a cache in front of the parser ; the tests pass and the benchmark improves by about 40 % on large inputs .")

// writeReplay writes the recorded turn for thread threadID to path, one
// notification per line.
func writeReplay(path, threadID string, deltas int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeTurnStream(w, threadID, deltas)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// writeTurnStream writes the recorded turn's notifications to w.
func writeTurnStream(w *bufio.Writer, threadID string, deltas int) {
	line := func(method string, params any) {
		b, err := json.Marshal(map[string]any{"method": method, "params": params})
		if err != nil {
			panic(err)
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	turn := func(status string) map[string]any {
		return map[string]any{"id": replayTurnID, "items": []any{}, "status": status, "error": nil}
	}
	line("turn/started", map[string]any{"threadId": threadID, "turn": turn("inProgress")})
	line("item/started", map[string]any{"threadId": threadID, "turnId": replayTurnID, "startedAtMs": 1764041234567,
		"item": map[string]any{"type": "agentMessage", "id": replayItemID, "text": "", "phase": nil, "memoryCitation": nil}})
	var text strings.Builder
	for i := range deltas {
		d := " " + deltaWords[i%len(deltaWords)]
		if i%200 == 199 {
			d += "\n\n"
		}
		text.WriteString(d)
		// The member order is codex's.
		fmt.Fprintf(w, `{"method":"item/agentMessage/delta","params":{"threadId":%s,"turnId":%s,"itemId":%s,"delta":%s}}`+"\n",
			jsonString(threadID), jsonString(replayTurnID), jsonString(replayItemID), jsonString(d))
	}
	line("item/completed", map[string]any{"threadId": threadID, "turnId": replayTurnID, "completedAtMs": 1764041299999,
		"item": map[string]any{"type": "agentMessage", "id": replayItemID, "text": text.String(), "phase": nil, "memoryCitation": nil}})
	done := turn("completed")
	done["durationMs"] = 65432
	line("turn/completed", map[string]any{"threadId": threadID, "turn": done})
}

func jsonString(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

// startFake starts the test binary as a fake app-server in mode, with the
// extra environment env; it is closed with tb.
func startFake(tb testing.TB, mode string, env []string, handler host.Handler, observers ...host.EventObserver) *host.Client {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := host.Start(ctx, &host.Options{
		Codex:     exe,
		Env:       append([]string{envChild + "=" + mode, "GORACE=atexit_sleep_ms=0"}, env...),
		StopGrace: time.Second,
		Observers: observers,
		Handler:   handler,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
	})
	return c
}

// A pipelineRenderer is one way figure 2 renders the events.
type pipelineRenderer struct {
	name string
	// start returns the observer (nil: none) and a function that waits
	// until everything observed so far is written.
	start func(b *testing.B, out io.Writer) (host.EventObserver, func(context.Context) error)
}

var pipelineRenderers = []pipelineRenderer{
	// The floor: decoding and delivery only.
	{"none", func(*testing.B, io.Writer) (host.EventObserver, func(context.Context) error) {
		return nil, func(context.Context) error { return nil }
	}},
	// The built-in renderer, render.ExecStyle in the host process.
	{"builtin", func(b *testing.B, out io.Writer) (host.EventObserver, func(context.Context) error) {
		o, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{chain.RendererPlugin("exec", &render.ExecStyle{})},
			Render: chain.RenderOptions{Output: out}})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = o.Close() })
		return o, o.Flush
	}},
	// The same renderer as a Wasm plugin (examples/execrender), as
	// shipped: a call takes every event already waiting (up to 512) and
	// runs of deltas go as one event (abi.FeatureRenderMergeDeltas).
	{"wasm", func(b *testing.B, out io.Writer) (host.EventObserver, func(context.Context) error) {
		return wasmRenderer(b, out, 0, false)
	}},
	// Batched, but every delta an event of its own: what merging buys.
	{"wasm-nomerge", func(b *testing.B, out io.Writer) (host.EventObserver, func(context.Context) error) {
		return wasmRenderer(b, out, 0, true)
	}},
	// One event per call: what batching buys.
	{"wasm-batch1", func(b *testing.B, out io.Writer) (host.EventObserver, func(context.Context) error) {
		return wasmRenderer(b, out, 1, true)
	}},
}

// wasmRenderer loads examples/execrender; noMerge hides its
// FeatureRenderMergeDeltas from the host.
func wasmRenderer(b *testing.B, out io.Writer, maxBatch int, noMerge bool) (host.EventObserver, func(context.Context) error) {
	var p plugins.Plugin = loadWasm(b, execRenderDir, &wasm.Options{MaxInstances: 1})
	if noMerge {
		p = withoutFeatures(p, abi.FeatureRenderMergeDeltas)
	}
	r, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}, Render: chain.RenderOptions{Output: out, MaxBatch: maxBatch}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	return r, r.Flush
}

var replayFile struct {
	once sync.Once
	path string
	err  error
}

// replayPath returns the recorded turn, written once per process for the
// fake's first thread.
func replayPath(tb testing.TB) string {
	tb.Helper()
	replayFile.once.Do(func() {
		dir, err := os.MkdirTemp("", "codexhost-bench-")
		if err != nil {
			replayFile.err = err
			return
		}
		replayFile.path = filepath.Join(dir, "turn.jsonl")
		replayFile.err = writeReplay(replayFile.path, fakeThreadID(1), pipelineDeltas)
	})
	if replayFile.err != nil {
		tb.Fatal(replayFile.err)
	}
	return replayFile.path
}

// featureMask hides features of a plugin's manifest.
type featureMask struct {
	plugins.Plugin
	m abi.Manifest
}

func withoutFeatures(p plugins.Plugin, f abi.Features) plugins.Plugin {
	m := *p.Manifest()
	m.Features &^= f
	return &featureMask{p, m}
}

func (p *featureMask) Manifest() *abi.Manifest { return &p.m }

// countingWriter counts the bytes rendered.
type countingWriter struct {
	mu sync.Mutex
	n  int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.n += int64(len(p))
	w.mu.Unlock()
	return len(p), nil
}

// BenchmarkPipeline is figure 2: the recorded turn (100k deltas) read from
// the fake app-server's stdout, decoded by rpc, turned into typed events by
// the host, consumed by Turn.Wait and, but for "none", rendered. One op is
// one turn; events/s is the figure. make bench runs it with -cpu 1: the
// host has one core (the fake app-server only copies a file on the other).
func BenchmarkPipeline(b *testing.B) {
	path := replayPath(b)
	for _, pr := range pipelineRenderers {
		b.Run(pr.name, func(b *testing.B) {
			out := &countingWriter{}
			obs, flush := pr.start(b, out)
			var observers []host.EventObserver
			if obs != nil {
				observers = append(observers, obs)
			}
			c := startFake(b, "replay", []string{envReplay + "=" + path}, nil, observers...)
			ctx := context.Background()
			th, err := c.StartThread(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			turn := func() {
				t, err := c.StartTurn(ctx, th.ID, []host.Input{host.TextInput("stream")}, nil)
				if err != nil {
					b.Fatal(err)
				}
				res, err := t.Wait(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := flush(ctx); err != nil {
					b.Fatal(err)
				}
				if res.Status != host.TurnCompleted || len(res.Text) < pipelineDeltas {
					b.Fatalf("turn %s with %d bytes of text", res.Status, len(res.Text))
				}
			}
			// Warm up, but for the slow variants, which show only the
			// scale of what batching and merging buy.
			if !smoke && !strings.HasPrefix(pr.name, "wasm-") {
				turn()
			}
			for b.Loop() {
				turn()
			}
			if pr.name != "none" && out.n == 0 {
				b.Fatal("the renderer wrote nothing")
			}
			b.ReportMetric(float64(pipelineEvents)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// signalWriter reports each write on a channel.
type signalWriter struct{ ch chan struct{} }

func (w *signalWriter) Write(p []byte) (int, error) {
	w.ch <- struct{}{}
	return len(p), nil
}

// BenchmarkRenderLatency is figure 2's other half: a lone event, arriving
// when the renderer is idle (a person watching a slow stream), goes out at
// once: batching and merging take only what is already waiting. One op is
// one delta from ObserveEvent to its output's write.
func BenchmarkRenderLatency(b *testing.B) {
	for _, pr := range pipelineRenderers {
		if pr.name == "none" || pr.name == "wasm-nomerge" {
			continue
		}
		b.Run(pr.name, func(b *testing.B) {
			out := &signalWriter{ch: make(chan struct{}, 1)}
			obs, _ := pr.start(b, out)
			ev := &host.Event{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta",
				ThreadID: fakeThreadID(1), TurnID: replayTurnID, ItemID: replayItemID, Delta: " token"}
			var h hist
			seq := uint64(0)
			for b.Loop() {
				seq++
				e := *ev
				e.Seq = seq
				t0 := time.Now()
				obs.ObserveEvent(&e)
				<-out.ch
				h.record(time.Since(t0))
			}
			h.report(b)
		})
	}
}
