package host

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/codexhost/codexhost/abi"
	"iter"
	"sync"
	"time"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// An Input is one part of a user message.
type Input struct {
	Type string // "text", "localImage" or "image"
	Text string
	Path string // localImage
	URL  string // image
}

// TextInput is a text part of a user message.
func TextInput(text string) Input { return Input{Type: "text", Text: text} }

func inputsToWire(in []Input) []protocol.UserInput {
	out := make([]protocol.UserInput, len(in))
	for i, x := range in {
		w := protocol.UserInput{Type: protocol.UserInputType(x.Type)}
		if x.Text != "" || x.Type == "text" {
			w.Text = ptr(x.Text)
		}
		if x.Path != "" {
			w.Path = ptr(x.Path)
		}
		if x.URL != "" {
			w.URL = ptr(x.URL)
		}
		out[i] = w
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// TurnOptions override thread settings for one turn and the turns after it.
// A nil *TurnOptions keeps the thread's settings.
type TurnOptions struct {
	Model  string
	Effort string // reasoning effort: "low", "medium", "high", ...
	Cwd    string
	// ApprovalPolicy: one of [ApprovalPolicies]; empty keeps the thread's.
	ApprovalPolicy string
	// OutputSchema is a JSON Schema the agent's final message must match
	// (this turn only).
	OutputSchema json.RawMessage
	// Summary is the reasoning summary mode: one of [ReasoningSummaries].
	Summary string
	// SandboxPolicy replaces the thread's sandbox.
	SandboxPolicy *SandboxPolicy
	// Collaboration selects a collaboration mode preset.
	Collaboration *CollaborationMode
	// Personality and ServiceTier are as in [ThreadOptions].
	Personality, ServiceTier string
	// Extra holds raw turn/start params, set over everything above
	// (merged last; a nil value removes a key).
	Extra map[string]any
}

// A Turn is a turn in progress on a thread. Its events are delivered in
// order by [Turn.Events]; [Turn.Wait] consumes them and returns the result.
//
// A Turn is meant for one consuming goroutine; Interrupt and Steer may be
// called from any goroutine. Close releases the turn's subscription; it is
// called automatically when the turn completes.
type Turn struct {
	c        *Client
	ThreadID string
	ID       string

	sub      *subscription
	finished bool
	res      Result
	mu       sync.Mutex // guards res for Result() from other goroutines
}

// StartTurn sends input to a thread and returns the running turn.
func (c *Client) StartTurn(ctx context.Context, threadID string, input []Input, opts *TurnOptions) (*Turn, error) {
	if threadID == "" {
		return nil, fmt.Errorf("host: StartTurn: empty thread id")
	}
	params := protocol.TurnStartParams{ThreadID: threadID, Input: inputsToWire(input)}
	if opts != nil {
		if opts.Model != "" {
			params.Model = ptr(opts.Model)
		}
		if opts.Effort != "" {
			params.Effort = ptr(protocol.ReasoningEffort(opts.Effort))
		}
		if opts.Cwd != "" {
			params.Cwd = ptr(opts.Cwd)
		}
		if opts.ApprovalPolicy != "" {
			ap := protocol.AskForApproval(fmt.Appendf(nil, "%q", opts.ApprovalPolicy))
			params.ApprovalPolicy = &ap
		}
	}
	// Subscribe before starting, so that no event of the turn is missed.
	sub := c.router.subscribe(threadID)
	var resp protocol.TurnStartResponse
	if err := c.callExtra(ctx, protocol.ClientTurnStart, params, opts.extraParams(), &resp); err != nil {
		sub.close()
		return nil, fmt.Errorf("host: turn/start: %w", err)
	}
	sub.setTurn(resp.Turn.ID)
	t := &Turn{c: c, ThreadID: threadID, ID: resp.Turn.ID, sub: sub}
	t.res.ThreadID, t.res.TurnID, t.res.Status = threadID, t.ID, TurnInProgress
	return t, nil
}

// Events yields the turn's events in order, ending after the turn/completed
// event. It yields a non-nil error (and stops) when ctx ends, or when the
// connection to app-server breaks ([*ConnError], once app-server has
// exited and its last stderr lines are read: at once when it dies, at most
// 6 s after the break when it lingers) or the Client is closed
// ([ErrClosed]); events that
// arrived before the break are yielded first.
//
// Breaking out of the loop early leaves the turn running; call Events again
// to continue, or Close to stop listening.
func (t *Turn) Events(ctx context.Context) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		for !t.finished {
			ev, err := t.next(ctx)
			if err != nil {
				yield(nil, err)
				return
			}
			if !t.owns(ev) {
				continue
			}
			t.observe(ev)
			if ev.Kind == abi.EventTurnCompleted {
				t.finished = true
				t.sub.close()
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// owns reports whether ev is one of the turn's events. The subscription
// sees every event of the thread from just before turn/start was sent: it
// skips the events of other turns, and thread/started, which announces the
// thread, not a turn. codex sends thread/started right after its thread/start
// response, so when a turn starts right after [Client.StartThread] the
// notification may still be on its way through the rpc inbox when the turn
// subscribes (the response is routed by the reader, the notification by the
// dispatcher after it), and whether it reached the turn depended on that
// race. Observers still see it, in order.
func (t *Turn) owns(ev *Event) bool {
	if ev.TurnID != "" {
		return ev.TurnID == t.ID
	}
	return ev.Method != string(protocol.NotifThreadStarted)
}

// drainGrace bounds how long a turn keeps reading, after the connection
// broke, the notifications the rpc dispatcher still holds, while the
// dispatcher is idle: while it is delivering an event (to a slow observer,
// a render pipeline under backpressure, or another turn's full buffer),
// the turn waits on, for ctx, so that no event read before the break is
// lost.
const drainGrace = 700 * time.Millisecond

// next returns the turn's next event, or why there is none.
func (t *Turn) next(ctx context.Context) (*Event, error) {
	select {
	case ev := <-t.sub.ch:
		t.sub.taken(ev)
		return ev, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.sub.done:
	case <-t.c.conn.Done():
	}
	// The subscription or the connection ended. After a broken connection
	// the rpc dispatcher still delivers what it had read; take it all
	// before reporting the break, so that no event is lost.
	if t.c.closed.Load() {
		if ev := t.drain(); ev != nil {
			return ev, nil
		}
		return nil, ErrClosed
	}
	select {
	case <-t.c.conn.Done():
	default:
		if ev := t.drain(); ev != nil {
			return ev, nil
		}
		return nil, fmt.Errorf("host: turn %s: stream closed", t.ID)
	}
	timer := time.NewTimer(drainGrace)
	defer timer.Stop()
	for {
		select {
		case ev := <-t.sub.ch:
			t.sub.taken(ev)
			return ev, nil
		case <-t.c.connDrained:
			if ev := t.drain(); ev != nil {
				return ev, nil
			}
			return nil, t.endErr()
		case <-timer.C:
			if ev := t.drain(); ev != nil {
				return ev, nil
			}
			if t.c.router.delivering.Load() > 0 {
				timer.Reset(drainGrace) // a delivery in progress: more may come
				continue
			}
			return nil, t.endErr()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// drain returns a buffered event, or nil.
func (t *Turn) drain() *Event { return t.sub.take() }

func (t *Turn) endErr() error {
	if t.c.closed.Load() {
		return ErrClosed
	}
	select {
	case <-t.c.conn.Done():
		return t.c.connError()
	default:
		return fmt.Errorf("host: turn %s: stream closed", t.ID)
	}
}

func (t *Turn) observe(ev *Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := &t.res
	switch ev.Kind {
	case abi.EventItemCompleted:
		if ev.Item == nil {
			break // item/completed without its item: nothing to record
		}
		r.Items = append(r.Items, ev.Item)
		if ev.Item.Type == ItemAgentMessage {
			r.Text = ev.Item.Text
		}
	case abi.EventTokenUsage:
		r.Usage = ev.Usage
	case abi.EventError:
		if !ev.WillRetry {
			r.Error = ev.Error
		}
	case abi.EventTurnCompleted:
		if ev.Turn == nil {
			// turn/completed without its turn: the turn is over, and how it
			// ended is unknown; it does not count as completed.
			r.Status = TurnFailed
			r.Error = &TurnError{ThreadID: ev.ThreadID, TurnID: ev.TurnID, Message: "codex sent turn/completed without the turn"}
			break
		}
		r.Status = TurnState(ev.Turn.State)
		r.DurationMs = ev.Turn.DurationMs
		if ev.Error != nil {
			r.Error = ev.Error
		}
	}
}

// Wait consumes the rest of the turn's events and returns its result.
//
// # Errors
//
// A failed turn returns the result and a [*TurnError] (errors.Is
// [ErrTurnFailed]; also [ErrNotAuthenticated] when codex had no valid
// credentials). An interrupted turn is not an error: check Result.Status.
// A broken connection returns a [*ConnError].
func (t *Turn) Wait(ctx context.Context) (*Result, error) {
	for _, err := range t.Events(ctx) {
		if err != nil {
			return t.Result(), err
		}
	}
	res := t.Result()
	if res.Status == TurnFailed {
		if res.Error == nil {
			res.Error = &TurnError{ThreadID: t.ThreadID, TurnID: t.ID, Message: "turn failed"}
		}
		return res, res.Error
	}
	return res, nil
}

// Result returns what the turn has produced so far.
func (t *Turn) Result() *Result {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.res
	r.Items = append([]*Item(nil), t.res.Items...)
	return &r
}

// Interrupt asks app-server to stop the turn. The turn then completes with
// status interrupted; keep consuming its events (or call Wait) to see that.
func (t *Turn) Interrupt(ctx context.Context) error {
	err := t.c.call(ctx, protocol.ClientTurnInterrupt, protocol.TurnInterruptParams{ThreadID: t.ThreadID, TurnID: t.ID}, nil)
	if err != nil {
		return fmt.Errorf("host: turn/interrupt: %w", err)
	}
	return nil
}

// Steer adds input to the running turn.
func (t *Turn) Steer(ctx context.Context, input []Input) error {
	params := protocol.TurnSteerParams{ThreadID: t.ThreadID, ExpectedTurnID: t.ID, Input: inputsToWire(input)}
	if err := t.c.call(ctx, protocol.ClientTurnSteer, params, nil); err != nil {
		return fmt.Errorf("host: turn/steer: %w", err)
	}
	return nil
}

// Close stops listening to the turn's events. It does not interrupt the turn.
func (t *Turn) Close() { t.sub.close() }

// A Result is what a turn produced.
type Result struct {
	ThreadID, TurnID string
	Status           TurnState
	// Text is the text of the turn's last agent message.
	Text string
	// Items are the turn's completed items, in order.
	Items      []*Item
	Usage      *abi.TokenUsage
	Error      *TurnError
	DurationMs int
}

// RunOptions configure [Client.Run], [Client.Events] and [Client.Stream].
// A nil *RunOptions starts a new thread with default settings.
type RunOptions struct {
	// ThreadID continues an existing thread: it is resumed first, with
	// Thread's settings (as [Client.ResumeThread], without its history),
	// then the turn starts on it. When empty, a new thread is started with
	// Thread.
	ThreadID string
	Thread   *ThreadOptions
	Turn     *TurnOptions
	// OnTurn, if set, is called with the turn as soon as app-server has
	// started it, before any of its events is consumed, on the caller's
	// goroutine. Keep the *Turn to [Turn.Interrupt] or [Turn.Steer] it
	// from another goroutine; do not consume its events or Close it: Run,
	// Events and Stream do that.
	OnTurn func(*Turn)
}

func (c *Client) startRun(ctx context.Context, prompt string, opts *RunOptions) (*Turn, error) {
	if opts == nil {
		opts = &RunOptions{}
	}
	threadID := opts.ThreadID
	if threadID == "" {
		th, err := c.StartThread(ctx, opts.Thread)
		if err != nil {
			return nil, err
		}
		threadID = th.ID
	} else if err := c.resumeForRun(ctx, threadID, opts.Thread); err != nil {
		return nil, err
	}
	t, err := c.StartTurn(ctx, threadID, []Input{TextInput(prompt)}, opts.Turn)
	if err == nil && opts.OnTurn != nil {
		opts.OnTurn(t)
	}
	return t, err
}

// Run sends prompt as one turn (on a new thread unless opts.ThreadID is set)
// and waits for the turn to finish. Its errors are those of [Turn.Wait].
func (c *Client) Run(ctx context.Context, prompt string, opts *RunOptions) (*Result, error) {
	t, err := c.startRun(ctx, prompt, opts)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Wait(ctx)
}

// Events sends prompt as one turn and yields every event of the turn, in
// order, ending with turn/completed. Leaving the loop early stops listening
// (the turn itself keeps running in app-server).
func (c *Client) Events(ctx context.Context, prompt string, opts *RunOptions) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		t, err := c.startRun(ctx, prompt, opts)
		if err != nil {
			yield(nil, err)
			return
		}
		defer t.Close()
		for ev, err := range t.Events(ctx) {
			if !yield(ev, err) || err != nil {
				return
			}
		}
	}
}

// Stream sends prompt as one turn and yields the agent's text as it streams
// (the agent-message deltas). A failed turn ends the stream with its
// [*TurnError].
func (c *Client) Stream(ctx context.Context, prompt string, opts *RunOptions) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for ev, err := range c.Events(ctx, prompt, opts) {
			if err != nil {
				yield("", err)
				return
			}
			switch ev.Kind {
			case abi.EventAgentMessageDelta:
				if !yield(ev.Delta, nil) {
					return
				}
			case abi.EventTurnCompleted:
				if ev.Turn == nil || TurnState(ev.Turn.State) == TurnFailed {
					te := ev.Error
					if te == nil {
						te = &TurnError{ThreadID: ev.ThreadID, TurnID: ev.TurnID, Message: "turn failed"}
					}
					yield("", te)
				}
				return
			}
		}
	}
}
