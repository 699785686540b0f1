package host

import (
	"errors"
	"fmt"
	"strings"
)

// A CodexNotFoundError says why [Start] found no usable codex binary. It
// matches [ErrCodexNotFound] with errors.Is.
type CodexNotFoundError struct {
	// Source names the setting the path came from: "Options.Codex" or
	// "CODEX_BIN"; empty when none named one, and the pinned install and
	// PATH had none either.
	Source string
	// Path is the path the setting gave.
	Path string
	// Err is why it is not usable (not found, not executable).
	Err error
}

// errNotExecutable is the Err of a CodexNotFoundError whose path is a
// directory or has no execute permission.
var errNotExecutable = errors.New("not an executable file")

func (e *CodexNotFoundError) Error() string {
	if e.Source == "" {
		return fmt.Sprintf("%v: not set in Options.Codex or $%s, no pinned install under tools/codex of the working directory or a parent (`make codex` in a codexhost checkout), and none on PATH (npm install -g @openai/codex)", ErrCodexNotFound, envCodexBin)
	}
	return fmt.Sprintf("%v: %s=%q: %v", ErrCodexNotFound, e.Source, e.Path, e.Err)
}

// Is reports whether target is [ErrCodexNotFound].
func (e *CodexNotFoundError) Is(target error) bool { return target == ErrCodexNotFound }

// Unwrap returns Err.
func (e *CodexNotFoundError) Unwrap() error { return e.Err }

var (
	// ErrCodexNotFound means no codex binary could be located; the error
	// is a [*CodexNotFoundError] that says where the client looked.
	ErrCodexNotFound = errors.New("host: codex binary not found")

	// ErrClosed is returned by calls made after [Client.Close].
	ErrClosed = errors.New("host: client closed")

	// ErrNotAuthenticated means codex has no credentials for its model
	// provider: log in with `codex login`, set an API key, or configure a
	// provider in CODEX_HOME/config.toml.
	ErrNotAuthenticated = errors.New("host: codex is not authenticated")

	// ErrPrepare wraps the error of a failed [Options.Prepare]: [Start]
	// stopped app-server and returns it.
	ErrPrepare = errors.New("host: prepare")

	// ErrThreadNotFound means app-server does not know the thread id.
	ErrThreadNotFound = errors.New("host: thread not found")

	// ErrConfig means codex rejected its configuration (CODEX_HOME/config.toml
	// or a -c override); the error says which file, line and key.
	ErrConfig = errors.New("host: codex configuration is invalid")

	// ErrReviewElsewhere means codex ran a review on another thread than
	// the one [Client.StartReview] asked to review inline: its events and
	// approval requests carry that thread's id.
	ErrReviewElsewhere = errors.New("host: codex ran the review on another thread")

	// ErrTurnFailed is matched by a [*TurnError] returned for a failed turn.
	ErrTurnFailed = errors.New("host: turn failed")

	// ErrRequestResolved is the cause ([context.Cause]) of the end of a
	// Handler's context when codex no longer waits for the answer: it
	// said so (serverRequest/resolved), or the request's turn completed.
	ErrRequestResolved = errors.New("host: codex no longer waits for this answer")
)

// A ConnError reports that the connection to app-server broke: the process
// exited, or its output could not be read. It carries the last lines app-server
// wrote to stderr, which usually say why.
type ConnError struct {
	// Err is the underlying cause (an *rpc.ProtocolError, rpc.ErrPeerClosed,
	// an *exec.ExitError, ...).
	Err error
	// ExitCode is the process exit code, or -1 if it has not exited or was
	// killed by a signal.
	ExitCode int
	// Stderr holds up to [Options.StderrLines] last lines of app-server's stderr.
	Stderr []string
}

func (e *ConnError) Error() string {
	var b strings.Builder
	b.WriteString("host: app-server connection lost: ")
	b.WriteString(e.Err.Error())
	if e.ExitCode >= 0 {
		fmt.Fprintf(&b, " (exit code %d)", e.ExitCode)
	}
	if r := codexErrorLine(e.Stderr); r != "" {
		b.WriteString("; app-server: ")
		b.WriteString(r)
	} else if tail := lastNonEmpty(e.Stderr, 5); len(tail) > 0 {
		b.WriteString("; app-server stderr:\n  ")
		b.WriteString(strings.Join(tail, "\n  "))
	}
	return b.String()
}

// Reason is why app-server stopped, in its own words: the last error codex
// wrote to stderr ("Error: …", with the causes listed after it, not the
// backtrace that RUST_BACKTRACE adds), or else its last non-empty stderr
// line; "" if it wrote none.
func (e *ConnError) Reason() string {
	if r := codexErrorLine(e.Stderr); r != "" {
		return r
	}
	if tail := lastNonEmpty(e.Stderr, 1); len(tail) > 0 {
		return tail[0]
	}
	return ""
}

// codexErrorLine returns the last "Error: …" line of lines, the error a
// Rust program's main returned, with the "Caused by:" entries that follow
// it joined on, or "".
func codexErrorLine(lines []string) string {
	i := len(lines) - 1
	for ; i >= 0 && !strings.HasPrefix(lines[i], "Error: "); i-- {
	}
	if i < 0 {
		return ""
	}
	out := strings.TrimSpace(lines[i])
	causes := false
	for _, l := range lines[i+1:] {
		switch t := strings.TrimSpace(l); {
		case t == "":
		case t == "Caused by:":
			causes = true
		case causes && l != t: // an indented cause, "    0: …"
			out += "; caused by: " + t
		default:
			return out // the backtrace, or anything else
		}
	}
	return out
}

func (e *ConnError) Unwrap() error { return e.Err }

func lastNonEmpty(lines []string, n int) []string {
	var out []string
	for i := len(lines) - 1; i >= 0 && len(out) < n; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			out = append(out, s)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// A TurnError is a turn that ended with status failed, or an error
// notification app-server sent during a turn.
type TurnError struct {
	ThreadID, TurnID string
	Message          string
	// Info is codex's error classification, e.g. "unauthorized",
	// "contextWindowExceeded", or a JSON object for structured kinds.
	Info string
	// Details is codex's additionalDetails, if any.
	Details string
}

func (e *TurnError) Error() string {
	msg := "host: turn " + e.TurnID + " failed: " + e.Message
	if e.Info != "" {
		msg += " (" + e.Info + ")"
	}
	return msg
}

// Is reports true for [ErrTurnFailed], and for [ErrNotAuthenticated] when
// codex classified the failure as unauthorized.
func (e *TurnError) Is(target error) bool {
	switch target {
	case ErrTurnFailed:
		return true
	case ErrNotAuthenticated:
		return e.Info == "unauthorized" || strings.Contains(e.Message, "401 Unauthorized")
	}
	return false
}
