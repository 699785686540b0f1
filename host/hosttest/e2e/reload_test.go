package e2e_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// rules returns the settings of the shipped rules plugin for one rule about
// echo.
func echoRules(t *testing.T, decision abi.Decision, message string) json.RawMessage {
	t.Helper()
	rules := `[[rule]]
name = "echo"
decision = "` + string(decision) + `"
message = "` + message + `"
allow_redirects = true
[rule.match]
program = "echo"
`
	b, err := json.Marshal(map[string]string{"name": "rules.toml", "rules": rules})
	require.NoError(t, err)
	return b
}

// Hot reload on the real codex: one turn runs two echo commands; the rules
// are swapped between the two approvals (while the model is writing its
// second call). The first echo runs under the old rules, the second is
// declined by the new ones; an invalid new rule set never reaches the chain.
func TestReloadRulesMidTurn(t *testing.T) {
	e2e.RequireCodex(t)
	const rulesDir = "../../../plugins/rules/cmd/rules-policy"
	oldRules := e2e.LoadWasm(t, rulesDir, &wasm.Options{Options: plugins.Options{Settings: echoRules(t, abi.Accept, "echo is fine")}})

	steps := hosttest.Turn(hosttest.ExecCommand("echo one > one.txt"), hosttest.ExecCommand("echo two > two.txt"), hosttest.Text("done"))
	var requests atomic.Int32
	secondAsked, swapped := make(chan struct{}), make(chan struct{})
	script := hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		if requests.Add(1) == 2 { // the follow-up that asks for the second command
			close(secondAsked)
			select {
			case <-swapped:
			case <-r.Closed: // the test failed before the swap
			}
		}
		return steps.Reply(r)
	})
	var decisions e2e.Decisions
	env := e2e.Start(t, e2e.Config{Script: script,
		Chain: chain.Options{Plugins: []plugins.Plugin{oldRules}, OnDecision: decisions.Record}})

	done := make(chan *host.Result, 1)
	go func() { done <- env.Run(t, "write two files") }()
	select {
	case <-secondAsked:
	case <-time.After(90 * time.Second):
		t.Fatal("the model was never asked for the second command")
	}
	require.Len(t, decisions.All(), 1, "the first command was decided by the old rules")

	// A set that does not load never replaces the chain's.
	rt, err := wasm.NewRuntime(t.Context(), nil)
	require.NoError(t, err)
	defer rt.Close(t.Context())
	_, err = rt.Load(t.Context(), plugintest.BuildGoGuest(t, rulesDir),
		&wasm.Options{Options: plugins.Options{Settings: json.RawMessage(`{"name":"rules.toml","rules":"[[rule]]\nname=\"x\"\ndecision=\"allow\"\n"}`)}})
	require.ErrorContains(t, err, `unknown decision "allow"`)
	assert.Equal(t, uint64(1), env.Chain.Generation())

	newRules := e2e.LoadWasm(t, rulesDir, &wasm.Options{Options: plugins.Options{Settings: echoRules(t, abi.Decline, "echo is forbidden now")}})
	retired, err := env.Chain.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: newRules}}})
	require.NoError(t, err)
	require.NoError(t, retired.Wait(t.Context()), "nothing in flight on the old set")
	close(swapped)

	var res *host.Result
	select {
	case res = <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("the turn did not finish")
	}
	assert.Equal(t, host.TurnCompleted, res.Status)
	assert.FileExists(t, filepath.Join(env.Work, "one.txt"), "accepted by the old rules")
	_, err = os.Stat(filepath.Join(env.Work, "two.txt"))
	assert.ErrorIs(t, err, os.ErrNotExist, "declined by the new rules")

	recs := decisions.All()
	require.Len(t, recs, 2)
	assert.Equal(t, abi.Accept, recs[0].Decision)
	assert.Equal(t, uint64(1), recs[0].Generation)
	assert.Equal(t, "rule echo: echo is fine", recs[0].Answers[0].Reason)
	assert.Equal(t, abi.Decline, recs[1].Decision)
	assert.Equal(t, uint64(2), recs[1].Generation)
	assert.Equal(t, "rule echo: echo is forbidden now", recs[1].Answers[0].Reason)
}
