package host

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/rpc"
)

// This file owns the server requests in flight: the context a request's
// Handler runs with ends, with the cause ErrRequestResolved, when codex
// says it no longer waits for the answer (serverRequest/resolved) or when
// the request's turn completes. A Handler waiting on a person or a slow
// plugin stops; its answer, if it still gives one, goes nowhere codex
// reads. Requests register as they arrive and the events that end them
// come through the same dispatcher, so an end is never missed.

// inflight is the Client's requests in flight, by id.
type inflight struct {
	mu   sync.Mutex
	reqs map[rpc.ID]*pending
}

// A pending request: cancel ends its handler's context, once the handler
// has started; resolved records an end that came first.
type pending struct {
	threadID, turnID string
	cancel           context.CancelCauseFunc
	resolved         bool
}

// arrive registers the request id of thread and turn (on the dispatcher).
func (f *inflight) arrive(id rpc.ID, threadID, turnID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reqs == nil {
		f.reqs = map[rpc.ID]*pending{}
	}
	f.reqs[id] = &pending{threadID: threadID, turnID: turnID}
}

// start returns the context the handler of request id runs with, and the
// function to call when it has answered.
func (f *inflight) start(ctx context.Context, id rpc.ID) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	f.mu.Lock()
	p := f.reqs[id]
	if p != nil {
		if p.resolved {
			cancel(ErrRequestResolved)
		}
		p.cancel = cancel
	}
	f.mu.Unlock()
	return ctx, func() {
		f.mu.Lock()
		if f.reqs[id] == p {
			delete(f.reqs, id)
		}
		f.mu.Unlock()
		cancel(nil)
	}
}

// observe ends the requests an event says codex no longer waits for (on
// the dispatcher, in order with arrive).
func (f *inflight) observe(ev *Event) {
	switch ev.Kind {
	case abi.EventRequestResolved:
		var p struct {
			RequestID rpc.ID `json:"requestId"`
		}
		if json.Unmarshal(ev.Params, &p) != nil {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if r := f.reqs[p.RequestID]; r != nil {
			r.end()
		}
	case abi.EventTurnCompleted:
		if ev.Turn == nil || ev.ThreadID == "" {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, r := range f.reqs {
			if r.threadID == ev.ThreadID && r.turnID == ev.Turn.ID {
				r.end()
			}
		}
	}
}

// end ends p's handler's context, now or as it starts. f.mu is held.
func (p *pending) end() {
	p.resolved = true
	if p.cancel != nil {
		p.cancel(ErrRequestResolved)
	}
}
