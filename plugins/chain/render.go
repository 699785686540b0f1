package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
)

// RenderOptions configure a chain's render pipeline: the members of its
// plugin set that implement abi.HookEventRender get every event the chain
// observes, in order.
type RenderOptions struct {
	// Output receives the rendered bytes of the non-monitor render
	// members. Default: io.Discard.
	Output io.Writer
	// MaxBatch caps how many events go to a plugin in one call (with
	// abi.FeatureRenderBatch). Batches form only from events already
	// waiting, so output is never delayed to fill one. Within a batch, a
	// run of deltas of one item becomes one event for a plugin with
	// abi.FeatureRenderMergeDeltas. Default: 512.
	MaxBatch int
	// Queue is how many events may wait before delivery blocks
	// (backpressure on the turn). Default: 8192.
	Queue int
	// MaxQueuedBytes bounds the memory of the events waiting for the
	// render members, each counted as its raw params, its text and 256
	// bytes: when the queue holds that much, delivery blocks
	// (backpressure on the turn and the connection, as
	// host.Options.MaxQueuedBytes), and one event larger than the bound
	// still passes, alone. Default: 16 MiB.
	MaxQueuedBytes int
	// Timeout bounds each render call. Default: plugins.DefaultTimeout.
	Timeout time.Duration
	// CloseTimeout bounds how long Close waits for the render goroutine
	// to stop: a write to Output that blocks longer (a pipe nobody reads)
	// is abandoned, Close returns [ErrOutputStalled], and the goroutine
	// ends when the write returns. Default: 5 s.
	CloseTimeout time.Duration
	// Plain removes colours from the output too (termsafe.RenderPlain):
	// for output that is not a terminal, --color never or NO_COLOR.
	Plain bool
}

// ObserveEvent implements [host.EventObserver]: it queues ev for the render
// members of the plugin set current when the event is rendered. It blocks
// only while the queue is full, and not at all after [Chain.Close] or when
// no plugin set of the chain has had a render member.
//
// One goroutine, started by the first event and stopped by Close, renders
// the queue: it hands each render member the events already waiting (one
// call per event for a plugin without abi.FeatureRenderBatch), writes the
// output to RenderOptions.Output when no more events are waiting or a
// [Chain.Flush] waits, and charges failures to the member's crash budget.
// A member in monitor mode is called and measured, but its output is
// discarded.
func (c *Chain) ObserveEvent(ev *host.Event) { c.render.observe(ev) }

// Flush waits until every event observed so far has been rendered and
// written, or ctx ends, or the chain is closed.
func (c *Chain) Flush(ctx context.Context) error { return c.render.flush(ctx) }

// Close stops the render goroutine after the call in progress; events
// still queued are not rendered (call Flush first to keep them), but the
// output of those rendered is written. It does
// not close the plugins. It waits at most RenderOptions.CloseTimeout for
// a write to the output to return. It is idempotent.
func (c *Chain) Close() error { return c.render.close() }

// ErrOutputStalled is returned by [Chain.Close] when a write to
// RenderOptions.Output did not return within RenderOptions.CloseTimeout.
var ErrOutputStalled = errors.New("chain: the render output is stalled (a write did not return); abandoned")

// A fastRenderer is an in-process renderer the chain calls without JSON
// (see [RendererPlugin]).
type fastRenderer interface {
	plugins.Plugin
	renderEvents(w io.Writer, events []abi.Event) error
}

// An EventRenderer renders events in the host process, in order; it is
// render.Renderer's method set. It keeps state across the events of a
// turn and need not be safe for concurrent use.
type EventRenderer interface {
	Render(w io.Writer, ev *abi.Event) error
}

// RendererPlugin adapts an in-process renderer to a plugin, so that it is a
// member of a plugin set like a Wasm or process render plugin (reload,
// crash budget, monitor mode, metrics). A chain calls it without JSON,
// with whole batches; its Call, for other callers, takes and returns the
// event-render hook's JSON. Calls are serialized.
func RendererPlugin(name string, r EventRenderer) plugins.Plugin {
	return &rendererPlugin{r: r, man: &abi.Manifest{ABI: abi.Version, Name: name, Version: "builtin",
		Hooks: []abi.Hook{abi.HookEventRender}, Features: abi.FeatureRenderBatch | abi.FeatureRenderMergeDeltas}}
}

type rendererPlugin struct {
	mu     sync.Mutex
	r      EventRenderer
	man    *abi.Manifest
	closed bool
}

func (p *rendererPlugin) Manifest() *abi.Manifest { return p.man }

func (p *rendererPlugin) renderEvents(w io.Writer, events []abi.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return plugins.ErrClosed
	}
	var first error
	for i := range events {
		if err := p.r.Render(w, &events[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (p *rendererPlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if hook != abi.HookEventRender {
		return nil, &abi.Error{Code: abi.CodeUnsupportedHook, Message: "only event-render"}
	}
	var r abi.RenderRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
	}
	var b strings.Builder
	if err := p.renderEvents(&b, r.Events); err != nil {
		return nil, err
	}
	return json.Marshal(abi.RenderResponse{Output: b.String()})
}

func (p *rendererPlugin) Close(context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	return nil
}

// renderer is a chain's render pipeline.
type renderer struct {
	c       *Chain
	out     *outputBuffer
	batch   int
	timeout time.Duration
	// closeTimeout is RenderOptions.CloseTimeout.
	closeTimeout time.Duration
	// scratch holds an in-process member's output of one batch, to be
	// filtered whole; only touched by run.
	scratch strings.Builder

	// ctx is cancelled by close, ending the call in progress.
	ctx    context.Context
	cancel context.CancelFunc

	start  sync.Once
	ch     chan *host.Event
	closed chan struct{}
	done   chan struct{}
	once   sync.Once

	mu          sync.Mutex
	cond        *sync.Cond
	queued      uint64 // events handed to ch
	written     uint64 // events rendered and their output written to the Output
	unwritten   uint64 // events rendered whose output may still be in out
	flushers    int    // Flush calls waiting
	queuedBytes int    // renderCost of the events queued and not yet rendered
	maxBytes    int
	failed      bool // only touched by run
}

// defaultRenderQueueBytes is RenderOptions.MaxQueuedBytes's default.
const defaultRenderQueueBytes = 16 << 20

// renderCost is what an event waiting for the render members counts
// against RenderOptions.MaxQueuedBytes: its raw params (which hold the
// line they were read from), its text decoded a second time, and 256
// bytes for the rest.
func renderCost(ev *host.Event) int {
	n := 256 + len(ev.Params) + len(ev.Delta)
	if ev.Item != nil {
		n += len(ev.Item.Text)
	}
	return n
}

func newRenderer(c *Chain, o *RenderOptions) *renderer {
	r := &renderer{c: c, batch: o.MaxBatch, timeout: o.Timeout, closed: make(chan struct{}), done: make(chan struct{})}
	out := o.Output
	if out == nil {
		out = io.Discard
	}
	r.out = &outputBuffer{w: out, size: 32 << 10}
	if r.batch <= 0 {
		r.batch = 512
	}
	if r.timeout <= 0 {
		r.timeout = plugins.DefaultTimeout
	}
	r.closeTimeout = o.CloseTimeout
	if r.closeTimeout <= 0 {
		r.closeTimeout = 5 * time.Second
	}
	q := o.Queue
	if q <= 0 {
		q = 8192
	}
	r.ch = make(chan *host.Event, q)
	r.maxBytes = o.MaxQueuedBytes
	if r.maxBytes <= 0 {
		r.maxBytes = defaultRenderQueueBytes
	}
	r.cond = sync.NewCond(&r.mu)
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

func (r *renderer) observe(ev *host.Event) {
	if !r.c.renders.Load() {
		return
	}
	r.start.Do(func() {
		select {
		case <-r.closed:
			close(r.done)
		default:
			go r.run()
		}
	})
	cost := renderCost(ev)
	r.mu.Lock()
	// Backpressure by bytes, as by count (the channel's capacity): wait
	// until the renderers have taken enough, or the pipeline closes.
	for r.queuedBytes > 0 && r.queuedBytes+cost > r.maxBytes && !r.isClosed() {
		r.cond.Wait()
	}
	r.queued++
	r.queuedBytes += cost
	r.mu.Unlock()
	select {
	case r.ch <- ev:
	case <-r.closed:
		r.mu.Lock()
		r.queued--
		r.queuedBytes -= cost
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// writeRendered writes the output of the events rendered at close, even
// while later events wait (those are not rendered: see Close).
func (r *renderer) writeRendered() {
	r.mu.Lock()
	pending := r.unwritten > 0
	r.mu.Unlock()
	if pending {
		if err := r.out.Flush(); err != nil {
			r.outputFailed(err)
		}
	}
}

// isClosed reports whether close has begun.
func (r *renderer) isClosed() bool {
	select {
	case <-r.closed:
		return true
	default:
		return false
	}
}

func (r *renderer) run() {
	defer close(r.done)
	batch := make([]*host.Event, 0, r.batch)
	for {
		if r.isClosed() {
			r.writeRendered()
			return
		}
		select {
		case ev := <-r.ch:
			batch = append(batch[:0], ev)
		case <-r.closed:
			r.writeRendered()
			return
		}
		// Take what is already waiting, without waiting for more.
	fill:
		for len(batch) < r.batch {
			select {
			case ev := <-r.ch:
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		r.renderBatch(batch)
		// The output is written when no event waits (one Write for a
		// burst of events), or when a Flush waits: the events are counted
		// written only once their output is, so a Flush that returns has
		// seen its events' output reach the Output. If an event waits and
		// no Flush did when this batch ended, the next batch, which that
		// event makes, writes it for a Flush that came since.
		r.mu.Lock()
		write := len(r.ch) == 0 || r.flushers > 0
		r.mu.Unlock()
		if write {
			if err := r.out.Flush(); err != nil {
				r.outputFailed(err)
			}
		}
		cost := 0
		for _, ev := range batch {
			cost += renderCost(ev)
		}
		r.mu.Lock()
		r.unwritten += uint64(len(batch))
		if write {
			r.written += r.unwritten
			r.unwritten = 0
		}
		r.queuedBytes -= cost
		r.cond.Broadcast()
		r.mu.Unlock()
	}
}

// renderBatch hands batch to every render member of the current set.
func (r *renderer) renderBatch(batch []*host.Event) {
	s := r.c.acquire()
	defer s.release()
	var events, merged []abi.Event // built once, shared by the members
	for _, m := range s.members {
		if !m.implements(abi.HookEventRender) {
			continue
		}
		var w io.Writer = r.out
		if m.Monitor {
			w = io.Discard
		}
		if fp, ok := m.Plugin.(fastRenderer); ok {
			if events == nil {
				events = abiEvents(batch, false)
			}
			r.fast(m, fp, w, events)
			continue
		}
		switch {
		case !m.features.Has(abi.FeatureRenderBatch):
			if events == nil {
				events = abiEvents(batch, false)
			}
			for i := range events {
				r.call(m, w, events[i:i+1])
			}
		case m.features.Has(abi.FeatureRenderMergeDeltas):
			if merged == nil {
				merged = abiEvents(batch, true)
			}
			r.call(m, w, merged)
		default:
			if events == nil {
				events = abiEvents(batch, false)
			}
			r.call(m, w, events)
		}
	}
}

func (r *renderer) fast(m *member, fp fastRenderer, w io.Writer, events []abi.Event) {
	if m.disabled.Load() {
		return
	}
	r.scratch.Reset()
	err := renderSafely(func() error { return fp.renderEvents(&r.scratch, events) })
	if w != io.Discard && r.scratch.Len() > 0 {
		r.writeOutput(w, r.scratch.String())
	}
	if err != nil {
		r.c.opts.Logger.Warn("codexhost: renderer failed", "plugin", m.name, "events", len(events), "err", err)
		m.fail(&plugins.CallError{Plugin: m.name, Hook: abi.HookEventRender, Kind: plugins.FailTrap, Err: err}, r.c.opts.Logger)
	}
}

// errRenderPanic wraps the panic of a render member run in process: the
// render goroutine recovers it (render hooks fail open, the host stays
// up), and it counts against the member's crash budget.
var errRenderPanic = errors.New("chain: the renderer panicked")

// renderSafely runs fn, turning a panic into an error wrapping
// errRenderPanic.
func renderSafely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", errRenderPanic, v)
		}
	}()
	return fn()
}

// call renders events with one call of m's plugin.
func (r *renderer) call(m *member, w io.Writer, events []abi.Event) {
	if m.disabled.Load() {
		return
	}
	payload, err := json.Marshal(&abi.RenderRequest{Events: events})
	if err != nil {
		r.c.opts.Logger.Error("codexhost: encode render request", "err", err)
		return
	}
	// A lazy plugin (wasm.Options.Lazy) loads first: the timeout bounds
	// the call, not the load. A failed load fails the call.
	_ = plugins.Ready(r.ctx, m.Plugin)
	// A call that outlasts the timeout is the plugin's failure
	// (errCallTimeout): a renderer that hangs on every call is disabled
	// by its crash budget, not waited for forever, one timeout per event.
	ctx, cancel := context.WithTimeoutCause(r.ctx, r.timeout, errCallTimeout)
	defer cancel()
	t0 := time.Now()
	var resp *abi.RenderResponse
	err = renderSafely(func() (err error) {
		resp, err = callMember[abi.RenderResponse](ctx, m, abi.HookEventRender, payload, r.c.opts.Logger, nil)
		return err
	})
	if errors.Is(err, errRenderPanic) {
		m.fail(&plugins.CallError{Plugin: m.name, Hook: abi.HookEventRender, Kind: plugins.FailTrap, Err: err}, r.c.opts.Logger)
	}
	if err != nil {
		r.c.opts.Logger.Warn("codexhost: renderer failed", "plugin", m.name, "events", len(events), "err", err)
		return
	}
	if resp.Output != "" && w != io.Discard {
		r.writeOutput(w, resp.Output)
	}
	r.c.opts.Logger.Debug("codexhost: rendered", "plugin", m.name, "events", len(events), "took", time.Since(t0))
}

// writeOutput writes a member's output of one batch through
// termsafe.Render: what a renderer prints is the agent's and the plugin's
// text, which must not drive the terminal (titles, hyperlinks, cursor
// moves, carriage returns); its colours (SGR) stay, unless
// RenderOptions.Plain. The output of one call is filtered whole, so a
// sequence cannot straddle two writes. A write error is the output's (see
// outputFailed, through r.out).
func (r *renderer) writeOutput(w io.Writer, s string) {
	if r.c.opts.Render.Plain {
		_, _ = io.WriteString(w, termsafe.RenderPlain(s))
		return
	}
	_, _ = io.WriteString(w, termsafe.Render(s))
}

// An outputBuffer gathers the render members' outputs and writes them
// with one Write per Flush, or as soon as it holds size bytes or more. It
// never cuts one output in two (a bufio.Writer would, at its size): a
// writer the output shares with others (codexhost run's decision lines,
// between the JSON lines on stdout) sees whole outputs only. After a
// failed Write it keeps the error and writes nothing more.
type outputBuffer struct {
	w    io.Writer
	buf  []byte
	size int
	err  error
}

// Write appends p, one member's output.
func (b *outputBuffer) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= b.size {
		if err := b.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes what is gathered, in one Write.
func (b *outputBuffer) Flush() error {
	if b.err != nil || len(b.buf) == 0 {
		return b.err
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	b.err = err
	if len(b.buf) > 4*b.size {
		b.buf = nil // one huge output: do not keep its room
	} else {
		b.buf = b.buf[:0]
	}
	return err
}

// Reset discards what is gathered and any error, and writes to w next.
func (b *outputBuffer) Reset(w io.Writer) {
	b.w, b.buf, b.err = w, b.buf[:0], nil
}

// outputFailed stops writing after the first write error; rendering goes
// on so that renderers keep their state.
func (r *renderer) outputFailed(err error) {
	if !r.failed {
		r.failed = true
		r.c.opts.Logger.Error("codexhost: render output failed; output stops here", "err", err)
	}
	r.out.Reset(io.Discard)
}

func (r *renderer) flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		r.mu.Lock()
		r.cond.Broadcast()
		r.mu.Unlock()
	})
	defer stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	target := r.queued
	// While it waits, the render goroutine writes its output at the end
	// of every batch (see run).
	r.flushers++
	defer func() { r.flushers-- }()
	for r.written < target {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-r.done:
			return nil
		case <-r.closed:
			return nil
		default:
		}
		r.cond.Wait()
	}
	return nil
}

func (r *renderer) close() error {
	r.once.Do(func() {
		close(r.closed)
		r.cancel()
	})
	r.start.Do(func() { close(r.done) }) // never started
	t := time.NewTimer(r.closeTimeout)
	defer t.Stop()
	var err error
	select {
	case <-r.done:
	case <-t.C:
		// Blocked in a write nothing can cancel: it ends when the write
		// does (at the latest when the process exits).
		err = ErrOutputStalled
	}
	r.mu.Lock()
	r.cond.Broadcast()
	r.mu.Unlock()
	return err
}

// abiEvents translates batch; with merge, each run of consecutive deltas
// of one item becomes one event (see abi.FeatureRenderMergeDeltas).
func abiEvents(batch []*host.Event, merge bool) []abi.Event {
	dst := make([]abi.Event, 0, len(batch))
	var text strings.Builder // the merged deltas of dst's last event
	merging := false
	for _, ev := range batch {
		a := ev.ABIEvent()
		if n := len(dst); merge && n > 0 && mergeable(&dst[n-1], &a) {
			last := &dst[n-1]
			if !merging {
				text.Reset()
				text.WriteString(last.Delta)
				merging = true
			}
			text.WriteString(a.Delta)
			last.Seq = a.Seq
			continue
		}
		if merging {
			dst[len(dst)-1].Delta = text.String()
			merging = false
		}
		dst = append(dst, a)
	}
	if merging {
		dst[len(dst)-1].Delta = text.String()
	}
	return dst
}

// mergeable reports whether b continues a's run of deltas.
func mergeable(a, b *abi.Event) bool {
	switch a.Kind {
	case abi.EventAgentMessageDelta, abi.EventReasoningSummaryDelta, abi.EventReasoningDelta,
		abi.EventCommandOutputDelta, abi.EventFileChangeDelta:
	default:
		return false
	}
	return a.Kind == b.Kind && a.Method == b.Method && a.ThreadID == b.ThreadID && a.TurnID == b.TurnID &&
		a.ItemID == b.ItemID && a.Item == nil && b.Item == nil && a.Turn == nil && b.Turn == nil &&
		a.Usage == nil && b.Usage == nil && a.Error == nil && b.Error == nil
}
