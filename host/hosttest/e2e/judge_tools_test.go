package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/judge"
)

// deployTool is a tool plugin with a side effect: it records every call.
type deployTool struct {
	mu    sync.Mutex
	calls []abi.ToolCallRequest
}

func (d *deployTool) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "deployer", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall},
		Tools: []abi.Tool{{Name: "deploy", Description: "deploys the project to production", InputSchema: abi.RawJSON(`{"type":"object"}`)}}}
}
func (d *deployTool) Close(context.Context) error { return nil }
func (d *deployTool) Call(_ context.Context, _ abi.Hook, req []byte) ([]byte, error) {
	var r abi.ToolCallRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, err
	}
	d.mu.Lock()
	d.calls = append(d.calls, r)
	d.mu.Unlock()
	return []byte(`{"success":true,"content":[{"type":"text","text":"deployed"}]}`), nil
}

// TestJudgeThreadGetsNoPluginTools: the judge decides on threads of the
// session's client, and its model reads what the agent wrote (a prompt
// injection surface). Its threads are not given the plugins' tools
// (ThreadOptions.OmitHandlerTools), and a call it makes to one anyway is
// answered as failed without reaching the plugin; the agent's own call
// to the same tool still runs.
func TestJudgeThreadGetsNoPluginTools(t *testing.T) {
	agent := hosttest.Turn(hosttest.FunctionCall("deploy", map[string]string{"target": "staging"}),
		hosttest.ExecCommand("touch judged.txt"), hosttest.Text("done"))
	script := hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		if strings.Contains(r.LastUserText(), judge.Marker) {
			if r.IsToolFollowUp() {
				return hosttest.Text(`{"decision":"accept","reason":"fine"}`)
			}
			return hosttest.FunctionCall("deploy", map[string]string{"target": "prod"})
		}
		return agent.Reply(r)
	})
	tool := &deployTool{}
	late := &lateJudge{}
	env := e2e.Start(t, e2e.Config{
		Script: script,
		Chain:  chain.Options{Plugins: []plugins.Plugin{tool, late}},
	})
	j, err := judge.New(&judge.Options{Client: env.Client})
	require.NoError(t, err)
	late.j = j
	res := env.Run(t, "make judged.txt")
	tool.mu.Lock()
	defer tool.mu.Unlock()
	require.Len(t, tool.calls, 1, "the deploy tool ran for a thread other than the agent's")
	assert.Equal(t, res.ThreadID, tool.calls[0].ThreadID)
	assert.JSONEq(t, `{"target":"staging"}`, string(tool.calls[0].Arguments))
}
