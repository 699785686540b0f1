package cases_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/cases"
	"github.com/codexhost/codexhost/plugins/load"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

const passingTOML = `
[[case]]
name = "accepts ls"
[case.approval]
kind = "command"
command = "ls"
[case.expect]
decision = "accept"
reason = "approve-all"

[[case]]
name = "the host sends codex the accept"
[case.codex]
method = "item/commandExecution/requestApproval"
params = '{"threadId":"t","turnId":"u","itemId":"i","command":"ls","cwd":"/"}'
[case.expect]
answer = '{"decision":"accept"}'
`

const casesTOML = passingTOML + `
[[case]]
name = "wrongly expects a decline"
[case.approval]
kind = "command"
command = "rm -rf /"
[case.expect]
decision = "decline"
`

func approveAll(t *testing.T) *load.Plugin {
	src, err := plugintest.GuestSource(plugintest.GuestApproveAll)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "approveall.wasm")
	require.NoError(t, os.WriteFile(path, plugintest.BuildGoGuest(t, src), 0o644))
	s := load.NewSet(nil)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	p, err := s.Load(t.Context(), path, nil)
	require.NoError(t, err)
	return p
}

func TestRunner(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cases.toml")
	require.NoError(t, os.WriteFile(file, []byte(casesTOML), 0o644))
	suite, err := cases.ReadFile(file)
	require.NoError(t, err)
	require.Len(t, suite.Cases(), 3)
	r, err := cases.NewRunner(approveAll(t), nil)
	require.NoError(t, err)

	got := map[string]cases.Result{}
	for _, c := range suite.Cases() {
		got[c.Name] = r.Run(t.Context(), c)
	}
	assert.Equal(t, cases.Pass, got["accepts ls"].Status, got["accepts ls"].Problems)
	assert.Equal(t, cases.Pass, got["the host sends codex the accept"].Status, got["the host sends codex the accept"].Problems)
	bad := got["wrongly expects a decline"]
	assert.Equal(t, cases.Fail, bad.Status)
	assert.Equal(t, []string{`decision: want "decline", got "accept"`}, bad.Problems)
	assert.Contains(t, bad.Answer, "plugin:  accept (approve-all)")
}

func TestReadFileErrors(t *testing.T) {
	_, err := cases.ReadFile(filepath.Join(t.TempDir(), "missing.toml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	file := filepath.Join(t.TempDir(), "typo.toml")
	require.NoError(t, os.WriteFile(file, []byte("[[case]]\nname = \"x\"\n[case.approval]\nkind = \"command\"\n[case.expect]\ndecison = \"accept\"\n"), 0o644))
	_, err = cases.ReadFile(file)
	require.ErrorContains(t, err, "unknown key case.expect.decison")
}

// The same file, from go test.
func TestRunCasesFromGoTest(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cases.toml")
	require.NoError(t, os.WriteFile(file, []byte(passingTOML), 0o644))
	plugintest.RunCases(t, approveAll(t), file)
}
