package rules

import (
	"context"
	"encoding/json"
	"fmt"

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
// needs no Wasm build and costs no compilation. It is safe for concurrent
// use; Close does nothing.
func NewPlugin(p *Policy) plugins.Plugin { return &inProcess{p: p} }

type inProcess struct{ p *Policy }

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
	return json.Marshal(r.p.Evaluate(ctx, &a).Response())
}
