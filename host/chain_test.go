package host_test

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
	p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": cmd, "cwd": "/w", "startedAtMs": 1})
	return &host.Request{Kind: host.RequestCommandApproval, Method: "item/commandExecution/requestApproval", ThreadID: "th", TurnID: "tu", ItemID: "it", Params: p}
}

func TestChainApproval(t *testing.T) {
	timeout := &plugins.CallError{Plugin: "slow", Hook: abi.HookApproval, Kind: plugins.FailTimeout, Err: context.DeadlineExceeded}
	for _, tc := range []struct {
		name     string
		mode     host.ChainMode
		fallback abi.Decision
		chain    []plugins.Plugin
		want     string // JSON of the answer
		why      string
	}{
		{"single accept", host.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept)}, `{"decision":"accept"}`, "answer"},
		{"deny wins over accept", host.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept), decides("b", abi.Decline)}, `{"decision":"decline"}`, "answer"},
		{"cancel wins over decline", host.DenyWins, "", []plugins.Plugin{decides("a", abi.Decline), decides("b", abi.Cancel)}, `{"decision":"cancel"}`, "answer"},
		{"accept beats acceptForSession", host.DenyWins, "", []plugins.Plugin{decides("a", abi.AcceptForSession), decides("b", abi.Accept)}, `{"decision":"accept"}`, "answer"},
		{"abstain then accept", host.DenyWins, "", []plugins.Plugin{decides("a", abi.Abstain), decides("b", abi.Accept)}, `{"decision":"accept"}`, "answer"},
		{"all abstain: fallback decline", host.DenyWins, "", []plugins.Plugin{decides("a", abi.Abstain), decides("b", abi.Abstain)}, `{"decision":"decline"}`, "fallback: all abstained"},
		{"empty chain: fallback decline", host.DenyWins, "", nil, `{"decision":"decline"}`, "fallback: all abstained"},
		{"all abstain: configured fallback accept", host.DenyWins, abi.Accept, []plugins.Plugin{decides("a", abi.Abstain)}, `{"decision":"accept"}`, "fallback: all abstained"},
		{"first answer wins", host.FirstAnswer, "", []plugins.Plugin{decides("a", abi.Abstain), decides("b", abi.Accept), decides("c", abi.Decline)}, `{"decision":"accept"}`, "answer"},
		{"plugin error fails closed", host.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept), fails("b", errors.New("boom"))}, `{"decision":"decline"}`, "fallback: plugin b failed"},
		{"timeout fails closed", host.DenyWins, "", []plugins.Plugin{fails("slow", timeout), decides("b", abi.Accept)}, `{"decision":"decline"}`, "fallback: plugin slow failed"},
		{"error in first-answer mode fails closed", host.FirstAnswer, "", []plugins.Plugin{fails("a", errors.New("boom")), decides("b", abi.Accept)}, `{"decision":"decline"}`, "fallback: plugin a failed"},
		{"invalid decision fails closed", host.DenyWins, "", []plugins.Plugin{decides("a", "maybe")}, `{"decision":"decline"}`, "fallback: plugin a failed"},
		{"amendment with accept", host.DenyWins, "", []plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"touch"}})},
			`{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["touch"]}}}`, "answer"},
		{"amendment with decline is refused", host.DenyWins, abi.Cancel, []plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Decline, Amendment: []string{"touch"}})},
			`{"decision":"cancel"}`, "fallback: plugin a failed"},
		{"network rule without a network request is refused", host.DenyWins, "", []plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "x", Action: "allow"}})},
			`{"decision":"decline"}`, "fallback: plugin a failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *host.DecisionRecord
			ch, err := host.NewChain(&host.ChainOptions{Plugins: tc.chain, Mode: tc.mode, Fallback: tc.fallback,
				OnDecision: func(r *host.DecisionRecord) { rec = r }})
			require.NoError(t, err)
			ans, err := ch.HandleRequest(t.Context(), commandRequest("touch x"))
			require.NoError(t, err)
			b, _ := json.Marshal(ans)
			require.JSONEq(t, tc.want, string(b))
			require.NotNil(t, rec)
			assert.Equal(t, tc.why, rec.Why)
			assert.Equal(t, "touch x", rec.Summary)
			assert.Equal(t, abi.HookApproval, rec.Hook)
		})
	}
}

func TestChainRejectsBadConfig(t *testing.T) {
	_, err := host.NewChain(&host.ChainOptions{Fallback: abi.Abstain})
	require.Error(t, err)
	tool := func(name string) *goPlugin {
		return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall}, Tools: []abi.Tool{{Name: "lookup"}}}}
	}
	_, err = host.NewChain(&host.ChainOptions{Plugins: []plugins.Plugin{tool("a"), tool("b")}})
	require.ErrorContains(t, err, `tool "lookup" is declared by both "a" and "b"`)
}

func TestChainLegacyAndPermissions(t *testing.T) {
	legacy := &host.Request{Kind: host.RequestLegacyExecApproval, Method: "execCommandApproval",
		Params: json.RawMessage(`{"conversationId":"th","callId":"c1","command":["rm","-rf","/tmp/x y"],"cwd":"/w","parsedCmd":[]}`)}
	ch, err := host.NewChain(&host.ChainOptions{Plugins: []plugins.Plugin{&goPlugin{
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
	ans, err := ch.HandleRequest(t.Context(), legacy)
	require.NoError(t, err)
	b, _ := json.Marshal(ans)
	require.JSONEq(t, `{"decision":{"denied":{"rejection":"no rm"}}}`, string(b))

	perm := &host.Request{Kind: host.RequestPermissions, Method: "item/permissions/requestApproval",
		Params: json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","cwd":"/w","startedAtMs":1,"permissions":{"fileSystem":{"read":["/a","/b"]}}}`)}
	ans, err = ch.HandleRequest(t.Context(), perm)
	require.NoError(t, err)
	b, _ = json.Marshal(ans)
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
	ch, err := host.NewChain(&host.ChainOptions{Plugins: []plugins.Plugin{abstainer, liar, asker, tooler}})
	require.NoError(t, err)
	require.Len(t, ch.Tools(), 1)

	in := &host.Request{Kind: host.RequestUserInput, Method: "item/tool/requestUserInput",
		Params: json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","isBlocking":true,"questions":[{"id":"color","header":"h","question":"Color?"},{"id":"size","header":"h","question":"Size?"}]}`)}
	ans, err := ch.HandleRequest(t.Context(), in)
	require.NoError(t, err)
	b, _ := json.Marshal(ans)
	require.JSONEq(t, `{"answers":{"color":{"answers":["blue"]},"size":{"answers":[]}}}`, string(b))

	call := &host.Request{Kind: host.RequestToolCall, Method: "item/tool/call",
		Params: json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"lookup","arguments":{"q":1}}`)}
	ans, err = ch.HandleRequest(t.Context(), call)
	require.NoError(t, err)
	b, _ = json.Marshal(ans)
	require.JSONEq(t, `{"contentItems":[{"type":"inputText","text":"found {\"q\":1}"}],"success":true}`, string(b))

	unknown := &host.Request{Kind: host.RequestToolCall, Method: "item/tool/call",
		Params: json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"nope","arguments":{}}`)}
	ans, err = ch.HandleRequest(t.Context(), unknown)
	require.NoError(t, err)
	assert.False(t, ans.(*host.ToolResponse).Success)
}

func TestRendererOrderAndIsolation(t *testing.T) {
	// A broken renderer is disabled; a working one sees every event once, in order.
	var calls int
	good := &renderPlugin{name: "good", features: abi.FeatureRenderBatch}
	bad := &renderPlugin{name: "bad", fail: true, calls: &calls}
	var out syncBuffer
	r := host.NewRenderer(&host.RendererOptions{Plugins: []plugins.Plugin{bad, good}, Output: &out})
	defer r.Close()
	for i := 1; i <= 1000; i++ {
		r.ObserveEvent(&host.Event{Kind: host.EventAgentMessageDelta, Seq: uint64(i), Delta: "x"})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	require.NoError(t, r.Flush(ctx))
	require.Equal(t, 1000, len(good.seqs))
	for i, s := range good.seqs {
		require.Equal(t, uint64(i+1), s)
	}
	assert.LessOrEqual(t, calls, 3, "the failing renderer is disabled after 3 failures")
	assert.Equal(t, 1000, len(out.String()))
}

// A renderer that accepts merged deltas gets the same text, in order, in
// fewer events, and the last event carries the last seq.
func TestRendererMergesDeltas(t *testing.T) {
	p := &renderPlugin{name: "merge", features: abi.FeatureRenderBatch | abi.FeatureRenderMergeDeltas}
	var out syncBuffer
	r := host.NewRenderer(&host.RendererOptions{Plugins: []plugins.Plugin{p}, Output: &out})
	defer r.Close()
	var want strings.Builder
	for i := 1; i <= 1000; i++ {
		d := fmt.Sprintf("d%d ", i)
		want.WriteString(d)
		r.ObserveEvent(&host.Event{Kind: host.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: uint64(i), ItemID: "m", Delta: d})
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
	var seen *host.DecisionRecord
	ch, err := host.NewChain(&host.ChainOptions{
		Plugins:    []plugins.Plugin{decides("a", abi.Accept)},
		Audit:      func(*host.DecisionRecord) error { return errors.New("disk full") },
		OnDecision: func(r *host.DecisionRecord) { seen = r },
	})
	require.NoError(t, err)
	ans, err := ch.HandleRequest(t.Context(), commandRequest("touch x"))
	require.NoError(t, err)
	b, _ := json.Marshal(ans)
	require.JSONEq(t, `{"decision":"decline"}`, string(b))
	require.NotNil(t, seen)
	assert.Equal(t, abi.Decline, seen.Decision)
	assert.Contains(t, seen.Why, "audit write failed: disk full")
}
