package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

const rulesFile = `# echo may run (and write its file); rm may not.
[[rule]]
name = "no-rm"
decision = "decline"
message = "removing files is not allowed"
[rule.match]
program = "rm"

[[rule]]
name = "echo"
decision = "accept"
message = "echo is harmless"
allow_redirects = true
[rule.match]
program = "echo"
`

const badRulesFile = `[[rule]]
name = "allow-ls"
decision = "allow"
[rule.match]
program = "ls"
`

func settingsJSON(t testing.TB, name, rules string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string{"name": name, "rules": rules})
	require.NoError(t, err)
	return b
}

func TestManifest(t *testing.T) {
	m := guest.Manifest()
	assert.Equal(t, "rules", m.Name)
	assert.Equal(t, []abi.Hook{abi.HookApproval, abi.HookToolInput}, m.Hooks)
}

func TestConfigureErrors(t *testing.T) {
	tests := []struct {
		name     string
		settings string
		want     string
	}{
		{"null", "null", "no settings"},
		{"not an object", `"rules.toml"`, "rules: settings:"},
		{"unknown field", `{"file": "rules.toml"}`, `unknown field "file"`},
		{"no rules", `{"name": "rules.toml"}`, `rules.toml: no rules (want at least one [[rule]] or [[answer]] table)`},
		{"null rules", `{"rules": null}`, `"rules" is null`},
		{"rules text and document", `{"rules": "", "rule": []}`, `unknown field "rule"`},
		{"bad document", `{"rule": [{"name": "x", "decision": "allow", "match": {"program": "ls"}}]}`, `settings: rule "x": unknown decision "allow" (want accept, acceptForSession, decline, cancel, ask or abstain)`},
		{"document rule not a table", `{"rule": ["x"]}`, `settings: rule[0]: want a table, got a string`},
		{"document with a name", `{"name": "mine.toml", "rule": [{"name": "x", "decision": "accept", "match": {"program": 1}}]}`, `mine.toml: rule "x": match.program: want a list of strings, got a float`},
		{"bad rules", string(settingsJSON(t, "my.toml", badRulesFile)), `my.toml:3: rule "allow-ls": unknown decision "allow" (want accept, acceptForSession, decline, cancel, ask or abstain)`},
		{"default name", `{"rules": "[[rule]]\nname = 1"}`, `rules.toml:2: rule #1: name: want a string, got an integer`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, payload := guest.Configure([]byte(tt.settings))
			require.Equal(t, abi.StatusError, st)
			var e abi.Error
			require.NoError(t, json.Unmarshal(payload, &e))
			assert.Equal(t, abi.CodeBadConfig, e.Code)
			assert.Contains(t, e.Message, tt.want)
		})
	}
}

func handle(t *testing.T, req abi.ApprovalRequest) abi.ApprovalResponse {
	t.Helper()
	b, err := json.Marshal(req)
	require.NoError(t, err)
	st, payload := guest.Handle(context.Background(), abi.HookApproval, b)
	require.Equal(t, abi.StatusOK, st, "%s", payload)
	var resp abi.ApprovalResponse
	require.NoError(t, json.Unmarshal(payload, &resp))
	return resp
}

// The settings may be the rules document itself, as JSON: what codexhost
// run --settings @rules.toml passes.
func TestConfigureDocument(t *testing.T) {
	doc := `{"rule": [
		{"name": "no-rm", "decision": "decline", "message": "removing files is not allowed", "match": {"program": ["rm"]}},
		{"name": "echo", "decision": "accept", "allow_redirects": true, "match": {"program": "echo"}}
	]}`
	st, payload := guest.Configure([]byte(doc))
	require.Equal(t, abi.StatusOK, st, "%s", payload)
	got := handle(t, abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "t", Command: "/bin/bash -lc 'echo hi > x && rm y'"})
	assert.Equal(t, abi.ApprovalResponse{Decision: abi.Decline, Reason: "rule no-rm: removing files is not allowed"}, got)
	got = handle(t, abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "t", Command: "/bin/bash -lc 'echo hi > x'"})
	assert.Equal(t, abi.ApprovalResponse{Decision: abi.Accept, Reason: "rule echo"}, got)
}

// The rules document's [[answer]] tables answer the agent's questions,
// when they cover them all.
func TestToolInputAnswers(t *testing.T) {
	doc := `{"answer": [{"name": "banner", "question_id_regex": "^colou?r$", "answers": ["Blue"]}]}`
	st, payload := guest.Configure([]byte(doc))
	require.Equal(t, abi.StatusOK, st, "%s", payload)
	ask := func(ids ...string) abi.ToolInputResponse {
		t.Helper()
		req := abi.ToolInputRequest{ThreadID: "t"}
		for _, id := range ids {
			req.Questions = append(req.Questions, abi.Question{ID: id, Question: "?"})
		}
		b, err := json.Marshal(req)
		require.NoError(t, err)
		st, payload := guest.Handle(context.Background(), abi.HookToolInput, b)
		require.Equal(t, abi.StatusOK, st, "%s", payload)
		var resp abi.ToolInputResponse
		require.NoError(t, json.Unmarshal(payload, &resp))
		return resp
	}
	assert.Equal(t, abi.ToolInputResponse{Answers: map[string][]string{"colour": {"Blue"}}}, ask("colour"))
	assert.Equal(t, abi.ToolInputResponse{Abstain: true}, ask("colour", "size"))
	got := handle(t, abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "t", Command: "ls"})
	assert.Equal(t, abi.Abstain, got.Decision, "answers alone decide no approval")
}

func TestApproval(t *testing.T) {
	st, payload := guest.Configure(settingsJSON(t, "rules.toml", rulesFile))
	require.Equal(t, abi.StatusOK, st, "%s", payload)

	tests := []struct {
		command string
		want    abi.ApprovalResponse
	}{
		{"/bin/bash -lc 'echo hello > echoed.txt'", abi.ApprovalResponse{Decision: abi.Accept, Reason: "rule echo: echo is harmless"}},
		{"/bin/bash -lc 'echo hi && rm victim.txt'", abi.ApprovalResponse{Decision: abi.Decline, Reason: "rule no-rm: removing files is not allowed"}},
		{"/bin/bash -lc 'echo $(touch x)'", abi.ApprovalResponse{Decision: abi.Abstain, Reason: "no rule matched (not vouched: command substitution at column 21)"}},
		{"make", abi.ApprovalResponse{Decision: abi.Abstain, Reason: "no rule matched"}},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			got := handle(t, abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "t", Command: tt.command, Cwd: "/w"})
			assert.Equal(t, tt.want, got)
		})
	}

	// A failed reconfiguration keeps nothing half-applied: the request
	// still gets the earlier policy's verdict.
	st, _ = guest.Configure(settingsJSON(t, "rules.toml", badRulesFile))
	require.Equal(t, abi.StatusError, st)
	got := handle(t, abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "t", Command: "rm x"})
	assert.Equal(t, abi.Decline, got.Decision)
}
