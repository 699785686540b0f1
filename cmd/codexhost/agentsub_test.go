package main

// The agent as the adversary, against the real codex (session 22):
// sub-agents (codex's multi_agent tools), whose threads the client did
// not start.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync/atomic"
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
// The sub-agent makes its call once the agent has been told of the spawn
// (codex sent the client the spawn item, which names the sub-agent's
// thread, before it asked the model again); until then it reads its goal
// (get_goal), a round trip that asks no one. It cannot block instead: the
// fake model answers one request at a time.
func delegate(sub hosttest.Reply) hosttest.Script {
	const ns = "multi_agent_v1"
	var told atomic.Bool
	return hosttest.ScriptFunc(func(req *hosttest.ModelRequest) hosttest.Reply {
		if slices.Contains(req.UserTexts(), subAgentTask) {
			if _, done := req.ToolOutput("sub"); done {
				return hosttest.Text("sub done")
			}
			if !told.Load() {
				return hosttest.FunctionCall("get_goal", map[string]any{})
			}
			return sub.WithCallID("sub")
		}
		if _, waited := req.ToolOutput("wait"); waited {
			return hosttest.Text("done")
		}
		spawned, ok := req.ToolOutput("spawn")
		if ok {
			told.Store(true)
		}
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
	assert.Contains(t, r.stderr, "rule no-ci: no CI edits", "the policy read the path in the sub-agent's cwd")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.NoFileExists(t, filepath.Join(work, ".github", "workflows", "ci.yml"),
		"the sub-agent edited what the policy declines")
	_, err := os.Stat(filepath.Join(work, ".github"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// Under on-request a sub-agent's commands in the sandbox run unasked, as
// the agent's do; the agent's are rendered (--render exec, json, --json),
// and the sub-agent's were not: run showed only the events of its own
// thread, so an agent that delegated a command hid it from the operator
// (here a touch that ran). The items a sub-agent of the run's thread
// runs are rendered now; its own turn and messages are not the run's.
func TestSubAgentCommandsAreRendered(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	for _, render := range []string{"exec", "json", "codex exec --json"} {
		_, home := fakeCodexHome(t, delegate(hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch delegated.txt"})))
		flag := []string{"--render", render}
		if render == "codex exec --json" {
			flag = []string{"--json"}
		}
		r := runCmd(t, append([]string{"run", "--codex-home", home, "--cwd", work, "--approval-policy", "on-request",
			"--sandbox", "workspace-write", "--policy", writeRules(t, noRmRules), "--no-progress", "go"}, flag...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		require.FileExists(t, filepath.Join(work, "delegated.txt"), "the sub-agent's command ran, unasked")
		assert.Contains(t, r.stdout, "touch delegated.txt", "--render %s shows what the sub-agent ran", render)
		assert.NotContains(t, r.stdout, "sub done", "--render %s: the sub-agent's message is not the run's", render)
		require.NoError(t, os.Remove(filepath.Join(work, "delegated.txt")))
	}
}

// A sub-agent of an earlier run is the agent's too: resumed (resume_agent)
// and given work (send_input) in a run that continues the thread
// (--thread), its commands were not rendered, as run learnt only the
// threads spawned in the run.
func TestResumedSubAgentCommandsAreRendered(t *testing.T) {
	t.Parallel()
	const ns = "multi_agent_v1"
	work := t.TempDir()
	var agent atomic.Pointer[string]
	_, home := fakeCodexHome(t, hosttest.ScriptFunc(func(req *hosttest.ModelRequest) hosttest.Reply {
		texts := req.UserTexts()
		switch {
		case slices.Contains(texts, "resumed task"):
			if _, done := req.ToolOutput("sub2"); done {
				return hosttest.Text("sub done")
			}
			return hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch resumed.txt"}).WithCallID("sub2")
		case slices.Contains(texts, subAgentTask):
			return hosttest.Text("sub done")
		case slices.Contains(texts, "second"):
			id := agent.Load()
			if id == nil {
				return hosttest.Text("no agent")
			}
			if _, ok := req.ToolOutput("wait2"); ok {
				return hosttest.Text("second done")
			}
			if _, ok := req.ToolOutput("send"); ok {
				return hosttest.FunctionCall("wait_agent", map[string]any{"targets": []string{*id}, "timeout_ms": 30000}).InNamespace(ns).WithCallID("wait2")
			}
			if _, ok := req.ToolOutput("resume"); ok {
				return hosttest.FunctionCall("send_input", map[string]any{"target": *id, "message": "resumed task"}).InNamespace(ns).WithCallID("send")
			}
			return hosttest.FunctionCall("resume_agent", map[string]any{"id": *id}).InNamespace(ns).WithCallID("resume")
		}
		spawned, ok := req.ToolOutput("spawn")
		if !ok {
			return hosttest.FunctionCall("spawn_agent", map[string]any{"message": subAgentTask}).InNamespace(ns).WithCallID("spawn")
		}
		if _, waited := req.ToolOutput("wait"); waited {
			return hosttest.Text("first done")
		}
		m := agentIDRe.FindStringSubmatch(spawned.Text())
		if m == nil {
			return hosttest.Text("no agent: " + spawned.Text())
		}
		agent.Store(&m[1])
		return hosttest.FunctionCall("wait_agent", map[string]any{"targets": []string{m[1]}, "timeout_ms": 30000}).InNamespace(ns).WithCallID("wait")
	}))
	flags := []string{"--codex-home", home, "--approval-policy", "on-request", "--sandbox", "workspace-write",
		"--policy", writeRules(t, noRmRules), "--no-progress"}
	r := runCmd(t, append(append([]string{"run", "--cwd", work}, flags...), "first")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCmd(t, append(append([]string{"run", "--thread", threadIDFrom(t, r.stderr)}, flags...), "second")...)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.FileExists(t, filepath.Join(work, "resumed.txt"), "the resumed sub-agent's command ran, unasked")
	assert.Contains(t, r.stdout, "touch resumed.txt", "the run shows what the resumed sub-agent ran")
}
