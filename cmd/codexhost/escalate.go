package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins/chain"
)

// A terminalHuman asks the operator at the terminal to decide an approval
// that a plugin escalated with abi.Ask (chain.Options.Escalate). It asks
// one question at a time, in the order the requests arrive. The question
// goes to out (stderr, through the progress line's writer, so the status
// line stays off while the cursor waits after it); the answer is read from
// in, a terminal opened for this run. Every text in the question comes
// from the agent or a plugin and is escaped for the terminal.
//
// A question ends with the request's context (the turn interrupted, codex
// gone): the read is stopped by a deadline, and the chain's fallback
// decides. Close releases the terminal.
type terminalHuman struct {
	mu  sync.Mutex // one question at a time
	in  *os.File
	rd  *bufio.Reader
	out io.Writer
}

// openTerminalHuman returns a terminalHuman reading from stdin's terminal,
// or nil when stdin or stderr is not a terminal (CI, a pipe):
// then no one is asked and an ask is decided by the fallback.
func openTerminalHuman(stdin io.Reader, stderr, out io.Writer) *terminalHuman {
	f, ok := stdin.(*os.File)
	if !ok || !isTerminal(f) || !isTerminal(stderr) {
		return nil
	}
	// The same terminal, opened again: a file description of its own, so
	// that its read deadline (which needs it in non-blocking mode) leaves
	// the shell's stdin alone.
	tty, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", f.Fd()), os.O_RDWR, 0)
	if err != nil {
		if tty, err = os.OpenFile("/dev/tty", os.O_RDWR, 0); err != nil {
			return nil
		}
	}
	return newTerminalHuman(tty, out)
}

func newTerminalHuman(in *os.File, out io.Writer) *terminalHuman {
	return &terminalHuman{in: in, rd: bufio.NewReader(in), out: out}
}

// Close releases the terminal.
func (h *terminalHuman) Close() error { return h.in.Close() }

// errNoAnswer ends a question whose terminal closed before an answer.
var errNoAnswer = errors.New("the terminal closed before an answer")

// Escalate implements chain.Options.Escalate.
func (h *terminalHuman) Escalate(ctx context.Context, e *chain.Escalation) (abi.Decision, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := context.Cause(ctx); err != nil {
		return "", err
	}
	if err := h.in.SetReadDeadline(time.Time{}); err != nil {
		return "", fmt.Errorf("the terminal cannot be read with a deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = h.in.SetReadDeadline(time.Now()) })
	defer stop()

	forSession := offersForSession(e)
	choices := "[a]ccept once, [d]ecline, [c]ancel the turn"
	if forSession {
		choices = "[a]ccept once, accept for the [s]ession, [d]ecline, [c]ancel the turn"
	}
	reason := ""
	if e.Reason != "" {
		reason = ": " + termsafe.Line(clip(e.Reason))
	}
	fmt.Fprintf(h.out, "codexhost: plugin %s asks you to decide%s\n", termsafe.Line(clip(e.Plugin)), reason)
	h.showRequest(e)
	for {
		fmt.Fprintf(h.out, "%s? ", choices)
		line, err := h.rd.ReadString('\n')
		if err != nil {
			fmt.Fprintln(h.out)
			if cerr := context.Cause(ctx); cerr != nil {
				return "", cerr
			}
			if errors.Is(err, io.EOF) {
				return "", errNoAnswer
			}
			return "", err
		}
		var d abi.Decision
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "a", "accept", "y", "yes":
			d = abi.Accept
		case "s", "session":
			if forSession {
				d = abi.AcceptForSession
			}
		case "d", "decline", "n", "no":
			d = abi.Decline
		case "c", "cancel":
			d = abi.Cancel
		}
		if d != "" {
			fmt.Fprintf(h.out, "codexhost: you chose %s\n", d)
			return d, nil
		}
	}
}

// showRequest prints everything an accept of e grants: the request in
// full (every line of a command: an agent may put a harmless first line
// in front of anything), its working directory, the network access and
// the additional permissions it asks for. Each line is escaped.
func (h *terminalHuman) showRequest(e *chain.Escalation) {
	lines := strings.Split(strings.TrimSpace(e.Summary), "\n")
	fmt.Fprintf(h.out, "  %s %s\n", e.Request.Kind, termsafe.Line(lines[0]))
	for _, l := range lines[1:] {
		fmt.Fprintf(h.out, "    %s\n", termsafe.Line(l))
	}
	r := e.Request.ApprovalRequest
	if r.Cwd != "" {
		fmt.Fprintf(h.out, "  in %s\n", termsafe.Line(r.Cwd))
	}
	if r.Network != nil {
		fmt.Fprintf(h.out, "  network access to %s %s\n", termsafe.Line(r.Network.Host), termsafe.Line(r.Network.Protocol))
	}
	if r.AdditionalPermissions != nil {
		b, _ := json.Marshal(r.AdditionalPermissions)
		fmt.Fprintf(h.out, "  with the permissions %s\n", termsafe.Line(string(b)))
	}
}

// offersForSession reports whether codex takes a plain acceptForSession
// as the answer to e's request as it is (not narrowed to accept).
func offersForSession(e *chain.Escalation) bool {
	r := e.Request
	if _, err := r.Answer(&abi.ApprovalResponse{Decision: abi.AcceptForSession}); err != nil {
		return false
	}
	return len(r.AvailableDecisions) == 0 || slices.ContainsFunc(r.AvailableDecisions, func(o abi.DecisionOption) bool {
		return o.Decision == abi.AcceptForSession && len(o.Amendment) == 0 && o.NetworkRule == nil
	})
}
