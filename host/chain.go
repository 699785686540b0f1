package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// A ChainMode decides how a [Chain] combines the approval decisions of its
// plugins.
type ChainMode uint8

const (
	// DenyWins asks every approval plugin in order: any cancel or decline
	// wins (cancel over decline), else an accept (accept over
	// acceptForSession), else the fallback. This is how codex's own
	// permission hooks combine.
	DenyWins ChainMode = iota
	// FirstAnswer stops at the first plugin that does not abstain.
	FirstAnswer
)

// ChainOptions configure [NewChain]. A nil *ChainOptions is an empty chain
// that answers everything with the fallbacks.
type ChainOptions struct {
	// Plugins are asked in order. A plugin takes part in the hooks its
	// manifest lists.
	Plugins []plugins.Plugin
	Mode    ChainMode
	// Fallback answers an approval when every plugin abstains, and stands
	// in for a plugin that fails (error, timeout, crash, invalid answer).
	// Default: abi.Decline (fail closed). It must be Decline, Cancel or
	// Accept.
	Fallback abi.Decision
	// Logger records every failure with the plugin's name and why.
	// Default: discard.
	Logger *slog.Logger
	// OnDecision, if set, receives a record of every request the chain
	// answered, before the answer is sent to codex. It must not block for
	// long.
	OnDecision func(*DecisionRecord)
	// Audit, if set, records every decision before the answer is sent
	// (e.g. audit.Log.Append). If it fails, the chain does not send an
	// answer it could not record: approvals are declined and other requests
	// get the safe answer (fail closed), and the failure is logged.
	Audit func(*DecisionRecord) error
}

// A Chain answers app-server's requests with plugins. It implements
// [RequestHandler]; install it as [Options.Handler]. Its dynamic tools are
// registered with every thread the Client starts.
//
// A Chain is safe for concurrent use. It does not own its plugins: close
// them after the Client.
type Chain struct {
	opts  ChainOptions
	tools map[string]plugins.Plugin
	specs []ToolSpec
}

var _ RequestHandler = (*Chain)(nil)

// NewChain builds a chain. It fails if two plugins declare the same tool,
// or if the fallback is not a final decision.
func NewChain(opts *ChainOptions) (*Chain, error) {
	c := &Chain{tools: map[string]plugins.Plugin{}}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Fallback == "" {
		c.opts.Fallback = abi.Decline
	}
	switch c.opts.Fallback {
	case abi.Decline, abi.Cancel, abi.Accept:
	default:
		return nil, fmt.Errorf("host: chain fallback %q must be decline, cancel or accept", c.opts.Fallback)
	}
	if c.opts.Logger == nil {
		c.opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, p := range c.opts.Plugins {
		m := p.Manifest()
		for _, t := range m.Tools {
			if prev, ok := c.tools[t.Name]; ok {
				return nil, fmt.Errorf("host: tool %q is declared by both %q and %q", t.Name, prev.Manifest().Name, m.Name)
			}
			c.tools[t.Name] = p
			c.specs = append(c.specs, ToolSpec{Name: t.Name, Description: t.Description, InputSchema: json.RawMessage(t.InputSchema)})
		}
	}
	return c, nil
}

// Tools returns the dynamic tools the chain's plugins serve.
func (c *Chain) Tools() []ToolSpec { return c.specs }

// A PluginAnswer is one plugin's part in a decision.
type PluginAnswer struct {
	Plugin   string
	Decision abi.Decision // approvals; "" for other hooks
	Reason   string
	Err      error // set when the plugin failed; Decision is then the fallback
	Latency  time.Duration
}

// A DecisionRecord describes how the chain answered one request.
type DecisionRecord struct {
	Time                     time.Time
	Hook                     abi.Hook
	Kind                     RequestKind
	Method                   string
	ThreadID, TurnID, ItemID string
	// Summary is a short description of the request: the command, the
	// changed paths, the tool name, the questions.
	Summary string
	Answers []PluginAnswer
	// Decision is the final decision of an approval.
	Decision abi.Decision
	// Why explains the final answer: "answer", "fallback: all abstained",
	// "fallback: plugin failed", ...
	Why     string
	Latency time.Duration
	// Answer is the JSON-RPC result sent to codex.
	Answer any
}

// HandleRequest implements [RequestHandler].
func (c *Chain) HandleRequest(ctx context.Context, req *Request) (any, error) {
	start := time.Now()
	rec := &DecisionRecord{Time: start, Kind: req.Kind, Method: req.Method, ThreadID: req.ThreadID, TurnID: req.TurnID, ItemID: req.ItemID}
	var answer any
	var err error
	switch {
	case req.Kind.IsApproval():
		rec.Hook = abi.HookApproval
		answer, err = c.approve(ctx, req, rec)
	case req.Kind == RequestUserInput:
		rec.Hook = abi.HookToolInput
		answer, err = c.toolInput(ctx, req, rec)
	case req.Kind == RequestToolCall:
		rec.Hook = abi.HookToolCall
		answer, err = c.toolCall(ctx, req, rec)
	default:
		return safeAnswer(ctx, req)
	}
	if err != nil {
		return nil, err
	}
	rec.Latency = time.Since(start)
	rec.Answer = answer
	if c.opts.Audit != nil {
		if err := c.opts.Audit(rec); err != nil {
			c.opts.Logger.Error("codexhost: audit write failed; answering fail-closed", "method", req.Method, "err", err)
			rec.Why = "fallback: audit write failed: " + err.Error()
			answer, _ = safeAnswer(ctx, req)
			if req.Kind.IsApproval() {
				rec.Decision = abi.Decline
			}
			rec.Answer = answer
		}
	}
	if c.opts.OnDecision != nil {
		c.opts.OnDecision(rec)
	}
	return answer, nil
}

// restrictiveness orders decisions for DenyWins.
func restrictiveness(d abi.Decision) int {
	switch d {
	case abi.Cancel:
		return 4
	case abi.Decline:
		return 3
	case abi.Accept:
		return 2
	case abi.AcceptForSession:
		return 1
	}
	return 0
}

func (c *Chain) approve(ctx context.Context, req *Request, rec *DecisionRecord) (any, error) {
	areq, err := req.ApprovalRequest()
	if err != nil {
		// A request we cannot read is declined, never guessed at.
		c.opts.Logger.Warn("codexhost: undecodable approval request; declining", "method", req.Method, "err", err)
		rec.Why, rec.Decision = "fallback: undecodable request", abi.Decline
		return safeAnswer(ctx, req)
	}
	rec.Summary = approvalSummary(areq)
	payload, err := json.Marshal(areq)
	if err != nil {
		return nil, err
	}
	var best *abi.ApprovalResponse
	why := "answer"
	for _, p := range c.opts.Plugins {
		m := p.Manifest()
		if !m.Implements(abi.HookApproval) {
			continue
		}
		t0 := time.Now()
		resp, err := callApproval(ctx, p, payload)
		if err == nil {
			// Check now that codex would take it; an invalid answer is a
			// failure of the plugin.
			if _, verr := req.ApprovalAnswer(areq, resolved(resp)); verr != nil && resp.Decision != abi.Abstain {
				err = verr
			}
		}
		ans := PluginAnswer{Plugin: m.Name, Latency: time.Since(t0)}
		if err != nil {
			c.opts.Logger.Warn("codexhost: approval plugin failed; using the fallback",
				"plugin", m.Name, "fallback", c.opts.Fallback, "err", err)
			ans.Err, ans.Decision = err, c.opts.Fallback
			resp = &abi.ApprovalResponse{Decision: c.opts.Fallback, Reason: fmt.Sprintf("plugin %s failed: %v", m.Name, err)}
			why = "fallback: plugin " + m.Name + " failed"
		} else {
			ans.Decision, ans.Reason = resp.Decision, resp.Reason
		}
		rec.Answers = append(rec.Answers, ans)
		if resp.Decision == abi.Abstain {
			continue
		}
		if c.opts.Mode == FirstAnswer {
			best = resp
			break
		}
		if best == nil || restrictiveness(resp.Decision) > restrictiveness(best.Decision) {
			best = resp
			if ans.Err == nil {
				why = "answer"
			}
		}
		if best.Decision == abi.Cancel {
			break
		}
	}
	if best == nil {
		best = &abi.ApprovalResponse{Decision: c.opts.Fallback, Reason: "every plugin abstained"}
		why = "fallback: all abstained"
	}
	rec.Decision, rec.Why = best.Decision, why
	answer, err := req.ApprovalAnswer(areq, best)
	if err != nil {
		// Only reachable with an invalid fallback response; stay closed.
		rec.Decision, rec.Why = abi.Decline, "fallback: "+err.Error()
		return safeAnswer(ctx, req)
	}
	return answer, nil
}

// resolved turns an abstain into a decline for validation purposes.
func resolved(r *abi.ApprovalResponse) *abi.ApprovalResponse {
	if r.Decision != abi.Abstain {
		return r
	}
	c := *r
	c.Decision = abi.Decline
	return &c
}

func callApproval(ctx context.Context, p plugins.Plugin, payload []byte) (*abi.ApprovalResponse, error) {
	out, err := p.Call(ctx, abi.HookApproval, payload)
	if err != nil {
		return nil, err
	}
	var r abi.ApprovalResponse
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, &plugins.CallError{Plugin: p.Manifest().Name, Hook: abi.HookApproval, Kind: plugins.FailBadOutput, Err: err}
	}
	if !r.Decision.Valid() {
		return nil, fmt.Errorf("invalid decision %q", r.Decision)
	}
	return &r, nil
}

func approvalSummary(a *abi.ApprovalRequest) string {
	switch a.Kind {
	case abi.ApprovalCommand:
		return a.Command
	case abi.ApprovalFileChange:
		s := ""
		for i, c := range a.Changes {
			if i > 0 {
				s += " "
			}
			s += c.Kind + ":" + c.Path
		}
		return s
	case abi.ApprovalPermissions:
		b, _ := json.Marshal(a.Permissions)
		return string(b)
	}
	return ""
}

func (c *Chain) toolInput(ctx context.Context, req *Request, rec *DecisionRecord) (any, error) {
	treq, err := req.ToolInputRequest()
	if err != nil {
		rec.Why = "fallback: undecodable request"
		return safeAnswer(ctx, req)
	}
	for _, q := range treq.Questions {
		rec.Summary += q.Question + " "
	}
	for _, p := range c.opts.Plugins {
		m := p.Manifest()
		if !m.Implements(abi.HookToolInput) {
			continue
		}
		t0 := time.Now()
		resp, err := plugins.Call[abi.ToolInputResponse](ctx, p, abi.HookToolInput, treq)
		var answer *UserInputResponse
		if err == nil && !resp.Abstain {
			answer, err = ToolInputAnswer(treq, resp)
		}
		ans := PluginAnswer{Plugin: m.Name, Latency: time.Since(t0), Err: err}
		rec.Answers = append(rec.Answers, ans)
		if err != nil {
			c.opts.Logger.Warn("codexhost: tool-input plugin failed; asking the next", "plugin", m.Name, "err", err)
			continue
		}
		if resp.Abstain {
			continue
		}
		rec.Why = "answer"
		return answer, nil
	}
	rec.Why = "fallback: no plugin answered"
	return UserInputAnswers(nil), nil
}

func (c *Chain) toolCall(ctx context.Context, req *Request, rec *DecisionRecord) (any, error) {
	treq, err := req.ToolCallRequest()
	if err != nil {
		rec.Why = "fallback: undecodable request"
		return safeAnswer(ctx, req)
	}
	rec.Summary = treq.Tool
	p, ok := c.tools[treq.Tool]
	if !ok {
		rec.Why = "fallback: no plugin serves the tool"
		return ToolFailure(fmt.Sprintf("codexhost: no plugin serves the tool %q", treq.Tool)), nil
	}
	name := p.Manifest().Name
	t0 := time.Now()
	resp, err := plugins.Call[abi.ToolCallResponse](ctx, p, abi.HookToolCall, treq)
	var answer *ToolResponse
	if err == nil {
		answer, err = ToolCallAnswer(resp)
	}
	rec.Answers = append(rec.Answers, PluginAnswer{Plugin: name, Latency: time.Since(t0), Err: err})
	if err != nil {
		c.opts.Logger.Warn("codexhost: tool plugin failed", "plugin", name, "tool", treq.Tool, "err", err)
		rec.Why = "fallback: plugin " + name + " failed"
		var ae *abi.Error
		if errors.As(err, &ae) {
			return ToolFailure(fmt.Sprintf("tool %s failed: %s", treq.Tool, ae.Message)), nil
		}
		return ToolFailure(fmt.Sprintf("tool %s failed: %v", treq.Tool, err)), nil
	}
	rec.Why = "answer"
	return answer, nil
}
