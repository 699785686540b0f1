package main

// The agent as the adversary, against the real codex (session 22):
// patches whose paths the policy reads inside the workspace.

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// srcEditRules accept every file change under src/.
const srcEditRules = `
[[rule]]
name = "src-edits"
decision = "accept"
message = "edits under src"
[rule.match]
hook_kind = "fileChange"
paths = ["src/**"]
`

// A patch's path may go through a symbolic link in the workspace (one
// the repository has, or one an earlier command made): the policy is
// shown a path under src/, and codex writes what the link names. Under
// the read-only sandbox codex applies an accepted patch outside the
// sandbox, so "add src/vendor/pwned", accepted by a rule for src/**,
// wrote a file outside the workspace. The host refuses such an accept,
// as it refuses a permissions grant through a link: the request is
// declined and the decline recorded.
func TestPatchThroughSymlinkIsRefused(t *testing.T) {
	t.Parallel()
	out := outsideDir(t)
	work := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(work, "src"), 0o755))
	require.NoError(t, os.Symlink(out, filepath.Join(work, "src", "vendor")))
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ApplyPatch(hosttest.AddFilePatch("src/vendor/pwned", "x\n")),
		hosttest.Text("done")))
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "untrusted",
		"--sandbox", "read-only", "--policy", writeRules(t, srcEditRules), "--audit", auditFile, "--no-progress", "go")
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1, "the policy was asked once, about the patch")
	assert.Equal(t, "decline", recs[0]["decision"], "the host declines the rule's accept: %v", recs[0])
	assert.Contains(t, r.stderr, "symbolic link")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.NoFileExists(t, filepath.Join(out, "pwned"),
		"a patch the policy saw under src/ wrote outside the workspace")
}

// A workspace reached through a symbolic link (--cwd a link the user
// chose) is not a link the agent made: its patches are decided as
// usual.
func TestPatchInALinkedWorkspaceIsDecided(t *testing.T) {
	t.Parallel()
	real := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(real, "src"), 0o755))
	work := filepath.Join(t.TempDir(), "ws")
	require.NoError(t, os.Symlink(real, work))
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ApplyPatch(hosttest.AddFilePatch("src/a.txt", "x\n")),
		hosttest.Text("done")))
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "untrusted",
		"--sandbox", "read-only", "--policy", writeRules(t, srcEditRules), "--audit", auditFile, "--no-progress", "go")
	require.Equal(t, exitOK, r.code, r.stderr)
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1)
	assert.Equal(t, "accept", recs[0]["decision"], "%v", recs[0])
	assert.FileExists(t, filepath.Join(real, "src", "a.txt"))
}

// A command's cwd (exec_command's workdir) is the agent's to choose, not
// the user's: a grant of write access to "." in a workdir that is a link
// the agent made (src/vendor, to a directory outside) goes through the
// link, however the path is spelt, and is refused like any other.
func TestCommandPermissionsInALinkedWorkdirAreRefused(t *testing.T) {
	t.Parallel()
	out := outsideDir(t)
	work := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(work, "src"), 0o755))
	require.NoError(t, os.Symlink(out, filepath.Join(work, "src", "vendor")))
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.FunctionCall("exec_command", map[string]any{"cmd": "touch pwned", "login": false, "workdir": "src/vendor",
			"sandbox_permissions": "with_additional_permissions", "justification": "vendor a dependency",
			"additional_permissions": map[string]any{"file_system": map[string]any{"write": []string{"."}}}}),
		hosttest.Text("done")))
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "on-request",
		"--enable", "exec_permission_approvals", "--sandbox", "workspace-write", "--fallback", "accept",
		"--policy", writeRules(t, noRmRules), "--audit", auditFile, "--no-progress", "go")
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1, "the policy was asked once, about the command")
	assert.Equal(t, "decline", recs[0]["decision"], "the host declines the fallback's accept: %v", recs[0])
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.NoFileExists(t, filepath.Join(out, "pwned"))
}
