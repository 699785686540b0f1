package e2e_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/judge"
)

// judgeRequest is the fake model's last request of a judge turn.
func judgeRequest(t *testing.T, m *hosttest.Model) hosttest.ModelRequest {
	t.Helper()
	var found *hosttest.ModelRequest
	for _, r := range m.Requests() {
		if strings.Contains(r.LastUserText(), judge.Marker) {
			found = &r
		}
	}
	require.NotNil(t, found, "the model got no judge request")
	return *found
}

// The judge's OutputSchema, Effort and Summary reach the model's request
// through the real codex (structured output, reasoning effort and summary),
// and MaxRequestBytes cuts the request shown in the prompt.
func TestJudgeOptionsOnRealCodex(t *testing.T) {
	late := &lateJudge{}
	env := e2e.Start(t, e2e.Config{
		Script: judgeScript(hosttest.Text(`{"decision":"accept","reason":"touching a file in the project is fine"}`)),
		Chain:  chain.Options{Plugins: []plugins.Plugin{late}},
	})
	j, err := judge.New(&judge.Options{Client: env.Client, OutputSchema: judge.VerdictSchema,
		Effort: "high", Summary: "detailed", MaxRequestBytes: 200})
	require.NoError(t, err)
	late.j = j
	env.Run(t, "make judged.txt")
	assert.FileExists(t, env.Work+"/judged.txt", "the judge's accept decided")

	r := judgeRequest(t, env.Model)
	var body struct {
		Reasoning struct{ Effort, Summary string }
		Text      struct {
			Format struct {
				Type   string
				Strict bool
				Schema json.RawMessage
			}
		}
	}
	require.NoError(t, json.Unmarshal(r.Body, &body))
	assert.Equal(t, "high", body.Reasoning.Effort)
	assert.Equal(t, "detailed", body.Reasoning.Summary)
	assert.Equal(t, "json_schema", body.Text.Format.Type)
	assert.JSONEq(t, string(judge.VerdictSchema), string(body.Text.Format.Schema))

	// The judge's model reads what the agent wrote: its thread has no
	// tool to act or read with (before: exec_command, write_stdin,
	// web_search, view_image, multi_agent_v1 and the goal tools), but
	// apply_patch, which its read-only sandbox and "never" approval
	// policy refuse, and request_user_input. The agent's turns keep them.
	for _, tool := range []string{"exec_command", "write_stdin", "shell", "web_search", "view_image", "multi_agent_v1", "create_goal"} {
		assert.False(t, r.HasTool(tool), "the judge's thread offers %s: %v", tool, r.Tools)
	}
	assert.True(t, env.Model.Requests()[0].HasTool("exec_command"), "the agent's turn keeps its tools")

	prompt := r.LastUserText()
	assert.Contains(t, prompt, "[truncated: the request is ")
	assert.Contains(t, prompt, " bytes; the first ")
	assert.Less(t, len(prompt), 200+200, "the request is cut at 200 bytes: %q", prompt)

	// The agent's own turns carry none of the judge's settings.
	for _, ar := range env.Model.Requests() {
		if !strings.Contains(ar.LastUserText(), judge.Marker) && !ar.IsToolFollowUp() {
			assert.NotContains(t, string(ar.Body), "codex_output_schema")
		}
	}
}

// With AnswerQuestions, the judge answers the agent's question on the real
// codex: the model (playing the judge) picks an option, and the agent's
// model gets that answer. An answer to a question that was not asked
// makes the judge abstain, and the question gets the empty answer. (Codex
// marks its questions isOther, so a free answer is valid.)
func TestJudgeAnswersQuestionsOnRealCodex(t *testing.T) {
	q := hosttest.Question{ID: "color", Header: "Color", Question: "Which color should the banner be?",
		Options: []hosttest.Option{{Label: "Blue", Description: "calm"}, {Label: "Red", Description: "loud"}}}
	for _, tc := range []struct {
		name, verdict, want string
		judged              bool
	}{
		{"an option", `{"answers":{"color":["Blue"]}}`, `{"answers":{"color":{"answers":["Blue"]}}}`, true},
		{"a free answer", `{"answers":{"color":["Green"]}}`, `{"answers":{"color":{"answers":["Green"]}}}`, true},
		{"a question not asked", `{"answers":{"colour":["Blue"]}}`, `{"answers":{"color":{"answers":[]}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agent := hosttest.Turn(hosttest.RequestUserInput(q), hosttest.Text("noted"))
			var decisions e2e.Decisions
			late := &lateJudge{hooks: []abi.Hook{abi.HookApproval, abi.HookToolInput}}
			env := e2e.Start(t, e2e.Config{
				Script: hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
					if strings.Contains(r.LastUserText(), judge.Marker) {
						return hosttest.Text(tc.verdict)
					}
					return agent.Reply(r)
				}),
				Home:  &hosttest.CodexHomeOptions{RequestUserInput: true},
				Chain: chain.Options{Plugins: []plugins.Plugin{late}, OnDecision: decisions.Record},
			})
			j, err := judge.New(&judge.Options{Client: env.Client, AnswerQuestions: true})
			require.NoError(t, err)
			assert.True(t, j.Manifest().Implements(abi.HookToolInput))
			late.j = j
			res := env.Run(t, "ask me a colour")
			assert.Equal(t, "noted", res.Text)

			jr := judgeRequest(t, env.Model)
			prompt := jr.LastUserText()
			assert.Contains(t, prompt, "Answer these questions.")
			assert.Contains(t, prompt, "Which color should the banner be?")
			got := ""
			for _, r := range env.Model.Requests() {
				for _, o := range r.ToolOutputs() {
					if strings.Contains(o.Text(), `"color"`) {
						got = o.Text()
					}
				}
			}
			assert.JSONEq(t, tc.want, got, "what the agent's model got")
			recs := decisions.All()
			require.Len(t, recs, 1)
			assert.Equal(t, abi.HookToolInput, recs[0].Hook)
			assert.Equal(t, !tc.judged, recs[0].Why.Fallback(), "an abstaining judge leaves the empty answer")
		})
	}
}

// A judge without AnswerQuestions refuses the tool-input hook, and one
// with it abstains, without asking the model, on a secret.
func TestJudgeQuestionsRefusedOrAbstained(t *testing.T) {
	j, err := judge.New(&judge.Options{Client: &host.Client{}})
	require.NoError(t, err)
	assert.False(t, j.Manifest().Implements(abi.HookToolInput))
	_, err = j.Call(context.Background(), abi.HookToolInput, []byte(`{"threadId":"th","questions":[]}`))
	var ae *abi.Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, abi.CodeUnsupportedHook, ae.Code)

	j, err = judge.New(&judge.Options{Client: &host.Client{}, AnswerQuestions: true})
	require.NoError(t, err)
	resp, err := j.Answer(context.Background(), &abi.ToolInputRequest{ThreadID: "th",
		Questions: []abi.Question{{ID: "pw", Question: "Your password?", IsSecret: true}}})
	assert.ErrorContains(t, err, "asks for a secret")
	assert.True(t, resp.Abstain)
}
