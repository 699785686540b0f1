package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// The audit log of a real run verifies; a changed byte, a removed record
// and a torn end do not, each reported at its line with exit 1.
func TestAuditVerify(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "git push origin main"}),
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "git push origin next"}),
		hosttest.Text("done")))
	dropApprovalPolicy(t, home) // codexhost's default: every command is asked about
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", rules, "--audit", auditFile, "push it")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	require.Len(t, readAudit(t, auditFile), 2)

	r = runCmd(t, "audit", "verify", auditFile)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^ok: 2 records, head sha256:[0-9a-f]{64}\n$`, r.stdout)
	assert.Empty(t, r.stderr)

	b, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	check := func(name string, content []byte, want string) {
		t.Helper()
		p := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(p, content, 0o600))
		r := runCmd(t, "audit", "verify", p)
		assert.Equal(t, exitTurnFailed, r.code, name)
		assert.Empty(t, r.stdout, name)
		assert.Contains(t, r.stderr, "codexhost: audit verify: "+p+want, name)
	}
	changed := bytes.Clone(b)
	i := bytes.Index(changed, []byte("origin next"))
	require.Positive(t, i)
	changed[i+7] = 'N' // next -> Next, in the second record
	check("changed.jsonl", changed, ":2: record 2 of the chain breaks it (hash): the record was changed")
	_, second, _ := bytes.Cut(b, []byte("\n"))
	check("removed.jsonl", second, ":1: record 1 of the chain breaks it (prev)")
	check("torn.jsonl", b[:len(b)-5], ":2: record 2 of the chain breaks it (form): the last line is torn")

	r = runCmd(t, "audit", "verify", filepath.Join(t.TempDir(), "missing.jsonl"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "no such file")
	r = runCmd(t, "audit", "verify")
	assert.Equal(t, exitUsage, r.code)
	assert.True(t, strings.HasSuffix(r.stderr, "codexhost: audit verify: want the audit log FILE (oldest first, for rotated files)\n"), r.stderr)
}
