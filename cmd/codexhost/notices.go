package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/codexhost/codexhost/host"
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
	switch ev.Method {
	case "configWarning":
		kind = "warning"
	case "deprecationNotice":
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
