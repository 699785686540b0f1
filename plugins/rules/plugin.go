package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// Response is the approval hook's answer for v: its decision, with the
// rule's name and message as the reason ("no rule matched" when v
// abstains, followed by why the line was not vouched if it was not).
func (v Verdict) Response() *abi.ApprovalResponse {
	if v.Rule == "" {
		reason := "no rule matched"
		if v.Analysis != nil && !v.Analysis.Vouched {
			reason += " (" + v.Analysis.Reason + ")"
		}
		return &abi.ApprovalResponse{Decision: abi.Abstain, Reason: reason}
	}
	reason := "rule " + v.Rule
	if v.Message != "" {
		reason += ": " + v.Message
	}
	if v.Unread != "" {
		reason += " (the engine could not read the whole line: " + v.Unread + ")"
	}
	return &abi.ApprovalResponse{Decision: v.Decision, Reason: reason}
}

// NewPlugin returns p as an in-process approval plugin named "rules", the
// same plugin as the sandboxed rules-policy module (cmd/rules-policy)
// without the sandbox: codexhost's --policy flag uses it, so a rules file
// needs no Wasm build and costs no compilation. Each call is bounded by
// plugins.DefaultTimeout, as a sandboxed plugin's is: one that runs past
// it fails with a [plugins.CallError] of kind plugins.FailTimeout, which
// a chain answers fail-closed, whatever the rules had read by then. It is
// safe for concurrent use; Close does nothing.
func NewPlugin(p *Policy) plugins.Plugin { return &inProcess{p: p, timeout: plugins.DefaultTimeout} }

type inProcess struct {
	p       *Policy
	timeout time.Duration
}

// errCallTimeout is the cause of a call's context when its timeout ends
// it (and not the caller's context).
var errCallTimeout = errors.New("rules: the call took longer than its timeout")

var manifest = abi.Manifest{
	Name: "rules", Version: "1.0.0", ABI: abi.Version,
	Hooks:       []abi.Hook{abi.HookApproval, abi.HookToolInput},
	Description: "decides approvals with the ordered rules of a rules file, and answers the agent's questions with its answers",
}

func (*inProcess) Manifest() *abi.Manifest { return &manifest }

func (*inProcess) Close(context.Context) error { return nil }

func (r *inProcess) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if hook != abi.HookApproval && hook != abi.HookToolInput {
		return nil, &abi.Error{Code: abi.CodeUnsupportedHook, Message: fmt.Sprintf("rules: hook %q is not implemented", hook)}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, r.timeout, errCallTimeout)
	defer cancel()
	if hook == abi.HookToolInput {
		var q abi.ToolInputRequest
		if err := json.Unmarshal(req, &q); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: "rules: tool-input request: " + err.Error()}
		}
		return json.Marshal(r.p.Answer(&q))
	}
	var a abi.ApprovalRequest
	if err := json.Unmarshal(req, &a); err != nil {
		return nil, &abi.Error{Code: abi.CodeBadRequest, Message: "rules: approval request: " + err.Error()}
	}
	v := r.p.Evaluate(ctx, &a)
	if err := ctx.Err(); err != nil {
		// The engine stopped reading where the context ended: what it
		// decided covers part of the line at most.
		kind := plugins.FailUnavailable
		if errors.Is(context.Cause(ctx), errCallTimeout) || errors.Is(err, context.DeadlineExceeded) {
			kind = plugins.FailTimeout
		}
		return nil, &plugins.CallError{Plugin: manifest.Name, Hook: hook, Kind: kind, Err: context.Cause(ctx)}
	}
	return json.Marshal(v.Response())
}
