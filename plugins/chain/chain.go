// Package chain answers codex's requests with plugins: a [Chain] asks its
// plugins in order, combines their answers, and implements [host.Handler].
// It owns the plugin set and its hot swap, each plugin's crash budget,
// monitor mode and the decision record of every request.
//
//	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{policy}})
//	...
//	client, err := host.Start(ctx, &host.Options{Handler: ch})
//
// The answer codex receives is derived by host from the winning plugin's
// decision and the request alone: a plugin answer the request does not
// entitle is a failure of that plugin, charged to its crash budget and
// answered with the fallback.
package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain/internal/strictjson"
)

// A Mode decides how a [Chain] combines the approval decisions of its
// plugins.
type Mode uint8

const (
	// DenyWins asks every approval plugin in order: any cancel or decline
	// wins (cancel over decline), else an ask (a human decides, see
	// Options.Escalate), else an accept (accept over acceptForSession),
	// else the fallback. This is how codex's own
	// permission hooks combine. Between equal refusals the first plugin's
	// wins, with its extras. An accept grants no more than every accepting
	// plugin granted: an exec-policy amendment or a network allow rule
	// only if each of them gave the same one, and of permissions only what
	// each of them granted (see meetAccepts).
	DenyWins Mode = iota
	// FirstAnswer stops at the first plugin that does not abstain.
	FirstAnswer
)

// Options configure [New]. A nil *Options is an empty chain that answers
// everything with the fallbacks.
type Options struct {
	// Plugins are asked in order. A plugin takes part in the hooks its
	// manifest lists.
	Plugins []plugins.Plugin
	// Members are Plugins with per-plugin settings (monitor mode, crash
	// budget); set Plugins or Members, not both.
	Members []Member
	Mode    Mode
	// Fallback answers an approval when every plugin abstains, and stands
	// in for a plugin that fails (error, timeout, crash, invalid answer).
	// Default: abi.Decline (fail closed). It must be Decline, Cancel or
	// Accept.
	Fallback abi.Decision
	// Logger records every failure with the plugin's name and why.
	// Default: discard.
	Logger *slog.Logger
	// CrashBudget disables a plugin that keeps failing (see [CrashBudget]).
	// Default: DefaultCrashFailures in DefaultCrashWindow.
	CrashBudget CrashBudget
	// OnDecision, if set, receives a record of every request the chain
	// answered, before the answer is sent to codex. It must not block for
	// long.
	OnDecision func(*DecisionRecord)
	// Audit, if set, records every decision before the answer is sent
	// (e.g. audit.Log.Append). If it fails, the chain does not send an
	// answer it could not record: approvals are declined and other requests
	// get the safe answer (fail closed), and the failure is logged.
	Audit func(*DecisionRecord) error
	// Render configures the render pipeline (see [Chain.ObserveEvent]).
	Render RenderOptions
	// Escalate, if set, decides an approval whose winning plugin answered
	// abi.Ask: it asks a human. It returns Accept, AcceptForSession,
	// Decline or Cancel; codex gets that decision, derived from the request
	// like any other answer (the ask's extras are not carried over, and an
	// acceptForSession codex does not offer is narrowed or declined). If
	// Escalate is nil, fails, or returns anything else, the fallback
	// decides and the record says why (WhyNoHuman). It must return when
	// ctx is done; calls may be concurrent.
	Escalate func(ctx context.Context, e *Escalation) (abi.Decision, error)
}

// An Escalation is an approval a plugin handed to a human ([Options.Escalate]).
type Escalation struct {
	// Request is codex's request.
	Request *host.ApprovalRequest
	// Plugin asked, with Reason.
	Plugin, Reason string
	// Summary is the request in one line, as the decision record has it:
	// the command, the changed files, or the permissions asked for.
	Summary string
}

// A Chain answers app-server's requests with plugins. It implements
// [host.Handler]; install it as host.Options.Handler. Its dynamic tools
// ([Chain.Tools]) are for host.ThreadOptions.Tools. It also implements
// [host.EventObserver]: install it in host.Options.Observers and its
// render plugins render every event.
//
// The plugins, mode and fallback form an immutable plugin set that
// [Chain.Swap] replaces atomically (hot reload): each request uses the set
// that was current when it arrived, from its first plugin call to its
// answer.
//
// A Chain is safe for concurrent use. It does not own its plugins: close
// them after the Client (and a swapped-out set's after [RetiredSet.Wait]).
// [Chain.Close] stops the render goroutines.
type Chain struct {
	opts   Options
	cur    atomic.Pointer[pluginSet]
	swapMu sync.Mutex
	render *renderer
	// renders is set once a plugin set of the chain has had a render
	// member; until then ObserveEvent does nothing.
	renders atomic.Bool
}

var (
	_ host.Handler       = (*Chain)(nil)
	_ host.EventObserver = (*Chain)(nil)
)

// New builds a chain. It fails if two plugins declare the same tool, or if
// the fallback is not a final decision.
func New(opts *Options) (*Chain, error) {
	c := &Chain{}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Logger == nil {
		c.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if len(c.opts.Plugins) > 0 && len(c.opts.Members) > 0 {
		return nil, errors.New("chain: set Options.Plugins or Members, not both")
	}
	set := &PluginSet{Members: c.opts.Members, Mode: c.opts.Mode, Fallback: c.opts.Fallback}
	for _, p := range c.opts.Plugins {
		set.Members = append(set.Members, Member{Plugin: p})
	}
	s, err := newPluginSet(set, c.opts.CrashBudget)
	if err != nil {
		return nil, err
	}
	s.gen = 1
	c.cur.Store(s)
	c.renders.Store(s.renders)
	c.render = newRenderer(c, &c.opts.Render)
	return c, nil
}

// Tools returns the dynamic tools the chain's current plugin set serves.
func (c *Chain) Tools() []host.ToolSpec { return c.cur.Load().specs }

// finish records rec (Audit, then OnDecision) and returns what the chain
// answers. If the audit write fails, safe replaces the answer.
func (c *Chain) finish(rec *DecisionRecord, start time.Time, answer json.RawMessage, safe func() json.RawMessage) {
	rec.Latency = time.Since(start)
	rec.Answer = answer
	if c.opts.Audit != nil {
		if err := c.opts.Audit(rec); err != nil {
			c.opts.Logger.Error("codexhost: audit write failed; answering fail-closed", "method", rec.Method, "err", err)
			rec.Why = Why{Kind: WhyAuditFailed, Detail: err.Error()}
			rec.Answer = safe()
		}
	}
	if c.opts.OnDecision != nil {
		c.onDecision(rec)
	}
}

// onDecision runs Options.OnDecision. A panic there is logged, and changes
// nothing: the decision is made and recorded, and the answer recorded is
// the one sent.
func (c *Chain) onDecision(rec *DecisionRecord) {
	defer func() {
		if v := recover(); v != nil {
			c.opts.Logger.Error("codexhost: OnDecision panicked; the answer stands", "method", rec.Method, "panic", v)
		}
	}()
	c.opts.OnDecision(rec)
}

func newRecord(ctx context.Context, start time.Time, s *pluginSet, hook abi.Hook, method, thread, turn, item string) *DecisionRecord {
	return &DecisionRecord{ctx: ctx, Time: start, Hook: hook, Method: method, ThreadID: thread, TurnID: turn, ItemID: item, Generation: s.gen}
}

// restrictiveness orders decisions for DenyWins.
func restrictiveness(d abi.Decision) int {
	switch d {
	case abi.Cancel:
		return 5
	case abi.Decline:
		return 4
	case abi.Ask:
		return 3
	case abi.Accept:
		return 2
	case abi.AcceptForSession:
		return 1
	}
	return 0
}

// Approval implements [host.Handler]: it asks the set's approval plugins
// and returns the winning plugin's response, or the fallback.
func (c *Chain) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	start := time.Now()
	s := c.acquire()
	defer s.release()
	rec := newRecord(ctx, start, s, abi.HookApproval, req.Method, req.ThreadID, req.TurnID, req.ItemID)
	rec.ApprovalKind = req.Kind
	if req.Unreadable != nil {
		// The host declines it whatever the chain says: recorded, and no
		// plugin is asked about a request nobody could read.
		rec.Summary = "(unreadable " + req.Method + ")"
		rec.Why = Why{Kind: WhyUndecodable, Detail: req.Unreadable.Error()}
		rec.Decision = abi.Decline
		c.finish(rec, start, nil, func() json.RawMessage { return nil })
		return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "codexhost could not read the request"}, nil
	}
	rec.Summary = approvalSummary(req.ApprovalRequest)
	payload, err := json.Marshal(req.ApprovalRequest)
	if err != nil {
		return nil, err
	}
	monitors := startMonitors(s, abi.HookApproval, func(m *member) PluginAnswer {
		ans, _ := c.askApproval(ctx, s, m, req, payload)
		return ans
	})
	var best *abi.ApprovalResponse
	var winner PluginAnswer
	var accepts []*abi.ApprovalResponse // DenyWins: every accepting answer
	for _, m := range s.members {
		if m.Monitor || !m.implements(abi.HookApproval) {
			continue
		}
		ans, resp := c.askApproval(ctx, s, m, req, payload)
		rec.Answers = append(rec.Answers, ans)
		if resp.Decision == abi.Abstain {
			continue
		}
		if s.mode == FirstAnswer {
			best, winner = resp, ans
			break
		}
		if resp.Decision == abi.Accept || resp.Decision == abi.AcceptForSession {
			accepts = append(accepts, resp)
		}
		if best == nil || restrictiveness(resp.Decision) > restrictiveness(best.Decision) {
			best, winner = resp, ans
		}
		if best.Decision == abi.Cancel {
			break
		}
	}
	if s.mode == DenyWins && len(accepts) > 1 && best != nil && (best.Decision == abi.Accept || best.Decision == abi.AcceptForSession) {
		best = meetAccepts(best.Decision, best.Reason, accepts)
	}
	rec.Answers = append(rec.Answers, monitors()...)
	// Why is decided once, from the winner alone: a decline followed by
	// another plugin's failure is still the decline's answer.
	switch {
	case best == nil:
		best = &abi.ApprovalResponse{Decision: s.fallback, Reason: "every plugin abstained"}
		rec.Why = Why{Kind: WhyAbstained}
	case errors.Is(winner.Err, ErrPluginDisabled):
		rec.Why = Why{Kind: WhyDisabled, Plugin: winner.Plugin}
	case winner.Err != nil:
		rec.Why = Why{Kind: WhyFailed, Plugin: winner.Plugin}
	default:
		rec.Why = Why{Kind: WhyAnswer, Plugin: winner.Plugin}
	}
	if best.Decision == abi.Ask {
		best = c.escalate(ctx, s, rec, req, winner.Plugin, best.Reason)
	}
	answer, err := req.Answer(best)
	if err != nil {
		// A fallback's or a person's answer codex may not be sent (accept
		// not on offer, a grant through a symbolic link): declined, and
		// the record says so rather than the fallback's name alone.
		rec.Why = Why{Kind: WhyRefused, Detail: fmt.Sprintf("%s answered %s: %v", rec.Why, best.Decision, err)}
		best = &abi.ApprovalResponse{Decision: abi.Decline, Reason: best.Reason}
		if answer, err = req.Answer(best); err != nil {
			return nil, err // unreachable: a plain decline always derives
		}
	}
	rec.Decision = best.Decision
	c.finish(rec, start, answer, func() json.RawMessage {
		best = safeApproval(req, &abi.ApprovalResponse{Decision: abi.Decline, Reason: "codexhost: the decision could not be recorded"})
		rec.Decision = best.Decision
		b, _ := req.Answer(best)
		return b
	})
	return best, nil
}

// meetAccepts is the accept (decision d, with reason) that grants no more
// than any of the accepting answers: an amendment or a network rule only
// if every answer carries the same, and the permissions every answer
// granted (a nil Granted grants all that was requested).
func meetAccepts(d abi.Decision, reason string, accepts []*abi.ApprovalResponse) *abi.ApprovalResponse {
	out := &abi.ApprovalResponse{Decision: d, Reason: reason,
		Amendment: accepts[0].Amendment, NetworkRule: accepts[0].NetworkRule, Granted: accepts[0].Granted}
	for _, a := range accepts[1:] {
		if !slices.Equal(out.Amendment, a.Amendment) {
			out.Amendment = nil
		}
		if out.NetworkRule != nil && (a.NetworkRule == nil || *a.NetworkRule != *out.NetworkRule) {
			out.NetworkRule = nil
		}
		switch {
		case a.Granted == nil:
		case out.Granted == nil:
			out.Granted = a.Granted
		default:
			out.Granted = &abi.Permissions{
				ReadPaths:  intersect(out.Granted.ReadPaths, a.Granted.ReadPaths),
				WritePaths: intersect(out.Granted.WritePaths, a.Granted.WritePaths),
				Network:    out.Granted.Network && a.Granted.Network,
			}
		}
	}
	if len(out.Amendment) == 0 {
		out.Amendment = nil
	}
	return out
}

// intersect returns the elements of a that are in b, in a's order, each
// once; in time linear in both (plugins choose how long they are).
func intersect(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if in[x] {
			out = append(out, x)
			in[x] = false // once
		}
	}
	return out
}

// escalate asks Options.Escalate for the decision a plugin escalated,
// and sets rec.Why to say who decided: the human, or the fallback.
func (c *Chain) escalate(ctx context.Context, s *pluginSet, rec *DecisionRecord, req *host.ApprovalRequest, plugin, reason string) *abi.ApprovalResponse {
	fallback := func(detail string) *abi.ApprovalResponse {
		rec.Why = Why{Kind: WhyNoHuman, Plugin: plugin, Detail: detail}
		return &abi.ApprovalResponse{Decision: s.fallback, Reason: reason}
	}
	if c.opts.Escalate == nil {
		return fallback("no one to ask")
	}
	d, err := c.opts.Escalate(ctx, &Escalation{Request: req, Plugin: plugin, Reason: reason, Summary: rec.Summary})
	switch {
	case err != nil:
		c.opts.Logger.Warn("codexhost: escalation failed; the fallback decides", "plugin", plugin, "err", err)
		return fallback(err.Error())
	case d != abi.Accept && d != abi.AcceptForSession && d != abi.Decline && d != abi.Cancel:
		return fallback(fmt.Sprintf("the answer %q is not a decision", d))
	}
	rec.Why = Why{Kind: WhyHuman, Plugin: plugin}
	return &abi.ApprovalResponse{Decision: d, Reason: reason}
}

// safeApproval returns resp if codex takes it for req, else a decline
// with its reason (a fallback of accept may not be on offer; a decline
// always is).
func safeApproval(req *host.ApprovalRequest, resp *abi.ApprovalResponse) *abi.ApprovalResponse {
	if _, err := req.Answer(resp); err == nil {
		return resp
	}
	return &abi.ApprovalResponse{Decision: abi.Decline, Reason: resp.Reason}
}

// askApproval asks one member. A failure, including an answer host would
// refuse, is charged to the member's crash budget and answered with the
// fallback, which the returned response then carries (without extras).
func (c *Chain) askApproval(ctx context.Context, s *pluginSet, m *member, req *host.ApprovalRequest, payload []byte) (PluginAnswer, *abi.ApprovalResponse) {
	t0 := time.Now()
	resp, err := callMember[abi.ApprovalResponse](ctx, m, abi.HookApproval, payload, c.opts.Logger, func(r *abi.ApprovalResponse) error {
		return validApproval(req, r)
	})
	ans := PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Monitor: m.Monitor}
	if err != nil {
		if m.Monitor {
			c.opts.Logger.Warn("codexhost: monitor plugin failed (no effect on the decision)", "plugin", m.name, "err", err)
		} else {
			c.opts.Logger.Warn("codexhost: approval plugin failed; using the fallback",
				"plugin", m.name, "fallback", s.fallback, "err", err)
		}
		ans.Err, ans.Decision = err, s.fallback
		return ans, &abi.ApprovalResponse{Decision: s.fallback, Reason: fmt.Sprintf("plugin %s failed: %v", m.name, err)}
	}
	ans.Decision, ans.Reason = resp.Decision, resp.Reason
	return ans, resp
}

// validApproval reports why the chain does not take r as an answer to
// req: abstain and ask carry no extras; every other answer must derive an
// answer codex takes (host.ApprovalRequest.Answer).
func validApproval(req *host.ApprovalRequest, r *abi.ApprovalResponse) error {
	if r.Decision == abi.Abstain || r.Decision == abi.Ask {
		if r.Amendment != nil || r.NetworkRule != nil || r.Granted != nil {
			return fmt.Errorf("%w: %s carries extras", host.ErrInvalidAnswer, r.Decision)
		}
		return nil
	}
	_, err := req.Answer(r)
	return err
}

// ApprovalAnswer decodes out, a plugin's answer to the approval req, as the
// chain takes it: strictly (member names spelled exactly, none twice), and
// valid for req. An answer it refuses is a failure of the plugin (kind
// bad_output) in a chain: tracing uses it to say so of the plugin's span.
func ApprovalAnswer(req *host.ApprovalRequest, out []byte) (*abi.ApprovalResponse, error) {
	r := new(abi.ApprovalResponse)
	if err := strictjson.Unmarshal(out, r); err != nil {
		return nil, err
	}
	if err := validApproval(req, r); err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeAnswer decodes out, a plugin's answer to a hook, into v (a
// pointer to the hook's response type) as the chain decodes every answer:
// strictly, member names spelled exactly and none twice (unknown members
// are ignored). An answer it refuses is a failure of the plugin in a
// chain.
func DecodeAnswer(out []byte, v any) error { return strictjson.Unmarshal(out, v) }

// startMonitors asks the set's monitor plugins that implement hook, each
// on a goroutine of its own, and returns a function that waits for their
// answers, in chain order. The caller must call it.
func startMonitors(s *pluginSet, hook abi.Hook, ask func(*member) PluginAnswer) func() []PluginAnswer {
	var ms []*member
	for _, m := range s.members {
		if m.Monitor && m.implements(hook) {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return func() []PluginAnswer { return nil }
	}
	answers := make([]PluginAnswer, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					answers[i] = PluginAnswer{Plugin: m.name, Monitor: true, Err: fmt.Errorf("chain: monitor plugin call panicked: %v", p)}
				}
			}()
			answers[i] = ask(m)
		})
	}
	return func() []PluginAnswer {
		wg.Wait()
		return answers
	}
}

// callMember calls hook on m with payload, decodes the response strictly
// and checks it with valid. A response that does not decode or that valid
// refuses is a failure of the plugin, charged to its crash budget.
func callMember[R any](ctx context.Context, m *member, hook abi.Hook, payload []byte, log *slog.Logger, valid func(*R) error) (*R, error) {
	out, err := m.call(ctx, hook, payload, log)
	if err != nil {
		return nil, err
	}
	r := new(R)
	err = strictjson.Unmarshal(out, r)
	if err == nil && valid != nil {
		err = valid(r)
	}
	if err != nil {
		err = &plugins.CallError{Plugin: m.name, Hook: hook, Kind: plugins.FailBadOutput, Err: err}
		m.fail(err, log)
		return nil, err
	}
	return r, nil
}

func approvalSummary(a *abi.ApprovalRequest) string {
	switch a.Kind {
	case abi.ApprovalCommand:
		// What an accept grants besides the command goes with it.
		s := a.Command
		if n := a.Network; n != nil {
			s += " [network " + n.Host + " " + n.Protocol + "]"
		}
		if p := a.AdditionalPermissions; p != nil {
			b, _ := json.Marshal(p)
			s += " [permissions " + string(b) + "]"
		}
		return s
	case abi.ApprovalFileChange:
		// A builder: the agent chooses how many files a patch changes,
		// and appending to a string per change was quadratic (40000
		// changes took 36 s, before any plugin was asked).
		var s strings.Builder
		for i, c := range a.Changes {
			if i > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(c.Kind + ":" + c.Path)
			if c.MovePath != "" {
				// The move target is written too: the summary is what
				// the operator is asked about and the audit log keeps.
				s.WriteString(" -> " + c.MovePath)
			}
		}
		if a.GrantRoot != "" {
			s.WriteString(" grantRoot:" + a.GrantRoot)
		}
		return s.String()
	case abi.ApprovalPermissions:
		b, _ := json.Marshal(a.Permissions)
		return string(b)
	}
	return ""
}

// UserInput implements [host.Handler]: the first plugin that answers
// (does not abstain or fail) answers; if none does, every question gets
// an empty answer.
func (c *Chain) UserInput(ctx context.Context, req *host.UserInputRequest) (*abi.ToolInputResponse, error) {
	start := time.Now()
	s := c.acquire()
	defer s.release()
	rec := newRecord(ctx, start, s, abi.HookToolInput, req.Method, req.ThreadID, req.TurnID, req.ItemID)
	var summary strings.Builder // linear in the questions, which the agent chooses
	for _, q := range req.Questions {
		summary.WriteString(q.Question + " ")
	}
	rec.Summary = summary.String()
	payload, err := json.Marshal(req.ToolInputRequest)
	if err != nil {
		return nil, err
	}
	valid := func(r *abi.ToolInputResponse) error {
		_, err := req.Answer(r)
		return err
	}
	monitors := startMonitors(s, abi.HookToolInput, func(m *member) PluginAnswer {
		t0 := time.Now()
		_, err := callMember(ctx, m, abi.HookToolInput, payload, c.opts.Logger, valid)
		if err != nil {
			c.opts.Logger.Warn("codexhost: monitor plugin failed (no effect on the answer)", "plugin", m.name, "err", err)
		}
		return PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Err: err, Monitor: true}
	})
	var answer *abi.ToolInputResponse
	for _, m := range s.members {
		if m.Monitor || !m.implements(abi.HookToolInput) {
			continue
		}
		t0 := time.Now()
		resp, err := callMember(ctx, m, abi.HookToolInput, payload, c.opts.Logger, valid)
		rec.Answers = append(rec.Answers, PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Err: err})
		if err != nil {
			c.opts.Logger.Warn("codexhost: tool-input plugin failed; asking the next", "plugin", m.name, "err", err)
			continue
		}
		if resp.Abstain {
			continue
		}
		answer, rec.Why = resp, Why{Kind: WhyAnswer, Plugin: m.name}
		break
	}
	rec.Answers = append(rec.Answers, monitors()...)
	if answer == nil {
		answer, rec.Why = &abi.ToolInputResponse{Abstain: true}, Why{Kind: WhyUnanswered}
	}
	b, err := req.Answer(answer)
	if err != nil {
		return nil, err // unreachable: answer was checked
	}
	c.finish(rec, start, b, func() json.RawMessage {
		answer = &abi.ToolInputResponse{Abstain: true}
		b, _ := req.Answer(answer)
		return b
	})
	return answer, nil
}

// ToolCall implements [host.Handler]: the plugin that declared the tool
// runs it; its failure reaches the model as a failed tool call.
func (c *Chain) ToolCall(ctx context.Context, req *host.ToolCallRequest) (*abi.ToolCallResponse, error) {
	start := time.Now()
	s := c.acquire()
	defer s.release()
	rec := newRecord(ctx, start, s, abi.HookToolCall, req.Method, req.ThreadID, req.TurnID, req.CallID)
	rec.Summary = req.Tool
	var resp *abi.ToolCallResponse
	m, ok := s.tools[req.Tool]
	if !ok {
		rec.Why = Why{Kind: WhyUnanswered}
		resp = toolFailure(fmt.Sprintf("codexhost: no plugin serves the tool %q (if it was served before, a reload of the plugin set removed it)", req.Tool))
	} else {
		payload, err := json.Marshal(req.ToolCallRequest)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		resp, err = callMember(ctx, m, abi.HookToolCall, payload, c.opts.Logger, func(r *abi.ToolCallResponse) error {
			_, err := req.Answer(r)
			return err
		})
		rec.Answers = append(rec.Answers, PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Err: err})
		switch {
		case err == nil:
			rec.Why = Why{Kind: WhyAnswer, Plugin: m.name}
		default:
			c.opts.Logger.Warn("codexhost: tool plugin failed", "plugin", m.name, "tool", req.Tool, "err", err)
			rec.Why = Why{Kind: WhyFailed, Plugin: m.name}
			if errors.Is(err, ErrPluginDisabled) {
				rec.Why.Kind = WhyDisabled
			}
			if ae, ok := errors.AsType[*abi.Error](err); ok {
				resp = toolFailure(fmt.Sprintf("tool %s failed: %s", req.Tool, ae.Message))
			} else {
				resp = toolFailure(fmt.Sprintf("tool %s failed: %v", req.Tool, err))
			}
		}
	}
	b, err := req.Answer(resp)
	if err != nil {
		return nil, err // unreachable: resp was checked or is text
	}
	c.finish(rec, start, b, func() json.RawMessage {
		resp = toolFailure("codexhost: the tool's result could not be recorded")
		b, _ := req.Answer(resp)
		return b
	})
	return resp, nil
}

func toolFailure(why string) *abi.ToolCallResponse {
	return &abi.ToolCallResponse{Content: []abi.Content{{Type: "text", Text: why}}}
}

// Elicitation implements [host.Handler]. ABI v1 has no elicitation hook:
// the chain declines, asking no plugin, and records the decline as an
// approval declined unread. codex asks about an MCP tool call (one that
// does not say it only reads) with an elicitation: the record, the
// decline line and the run's exit status say that the agent's call was
// refused.
func (c *Chain) Elicitation(ctx context.Context, req *host.ElicitationRequest) (*host.ElicitationResponse, error) {
	start := time.Now()
	s := c.acquire()
	defer s.release()
	rec := newRecord(ctx, start, s, abi.HookApproval, req.Method, req.ThreadID, req.TurnID, "")
	rec.Summary = elicitationSummary(req)
	rec.Why = Why{Kind: WhyUndecodable, Detail: "an MCP elicitation, which no plugin hook answers"}
	rec.Decision = abi.Decline
	c.finish(rec, start, nil, func() json.RawMessage { return nil })
	return host.SafeHandler{}.Elicitation(ctx, req)
}

// elicitationSummary describes an MCP elicitation: the tool call codex
// asks about (its _meta), or the server and its message.
func elicitationSummary(req *host.ElicitationRequest) string {
	var p struct {
		Meta struct {
			Kind   string          `json:"codex_approval_kind"`
			Tool   string          `json:"tool_name"`
			Params json.RawMessage `json:"tool_params"`
		} `json:"_meta"`
	}
	if json.Unmarshal(req.Params, &p) == nil && p.Meta.Kind == "mcp_tool_call" && p.Meta.Tool != "" {
		return "mcp tool call " + req.ServerName + "." + p.Meta.Tool + " " + string(p.Meta.Params)
	}
	return "mcp elicitation from " + req.ServerName + ": " + req.Message
}
