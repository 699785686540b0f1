package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// The model calls the plugin's tool; the plugin's answer reaches the
// model's next request as the tool's output.
func TestToolOnRealCodex(t *testing.T) {
	e2e.RequireCodex(t)
	tool := e2e.LoadWasm(t, ".", nil)
	call := hosttest.FunctionCall("word_count", map[string]string{"text": "one two three"})
	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turn(call, hosttest.Text("counted")),
		Chain:  chain.Options{Plugins: []plugins.Plugin{tool}},
	})
	res := env.Run(t, "count the words")
	assert.Equal(t, "counted", res.Text)

	reqs := env.Model.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	assert.True(t, reqs[0].HasTool("word_count"), "the plugin's tool is offered to the model")
	out, ok := reqs[1].ToolOutput(call.CallID(reqs[0].Seq, 0))
	require.True(t, ok, "the follow-up request carries the tool output")
	assert.Equal(t, "3 words", out.Text())
}
