package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

const pushRules = `
[[rule]]
name = "no-push"
decision = "decline"
message = "pushing is not allowed"
[rule.match]
argv_prefix = ["git", "push"]
`

// Values the pinned codex rejects are refused locally, with the list of
// valid ones, before codex starts.
func TestRunApprovalFlagValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--approval-policy", "on-failure", "hi"}, `--approval-policy "on-failure": want one of untrusted, on-request, never`},
		{[]string{"run", "--approval-policy", "always", "hi"}, `--approval-policy "always": want one of untrusted, on-request, never`},
		{[]string{"run", "--sandbox", "none", "hi"}, `--sandbox "none": want one of read-only, workspace-write, danger-full-access`},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want)
		assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
	}
}

// With a policy loaded and no --approval-policy, codex is asked to run
// under "untrusted": a command the agent runs inside the sandbox without
// asking for escalation still reaches the policy, which declines it; it
// does not run, and the audit log records the decision.
func TestRunPolicyIsAskedByDefault(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	m, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch pushed.txt && git push origin main"}),
		hosttest.Text("pushed")))
	dropApprovalPolicy(t, home) // nobody chose one: codexhost's default applies
	work := t.TempDir()
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")

	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "--audit", auditFile, "push it")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.Contains(t, r.stderr, "rule no-push: pushing is not allowed")
	assert.NoFileExists(t, filepath.Join(work, "pushed.txt"), "the declined command must not run")

	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1, "one decision recorded")
	assert.Equal(t, "decline", recs[0]["decision"])
	assert.Contains(t, string(mustJSON(t, recs[0])), "git push origin main")
	assert.NotZero(t, len(m.Requests()), "the model was asked")
}

// Under "never" codex asks nothing, so a loaded policy would be
// bypassed: run refuses before the model gets any request, whether
// "never" comes from the flag or from codex's own configuration.
func TestRunRefusesNeverWithPolicy(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"flag", []string{"--approval-policy", "never"}},
		{"-c override", []string{"-c", `approval_policy="never"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("hi")))
			args := append([]string{"run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", rules}, tc.args...)
			r := runCmd(t, append(args, "hi")...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, `codex's approval policy is "never"`)
			assert.Contains(t, r.stderr, "--allow-unasked-policy")
			assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
			assert.Len(t, m.Requests(), 0, "the model got no request")
		})
	}

	t.Run("allowed with a warning", func(t *testing.T) {
		m, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("hi")))
		r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", rules,
			"--approval-policy", "never", "--allow-unasked-policy", "hi")
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, `warning: codex's approval policy is "never"`)
		assert.NotZero(t, len(m.Requests()))
	})
}

// Other settings of codex's than "never" also keep the policy from being
// asked: codex's own approvals reviewer, and an approval policy that asks
// only about escalations with no sandbox to escalate from. run refuses
// them before the model gets any request, wherever they are set, and
// names the setting; --allow-unasked-policy makes it a warning.
func TestRunRefusesUnaskedSettings(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"auto_review", []string{"-c", `approvals_reviewer="auto_review"`}, `codex's approvals reviewer is "auto_review"`},
		// codex 0.169.0 reports guardian_subagent as auto_review.
		{"guardian_subagent", []string{"-c", `approvals_reviewer="guardian_subagent"`, "--approval-policy", "untrusted"}, `codex's approvals reviewer is "auto_review"`},
		{"full access, on-request", []string{"--sandbox", "danger-full-access", "--approval-policy", "on-request"}, `codex's approval policy is "on-request" with the sandbox "danger-full-access"`},
		{"full access, granular", []string{"-c", `sandbox_mode="danger-full-access"`, "-c", `approval_policy={granular={sandbox_approval=true,rules=true,mcp_elicitations=true}}`}, `codex's approval policy is "granular" with the sandbox "danger-full-access"`},
		{"writable root /", []string{"--sandbox", "workspace-write", "--approval-policy", "on-request", "-c", `sandbox_workspace_write.writable_roots=["/"]`},
			`codex's approval policy is "on-request" with the sandbox "workspace-write" with the writable root "/"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("hi")))
			args := append([]string{"run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", rules}, tc.args...)
			r := runCmd(t, append(args, "hi")...)
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, tc.want)
			assert.Contains(t, r.stderr, "--allow-unasked-policy")
			// codex may warn of its own (a missing bubblewrap).
			assert.Equal(t, 1, strings.Count(r.stderr, "codexhost:"), "one line of codexhost's: %q", r.stderr)
			assert.Len(t, m.Requests(), 0, "the model got no request")
		})
	}

	t.Run("the user reviews", func(t *testing.T) {
		t.Parallel()
		m, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("hi")))
		dropApprovalPolicy(t, home) // codexhost's default, untrusted, applies
		r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", rules,
			"-c", `approvals_reviewer="user"`, "--sandbox", "danger-full-access", "hi")
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.NotZero(t, len(m.Requests()))
	})
	t.Run("allowed with a warning", func(t *testing.T) {
		t.Parallel()
		m, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("hi")))
		r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", rules,
			"-c", `approvals_reviewer="auto_review"`, "--allow-unasked-policy", "hi")
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stderr, `warning: codex's approvals reviewer is "auto_review"`)
		assert.NotZero(t, len(m.Requests()))
	})
}

// A granular approval policy (approval_policy's object form, from codex's
// config) asks about escalations only, like on-request: run says so, and
// the in-sandbox command the agent runs is not asked about.
func TestRunNotesGranularPolicy(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "echo hi > f.txt"}), hosttest.Text("done")))
	dropApprovalPolicy(t, home)
	work := t.TempDir()
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--sandbox", "workspace-write", "--cwd", work, "--policy", rules, "--audit", auditFile,
		"-c", `approval_policy={granular={sandbox_approval=true,rules=true,mcp_elicitations=true}}`, "go")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, `codexhost: note: codex's approval policy is "granular"`)
	assert.Contains(t, r.stderr, "commands inside the sandbox run unasked")
	assert.FileExists(t, filepath.Join(work, "f.txt"), "what the note says: the command ran unasked")
}

// Without a login, run stops at once with exit 4 and one line saying what
// to do, instead of letting codex retry an unreachable model.
func TestRunWithoutLoginExits4(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	home := t.TempDir() // no auth.json, the default provider (OpenAI) needs a login
	require.NoError(t, os.WriteFile(filepath.Join(home, "config.toml"), []byte("check_for_update_on_startup = false\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	r := runCtx(ctx, t, "",
		"run", "--codex-home", home, "--cwd", t.TempDir(), "hi")
	assert.Equal(t, exitConn, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codex is not logged in")
	assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
	assert.NoError(t, ctx.Err(), "ended within 10s (took %s)", time.Since(start))
}

func readAudit(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		out = append(out, m)
	}
	require.NoError(t, sc.Err())
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// dropApprovalPolicy removes approval_policy from the config.toml that
// hosttest wrote, as in a CODEX_HOME where the user never chose one.
func dropApprovalPolicy(t *testing.T, home string) {
	t.Helper()
	path := filepath.Join(home, "config.toml")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "approval_policy") {
			kept = append(kept, line)
		}
	}
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(kept, "\n")), 0o644))
}

// What the docs promise of the default: under "untrusted" the pinned codex
// asks the policy about every command, read-only ones included, and about
// every patch, even in a workspace-write sandbox.
func TestRunUntrustedAsksEverything(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, `
[[rule]]
name = "commands"
decision = "decline"
message = "asked"
[rule.match]
hook_kind = "command"

[[rule]]
name = "patches"
decision = "decline"
message = "asked"
[rule.match]
hook_kind = "fileChange"
`)
	steps := map[string]hosttest.Reply{
		"ls":         hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "ls"}),
		"echo":       hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "echo hi"}),
		"git status": hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "git status"}),
		"a redirect": hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "echo hi > f.txt"}),
		"a new file": hosttest.ApplyPatch(hosttest.AddFilePatch("a.txt", "x\n")),
	}
	for name, step := range steps {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, home := fakeCodexHome(t, hosttest.Turn(step, hosttest.Text("done")))
			dropApprovalPolicy(t, home)
			work := t.TempDir()
			auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
			r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write",
				"--policy", rules, "--audit", auditFile, "go")
			assert.Equal(t, exitDeclined, r.code, r.stderr)
			recs := readAudit(t, auditFile)
			require.Len(t, recs, 1, "the policy was asked once")
			assert.Equal(t, "decline", recs[0]["decision"])
			assert.NoFileExists(t, filepath.Join(work, "f.txt"))
			assert.NoFileExists(t, filepath.Join(work, "a.txt"))
		})
	}
}

// A thread that is neither an id nor a thread's name, and an id codex
// does not have, are usage errors (exit 2), not connection failures.
func TestRunBadThreadID(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("ok")))
	r := runCmd(t, "run", "--codex-home", home, "--thread", "not-a-uuid", "x")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--thread not-a-uuid: no thread has that id or name in this CODEX_HOME")
	assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
	r = runCmd(t, "run", "--codex-home", home, "--thread", "01a253d0-9026-7932-bc76-849dafd74a2b", "x")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--thread 01a253d0-9026-7932-bc76-849dafd74a2b: ")
	assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
}
