package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// The agent asks two questions on the real codex; the plugin answers one
// from its settings and the other with the first option, and both answers
// reach the model.
func TestAnswerOnRealCodex(t *testing.T) {
	e2e.RequireCodex(t)
	p := e2e.LoadWasm(t, ".", &wasm.Options{Options: plugins.Options{Settings: []byte(`{"answers": {"name": "codexhost"}}`)}})
	ask := hosttest.RequestUserInput(
		hosttest.Question{ID: "color", Header: "Color", Question: "Which color?",
			Options: []hosttest.Option{{Label: "Blue", Description: "calm"}, {Label: "Red", Description: "bold"}}},
		hosttest.Question{ID: "name", Header: "Name", Question: "Project name?",
			Options: []hosttest.Option{{Label: "other", Description: "type it"}}},
	)
	var decisions e2e.Decisions
	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turn(ask, hosttest.Text("thanks")),
		Chain:  chain.Options{Plugins: []plugins.Plugin{p}, OnDecision: decisions.Record},
		Home:   &hosttest.CodexHomeOptions{RequestUserInput: true},
	})
	res := env.Run(t, "ask me")
	assert.Equal(t, "thanks", res.Text)

	reqs := env.Model.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	out, ok := reqs[1].ToolOutput(ask.CallID(reqs[0].Seq, 0))
	require.True(t, ok)
	assert.Contains(t, out.Text(), `"Blue"`, "the first option")
	assert.Contains(t, out.Text(), `"codexhost"`, "the configured answer")

	records := decisions.All()
	require.Len(t, records, 1)
	assert.Equal(t, "answer", records[0].Why.String())
	assert.Equal(t, "answer", records[0].Answers[0].Plugin)
}
