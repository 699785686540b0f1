package main

// The agent (the model) as the adversary, against the real codex: what
// the policy, the operator and the audit log are shown about a request,
// against what codex then does (adversarial review, session 21).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// A patch that moves a file ("*** Move to:") writes the move target: the
// rule policy matches it, but the summary that the operator is asked
// about (a rule's "ask"), the decline line on stderr and the audit
// record showed only the source path, "update:src/a.txt", for a patch
// that moves the file out of the workspace. An operator accepting
// "update:…/src/a.txt" let the agent move it anywhere.
func TestMovedFileChangeShowsItsTarget(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "a.txt"), []byte("old\n"), 0o644))
	target := filepath.Join(t.TempDir(), "moved-out.txt")
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ApplyPatch("*** Begin Patch\n*** Update File: a.txt\n*** Move to: "+target+"\n@@\n-old\n+new\n*** End Patch"),
		hosttest.Text("done")))
	rules := writeRules(t, `
[[rule]]
name = "edits"
decision = "decline"
message = "no edits"
[rule.match]
hook_kind = "fileChange"
`)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write",
		"--approval-policy", "untrusted", "--policy", rules, "--audit", auditFile, "--no-progress", "go")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1)
	assert.Contains(t, recs[0]["summary"], target, "the audit record says where the file goes")
	assert.Contains(t, r.stderr, "-> "+target, "the decline line says where the file would have gone")
	assert.NoFileExists(t, target)
}

// The agent's command line and file paths are its own text, shown by
// --render exec as what ran: colours (SGR) kept there let the agent hide
// part of the line (black on black, or its own colour on the terminal's
// background) from the operator watching the run, e.g. a command that
// codex runs unasked in the sandbox under on-request. They are shown
// escaped, as the decline line on stderr shows them; the command's output
// keeps its colours (ls --color).
func TestRenderedCommandAndPathsCannotHideText(t *testing.T) {
	t.Parallel()
	const hide = "\x1b[30;40m"
	work := t.TempDir()
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "echo hi " + hide + "; echo hidden-part"}),
		hosttest.ApplyPatch(hosttest.AddFilePatch("a"+hide+"hidden-name.txt", "x\n")),
		hosttest.Text("done")))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write",
		"--approval-policy", "on-request", "--render", "exec", "--color", "always", "--no-progress", "go")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout, hide, "the agent's colours reach the terminal")
	assert.Contains(t, r.stdout, `echo hi \x1b[30;40m; echo hidden-part`, "the command is shown escaped")
	assert.Contains(t, r.stdout, `a\x1b[30;40mhidden-name.txt`, "the path is shown escaped")
}

// A command may ask for additional sandbox permissions (exec_command with
// sandbox_permissions "with_additional_permissions"), and an accept of
// the command grants them. The agent makes a symbolic link in the
// workspace to a directory outside it (unasked under on-request), then
// asks to run a command with write access to the link: the decision (here
// the fallback; as well an operator asked by a rule, or any plugin) is
// shown a path inside the workspace, and codex granted what the link
// names. The host refused such a grant for a permissions request only; it
// now refuses it for a command's additional permissions too.
func TestCommandPermissionsThroughSymlinkAreRefused(t *testing.T) {
	t.Parallel()
	out := outsideDir(t)
	work := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(work, "src"), 0o755))
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.FunctionCall("exec_command", map[string]any{"cmd": "ln -s " + out + " src/vendor", "login": false}),
		hosttest.FunctionCall("exec_command", map[string]any{"cmd": "touch src/vendor/pwned", "login": false,
			"sandbox_permissions": "with_additional_permissions", "justification": "vendor a dependency",
			"additional_permissions": map[string]any{"file_system": map[string]any{"write": []string{filepath.Join(work, "src", "vendor")}}}}),
		hosttest.Text("done")))
	rules := writeRules(t, noRmRules)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "on-request",
		"--enable", "exec_permission_approvals", "--sandbox", "workspace-write", "--fallback", "accept",
		"--policy", rules, "--audit", auditFile, "go")
	link, err := os.Readlink(filepath.Join(work, "src", "vendor"))
	require.NoError(t, err, "the agent made the link, unasked")
	require.Equal(t, out, link)
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1, "the policy was asked once, about the command")
	assert.Equal(t, "decline", recs[0]["decision"], "the host declines the fallback's accept: %v", recs[0])
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.NoFileExists(t, filepath.Join(out, "pwned"),
		"a grant the decision saw inside the workspace (src/vendor) let the command write outside it")
}

// A command's approval may carry additional sandbox permissions and a
// network host, which an accept grants with it: the audit record's
// summary (and the decline line) showed the command alone, so the record
// of an accepted "touch x" did not say that it came with write access
// outside the workspace.
func TestCommandSummaryShowsWhatItAsksBesidesTheCommand(t *testing.T) {
	t.Parallel()
	out := outsideDir(t)
	work := t.TempDir()
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.FunctionCall("exec_command", map[string]any{"cmd": "touch " + out + "/x", "login": false,
			"sandbox_permissions": "with_additional_permissions", "justification": "write it",
			"additional_permissions": map[string]any{"file_system": map[string]any{"write": []string{out}}}}),
		hosttest.Text("done")))
	rules := writeRules(t, noRmRules)
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "on-request",
		"--enable", "exec_permission_approvals", "--sandbox", "workspace-write",
		"--policy", rules, "--audit", auditFile, "go")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	recs := readAudit(t, auditFile)
	require.Len(t, recs, 1)
	assert.Contains(t, recs[0]["summary"], "touch "+out+"/x")
	assert.Contains(t, recs[0]["summary"], `"writePaths":["`+out+`"]`, "the record says what else an accept grants")
	assert.NoFileExists(t, filepath.Join(out, "x"))
}

// The agent chooses the call ids, which codex makes the item ids that a
// file-change approval names. Two exec_command calls with the same call id
// that each run apply_patch run in parallel: both items start, then both
// approvals arrive, and the host showed each approval the changes of the
// item that started last. When that was the harmless one, the policy
// accepted "add src/ok.txt" and codex wrote secrets/bad.txt (seen in 1
// run of 8). Such approvals are now shown no changes and declined.
// (Whether codex starts both items before the first approval varies: a
// run in which it does not decides each patch on its own changes.)
//
// What this cannot show: codex 0.169 routes an approval's answer to the
// item registered last under its call id, so when the second item starts
// after the first approval was answered (accept, shown the harmless
// patch) but before codex read that answer, codex applies the accept to
// the second patch. The host sees the second item only after it has
// answered; seen in 1 of 36 runs under load. That residual race is
// codex's (RATIONALE.md, "Two calls with one id"); the test asserts what
// codexhost guarantees: the policy never accepts the bad patch as shown,
// and an ambiguous approval is declined and recorded.
func TestSameCallIDPatchesAreNotConfused(t *testing.T) {
	t.Parallel()
	patch := func(path string) hosttest.Reply {
		return hosttest.ExecCommandArgs(hosttest.ExecArgs{
			Cmd: "apply_patch <<'EOF'\n" + hosttest.AddFilePatch(path, "x\n") + "\nEOF\n"}).WithCallID("same")
	}
	for i := range 6 {
		first, second := "secrets/bad.txt", "src/ok.txt"
		if i%2 == 1 {
			first, second = second, first
		}
		work := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(work, "src"), 0o755))
		_, home := fakeCodexHome(t, hosttest.Turn(patch(first).And(patch(second)), hosttest.Text("done")))
		auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
		r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--approval-policy", "untrusted",
			"--sandbox", "workspace-write", "--policy", "../../plugins/rules/testdata/example.toml",
			"--audit", auditFile, "go")
		// Exit 3 when the two items were in flight together: the
		// ambiguous approval is declined by the host, without asking the
		// policy, and recorded as unreadable; exit 0 or 3 otherwise, as
		// the policy decides (codex's timing chooses).
		require.Contains(t, []int{exitOK, exitDeclined}, r.code, r.stderr)
		if _, err := os.Stat(auditFile); err == nil {
			for _, rec := range readAudit(t, auditFile) {
				if rec["decision"] == "accept" {
					assert.NotContains(t, rec["summary"], "secrets", "run %d: %v", i, rec)
				}
				if why, _ := rec["why"].(string); strings.HasPrefix(why, "fallback: unreadable request") {
					assert.Equal(t, "decline", rec["decision"], "run %d: %v", i, rec)
					assert.Equal(t, exitDeclined, r.code, "run %d: a recorded decline ends the run with exit 3", i)
					assert.Contains(t, r.stderr, "unreadable request", "run %d", i)
				}
			}
		}
		if _, err := os.Stat(filepath.Join(work, "secrets", "bad.txt")); err == nil {
			// Only through codex's routing by call id (above): then the
			// second approval was seen as ambiguous, and declined.
			t.Logf("run %d: codex applied an accept given for the other call of the same id (codex's residual race)", i)
			assert.Equal(t, exitDeclined, r.code, "run %d: the second approval was declined as ambiguous", i)
		}
	}
}

// noRmRules decline rm and leave every other command to the fallback.
const noRmRules = `
[[rule]]
name = "no-rm"
decision = "decline"
message = "no removing"
[rule.match]
program = ["rm"]
`
