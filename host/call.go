package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// Call sends one request to app-server and waits for its answer: the typed
// escape hatch for the app-server methods codexhost does not wrap.
//
// params is encoded as JSON (nil sends none); result, if non-nil, receives
// the JSON result, decoded as by [json.Unmarshal] (a *json.RawMessage keeps
// it raw). The generated wire types of package
// [github.com/codexhost/codexhost/host/protocol] fit both. Call is safe for
// concurrent use, like every Client method.
//
// Call does not subscribe to anything: notifications the method causes
// (turn/start's events, say) go to [Options.Observers] and to any [Turn]
// of the thread, as for every other request. Prefer the typed methods where
// they exist; they also keep the Client's own state (a thread's working
// directory for file-change events) in step.
//
// # Errors
//
// The errors of every request: an app-server error response is a
// *rpc.WireError (wrapped), with [ErrThreadNotFound], [ErrConfig] or
// [ErrNotAuthenticated] added where they apply; [ErrClosed] after Close; a
// [*ConnError] when the connection broke; ctx's error when ctx ended.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	if method == "" {
		return errors.New("host: Call: empty method")
	}
	if err := c.call(ctx, protocol.ClientMethod(method), params, result); err != nil {
		return fmt.Errorf("host: %s: %w", method, err)
	}
	return nil
}

// callExtra performs a request whose params are params with extra's keys
// set over them (last, so extra wins): the Extra field of the options
// structs. With no extra it is c.call.
func (c *Client) callExtra(ctx context.Context, method protocol.ClientMethod, params any, extra map[string]any, result any) error {
	if len(extra) == 0 {
		return c.call(ctx, method, params, result)
	}
	merged, err := mergeParams(params, extra)
	if err != nil {
		return fmt.Errorf("host: %s: %w", method, err)
	}
	return c.call(ctx, method, merged, result)
}

// mergeParams encodes params (a JSON object, or nil) and sets extra's keys
// over it. A nil value in extra removes the key.
func mergeParams(params any, extra map[string]any) (json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	if params != nil {
		b, err := json.Marshal(params)
		if err != nil {
			return nil, fmt.Errorf("encode params: %w", err)
		}
		if string(b) != "null" {
			if err := json.Unmarshal(b, &obj); err != nil {
				return nil, fmt.Errorf("params are not a JSON object, Extra cannot apply: %w", err)
			}
		}
	}
	for k, v := range extra {
		if v == nil {
			delete(obj, k)
			continue
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode Extra[%q]: %w", k, err)
		}
		obj[k] = b
	}
	return json.Marshal(obj)
}

// joinExtra returns base's entries with over's set over them, or nil if both
// are empty. Neither argument is modified.
func joinExtra(base, over map[string]any) map[string]any {
	if len(base) == 0 {
		return over
	}
	if len(over) == 0 {
		return base
	}
	out := maps.Clone(base)
	maps.Copy(out, over)
	return out
}

// An EventObserverFunc is an [EventObserver] that is a function.
type EventObserverFunc func(ev *Event)

// ObserveEvent calls f(ev).
func (f EventObserverFunc) ObserveEvent(ev *Event) { f(ev) }

var _ EventObserver = EventObserverFunc(nil)

// NotificationObserver returns an [EventObserver], for [Options.Observers],
// that passes f the notifications that belong to no thread: the events
// outside every turn (skills/changed, account/updated,
// mcpServer/startupStatus/updated, configWarning, ...), with their method
// and raw params. Events of threads are not passed; observe them with a
// [Turn] or an observer of your own.
//
// f runs on the connection's delivery goroutine, in arrival order, under
// the rules of [EventObserver].
func NotificationObserver(f func(ev *Event)) EventObserver {
	return EventObserverFunc(func(ev *Event) {
		if ev.ThreadID == "" {
			f(ev)
		}
	})
}
