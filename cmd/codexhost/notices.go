package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/protocol"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// notices prints codex's configuration warnings and deprecation notices
// on stderr, one line each, as codex exec does: they are about the user's
// setup (a sandbox that cannot be enforced, a config key that is going
// away) and must not be lost in a log. Their text comes from codex and is
// escaped for the terminal.
type notices struct {
	mu     sync.Mutex
	stderr io.Writer
}

var _ host.EventObserver = (*notices)(nil)

// ObserveEvent implements host.EventObserver.
func (n *notices) ObserveEvent(ev *host.Event) {
	var kind string
	switch protocol.NotificationMethod(ev.Method) {
	case protocol.NotifConfigWarning:
		kind = "warning"
	case protocol.NotifDeprecationNotice:
		kind = "deprecated"
	default:
		return
	}
	var p struct {
		Summary string `json:"summary"`
		Details string `json:"details"`
	}
	if json.Unmarshal(ev.Params, &p) != nil || p.Summary == "" {
		return
	}
	msg := p.Summary
	if p.Details != "" {
		msg += " (" + p.Details + ")"
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	fmt.Fprintf(n.stderr, "codex %s: %s\n", kind, termsafe.Line(msg))
}

// errUnreachable ends a turn whose model provider cannot be reached.
var errUnreachable = errors.New("the model provider cannot be reached")

// defaultMaxReconnects bounds codex's reconnect attempts in a row (codex's
// own stream_max_retries default). When the network seems down, codex
// waits for it without end ("Reconnecting... waiting for network", backing
// off to minutes); an unattended run must end instead. Five reconnects
// take about a minute.
const defaultMaxReconnects = 5

// reconnects watches codex's retry notices (error events with willRetry).
// It prints each on stderr, not stdout, and after max of them in a row,
// with nothing else from the turn in between, it gives up with
// errUnreachable through give, which ends the turn.
type reconnects struct {
	mu     sync.Mutex
	stderr io.Writer
	max    int
	n      int
	last   string
	give   func(error)
}

var _ host.EventObserver = (*reconnects)(nil)

// ObserveEvent implements host.EventObserver.
func (r *reconnects) ObserveEvent(ev *host.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case ev.Kind == abi.EventError && ev.WillRetry:
		r.n++
		if ev.Error != nil {
			r.last = ev.Error.Message
		}
		fmt.Fprintf(r.stderr, "codex: %s (retry %d of %d)\n", termsafe.Line(r.last), r.n, r.max)
		if r.max > 0 && r.n >= r.max && r.give != nil {
			r.give(fmt.Errorf("%w: %s, %d retries in a row", errUnreachable, r.last, r.n))
			r.give = nil
		}
	case ev.ThreadID != "" && ev.Kind != abi.EventOther:
		r.n = 0 // the turn moved on: codex reached the model
	}
}

// stdoutEvents keeps retry notices off the stdout renderer: they are
// diagnostics, printed on stderr by [reconnects].
type stdoutEvents struct{ inner host.EventObserver }

func (s stdoutEvents) ObserveEvent(ev *host.Event) {
	if ev.Kind == abi.EventError && ev.WillRetry {
		return
	}
	s.inner.ObserveEvent(ev)
}
