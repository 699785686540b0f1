package chain_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// The crash budget with a real Wasm guest that traps (the conformance
// kit's reference guest exits on "exit-now"): after three traps it is
// disabled, and even its harmless requests fall back (fail closed).
func TestChainCrashBudgetWasmTrap(t *testing.T) {
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(ctx) })
	ref, err := rt.Load(ctx, plugintest.GuestWasm(t, plugintest.GuestRef), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ref.Close(ctx) })

	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{ref},
		CrashBudget: chain.CrashBudget{Failures: 3, Window: time.Minute},
		OnDecision:  func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)
	decide := func(cmd string) string {
		ans, err := serveRaw(t.Context(), ch, commandRequest(cmd))
		require.NoError(t, err)
		b, _ := json.Marshal(ans)
		return string(b)
	}
	require.JSONEq(t, `{"decision":"accept"}`, decide("echo ok"))
	for range 3 {
		require.JSONEq(t, `{"decision":"decline"}`, decide("exit-now"))
		var ce *plugins.CallError
		require.ErrorAs(t, rec.Answers[0].Err, &ce)
		assert.Equal(t, plugins.FailTrap, ce.Kind)
		// Between traps the guest still works: its instance was replaced.
	}
	st := ch.Status()[0]
	assert.Equal(t, chain.PluginDisabled, st.State)
	assert.Equal(t, "ref", st.Name)
	assert.Equal(t, uint64(3), st.Failures)
	assert.Equal(t, []abi.Hook{abi.HookApproval, abi.HookToolInput, abi.HookToolCall, abi.HookEventRender}, st.Hooks)

	require.JSONEq(t, `{"decision":"decline"}`, decide("echo ok"), "disabled: the fallback stands in")
	assert.Equal(t, "fallback: plugin ref disabled (crash budget)", rec.Why.String())
}
