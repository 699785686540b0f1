package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// Members are Plugins with per-plugin settings (monitor mode, crash
	// budget); set Plugins or Members, not both.
	Members []Member
	Mode    ChainMode
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
}

// A Chain answers app-server's requests with plugins. It implements
// [RequestHandler]; install it as [Options.Handler]. Its dynamic tools are
// registered with every thread the Client starts.
//
// The plugins, mode and fallback form an immutable plugin set that
// [Chain.Swap] replaces atomically (hot reload): each request uses the set
// that was current when it arrived, from its first plugin call to its
// answer.
//
// A Chain is safe for concurrent use. It does not own its plugins: close
// them after the Client (and a swapped-out set's after [RetiredSet.Wait]).
type Chain struct {
	opts   ChainOptions
	cur    atomic.Pointer[pluginSet]
	swapMu sync.Mutex
}

var _ RequestHandler = (*Chain)(nil)

// NewChain builds a chain. It fails if two plugins declare the same tool,
// or if the fallback is not a final decision.
func NewChain(opts *ChainOptions) (*Chain, error) {
	c := &Chain{}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.Logger == nil {
		c.opts.Logger = slog.New(slog.DiscardHandler)
	}
	if len(c.opts.Plugins) > 0 && len(c.opts.Members) > 0 {
		return nil, errors.New("host: set ChainOptions.Plugins or Members, not both")
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
	return c, nil
}

// Tools returns the dynamic tools the chain's current plugin set serves.
func (c *Chain) Tools() []ToolSpec { return c.cur.Load().specs }

// A PluginAnswer is one plugin's part in a decision.
type PluginAnswer struct {
	Plugin   string
	Decision abi.Decision // approvals; "" for other hooks
	Reason   string
	Err      error // set when the plugin failed; Decision is then the fallback
	Latency  time.Duration
	// Monitor marks the answer of a plugin in monitor mode: recorded, but
	// not part of the decision.
	Monitor bool
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
	// Generation is the generation of the plugin set that answered
	// ([Chain.Generation]).
	Generation uint64
}

// HandleRequest implements [RequestHandler].
func (c *Chain) HandleRequest(ctx context.Context, req *Request) (any, error) {
	start := time.Now()
	s := c.acquire()
	defer s.release()
	rec := &DecisionRecord{Time: start, Kind: req.Kind, Method: req.Method, ThreadID: req.ThreadID, TurnID: req.TurnID, ItemID: req.ItemID,
		Generation: s.gen}
	var answer any
	var err error
	switch {
	case req.Kind.IsApproval():
		rec.Hook = abi.HookApproval
		answer, err = c.approve(ctx, s, req, rec)
	case req.Kind == RequestUserInput:
		rec.Hook = abi.HookToolInput
		answer, err = c.toolInput(ctx, s, req, rec)
	case req.Kind == RequestToolCall:
		rec.Hook = abi.HookToolCall
		answer, err = c.toolCall(ctx, s, req, rec)
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

func (c *Chain) approve(ctx context.Context, s *pluginSet, req *Request, rec *DecisionRecord) (any, error) {
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
	monitors := startMonitors(s, abi.HookApproval, func(m *member) PluginAnswer {
		ans, _ := c.askApproval(ctx, s, m, req, areq, payload)
		return ans
	})
	var best *abi.ApprovalResponse
	why := "answer"
	for _, m := range s.members {
		if m.Monitor || !m.Plugin.Manifest().Implements(abi.HookApproval) {
			continue
		}
		ans, resp := c.askApproval(ctx, s, m, req, areq, payload)
		if ans.Err != nil {
			why = "fallback: plugin " + m.name + " failed"
			if errors.Is(ans.Err, ErrPluginDisabled) {
				why = "fallback: plugin " + m.name + " disabled (crash budget)"
			}
		}
		rec.Answers = append(rec.Answers, ans)
		if resp.Decision == abi.Abstain {
			continue
		}
		if s.mode == FirstAnswer {
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
	rec.Answers = append(rec.Answers, monitors()...)
	if best == nil {
		best = &abi.ApprovalResponse{Decision: s.fallback, Reason: "every plugin abstained"}
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

// askApproval asks one member. A failure is answered with the fallback,
// which the returned response then carries.
func (c *Chain) askApproval(ctx context.Context, s *pluginSet, m *member, req *Request, areq *abi.ApprovalRequest, payload []byte) (PluginAnswer, *abi.ApprovalResponse) {
	t0 := time.Now()
	resp, err := callApproval(ctx, m, payload, c.opts.Logger)
	if err == nil {
		// Check now that codex would take it; an invalid answer is a
		// failure of the plugin.
		if _, verr := req.ApprovalAnswer(areq, resolved(resp)); verr != nil && resp.Decision != abi.Abstain {
			err = verr
		}
	}
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

// startMonitors asks the set's monitor plugins that implement hook, each
// on a goroutine of its own, and returns a function that waits for their
// answers, in chain order. The caller must call it.
func startMonitors(s *pluginSet, hook abi.Hook, ask func(*member) PluginAnswer) func() []PluginAnswer {
	var ms []*member
	for _, m := range s.members {
		if m.Monitor && m.Plugin.Manifest().Implements(hook) {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return func() []PluginAnswer { return nil }
	}
	answers := make([]PluginAnswer, len(ms))
	var wg sync.WaitGroup
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					answers[i] = PluginAnswer{Plugin: m.name, Monitor: true, Err: fmt.Errorf("host: monitor plugin call panicked: %v", p)}
				}
			}()
			answers[i] = ask(m)
		}()
	}
	return func() []PluginAnswer {
		wg.Wait()
		return answers
	}
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

func callApproval(ctx context.Context, m *member, payload []byte, log *slog.Logger) (*abi.ApprovalResponse, error) {
	out, err := m.call(ctx, abi.HookApproval, payload, log)
	if err != nil {
		return nil, err
	}
	var r abi.ApprovalResponse
	if err := json.Unmarshal(out, &r); err != nil {
		err = &plugins.CallError{Plugin: m.name, Hook: abi.HookApproval, Kind: plugins.FailBadOutput, Err: err}
		m.fail(err, log)
		return nil, err
	}
	if !r.Decision.Valid() {
		return nil, fmt.Errorf("invalid decision %q", r.Decision)
	}
	return &r, nil
}

// callMember encodes req, calls hook on m and decodes the response; an
// undecodable response counts against m's crash budget.
func callMember[R any](ctx context.Context, m *member, hook abi.Hook, req any, log *slog.Logger) (*R, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("host: encode %s request: %w", hook, err)
	}
	out, err := m.call(ctx, hook, in, log)
	if err != nil {
		return nil, err
	}
	r := new(R)
	if err := json.Unmarshal(out, r); err != nil {
		err = &plugins.CallError{Plugin: m.name, Hook: hook, Kind: plugins.FailBadOutput, Err: err}
		m.fail(err, log)
		return nil, err
	}
	return r, nil
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

func (c *Chain) toolInput(ctx context.Context, s *pluginSet, req *Request, rec *DecisionRecord) (any, error) {
	treq, err := req.ToolInputRequest()
	if err != nil {
		rec.Why = "fallback: undecodable request"
		return safeAnswer(ctx, req)
	}
	for _, q := range treq.Questions {
		rec.Summary += q.Question + " "
	}
	monitors := startMonitors(s, abi.HookToolInput, func(m *member) PluginAnswer {
		t0 := time.Now()
		resp, err := callMember[abi.ToolInputResponse](ctx, m, abi.HookToolInput, treq, c.opts.Logger)
		if err == nil && !resp.Abstain {
			_, err = ToolInputAnswer(treq, resp)
		}
		if err != nil {
			c.opts.Logger.Warn("codexhost: monitor plugin failed (no effect on the answer)", "plugin", m.name, "err", err)
		}
		return PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Err: err, Monitor: true}
	})
	defer func() { rec.Answers = append(rec.Answers, monitors()...) }()
	for _, m := range s.members {
		if m.Monitor || !m.Plugin.Manifest().Implements(abi.HookToolInput) {
			continue
		}
		t0 := time.Now()
		resp, err := callMember[abi.ToolInputResponse](ctx, m, abi.HookToolInput, treq, c.opts.Logger)
		var answer *UserInputResponse
		if err == nil && !resp.Abstain {
			answer, err = ToolInputAnswer(treq, resp)
		}
		ans := PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Err: err}
		rec.Answers = append(rec.Answers, ans)
		if err != nil {
			c.opts.Logger.Warn("codexhost: tool-input plugin failed; asking the next", "plugin", m.name, "err", err)
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

func (c *Chain) toolCall(ctx context.Context, s *pluginSet, req *Request, rec *DecisionRecord) (any, error) {
	treq, err := req.ToolCallRequest()
	if err != nil {
		rec.Why = "fallback: undecodable request"
		return safeAnswer(ctx, req)
	}
	rec.Summary = treq.Tool
	m, ok := s.tools[treq.Tool]
	if !ok {
		rec.Why = "fallback: no plugin serves the tool"
		return ToolFailure(fmt.Sprintf("codexhost: no plugin serves the tool %q (if it was served before, a reload of the plugin set removed it)", treq.Tool)), nil
	}
	t0 := time.Now()
	resp, err := callMember[abi.ToolCallResponse](ctx, m, abi.HookToolCall, treq, c.opts.Logger)
	var answer *ToolResponse
	if err == nil {
		answer, err = ToolCallAnswer(resp)
	}
	rec.Answers = append(rec.Answers, PluginAnswer{Plugin: m.name, Latency: time.Since(t0), Err: err})
	if err != nil {
		c.opts.Logger.Warn("codexhost: tool plugin failed", "plugin", m.name, "tool", treq.Tool, "err", err)
		rec.Why = "fallback: plugin " + m.name + " failed"
		if errors.Is(err, ErrPluginDisabled) {
			rec.Why = "fallback: plugin " + m.name + " disabled (crash budget)"
		}
		var ae *abi.Error
		if errors.As(err, &ae) {
			return ToolFailure(fmt.Sprintf("tool %s failed: %s", treq.Tool, ae.Message)), nil
		}
		return ToolFailure(fmt.Sprintf("tool %s failed: %v", treq.Tool, err)), nil
	}
	rec.Why = "answer"
	return answer, nil
}
