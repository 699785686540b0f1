package host_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// gitStatus is a command approval as codex 0.169.0 sends it: with a
// proposed amendment and the decisions it offers.
const gitStatus = `{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,"command":"/bin/bash -lc 'git status'","cwd":"/w",
	"proposedExecpolicyAmendment":["git","status"],
	"availableDecisions":["accept",{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}},"cancel"]}`

// amendmentOnly offers no plain accept.
const amendmentOnly = `{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,"command":"git status","cwd":"/w",
	"proposedExecpolicyAmendment":["git","status"],
	"availableDecisions":[{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}},"cancel"]}`

// curl asks for network access to example.com and offers to remember it.
const curl = `{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,"command":"curl https://example.com","cwd":"/w",
	"networkApprovalContext":{"host":"example.com","protocol":"https"},
	"proposedNetworkPolicyAmendments":[{"host":"example.com","action":"allow"},{"host":"example.com","action":"deny"}],
	"availableDecisions":["accept",{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"example.com","action":"allow"}}},
		{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"host":"example.com","action":"deny"}}},"cancel"]}`

// An older codex: no available decisions listed.
const unlisted = `{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,"command":"git status","cwd":"/w",
	"proposedExecpolicyAmendment":["git","status"],"networkApprovalContext":{"host":"example.com","protocol":"https"}}`

const commandMethod = "item/commandExecution/requestApproval"

// answers is a handler that answers every approval with resp.
type answers struct {
	host.SafeHandler
	resp *abi.ApprovalResponse
}

func (a answers) Approval(context.Context, *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	return a.resp, nil
}

// The wire answer is derived from the decision and the request alone:
// every extra the request does not entitle makes the answer invalid, and
// the request is answered fail-closed (a plain decline). Each case checks
// the exact bytes codex receives.
func TestApprovalAnswerIsDerived(t *testing.T) {
	const declined = `{"decision":"decline"}`
	for _, tc := range []struct {
		name, params string
		resp         abi.ApprovalResponse
		want         string
	}{
		{"accept", gitStatus, abi.ApprovalResponse{Decision: abi.Accept}, `{"decision":"accept"}`},
		{"decline is taken though codex does not list it", gitStatus, abi.ApprovalResponse{Decision: abi.Decline}, declined},
		{"cancel", gitStatus, abi.ApprovalResponse{Decision: abi.Cancel}, `{"decision":"cancel"}`},
		{"accept with the proposed amendment", gitStatus, abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}},
			`{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["git","status"]}}}`},
		{"accept with an unrelated amendment", gitStatus, abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"rm", "-rf"}}, declined},
		{"accept with a longer amendment", gitStatus, abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git"}}, declined},
		{"an amendment with decline", gitStatus, abi.ApprovalResponse{Decision: abi.Decline, Amendment: []string{"git", "status"}}, declined},
		{"an amendment with acceptForSession", unlisted, abi.ApprovalResponse{Decision: abi.AcceptForSession, Amendment: []string{"git", "status"}}, declined},
		{"acceptForSession, not offered, is narrowed to the plain accept codex offers", gitStatus,
			abi.ApprovalResponse{Decision: abi.AcceptForSession, Reason: "read-only"}, `{"decision":"accept"}`},
		{"an answer outside availableDecisions", amendmentOnly, abi.ApprovalResponse{Decision: abi.AcceptForSession}, declined},
		{"accept outside availableDecisions", amendmentOnly, abi.ApprovalResponse{Decision: abi.Accept}, declined},
		{"acceptForSession when codex lists nothing", unlisted, abi.ApprovalResponse{Decision: abi.AcceptForSession}, `{"decision":"acceptForSession"}`},
		{"abstain is not an answer", gitStatus, abi.ApprovalResponse{Decision: abi.Abstain}, declined},
		{"an unknown decision", gitStatus, abi.ApprovalResponse{Decision: "maybe"}, declined},
		{"a network rule on a request without network access", gitStatus,
			abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}}, declined},
		{"a decline carrying a network allow", curl,
			abi.ApprovalResponse{Decision: abi.Decline, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}}, declined},
		{"a cancel carrying a network allow", curl,
			abi.ApprovalResponse{Decision: abi.Cancel, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}}, declined},
		{"a cancel carrying a network deny", curl,
			abi.ApprovalResponse{Decision: abi.Cancel, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "deny"}}, declined},
		{"an accept carrying a network deny", curl,
			abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "deny"}}, declined},
		{"a network allow for another host", curl,
			abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "evil.example", Action: "allow"}}, declined},
		{"an unknown network action", curl,
			abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "maybe"}}, declined},
		{"accept with a network allow for the requested host", curl,
			abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}},
			`{"decision":{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"action":"allow","host":"example.com"}}}}`},
		{"decline with a network deny for the requested host", curl,
			abi.ApprovalResponse{Decision: abi.Decline, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "deny"}},
			`{"decision":{"applyNetworkPolicyAmendment":{"network_policy_amendment":{"action":"deny","host":"example.com"}}}}`},
		{"an amendment and a network rule together", unlisted,
			abi.ApprovalResponse{Decision: abi.Accept, Amendment: []string{"git", "status"}, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}}, declined},
		{"granted permissions on a command", unlisted, abi.ApprovalResponse{Decision: abi.Accept, Granted: &abi.Permissions{Network: true}}, declined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := host.NewRequest(commandMethod, json.RawMessage(tc.params))
			got, err := req.Serve(t.Context(), answers{resp: &tc.resp})
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(got), "the exact bytes codex receives")

			// Answer says why, with ErrInvalidAnswer.
			a, err := req.Approval()
			require.NoError(t, err)
			b, err := a.Answer(&tc.resp)
			plainDecline := tc.resp.Decision == abi.Decline && tc.resp.Amendment == nil && tc.resp.NetworkRule == nil
			if tc.want == declined && !plainDecline {
				require.ErrorIs(t, err, host.ErrInvalidAnswer)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
		})
	}
}

// Codex's available decisions and additional permissions reach plugins in
// abi terms.
func TestApprovalRequestCarriesOffers(t *testing.T) {
	a, err := host.NewRequest(commandMethod, json.RawMessage(curl)).Approval()
	require.NoError(t, err)
	assert.Equal(t, []abi.DecisionOption{
		{Decision: abi.Accept},
		{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}},
		{Decision: abi.Decline, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "deny"}},
		{Decision: abi.Cancel},
	}, a.AvailableDecisions)
	a, err = host.NewRequest(commandMethod, json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"it","startedAtMs":1,"command":"ls",
		"additionalPermissions":{"fileSystem":{"read":["/etc"]},"network":{"enabled":true}}}`)).Approval()
	require.NoError(t, err)
	require.NotNil(t, a.AdditionalPermissions)
	assert.Equal(t, []string{"/etc"}, a.AdditionalPermissions.ReadPaths)
	assert.True(t, a.AdditionalPermissions.Network)
	b, err := json.Marshal(a.ApprovalRequest)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"additionalPermissions":{"readPaths":["/etc"],"network":true,`)
}

// answersTool answers every tool call with resp.
type answersTool struct {
	host.SafeHandler
	resp *abi.ToolCallResponse
}

func (a answersTool) ToolCall(context.Context, *host.ToolCallRequest) (*abi.ToolCallResponse, error) {
	return a.resp, nil
}

// A tool image must be a data: URL; anything else fails the call.
func TestToolImageMustBeDataURL(t *testing.T) {
	req := host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"shot","arguments":{}}`))
	got, err := req.Serve(t.Context(), answersTool{resp: &abi.ToolCallResponse{Success: true,
		Content: []abi.Content{{Type: "image", ImageURL: "data:image/png;base64,AAAA"}}}})
	require.NoError(t, err)
	assert.Equal(t, `{"contentItems":[{"imageUrl":"data:image/png;base64,AAAA","type":"inputImage"}],"success":true}`, string(got))
	for _, url := range []string{"file:///etc/passwd", "https://example.com/x.png", "DATA:image/png;base64,AAAA"} {
		got, err := req.Serve(t.Context(), answersTool{resp: &abi.ToolCallResponse{Success: true,
			Content: []abi.Content{{Type: "image", ImageURL: url}}}})
		require.NoError(t, err)
		assert.Equal(t, `{"contentItems":[{"text":"codexhost: no handler serves the tool \"shot\"","type":"inputText"}],"success":false}`, string(got), url)
	}
}

// Over a live connection too, an answer the request does not entitle
// never reaches app-server: the bytes it receives are a plain decline.
func TestFakeInvalidAnswerIsNeverSent(t *testing.T) {
	for _, resp := range []abi.ApprovalResponse{
		{Decision: abi.Accept, Amendment: []string{"rm", "-rf", "/"}}, // codex proposed none
		{Decision: abi.Cancel, NetworkRule: &abi.NetworkRule{Host: "example.com", Action: "allow"}},
	} {
		c := startFake(t, "approval", 0, &host.Options{Handler: answers{resp: &resp}})
		a := answerOf(t, nil, collect(t, c))
		assert.Equal(t, `{"decision":"decline"}`, string(a["result"]))
	}
}

// currentTime/read, which codex 0.169.0 sends and 0.171.0 dropped, is
// answered by its method name with the Unix time, whatever the handler.
func TestCurrentTimeReadIsAnswered(t *testing.T) {
	before := time.Now().Unix()
	res, err := host.NewRequest("currentTime/read", json.RawMessage(`{"threadId":"th"}`)).Serve(context.Background(), nil)
	require.NoError(t, err)
	after := time.Now().Unix()
	var got map[string]int64
	require.NoError(t, json.Unmarshal(res, &got))
	require.Len(t, got, 1, "only currentTimeAt: %s", res)
	assert.GreaterOrEqual(t, got["currentTimeAt"], before)
	assert.LessOrEqual(t, got["currentTimeAt"], after)
	_, hooked := host.NewRequest("currentTime/read", nil).Hook()
	assert.False(t, hooked, "no plugin hook answers the clock")
}

// acceptsAll accepts every approval it is asked, and counts them.
type acceptsAll struct {
	host.SafeHandler
	asked int // requests it was asked to judge
	told  int // requests it was told of, which the host could not read
}

func (a *acceptsAll) Approval(_ context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	if req.Unreadable != nil {
		a.told++
	} else {
		a.asked++
	}
	return &abi.ApprovalResponse{Decision: abi.Accept}, nil
}

// A command approval of any kind but "command" (input written to a running
// terminal, a checkpoint for a person, a kind a later codex adds) carries
// nothing a policy could judge: it is declined whatever the handler
// answers, whichever decoder reads it; the handler is only told of it
// (ApprovalRequest.Unreadable), to record it.
func TestCommandApprovalOfOtherKindIsDeclined(t *testing.T) {
	const method = "item/commandExecution/requestApproval"
	for _, tc := range []struct {
		kind  string // the member, verbatim; "" for none
		asked bool
	}{
		{``, true},
		{`"kind":"command",`, true},
		{`"kind":null,`, true},
		{`"kind":"writeStdin",`, false},
		{`"kind":"humanCommand",`, false},
		{`"kind":"someFutureKind",`, false},
		{`"kind":"Command",`, false},
		{`"kind":"",`, false},
		{`"kind":7,`, false},
	} {
		h := &acceptsAll{}
		params := `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,` + tc.kind + `"command":"ls","cwd":"/w"}`
		res, err := host.NewRequest(method, json.RawMessage(params)).Serve(context.Background(), h)
		require.NoError(t, err, tc.kind)
		want := `{"decision":"decline"}`
		if tc.asked {
			want = `{"decision":"accept"}`
		}
		assert.JSONEq(t, want, string(res), tc.kind)
		assert.Equal(t, tc.asked, h.asked == 1, "handler asked, %s", tc.kind)
		assert.Equal(t, !tc.asked, h.told == 1, "handler told, %s", tc.kind)
	}
}

// TestGrantedPathsAreTheRequests: the permissions codex receives are the
// requested ones the answer grants, in the request's order, each once,
// however the answer lists them (a plugin may repeat a path many times
// over: still a subset, but not what codex should receive), and checking
// a long answer costs time linear in it.
func TestGrantedPathsAreTheRequests(t *testing.T) {
	r := host.NewRequest("item/permissions/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","cwd":"/w",
		"permissions":{"fileSystem":{"read":["/r1","/r2"],"write":["/a","/b","/c"]}}}`))
	a, err := r.Approval()
	require.NoError(t, err)
	const n = 200000 // quadratic checking would take minutes
	repeated := make([]string, 0, 2*n)
	for range n {
		repeated = append(repeated, "/c", "/a")
	}
	got, err := a.Answer(&abi.ApprovalResponse{Decision: abi.Accept, Granted: &abi.Permissions{ReadPaths: []string{"/r2", "/r2"}, WritePaths: repeated}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"permissions":{"fileSystem":{"read":["/r2"],"write":["/a","/c"]}},"scope":"turn"}`, string(got))

	_, err = a.Answer(&abi.ApprovalResponse{Decision: abi.Accept, Granted: &abi.Permissions{WritePaths: append(repeated, "/d")}})
	require.ErrorIs(t, err, host.ErrInvalidAnswer)
	require.ErrorContains(t, err, "granted write access to /d, which was not requested")
}

// TestLegacyRejectionIsBounded: a v1 decline carries the winning reason to
// codex, and on to the model; a plugin's reason of megabytes is cut to
// 4 KiB, on a UTF-8 boundary.
func TestLegacyRejectionIsBounded(t *testing.T) {
	r := host.NewRequest("execCommandApproval", json.RawMessage(`{"conversationId":"th","callId":"c1","command":["rm","x"],"cwd":"/w","parsedCmd":[]}`))
	a, err := r.Approval()
	require.NoError(t, err)
	for _, reason := range []string{strings.Repeat("é", 1<<20), "no rm"} {
		got, err := a.Answer(&abi.ApprovalResponse{Decision: abi.Decline, Reason: reason})
		require.NoError(t, err)
		var w struct{ Denied struct{ Rejection string } }
		require.NoError(t, json.Unmarshal(got, &w))
		assert.LessOrEqual(t, len(w.Denied.Rejection), 4<<10)
		assert.True(t, utf8.ValidString(w.Denied.Rejection))
		assert.True(t, strings.HasPrefix(reason, strings.TrimSuffix(w.Denied.Rejection, "…")))
	}
}

// An answer to a question with options that takes no other answer must be
// one of its labels; a free answer goes only to a question that takes one.
func TestUserInputAnswerIsAnOption(t *testing.T) {
	req := &host.UserInputRequest{ToolInputRequest: &abi.ToolInputRequest{ThreadID: "th", Questions: []abi.Question{
		{ID: "fixed", Question: "Which?", Options: []abi.QuestionOption{{Label: "Blue"}, {Label: "Red"}}},
		{ID: "open", Question: "Which?", Options: []abi.QuestionOption{{Label: "Blue"}}, IsOther: true},
		{ID: "free", Question: "Why?"},
	}}}
	got, err := req.Answer(&abi.ToolInputResponse{Answers: map[string][]string{"fixed": {"Red"}, "open": {"Green"}, "free": {"because"}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"answers":{"fixed":{"answers":["Red"]},"open":{"answers":["Green"]},"free":{"answers":["because"]}}}`, string(got))
	for _, bad := range []string{"Green", "red", "Red ", ""} {
		_, err = req.Answer(&abi.ToolInputResponse{Answers: map[string][]string{"fixed": {bad}}})
		require.ErrorIs(t, err, host.ErrInvalidAnswer, bad)
	}
	_, err = req.Answer(&abi.ToolInputResponse{Answers: map[string][]string{"fixed": {"Red", "Purple"}}})
	require.ErrorIs(t, err, host.ErrInvalidAnswer)
	// Abstaining answers nothing, which is always allowed.
	got, err = req.Answer(&abi.ToolInputResponse{Abstain: true, Answers: map[string][]string{"fixed": {"Purple"}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"answers":{"fixed":{"answers":[]},"open":{"answers":[]},"free":{"answers":[]}}}`, string(got))
}

// TestPermissionEntriesAreDeclined: codex's permission profiles can name
// file-system entries (a path, a glob pattern, a special path such as the
// root, each with an access mode) besides the read and write lists.
// abi.Permissions cannot show them, so a policy would judge an empty
// request while an accept grants them (a command's additional permissions
// are granted with the command): such a request is declined whatever the
// handler says, and the handler is told why.
func TestPermissionEntriesAreDeclined(t *testing.T) {
	const root = `{"fileSystem":{"entries":[{"access":"write","path":{"type":"special","value":{"kind":"root"}}}]}}`
	const etc = `{"fileSystem":{"write":["/tmp/x"],"entries":[{"access":"write","path":{"type":"path","path":"/etc"}}]}}`
	const readOnly = `{"fileSystem":{"read":["/etc"],"entries":[{"access":"write","path":{"type":"path","path":"/etc"}}]}}`
	const glob = `{"fileSystem":{"write":["/tmp/x"],"entries":[{"access":"write","path":{"type":"glob_pattern","pattern":"/**"}}]}}`
	for _, tc := range []struct{ method, params, want string }{
		{"item/commandExecution/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"command":"touch /x","cwd":"/w","additionalPermissions":` + root + `}`, `{"decision":"decline"}`},
		{"item/commandExecution/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"command":"touch /x","cwd":"/w","additionalPermissions":` + etc + `}`, `{"decision":"decline"}`},
		{"item/permissions/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"cwd":"/w","permissions":` + root + `}`, `{"permissions":{},"scope":"turn"}`},
		{"item/permissions/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"cwd":"/w","permissions":` + etc + `}`, `{"permissions":{},"scope":"turn"}`},
		{"item/permissions/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"cwd":"/w","permissions":` + readOnly + `}`, `{"permissions":{},"scope":"turn"}`},
		{"item/commandExecution/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"command":"touch /x","cwd":"/w","additionalPermissions":` + glob + `}`, `{"decision":"decline"}`},
	} {
		h := &acceptsAll{}
		var told error
		res, err := host.NewRequest(tc.method, json.RawMessage(tc.params)).Serve(context.Background(), handlerFunc(func(req *host.ApprovalRequest) {
			told = req.Unreadable
			_, _ = h.Approval(context.Background(), req)
		}))
		require.NoError(t, err, tc.params)
		assert.JSONEq(t, tc.want, string(res), tc.params)
		assert.Zero(t, h.asked, "asked to judge %s", tc.params)
		require.Error(t, told, tc.params)
		assert.Contains(t, told.Error(), "file-system entries", tc.params)
	}
	// The read and write lists alone, or with the entries codex 0.169
	// sends beside them (each listed path again, and denials), are judged
	// as before.
	for _, fs := range []string{
		`{"write":["/nonexistent-codexhost/x"]}`,
		`{"read":null,"write":["/nonexistent-codexhost/x"],"entries":[{"path":{"type":"path","path":"/nonexistent-codexhost/x"},"access":"write"}]}`,
		`{"read":["/nonexistent-codexhost/r"],"write":["/nonexistent-codexhost/x"],"entries":[{"path":{"type":"path","path":"/nonexistent-codexhost/r"},"access":"read"},{"path":{"type":"path","path":"/nonexistent-codexhost/x"},"access":"read"},{"path":{"type":"special","value":{"kind":"root"}},"access":"deny"}]}`,
	} {
		h := &acceptsAll{}
		res, err := host.NewRequest("item/commandExecution/requestApproval", json.RawMessage(
			`{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"command":"touch /x","cwd":"/w","additionalPermissions":{"fileSystem":`+fs+`}}`)).Serve(context.Background(), h)
		require.NoError(t, err)
		assert.JSONEq(t, `{"decision":"accept"}`, string(res), fs)
		assert.Equal(t, 1, h.asked, fs)
	}
}

// handlerFunc is a Handler whose Approval calls f and accepts.
type handlerFunc func(*host.ApprovalRequest)

func (f handlerFunc) Approval(_ context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	f(req)
	return &abi.ApprovalResponse{Decision: abi.Accept}, nil
}
func (handlerFunc) UserInput(ctx context.Context, req *host.UserInputRequest) (*abi.ToolInputResponse, error) {
	return host.SafeHandler{}.UserInput(ctx, req)
}
func (handlerFunc) ToolCall(ctx context.Context, req *host.ToolCallRequest) (*abi.ToolCallResponse, error) {
	return host.SafeHandler{}.ToolCall(ctx, req)
}
func (handlerFunc) Elicitation(ctx context.Context, req *host.ElicitationRequest) (*host.ElicitationResponse, error) {
	return host.SafeHandler{}.Elicitation(ctx, req)
}
