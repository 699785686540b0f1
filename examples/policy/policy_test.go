package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// The policy, built from this directory both as a sandboxed Wasm plugin and
// as a process plugin, decides real codex approvals the same way: the echo
// runs (its file appears), the rm does not (its target survives).
func TestPolicyOnRealCodex(t *testing.T) {
	for _, rt := range e2e.Runtimes {
		t.Run(rt.Name, func(t *testing.T) { testPolicy(t, rt.Load(t, ".")) })
	}
}

func testPolicy(t *testing.T, policy plugins.Plugin) {
	e2e.RequireCodex(t)
	var decisions e2e.Decisions
	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turns(
			hosttest.Turn(hosttest.ExecCommand("echo hello > echoed.txt"), hosttest.Text("echoed")),
			hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")),
		),
		Chain: chain.Options{Plugins: []plugins.Plugin{policy}, OnDecision: decisions.Record},
	})
	victim := filepath.Join(env.Work, "victim.txt")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))

	env.Run(t, "write a file with echo")
	got, err := os.ReadFile(filepath.Join(env.Work, "echoed.txt"))
	require.NoError(t, err, "the accepted echo ran")
	assert.Equal(t, "hello\n", string(got))

	env.Run(t, "remove the victim")
	_, err = os.Stat(victim)
	require.NoError(t, err, "the declined rm did not run")

	records := decisions.All()
	require.Len(t, records, 2)
	assert.Equal(t, abi.Accept, records[0].Decision)
	assert.Equal(t, "deny-rm", records[0].Answers[0].Plugin)
	assert.Equal(t, "echo is harmless", records[0].Answers[0].Reason)
	assert.Equal(t, abi.Decline, records[1].Decision)
	assert.Equal(t, "removing files is not allowed", records[1].Answers[0].Reason)
}
