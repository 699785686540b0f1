package rules

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// The in-process plugin answers through the ABI's JSON exactly what
// Evaluate decides, with the rule in the reason.
func TestNewPlugin(t *testing.T) {
	pol := examplePolicy(t)
	p := NewPlugin(pol)
	require.NoError(t, plugins.CheckManifest(p.Manifest(), abi.Capabilities{}))
	ctx := context.Background()

	for _, req := range []*abi.ApprovalRequest{cmd("ls -la"), cmd("ls; rm -rf /"), bash("git status && rm -rf /"), files("/work/proj/.env"), cmd("some-unknown-tool")} {
		resp, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, req)
		require.NoError(t, err, req.Command)
		want := pol.Evaluate(ctx, req).Response()
		assert.Equal(t, want, resp, req.Command)
	}

	// The example has no [[answer]]: every question is left to others.
	q, err := plugins.Call[abi.ToolInputResponse](ctx, p, abi.HookToolInput,
		&abi.ToolInputRequest{ThreadID: "th", Questions: []abi.Question{{ID: "color", Question: "Which color?"}}})
	require.NoError(t, err)
	assert.True(t, q.Abstain)
	_, err = p.Call(ctx, abi.HookEventRender, []byte(`{}`))
	var ae *abi.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, abi.CodeUnsupportedHook, ae.Code)
	_, err = p.Call(ctx, abi.HookToolInput, []byte(`{"questions":`))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, abi.CodeBadRequest, ae.Code)

	_, err = p.Call(ctx, abi.HookApproval, []byte(`{"kind":`))
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, abi.CodeBadRequest, ae.Code)
	require.NoError(t, p.Close(ctx))
}

func TestVerdictResponse(t *testing.T) {
	assert.Equal(t, &abi.ApprovalResponse{Decision: abi.Abstain, Reason: "no rule matched"}, Verdict{Decision: abi.Abstain}.Response())
	assert.Equal(t, &abi.ApprovalResponse{Decision: abi.Decline, Reason: "rule no-rm: no"}, Verdict{Decision: abi.Decline, Rule: "no-rm", Message: "no"}.Response())
	assert.Equal(t, &abi.ApprovalResponse{Decision: abi.Accept, Reason: "rule ls"}, Verdict{Decision: abi.Accept, Rule: "ls"}.Response())
	_, err := json.Marshal(Verdict{}.Response())
	require.NoError(t, err)
}
