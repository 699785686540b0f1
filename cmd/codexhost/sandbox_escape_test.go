package main

// What codex's sandbox bounds after an accept (docs/security.md, "What
// an accept lets run"), against the real codex: found by an adversarial
// review (round 7), where the docs said the sandbox still bounded every
// accepted command.

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// outsideDir is a directory outside the workspace and outside /tmp (which
// codex's workspace-write sandbox lets commands write): one that the
// sandbox makes read-only.
func outsideDir(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	dir, err := os.MkdirTemp(wd, ".codexhost-outside-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// docs/security.md, "What an accept lets run": the agent can ask codex
// to run a command outside the sandbox (exec_command with
// sandbox_permissions "require_escalated"), and codex sends the client
// the same approval request as for a sandboxed command (same command,
// reason, amendment and availableDecisions: nothing on the wire says so).
// An accept then runs it outside the sandbox. This test pins that codex
// behaviour, which the docs tell the user: if codex starts to say so on
// the wire, or to keep the sandbox, it fails, and the docs and the ABI
// change with it.
func TestAcceptOfAnEscalatedCommandLeavesTheSandbox(t *testing.T) {
	t.Parallel()
	target := filepath.Join(outsideDir(t), "written-outside-the-sandbox")
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch " + target,
			SandboxPermissions: "require_escalated", Justification: "touch a file"}),
		hosttest.Text("done")))
	dropApprovalPolicy(t, home) // codexhost's default: untrusted
	work := t.TempDir()
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write",
		"--policy", touchRules(t), "--audit", auditFile, "go")
	require.Equal(t, exitOK, r.code, r.stderr)
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1, "the policy was asked once")
	assert.Equal(t, "accept", recs[0]["decision"])
	assert.FileExists(t, target, "codex kept the escalated command in the sandbox: docs/security.md says it does not")
}

// touchRules accepts touch, and nothing else.
func touchRules(t *testing.T) string {
	return writeRules(t, `
[[rule]]
name = "touch"
decision = "accept"
message = "touching files in the sandbox is fine"
[rule.match]
program = ["touch"]
`)
}

// "codex receives nothing the winning decision did not grant": under
// on-request (sandboxed commands run unasked) the agent makes a symbolic
// link in the workspace to a directory outside it, then asks for write
// access to the link (request_permissions). The policy is shown a path
// inside the workspace, and a rule granting writes under src/** accepts
// it; codex would grant write access to what the link names, so the next
// sandboxed command would write outside the workspace. The host refuses
// to grant a path through a link in a directory the user may write (the
// answer is invalid, and the request is declined). Without the request
// the sandbox keeps the target read-only (the first subtest).
func TestPermissionGrantThroughSymlinkIsRefused(t *testing.T) {
	t.Parallel()
	for _, grant := range []bool{false, true} {
		name := map[bool]string{false: "without the grant", true: "with the grant"}[grant]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out := outsideDir(t)
			work := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(work, "src"), 0o755))
			steps := []hosttest.Reply{
				// Sandboxed, inside the workspace: runs unasked under on-request.
				hosttest.FunctionCall("exec_command", map[string]any{"cmd": "ln -s " + out + " src/vendor", "login": false}),
			}
			if grant {
				steps = append(steps, hosttest.FunctionCall("request_permissions", map[string]any{
					"permissions": map[string]any{"file_system": map[string]any{"write": []string{filepath.Join(work, "src", "vendor")}}},
					"reason":      "vendor a dependency"}))
			}
			steps = append(steps,
				hosttest.FunctionCall("exec_command", map[string]any{"cmd": "touch src/vendor/pwned; true", "login": false}),
				hosttest.Text("done"))
			_, home := fakeCodexHome(t, hosttest.Turn(steps...))
			rules := writeRules(t, `
[[rule]]
name = "src"
decision = "accept"
message = "writes under src/ are fine"
[rule.match]
hook_kind = "permissions"
permissions = { write_paths = ["src/**"] }
`)
			auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
			r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "on-request",
				"--enable", "request_permissions_tool", "--sandbox", "workspace-write",
				"--policy", rules, "--audit", auditFile, "go")
			want := exitOK
			if grant {
				want = exitDeclined // the host declined the grant
			}
			require.Equal(t, want, r.code, r.stderr)
			link, err := os.Readlink(filepath.Join(work, "src", "vendor"))
			require.NoError(t, err, "the agent made the link, unasked")
			require.Equal(t, out, link)
			if grant {
				recs := readAudit(t, auditFile)
				require.Len(t, recs, 1, "the policy was asked once, about the grant")
				assert.Equal(t, "decline", recs[0]["decision"], "the host declines the rule's accept: %v", recs[0])
				assert.Contains(t, fmt.Sprint(recs[0]), "symbolic link")
			}
			assert.NoFileExists(t, filepath.Join(out, "pwned"),
				"a grant the policy saw as inside the workspace (src/vendor) let a sandboxed command write outside it")
		})
	}
}
