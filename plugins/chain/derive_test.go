package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// curlRequest asks for network access to example.com, as codex 0.169.0
// does, offering to remember an allow or a deny.
func curlRequest() *host.Request {
	return host.NewRequest("item/commandExecution/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,
	"command":"curl https://example.com","cwd":"/w","networkApprovalContext":{"host":"example.com","protocol":"https"},
	"availableDecisions":["accept",{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"example.com","action":"allow"}}},
		{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"example.com","action":"deny"}}},"cancel"]}`))
}

// gitStatusRequest proposes the amendment ["git","status"].
func gitStatusRequest() *host.Request {
	return host.NewRequest("item/commandExecution/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,
	"command":"git status","cwd":"/w","proposedExecpolicyAmendment":["git","status"],
	"availableDecisions":["accept",{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}},"cancel"]}`))
}

// amendmentOnlyRequest offers no plain accept.
func amendmentOnlyRequest() *host.Request {
	return host.NewRequest("item/commandExecution/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,
	"command":"git status","cwd":"/w","proposedExecpolicyAmendment":["git","status"],
	"availableDecisions":[{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}},"cancel"]}`))
}

// rawPlugin answers approvals with fixed bytes.
func rawPlugin(name, answer string) *rawAnswer {
	return &rawAnswer{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}, answer: answer}
}

type rawAnswer struct {
	m      abi.Manifest
	answer string
	calls  int
}

func (r *rawAnswer) Manifest() *abi.Manifest     { return &r.m }
func (r *rawAnswer) Close(context.Context) error { return nil }
func (r *rawAnswer) Call(context.Context, abi.Hook, []byte) ([]byte, error) {
	r.calls++
	return []byte(r.answer), nil
}

// In a chain the answer codex receives is derived from the winning
// plugin's decision and the request: extras come only from the winner,
// an answer the request does not entitle is the plugin's failure, and the
// record holds the exact bytes sent.
func TestChainDerivesAnswers(t *testing.T) {
	allowRule := &abi.NetworkRule{Host: "example.com", Action: "allow"}
	for _, tc := range []struct {
		name    string
		req     func() *host.Request
		plugins []plugins.Plugin
		want    string // the exact bytes codex receives
		why     string
		failed  []string // plugins whose answer was refused
	}{
		{"a decline carrying a network allow is a failure", curlRequest,
			[]plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Decline, NetworkRule: allowRule})},
			`{"decision":"decline"}`, "fallback: plugin a failed", []string{"a"}},
		{"a cancel with allow does not win deny-wins; the sibling's decline does", curlRequest,
			[]plugins.Plugin{decides("a", abi.Decline), responds("b", &abi.ApprovalResponse{Decision: abi.Cancel, NetworkRule: allowRule})},
			`{"decision":"decline"}`, "answer", []string{"b"}},
		{"an accept with an unrelated amendment is a failure", gitStatusRequest,
			[]plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"rm", "-rf"}})},
			`{"decision":"decline"}`, "fallback: plugin a failed", []string{"a"}},
		{"an accept with the proposed amendment goes through", gitStatusRequest,
			[]plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}})},
			`{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}}}`, "answer", nil},
		{"acceptForSession where codex offers only accept is answered accept", gitStatusRequest,
			[]plugins.Plugin{decides("a", abi.AcceptForSession)},
			`{"decision":"accept"}`, "answer", nil},
		{"an answer outside availableDecisions is a failure", amendmentOnlyRequest,
			[]plugins.Plugin{decides("a", abi.AcceptForSession)},
			`{"decision":"decline"}`, "fallback: plugin a failed", []string{"a"}},
		{"extras of a losing plugin never reach codex", gitStatusRequest,
			[]plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}}), decides("b", abi.Decline)},
			`{"decision":"decline"}`, "answer", nil},
		{"the winner's extras do", curlRequest,
			[]plugins.Plugin{decides("a", abi.Accept), responds("b", &abi.ApprovalResponse{Decision: abi.Decline, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "deny"}})},
			`{"decision":{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"action":"deny","host":"example.com"}}}}`, "answer", nil},
		{"a member name in another case is a failure", gitStatusRequest,
			[]plugins.Plugin{rawPlugin("a", `{"Decision":"accept"}`)},
			`{"decision":"decline"}`, "fallback: plugin a failed", []string{"a"}},
		{"a duplicate member is a failure", gitStatusRequest,
			[]plugins.Plugin{rawPlugin("a", `{"decision":"decline","decision":"accept"}`)},
			`{"decision":"decline"}`, "fallback: plugin a failed", []string{"a"}},
		{"unknown members are ignored", gitStatusRequest,
			[]plugins.Plugin{rawPlugin("a", `{"decision":"accept","confidence":0.9}`)},
			`{"decision":"accept"}`, "answer", nil},
		{"an abstain carrying extras is a failure", gitStatusRequest,
			[]plugins.Plugin{responds("a", &abi.ApprovalResponse{Decision: abi.Abstain, Amendment: []string{"git", "status"}}), decides("b", abi.Accept)},
			`{"decision":"decline"}`, "fallback: plugin a failed", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *chain.DecisionRecord
			ch, err := chain.New(&chain.Options{Plugins: tc.plugins, OnDecision: func(r *chain.DecisionRecord) { rec = r }})
			require.NoError(t, err)
			got := serve(t, ch, tc.req())
			assert.Equal(t, tc.want, string(got), "the exact bytes codex receives")
			require.NotNil(t, rec)
			assert.Equal(t, tc.want, string(rec.Answer), "the record holds the exact answer sent")
			assert.Equal(t, tc.why, rec.Why.String())
			var failed []string
			for _, a := range rec.Answers {
				if a.Err != nil {
					ce, ok := errors.AsType[*plugins.CallError](a.Err)
					require.True(t, ok, "%s: %v", a.Plugin, a.Err)
					assert.Equal(t, plugins.FailBadOutput, ce.Kind, "%s: %v", a.Plugin, a.Err)
					failed = append(failed, a.Plugin)
				}
			}
			assert.Equal(t, tc.failed, failed)
			for _, st := range ch.Status() {
				want := uint64(0)
				for _, f := range tc.failed {
					if f == st.Name {
						want = 1
					}
				}
				assert.Equal(t, want, st.Failures, "%s: a refused answer is charged to the crash budget", st.Name)
			}
		})
	}
}

// Invalid answers are charged to the crash budget until it disables the
// plugin, which is then no longer asked.
func TestInvalidAnswersSpendTheCrashBudget(t *testing.T) {
	liar := rawPlugin("liar", `{"decision":"accept","amendment":["rm","-rf"]}`)
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{liar}, CrashBudget: chain.CrashBudget{Failures: 2}})
	require.NoError(t, err)
	for range 4 {
		assert.Equal(t, `{"decision":"decline"}`, string(serve(t, ch, gitStatusRequest())))
	}
	assert.Equal(t, 2, liar.calls, "disabled after two invalid answers")
	assert.Equal(t, chain.PluginDisabled, ch.Status()[0].State)
}

// With one plugin declining and a later one failing, the decline decided:
// the record credits it, not the failure.
func TestWhyCreditsTheWinner(t *testing.T) {
	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Decline), rawPlugin("b", `not json`)},
		OnDecision: func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)
	assert.Equal(t, `{"decision":"decline"}`, string(serve(t, ch, gitStatusRequest())))
	assert.Equal(t, chain.Why{Kind: chain.WhyAnswer, Plugin: "a"}, rec.Why)
	assert.False(t, rec.Why.Fallback())
	require.Len(t, rec.Answers, 2)
	assert.Error(t, rec.Answers[1].Err)

	// The other way round the failure decided (with the fallback).
	ch, err = chain.New(&chain.Options{Plugins: []plugins.Plugin{rawPlugin("b", `not json`), decides("a", abi.Decline)},
		OnDecision: func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)
	serve(t, ch, gitStatusRequest())
	assert.Equal(t, chain.Why{Kind: chain.WhyFailed, Plugin: "b"}, rec.Why)
	assert.Equal(t, "fallback: plugin b failed", rec.Why.String())
}

// A tool plugin's image that is not a data: URL fails the call, charged to
// its budget.
func TestChainToolImageMustBeDataURL(t *testing.T) {
	tooler := &goPlugin{m: abi.Manifest{Name: "shot", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall}, Tools: []abi.Tool{{Name: "shot"}}},
		tool: func(*abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
			return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "image", ImageURL: "file:///etc/passwd"}}}, nil
		}}
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{tooler}})
	require.NoError(t, err)
	got := toolResult(t, serve(t, ch, host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"shot","arguments":{}}`))))
	assert.False(t, got.Success)
	assert.Contains(t, got.ContentItems[0].Text, "not a data: URL")
	assert.Equal(t, uint64(1), ch.Status()[0].Failures)
}

// Under DenyWins an accept grants no more than every accepting plugin
// granted, whatever their order: a persistent extra (the exec-policy
// amendment, a network allow rule) only if all gave the same one, and the
// permissions each of them granted.
func TestDenyWinsAcceptIsTheMeetOfTheAccepts(t *testing.T) {
	allow := &abi.NetworkRule{Host: "example.com", Action: "allow"}
	permsReq := func() *host.Request {
		return host.NewRequest("item/permissions/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","cwd":"/w","startedAtMs":1,
		"permissions":{"fileSystem":{"read":["/r"],"write":["/","/w/tmp"]},"network":{"enabled":true}}}`))
	}
	for _, tc := range []struct {
		name string
		req  func() *host.Request
		a, b *abi.ApprovalResponse
		want string
	}{
		{"session and once", gitStatusRequest,
			&abi.ApprovalResponse{Decision: abi.AcceptForSession}, &abi.ApprovalResponse{Decision: abi.Accept},
			`{"decision":"accept"}`},
		{"amendment and once", gitStatusRequest,
			&abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}}, &abi.ApprovalResponse{Decision: abi.Accept},
			`{"decision":"accept"}`},
		{"amendment twice", gitStatusRequest,
			&abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}}, &abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}},
			`{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}}}`},
		{"network allow and once", curlRequest,
			&abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: allow}, &abi.ApprovalResponse{Decision: abi.Accept},
			`{"decision":"accept"}`},
		{"all and a subset", permsReq,
			&abi.ApprovalResponse{Decision: abi.Accept}, &abi.ApprovalResponse{Decision: abi.Accept, Granted: &abi.Permissions{WritePaths: []string{"/w/tmp"}}},
			`{"permissions":{"fileSystem":{"write":["/w/tmp"]}},"scope":"turn"}`},
		{"two subsets", permsReq,
			&abi.ApprovalResponse{Decision: abi.AcceptForSession, Granted: &abi.Permissions{ReadPaths: []string{"/r"}, WritePaths: []string{"/", "/w/tmp"}}},
			&abi.ApprovalResponse{Decision: abi.AcceptForSession, Granted: &abi.Permissions{WritePaths: []string{"/w/tmp"}, Network: true}},
			`{"permissions":{"fileSystem":{"write":["/w/tmp"]}},"scope":"session"}`},
	} {
		for _, order := range [][2]*abi.ApprovalResponse{{tc.a, tc.b}, {tc.b, tc.a}} {
			ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{responds("one", order[0]), responds("two", order[1])}})
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(serve(t, ch, tc.req())), tc.name)
			ch.Close()
		}
	}
}
