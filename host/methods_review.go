package host

import (
	"context"
	"fmt"
	"time"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// A ReviewTarget says what [Client.StartReview] reviews.
type ReviewTarget struct {
	// Type is "uncommittedChanges", "baseBranch" (Branch), "commit" (Sha,
	// optional Title) or "custom" (Instructions).
	Type         string
	Branch       string
	Sha, Title   string
	Instructions string
}

// StartReview starts a code review of target as a turn of the thread
// (review/start, delivered inline) and returns it: consume its events or
// Wait, and Interrupt it like any turn. The reviewer is the thread's model:
// its findings arrive as the turn's items. A codex that runs the review on
// another thread (reviewThreadId) has it interrupted, and StartReview
// returns an error matching [ErrReviewElsewhere].
func (c *Client) StartReview(ctx context.Context, threadID string, target ReviewTarget) (*Turn, error) {
	if threadID == "" {
		return nil, fmt.Errorf("host: StartReview: empty thread id")
	}
	p := protocol.ReviewStartParams{ThreadID: threadID, Delivery: ptr(protocol.ReviewDeliveryInline),
		Target: protocol.ReviewTarget{Type: protocol.ReviewTargetType(target.Type), Branch: optStr(target.Branch),
			Sha: optStr(target.Sha), Title: optStr(target.Title), Instructions: optStr(target.Instructions)}}
	// Subscribe before starting, so that no event of the review is missed.
	sub := c.router.subscribe(threadID)
	var resp protocol.ReviewStartResponse
	if err := c.call(ctx, protocol.ClientReviewStart, p, &resp); err != nil {
		sub.close()
		return nil, fmt.Errorf("host: review/start: %w", err)
	}
	if on := resp.ReviewThreadID; on != "" && on != threadID {
		// Not the thread subscribed to, nor the one whose settings the
		// caller checked: stop the review there rather than lose it.
		sub.close()
		elsewhere := &Turn{c: c, ThreadID: on, ID: resp.Turn.ID}
		_ = elsewhere.Interrupt(ctx)
		return nil, fmt.Errorf("host: review/start: asked to review inline on the thread %s, codex ran the review on the thread %s (interrupted): %w", threadID, on, ErrReviewElsewhere)
	}
	t := &Turn{c: c, ThreadID: threadID, ID: resp.Turn.ID, sub: sub}
	t.res.ThreadID, t.res.TurnID, t.res.Status = threadID, t.ID, TurnInProgress
	return t, nil
}

// ExecOptions configure [Client.Exec]. A nil *ExecOptions runs the
// command in app-server's working directory under codex's default sandbox
// and timeout.
type ExecOptions struct {
	Cwd string
	// Timeout bounds the command; codex kills it after. Default: codex's.
	Timeout time.Duration
	// Env sets variables for the command (over codex's environment).
	Env map[string]string
	// SandboxPolicy replaces the configured sandbox for this command.
	SandboxPolicy *SandboxPolicy
	// OutputBytesCap caps each of stdout and stderr. Default: codex's.
	OutputBytesCap int
}

// An ExecResult is the outcome of [Client.Exec].
type ExecResult struct {
	ExitCode       int
	Stdout, Stderr string
}

// Exec runs argv through codex, in its sandbox, without a thread or the
// model (command/exec), and returns its exit code and output. No approval
// is asked: the caller is the one asking.
func (c *Client) Exec(ctx context.Context, argv []string, opts *ExecOptions) (*ExecResult, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("host: Exec: empty command")
	}
	p := protocol.CommandExecParams{Command: argv}
	var extra map[string]any
	if o := opts; o != nil {
		p.Cwd = optStr(o.Cwd)
		if o.Timeout > 0 {
			p.TimeoutMs = ptr(int(o.Timeout.Milliseconds()))
		}
		if len(o.Env) > 0 {
			p.Env = protocol.CommandExecParamsEnv(o.Env)
		}
		if o.OutputBytesCap > 0 {
			p.OutputBytesCap = ptr(o.OutputBytesCap)
		}
		if o.SandboxPolicy != nil {
			extra = map[string]any{"sandboxPolicy": o.SandboxPolicy.wire()}
		}
	}
	var resp protocol.CommandExecResponse
	if err := c.callExtra(ctx, protocol.ClientCommandExec, p, extra, &resp); err != nil {
		return nil, fmt.Errorf("host: command/exec: %w", err)
	}
	return &ExecResult{ExitCode: resp.ExitCode, Stdout: resp.Stdout, Stderr: resp.Stderr}, nil
}
