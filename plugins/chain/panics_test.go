package chain_test

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// panics is an in-process approval plugin (a plugins.Plugin run in the
// host's process, as the rules policy and the judge are) with a bug: it
// panics on every call.
func panics(name string) *goPlugin {
	return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error) { panic(name + ": nil map write") }}
}

// TestPanickingPluginIsRecordedAndCharged: docs/security.md ("Fail
// closed"): a plugin "error, trap, panic, timeout" counts as the fallback,
// is charged to its crash budget, and every decision is recorded (Audit,
// fsync'd, "before the answer is sent"; the record "holds the exact answer
// sent"). An in-process plugin that panics escapes Chain.Approval: host
// recovers and declines, but the chain never records the decision (no
// Audit, no OnDecision: the answer codex got is in no decision log) and
// never charges the plugin (a plugin that panics on every request is never
// disabled by its crash budget). A plugin that returns an error instead is
// recorded and charged (TestChainApproval).
func TestPanickingPluginIsRecordedAndCharged(t *testing.T) {
	var mu sync.Mutex
	var audited, decided []*chain.DecisionRecord
	ch, err := chain.New(&chain.Options{
		Members:     []chain.Member{{Plugin: panics("buggy")}, {Plugin: decides("ok", abi.Accept)}},
		CrashBudget: chain.CrashBudget{Failures: 100},
		Audit: func(r *chain.DecisionRecord) error {
			mu.Lock()
			defer mu.Unlock()
			audited = append(audited, r)
			return nil
		},
		OnDecision: func(r *chain.DecisionRecord) {
			mu.Lock()
			defer mu.Unlock()
			decided = append(decided, r)
		},
	})
	require.NoError(t, err)
	defer ch.Close()

	b := serve(t, ch, commandRequest("touch x"))
	require.JSONEq(t, `{"decision":"decline"}`, string(b), "fail closed")

	mu.Lock()
	defer mu.Unlock()
	if assert.Len(t, audited, 1, "the answer codex received (%s) was never written to the audit log", b) {
		assert.JSONEq(t, string(b), string(audited[0].Answer), "the audit record holds the exact answer sent")
	}
	assert.Len(t, decided, 1, "OnDecision never saw the request")
	st := ch.Status()
	require.Len(t, st, 2)
	assert.Equal(t, uint64(1), st[0].Failures, "the panic is not charged to the plugin's crash budget")
}

// TestPanickingToolPluginIsRecorded: the same for a dynamic tool
// call (the "safe answer" row): a tool plugin that panics is answered
// failed by host, but the chain records nothing.
func TestPanickingToolPluginIsRecorded(t *testing.T) {
	var mu sync.Mutex
	var audited []*chain.DecisionRecord
	tool := &goPlugin{m: abi.Manifest{Name: "tools", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall},
		Tools: []abi.Tool{{Name: "lookup", Description: "d"}}},
		tool: func(*abi.ToolCallRequest) (*abi.ToolCallResponse, error) { panic("tool bug") }}
	ch, err := chain.New(&chain.Options{
		Plugins: []plugins.Plugin{tool},
		Audit: func(r *chain.DecisionRecord) error {
			mu.Lock()
			defer mu.Unlock()
			audited = append(audited, r)
			return nil
		},
	})
	require.NoError(t, err)
	defer ch.Close()
	b := serve(t, ch, host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"lookup","arguments":{}}`)))
	assert.False(t, toolResult(t, b).Success, "fail closed")
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, audited, 1, "the tool call's answer (%s) was never written to the audit log", b)
}

// TestOnDecisionPanicAfterAudit: Options.OnDecision (user code: a
// metrics hook, a UI) that panics runs after Audit wrote the record: host
// recovers and sends codex a decline, while the audit log, fsync'd,
// says accept. docs/security.md: "the audit record holds the exact answer
// sent".
func TestOnDecisionPanicAfterAudit(t *testing.T) {
	var audited []json.RawMessage
	ch, err := chain.New(&chain.Options{
		Plugins: []plugins.Plugin{decides("ok", abi.Accept)},
		Audit: func(r *chain.DecisionRecord) error {
			audited = append(audited, r.Answer)
			return nil
		},
		OnDecision: func(*chain.DecisionRecord) { panic("dashboard bug") },
	})
	require.NoError(t, err)
	defer ch.Close()
	b := serve(t, ch, commandRequest("touch x"))
	require.Len(t, audited, 1)
	assert.JSONEq(t, string(audited[0]), string(b), "codex received %s; the audit log recorded %s", b, audited[0])
}
