// Package hostrender runs a [render.Renderer] in the host process: an
// [Observer] is a host.EventObserver that writes every event of a client,
// in order, to an io.Writer. It is codexhost's built-in renderer; plugins
// that render (host.Renderer) are the sandboxed alternative.
//
// It is a sub-package so that package render stays free of host and
// builds for GOOS=wasip1.
package hostrender

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins/render"
)

// Options configure [New].
type Options struct {
	// Output receives the rendered bytes. Default: os.Stdout.
	Output io.Writer
	// Renderer renders the events. Default: a *render.ExecStyle with
	// colour as [UseColor] decides for Output.
	Renderer render.Renderer
	// Queue is how many events may wait before ObserveEvent blocks
	// (backpressure on the turn). Default: 8192.
	Queue  int
	Logger *slog.Logger
}

// An Observer renders a client's events on a goroutine of its own.
//
// ObserveEvent only converts the event (host.Event.ABIEvent) and queues
// it, so the delivery goroutine waits for the terminal only when the
// queue is full. The goroutine renders into a buffer and writes it out
// whenever no more events are waiting: a person watching sees each delta
// as soon as it arrives, while a burst of events costs few writes. Flush
// waits for everything queued so far to be written.
//
// After a write error the Observer logs it once and keeps rendering (the
// renderer's state must follow the turn) but stops writing.
type Observer struct {
	out    io.Writer
	bw     *bufio.Writer
	r      render.Renderer
	log    *slog.Logger
	ch     chan abi.Event
	closed chan struct{}
	done   chan struct{}
	once   sync.Once

	mu      sync.Mutex
	cond    *sync.Cond
	queued  uint64 // events handed to ch
	written uint64 // events rendered and flushed
	failed  bool
}

var _ host.EventObserver = (*Observer)(nil)

// New starts an Observer. Close it after the client.
func New(opts *Options) *Observer {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Output == nil {
		o.Output = os.Stdout
	}
	if o.Renderer == nil {
		o.Renderer = &render.ExecStyle{Color: UseColor(o.Output)}
	}
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ob := &Observer{out: o.Output, bw: bufio.NewWriterSize(o.Output, 32<<10), r: o.Renderer, log: o.Logger,
		ch: make(chan abi.Event, o.Queue), closed: make(chan struct{}), done: make(chan struct{})}
	ob.cond = sync.NewCond(&ob.mu)
	go ob.run()
	return ob
}

// UseColor reports whether w is a terminal and NO_COLOR is unset or empty
// (https://no-color.org).
func UseColor(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ObserveEvent implements host.EventObserver. It blocks only while the
// queue is full, and not at all after Close.
func (o *Observer) ObserveEvent(ev *host.Event) {
	a := ev.ABIEvent()
	o.mu.Lock()
	o.queued++
	o.mu.Unlock()
	select {
	case o.ch <- a:
	case <-o.closed:
		o.mu.Lock()
		o.queued--
		o.cond.Broadcast()
		o.mu.Unlock()
	}
}

func (o *Observer) run() {
	defer close(o.done)
	n := uint64(0)
	for {
		var ev abi.Event
		select {
		case ev = <-o.ch:
		case <-o.closed:
			return
		}
		o.render(&ev)
		n++
		// Take what is already waiting; write when nothing is.
	drain:
		for {
			select {
			case ev = <-o.ch:
				o.render(&ev)
				n++
			default:
				break drain
			}
		}
		if err := o.bw.Flush(); err != nil {
			o.fail(err)
		}
		o.mu.Lock()
		o.written += n
		n = 0
		o.cond.Broadcast()
		o.mu.Unlock()
	}
}

func (o *Observer) render(ev *abi.Event) {
	if err := o.r.Render(o.bw, ev); err != nil {
		o.fail(err)
	}
}

func (o *Observer) fail(err error) {
	if !o.failed {
		o.failed = true
		o.log.Error("codexhost: render output failed; output stops here", "err", err)
	}
	// Keep the renderer's state moving without writing.
	o.bw.Reset(io.Discard)
}

// Flush waits until every event queued so far has been rendered and
// written, or ctx ends, or the Observer is closed.
func (o *Observer) Flush(ctx context.Context) error {
	o.mu.Lock()
	target := o.queued
	o.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		o.mu.Lock()
		o.cond.Broadcast()
		o.mu.Unlock()
	})
	defer stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.written < target && o.written < o.queued {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-o.done:
			return nil
		default:
		}
		o.cond.Wait()
	}
	return nil
}

// Close stops the goroutine after it writes what it has rendered; events
// still queued are dropped (call Flush first to keep them). It is
// idempotent.
func (o *Observer) Close() error {
	o.once.Do(func() { close(o.closed) })
	<-o.done
	o.mu.Lock()
	o.cond.Broadcast()
	o.mu.Unlock()
	return nil
}
