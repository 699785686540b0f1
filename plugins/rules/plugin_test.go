package rules

import (
	"context"
	"encoding/json"
	"testing"
	"time"

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

// TestPluginCallEndsByItsDeadline: a call of the in-process plugin is
// bounded as a sandboxed plugin's is (before, --policy had no per-call
// deadline): one that ran past its timeout fails as a timeout, and the
// verdict of the part the engine read is not answered.
func TestPluginCallEndsByItsDeadline(t *testing.T) {
	p := NewPlugin(examplePolicy(t)).(*inProcess)
	assert.Equal(t, plugins.DefaultTimeout, p.timeout)
	p.timeout = time.Nanosecond // spent before the engine starts reading
	_, err := plugins.Call[abi.ApprovalResponse](context.Background(), p, abi.HookApproval, cmd("ls -la"))
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailTimeout, ce.Kind)
	assert.ErrorIs(t, err, errCallTimeout)

	// The caller's own deadline, ended while the engine reads, is a
	// timeout too.
	p.timeout = plugins.DefaultTimeout
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Nanosecond))
	defer cancel()
	<-ctx.Done()
	_, err = p.Call(ctx, abi.HookApproval, []byte(`{"kind":"command","command":"ls"}`))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
