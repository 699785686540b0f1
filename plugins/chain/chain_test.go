package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// goPlugin is an in-process plugins.Plugin backed by Go functions.
type goPlugin struct {
	m        abi.Manifest
	approval func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error)
	input    func(*abi.ToolInputRequest) (*abi.ToolInputResponse, error)
	tool     func(*abi.ToolCallRequest) (*abi.ToolCallResponse, error)
}

func (g *goPlugin) Manifest() *abi.Manifest     { return &g.m }
func (g *goPlugin) Close(context.Context) error { return nil }
func (g *goPlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	var resp any
	var err error
	switch hook {
	case abi.HookApproval:
		var r abi.ApprovalRequest
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
		resp, err = g.approval(&r)
	case abi.HookToolInput:
		var r abi.ToolInputRequest
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
		resp, err = g.input(&r)
	case abi.HookToolCall:
		var r abi.ToolCallRequest
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, err
		}
		resp, err = g.tool(&r)
	}
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func decides(name string, d abi.Decision) *goPlugin {
	return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			return &abi.ApprovalResponse{Decision: d, Reason: name + " says " + string(d)}, nil
		}}
}

func fails(name string, err error) *goPlugin {
	return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error) { return nil, err }}
}

func responds(name string, r *abi.ApprovalResponse) *goPlugin {
	return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error) { return r, nil }}
}

func commandRequest(cmd string) *host.Request {
	p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": cmd, "cwd": "/w", "startedAtMs": 1,
		"proposedExecpolicyAmendment": strings.Fields(cmd)})
	return host.NewRequest("item/commandExecution/requestApproval", p)
}

func TestChainApproval(t *testing.T) {
	timeout := &plugins.CallError{Plugin: "slow", Hook: abi.HookApproval, Kind: plugins.FailTimeout, Err: context.DeadlineExceeded}
	for _, tc := range []struct {
		name     string
		mode     chain.Mode
		fallback abi.Decision
		chain    []plugins.Plugin
		want     string // JSON of the answer
		why      string
	}{
		{"single accept", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept)}, `{"decision":"accept"}`, "answer"},
		{"deny wins over accept", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept), decides("b", abi.Decline)}, `{"decision":"decline"}`, "answer"},
		{"cancel wins over decline", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Decline), decides("b", abi.Cancel)}, `{"decision":"cancel"}`, "answer"},
		{"accept beats acceptForSession", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.AcceptForSession), decides("b", abi.Accept)}, `{"decision":"accept"}`, "answer"},
		{"abstain then accept", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Abstain), decides("b", abi.Accept)}, `{"decision":"accept"}`, "answer"},
		{"all abstain: fallback decline", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Abstain), decides("b", abi.Abstain)}, `{"decision":"decline"}`, "fallback: all abstained"},
		{"empty chain: fallback decline", chain.DenyWins, "", nil, `{"decision":"decline"}`, "fallback: all abstained"},
		{"all abstain: configured fallback accept", chain.DenyWins, abi.Accept, []plugins.Plugin{decides("a", abi.Abstain)}, `{"decision":"accept"}`, "fallback: all abstained"},
		{"first answer wins", chain.FirstAnswer, "", []plugins.Plugin{decides("a", abi.Abstain), decides("b", abi.Accept), decides("c", abi.Decline)}, `{"decision":"accept"}`, "answer"},
		{"plugin error fails closed", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept), fails("b", errors.New("boom"))}, `{"decision":"decline"}`, "fallback: plugin b failed"},
		{"timeout fails closed", chain.DenyWins, "", []plugins.Plugin{fails("slow", timeout), decides("b", abi.Accept)}, `{"decision":"decline"}`, "fallback: plugin slow failed"},
		{"error in first-answer mode fails closed", chain.FirstAnswer, "", []plugins.Plugin{fails("a", errors.New("boom")), decides("b", abi.Accept)}, `{"decision":"decline"}`, "fallback: plugin a failed"},
		{"invalid decision fails closed", chain.DenyWins, "", []plugins.Plugin{decides("a", "maybe")}, `{"decision":"decline"}`, "fallback: plugin a failed"},
		{"amendment with accept", chain.DenyWins, "", []plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"touch", "x"}})},
			`{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["touch","x"]}}}`, "answer"},
		{"amendment with decline is refused", chain.DenyWins, abi.Cancel, []plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Decline, Amendment: []string{"touch"}})},
			`{"decision":"cancel"}`, "fallback: plugin a failed"},
		{"network rule without a network request is refused", chain.DenyWins, "", []plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "x", Action: "allow"}})},
			`{"decision":"decline"}`, "fallback: plugin a failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *chain.DecisionRecord
			ch, err := chain.New(&chain.Options{Plugins: tc.chain, Mode: tc.mode, Fallback: tc.fallback,
				OnDecision: func(r *chain.DecisionRecord) { rec = r }})
			require.NoError(t, err)
			b := serve(t, ch, commandRequest("touch x"))
			require.JSONEq(t, tc.want, string(b))
			require.NotNil(t, rec)
			assert.Equal(t, tc.why, rec.Why.String())
			assert.Equal(t, "touch x", rec.Summary)
			assert.Equal(t, abi.HookApproval, rec.Hook)
		})
	}
}

func TestChainRejectsBadConfig(t *testing.T) {
	_, err := chain.New(&chain.Options{Fallback: abi.Abstain})
	require.Error(t, err)
	tool := func(name string) *goPlugin {
		return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall}, Tools: []abi.Tool{{Name: "lookup"}}}}
	}
	_, err = chain.New(&chain.Options{Plugins: []plugins.Plugin{tool("a"), tool("b")}})
	require.ErrorContains(t, err, `tool "lookup" is declared by both "a" and "b"`)
}

func TestChainLegacyAndPermissions(t *testing.T) {
	legacy := host.NewRequest("execCommandApproval", json.RawMessage(`{"conversationId":"th","callId":"c1","command":["rm","-rf","/tmp/x y"],"cwd":"/w","parsedCmd":[]}`))
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{&goPlugin{
		m: abi.Manifest{Name: "p", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(r *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			if r.Kind == abi.ApprovalPermissions {
				return &abi.ApprovalResponse{Decision: abi.AcceptForSession, Granted: &abi.Permissions{ReadPaths: []string{"/a"}}}, nil
			}
			assert.True(t, r.Legacy)
			assert.Equal(t, "rm -rf '/tmp/x y'", r.Command)
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "no rm"}, nil
		}}}})
	require.NoError(t, err)
	b := serve(t, ch, legacy)
	require.JSONEq(t, `{"decision":{"denied":{"rejection":"no rm"}}}`, string(b))

	perm := host.NewRequest("item/permissions/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","cwd":"/w","startedAtMs":1,"permissions":{"fileSystem":{"read":["/a","/b"]}}}`))
	b = serve(t, ch, perm)
	require.JSONEq(t, `{"permissions":{"fileSystem":{"read":["/a"]}},"scope":"session"}`, string(b))
}

func TestChainToolInputAndToolCall(t *testing.T) {
	asker := &goPlugin{m: abi.Manifest{Name: "asker", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolInput}},
		input: func(r *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
			return &abi.ToolInputResponse{Answers: map[string][]string{"color": {"blue"}}}, nil
		}}
	abstainer := &goPlugin{m: abi.Manifest{Name: "abstainer", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolInput}},
		input: func(r *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
			return &abi.ToolInputResponse{Abstain: true}, nil
		}}
	liar := &goPlugin{m: abi.Manifest{Name: "liar", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolInput}},
		input: func(r *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
			return &abi.ToolInputResponse{Answers: map[string][]string{"not-asked": {"x"}}}, nil
		}}
	tooler := &goPlugin{m: abi.Manifest{Name: "tooler", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall}, Tools: []abi.Tool{{Name: "lookup", Description: "d"}}},
		tool: func(r *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
			return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: "found " + string(r.Arguments)}}}, nil
		}}
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{abstainer, liar, asker, tooler}})
	require.NoError(t, err)
	require.Len(t, ch.Tools(), 1)

	in := host.NewRequest("item/tool/requestUserInput", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","isBlocking":true,"questions":[{"id":"color","header":"h","question":"Color?"},{"id":"size","header":"h","question":"Size?"}]}`))
	b := serve(t, ch, in)
	require.JSONEq(t, `{"answers":{"color":{"answers":["blue"]},"size":{"answers":[]}}}`, string(b))

	call := host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"lookup","arguments":{"q":1}}`))
	b = serve(t, ch, call)
	require.JSONEq(t, `{"contentItems":[{"type":"inputText","text":"found {\"q\":1}"}],"success":true}`, string(b))

	unknown := host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"nope","arguments":{}}`))
	b = serve(t, ch, unknown)
	assert.Contains(t, string(b), `"success":false`)
	assert.Contains(t, string(b), `no plugin serves the tool \"nope\"`)
}

func TestRendererOrderAndIsolation(t *testing.T) {
	// A broken renderer is disabled; a working one sees every event once, in order.
	var calls int
	good := &renderPlugin{name: "good", features: abi.FeatureRenderBatch}
	bad := &renderPlugin{name: "bad", fail: true, calls: &calls}
	var out syncBuffer
	r, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{bad, good}, CrashBudget: chain.CrashBudget{Failures: 3},
		Render: chain.RenderOptions{Output: &out}})
	require.NoError(t, err)
	defer r.Close()
	for i := 1; i <= 1000; i++ {
		r.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: uint64(i), Delta: "x"})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Flush(ctx))
	require.Equal(t, 1000, len(good.seqs))
	for i, s := range good.seqs {
		require.Equal(t, uint64(i+1), s)
	}
	assert.Equal(t, 3, calls, "the failing renderer is disabled by its crash budget after 3 failures")
	assert.Equal(t, chain.PluginDisabled, r.Status()[0].State)
	assert.Equal(t, 1000, len(out.String()))
}

// A renderer that accepts merged deltas gets the same text, in order, in
// fewer events, and the last event carries the last seq.
func TestRendererMergesDeltas(t *testing.T) {
	p := &renderPlugin{name: "merge", features: abi.FeatureRenderBatch | abi.FeatureRenderMergeDeltas}
	var out syncBuffer
	r, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}, Render: chain.RenderOptions{Output: &out}})
	require.NoError(t, err)
	defer r.Close()
	var want strings.Builder
	for i := 1; i <= 1000; i++ {
		d := fmt.Sprintf("d%d ", i)
		want.WriteString(d)
		r.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: uint64(i), ItemID: "m", Delta: d})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Flush(ctx))
	require.Equal(t, want.String(), out.String())
	require.NotEmpty(t, p.seqs)
	assert.True(t, slices.IsSorted(p.seqs), "seqs in order")
	assert.Equal(t, uint64(1000), p.seqs[len(p.seqs)-1])
	t.Logf("1000 deltas reached the plugin as %d events", len(p.seqs))
}

// An answer that cannot be recorded is not sent: the chain fails closed.
func TestChainAuditFailureFailsClosed(t *testing.T) {
	var seen *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{
		Plugins:    []plugins.Plugin{decides("a", abi.Accept)},
		Audit:      func(*chain.DecisionRecord) error { return errors.New("disk full") },
		OnDecision: func(r *chain.DecisionRecord) { seen = r },
	})
	require.NoError(t, err)
	b := serve(t, ch, commandRequest("touch x"))
	require.JSONEq(t, `{"decision":"decline"}`, string(b))
	require.NotNil(t, seen)
	assert.Equal(t, abi.Decline, seen.Decision)
	assert.Contains(t, seen.Why.String(), "audit write failed: disk full")
}

// serve answers req with h as a live host.Client does and returns the
// exact bytes codex receives.
func serve(t testing.TB, h host.Handler, req *host.Request) json.RawMessage {
	t.Helper()
	b, err := req.Serve(t.Context(), h)
	require.NoError(t, err)
	return b
}

func serveRaw(ctx context.Context, h host.Handler, req *host.Request) (json.RawMessage, error) {
	return req.Serve(ctx, h)
}

type toolResp struct {
	Success      bool `json:"success"`
	ContentItems []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"contentItems"`
}

func toolResult(t testing.TB, b json.RawMessage) *toolResp {
	t.Helper()
	var r toolResp
	require.NoError(t, json.Unmarshal(b, &r))
	return &r
}

// TestChainRecordsUnreadableRequest: a request the host cannot read (here
// a command that is not a string) is declined by the host whatever the
// chain says; the chain records it (audit, OnDecision) and asks no
// plugin, not even one that would accept anything.
func TestChainRecordsUnreadableRequest(t *testing.T) {
	asked := 0
	accepter := &goPlugin{m: abi.Manifest{Name: "yes", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			asked++
			return &abi.ApprovalResponse{Decision: abi.Accept}, nil
		}}
	var audited, seen *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{accepter}, Fallback: abi.Accept,
		Audit:      func(r *chain.DecisionRecord) error { audited = r; return nil },
		OnDecision: func(r *chain.DecisionRecord) { seen = r }})
	require.NoError(t, err)
	req := host.NewRequest("item/commandExecution/requestApproval",
		json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"it","command":5,"cwd":"/w","startedAtMs":1}`))
	b := serve(t, ch, req)
	require.JSONEq(t, `{"decision":"decline"}`, string(b))
	assert.Zero(t, asked, "no plugin is asked about a request nobody could read")
	require.NotNil(t, audited, "the decline is in the audit log")
	require.Same(t, audited, seen)
	assert.Equal(t, abi.Decline, seen.Decision)
	assert.Equal(t, chain.WhyUndecodable, seen.Why.Kind)
	assert.True(t, strings.HasPrefix(seen.Why.String(), "fallback: unreadable request: "), seen.Why.String())
	assert.Equal(t, abi.ApprovalCommand, seen.ApprovalKind)
	assert.Equal(t, "(unreadable item/commandExecution/requestApproval)", seen.Summary)
	assert.Equal(t, [3]string{"th", "tu", "it"}, [3]string{seen.ThreadID, seen.TurnID, seen.ItemID})
	assert.Empty(t, seen.Answers)
}

// TestChainRecordsRefusedFallback: a fallback of accept that codex may not
// be sent (here accept is not among the decisions codex offers) is
// declined, and the record says who answered what and why it was
// refused, not "fallback: all abstained" alone.
func TestChainRecordsRefusedFallback(t *testing.T) {
	var seen *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Abstain)}, Fallback: abi.Accept,
		OnDecision: func(r *chain.DecisionRecord) { seen = r }})
	require.NoError(t, err)
	p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": "touch x", "cwd": "/w", "startedAtMs": 1,
		"availableDecisions": []string{"decline", "cancel"}})
	b := serve(t, ch, host.NewRequest("item/commandExecution/requestApproval", p))
	require.JSONEq(t, `{"decision":"decline"}`, string(b))
	require.NotNil(t, seen)
	assert.Equal(t, abi.Decline, seen.Decision)
	assert.Equal(t, chain.WhyRefused, seen.Why.Kind)
	assert.True(t, strings.HasPrefix(seen.Why.String(), "refused: fallback: all abstained answered accept: "), seen.Why.String())
	assert.Contains(t, seen.Why.String(), "not one of the decisions codex offers")
}

// TestChainRecordsDeclinedElicitation: an MCP elicitation (codex asks
// about an MCP tool call with one) has no hook; the chain declines it,
// asks no plugin, and records the decline with the tool and its
// arguments.
func TestChainRecordsDeclinedElicitation(t *testing.T) {
	var audited, seen *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Fallback: abi.Accept,
		Audit:      func(r *chain.DecisionRecord) error { audited = r; return nil },
		OnDecision: func(r *chain.DecisionRecord) { seen = r }})
	require.NoError(t, err)
	resp, err := ch.Elicitation(t.Context(), &host.ElicitationRequest{Method: "mcpServer/elicitation/request",
		ThreadID: "th", TurnID: "tu", ServerName: "notes", Message: "Allow?",
		Params: json.RawMessage(`{"_meta":{"codex_approval_kind":"mcp_tool_call","tool_name":"write","tool_params":{"path":"/etc/x"}}}`)})
	require.NoError(t, err)
	assert.Equal(t, host.ElicitationDecline, resp.Action)
	require.NotNil(t, audited, "the decline is in the audit log")
	require.Same(t, audited, seen)
	assert.Equal(t, abi.HookApproval, seen.Hook)
	assert.Equal(t, abi.Decline, seen.Decision)
	assert.Equal(t, chain.WhyUndecodable, seen.Why.Kind)
	assert.Equal(t, `mcp tool call notes.write {"path":"/etc/x"}`, seen.Summary)

	_, err = ch.Elicitation(t.Context(), &host.ElicitationRequest{Method: "mcpServer/elicitation/request",
		ThreadID: "th", ServerName: "notes", Message: "Your token?", Params: json.RawMessage(`{}`)})
	require.NoError(t, err)
	assert.Equal(t, "mcp elicitation from notes: Your token?", seen.Summary)
}
