package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// A Wasm plugin answers the agent's request_user_input questions on the
// real codex; the answer reaches the model.
func TestToolInputOnRealCodex(t *testing.T) {
	e2e.RequireCodex(t)
	src, err := plugintest.GuestSource(plugintest.GuestRef)
	require.NoError(t, err)
	ref := e2e.LoadWasm(t, src, nil)
	ask := hosttest.RequestUserInput(hosttest.Question{ID: "color", Header: "Color", Question: "Which color?",
		Options: []hosttest.Option{{Label: "Blue", Description: "calm"}, {Label: "Red", Description: "bold"}}})
	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turn(ask, hosttest.Text("blue it is")),
		Chain:  chain.Options{Plugins: []plugins.Plugin{ref}},
		Home:   &hosttest.CodexHomeOptions{RequestUserInput: true},
	})
	res := env.Run(t, "pick a color")
	assert.Equal(t, "blue it is", res.Text)
	reqs := env.Model.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	out, ok := reqs[1].ToolOutput(ask.CallID(reqs[0].Seq, 0))
	require.True(t, ok)
	assert.Contains(t, out.Text(), `"Blue"`, "the plugin's answer (the first option) reached the model")
}
