package main

// The agent as the adversary, against the real codex (session 22):
// sub-agents (codex's multi_agent tools), whose threads the client did
// not start.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// agentIDRe finds the agent id in codex's output of spawn_agent.
var agentIDRe = regexp.MustCompile(`"agent_id"\s*:\s*"([^"]+)"`)

// subAgentTask is the task the main agent gives its sub-agent, by which
// the script tells the sub-agent's requests from the main agent's.
const subAgentTask = "SUBTASK: edit the file"

// delegate is an agent that spawns a sub-agent (spawn_agent), which
// makes the call sub, then waits for it (wait_agent) and ends the turn.
func delegate(sub hosttest.Reply) hosttest.Script {
	const ns = "multi_agent_v1"
	return hosttest.ScriptFunc(func(req *hosttest.ModelRequest) hosttest.Reply {
		if slices.Contains(req.UserTexts(), subAgentTask) {
			if _, done := req.ToolOutput("sub"); done {
				return hosttest.Text("sub done")
			}
			return sub.WithCallID("sub")
		}
		if _, waited := req.ToolOutput("wait"); waited {
			return hosttest.Text("done")
		}
		spawned, ok := req.ToolOutput("spawn")
		if !ok {
			return hosttest.FunctionCall("spawn_agent", map[string]any{"message": subAgentTask}).InNamespace(ns).WithCallID("spawn")
		}
		m := agentIDRe.FindStringSubmatch(spawned.Text())
		if m == nil {
			return hosttest.Text("no agent: " + spawned.Text())
		}
		return hosttest.FunctionCall("wait_agent", map[string]any{"targets": []string{m[1]}, "timeout_ms": 30000}).InNamespace(ns).WithCallID("wait")
	})
}

// A file-change approval names no cwd; the host tells the policy the
// thread's, which it knew only for the threads it started. A sub-agent's
// patch came with none, so a rule on a path relative to the workspace
// (".github/**": no CI edits) did not match it, and a later rule for
// every path accepted it: the agent had its sub-agent edit
// .github/workflows, which the policy declines for the agent itself.
func TestSubAgentPatchIsJudgedInItsCwd(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	_, home := fakeCodexHome(t, delegate(hosttest.ApplyPatch(hosttest.AddFilePatch(".github/workflows/ci.yml", "on: push\n"))))
	rules := writeRules(t, `
[[rule]]
name = "no-ci"
decision = "decline"
message = "no CI edits"
[rule.match]
hook_kind = "fileChange"
paths = [".github/**"]

[[rule]]
name = "edits"
decision = "accept"
message = "other edits"
[rule.match]
hook_kind = "fileChange"
paths = ["**"]
`)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "untrusted",
		"--sandbox", "read-only", "--policy", rules, "--audit", auditFile, "--no-progress", "go")
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1, "the policy was asked once, about the sub-agent's patch")
	assert.Equal(t, "decline", recs[0]["decision"], "%v", recs[0])
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.NoFileExists(t, filepath.Join(work, ".github", "workflows", "ci.yml"),
		"the sub-agent edited what the policy declines")
	_, err := os.Stat(filepath.Join(work, ".github"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
