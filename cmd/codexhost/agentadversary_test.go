package main

// The agent (the model) as the adversary, against the real codex: what
// the policy, the operator and the audit log are shown about a request,
// against what codex then does (adversarial review, session 21).

import (
	"os"
	"path/filepath"
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
