package host

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// RendererOptions configure [NewRenderer].
type RendererOptions struct {
	// Plugins are event-render plugins; each gets every event, in order.
	Plugins []plugins.Plugin
	// Output receives the rendered bytes. Default: io.Discard.
	Output io.Writer
	// MaxBatch caps how many events go to a plugin in one call (with
	// abi.FeatureRenderBatch). Batches form only from events already
	// waiting, so output is never delayed to fill one. Within a batch, a
	// run of deltas of one item becomes one event for a plugin with
	// abi.FeatureRenderMergeDeltas. Default: 512.
	MaxBatch int
	// Queue is how many events may wait per plugin before delivery blocks
	// (backpressure on the turn). Default: 8192.
	Queue int
	// MaxFailures disables a renderer after this many consecutive failed
	// calls, so that a broken renderer cannot slow the turn. Default: 3.
	MaxFailures int
	Logger      *slog.Logger
}

// A Renderer feeds turn events to event-render plugins and writes their
// output. Install it in [Options.Observers].
//
// Each plugin has its own goroutine and queue: events reach it in order,
// exactly once, and a slow or failing renderer never delays or drops
// events for the others. A renderer that keeps failing is disabled and
// reported. Close stops the goroutines; Flush waits for queued events.
type Renderer struct {
	opts    RendererOptions
	outMu   sync.Mutex
	workers []*renderWorker
	wg      sync.WaitGroup
	closed  chan struct{}
	once    sync.Once
}

type renderWorker struct {
	r        *Renderer
	p        plugins.Plugin
	name     string
	batch    int
	merge    bool // merge runs of deltas (abi.FeatureRenderMergeDeltas)
	ch       chan *Event
	pending  sync.WaitGroup // events queued but not yet rendered
	disabled bool
}

var _ EventObserver = (*Renderer)(nil)

// NewRenderer starts a goroutine per render plugin.
func NewRenderer(opts *RendererOptions) *Renderer {
	r := &Renderer{closed: make(chan struct{})}
	if opts != nil {
		r.opts = *opts
	}
	if r.opts.Output == nil {
		r.opts.Output = io.Discard
	}
	if r.opts.MaxBatch <= 0 {
		r.opts.MaxBatch = 512
	}
	if r.opts.Queue <= 0 {
		r.opts.Queue = 8192
	}
	if r.opts.MaxFailures <= 0 {
		r.opts.MaxFailures = 3
	}
	if r.opts.Logger == nil {
		r.opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range r.opts.Plugins {
		m := p.Manifest()
		if !m.Implements(abi.HookEventRender) {
			continue
		}
		w := &renderWorker{r: r, p: p, name: m.Name, batch: 1, ch: make(chan *Event, r.opts.Queue)}
		if m.Features.Has(abi.FeatureRenderBatch) {
			w.batch = r.opts.MaxBatch
			w.merge = m.Features.Has(abi.FeatureRenderMergeDeltas)
		}
		r.workers = append(r.workers, w)
		r.wg.Add(1)
		go w.run()
	}
	return r
}

// ObserveEvent queues ev for every render plugin. It blocks only while a
// plugin's queue is full.
func (r *Renderer) ObserveEvent(ev *Event) {
	for _, w := range r.workers {
		w.pending.Add(1)
		select {
		case w.ch <- ev:
		case <-r.closed:
			w.pending.Done()
		}
	}
}

// Flush waits until every event queued so far has been rendered and
// written, or ctx ends.
func (r *Renderer) Flush(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		for _, w := range r.workers {
			w.pending.Wait()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the renderer's goroutines after they finish the call in
// progress; events still queued are not rendered. It is idempotent.
func (r *Renderer) Close() error {
	r.once.Do(func() { close(r.closed) })
	r.wg.Wait()
	return nil
}

func (w *renderWorker) run() {
	defer w.r.wg.Done()
	failures := 0
	batch := make([]*Event, 0, w.batch)
	for {
		select {
		case ev := <-w.ch:
			batch = append(batch[:0], ev)
		case <-w.r.closed:
			return
		}
		// Take what is already waiting, without waiting for more.
	fill:
		for len(batch) < w.batch {
			select {
			case ev := <-w.ch:
				batch = append(batch, ev)
			default:
				break fill
			}
		}
		if !w.disabled {
			if err := w.render(batch); err != nil {
				failures++
				w.r.opts.Logger.Warn("codexhost: renderer failed", "plugin", w.name, "events", len(batch), "err", err)
				if failures >= w.r.opts.MaxFailures {
					w.disabled = true
					w.r.opts.Logger.Error("codexhost: renderer disabled after repeated failures; its output stops here",
						"plugin", w.name, "failures", failures)
				}
			} else {
				failures = 0
			}
		}
		for range batch {
			w.pending.Done()
		}
	}
}

// renderEvents appends the ABI form of batch to dst; with merge, each run
// of consecutive deltas of one item becomes one event (see
// abi.FeatureRenderMergeDeltas).
func renderEvents(dst []abi.Event, batch []*Event, merge bool) []abi.Event {
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

func (w *renderWorker) render(batch []*Event) error {
	req := abi.RenderRequest{Events: renderEvents(make([]abi.Event, 0, len(batch)), batch, w.merge)}
	payload, err := json.Marshal(&req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), plugins.DefaultTimeout)
	defer cancel()
	go func() {
		select {
		case <-w.r.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	t0 := time.Now()
	out, err := w.p.Call(ctx, abi.HookEventRender, payload)
	if err != nil {
		return err
	}
	var resp abi.RenderResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return &plugins.CallError{Plugin: w.name, Hook: abi.HookEventRender, Kind: plugins.FailBadOutput, Err: err}
	}
	if resp.Output != "" {
		w.r.outMu.Lock()
		_, err = io.WriteString(w.r.opts.Output, resp.Output)
		w.r.outMu.Unlock()
	}
	w.r.opts.Logger.Debug("codexhost: rendered", "plugin", w.name, "events", len(batch), "took", time.Since(t0))
	return err
}
