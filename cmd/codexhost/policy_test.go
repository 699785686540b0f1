package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

const testRules = `
[[rule]]
name = "no-rm"
decision = "decline"
message = "removing files is not allowed"
[rule.match]
program = ["rm"]

[[rule]]
name = "echo"
decision = "accept"
allow_redirects = true
[rule.match]
program = ["echo"]
`

func writeRules(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rules.toml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// --policy decides with a rules file on the real codex: an echo chained
// with an rm is declined (exit 3) and nothing of it runs; an echo alone is
// accepted.
func TestRunRulesPolicy(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, testRules)
	_, home := fakeCodexHome(t, hosttest.Turns(
		hosttest.Turn(hosttest.ExecCommand("echo x > chained.txt && rm victim.txt"), hosttest.Text("tried")),
	))
	work := t.TempDir()
	victim := filepath.Join(work, "victim.txt")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))

	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "remove the victim")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.Contains(t, r.stderr, "rule no-rm: removing files is not allowed")
	assert.FileExists(t, victim)
	assert.NoFileExists(t, filepath.Join(work, "chained.txt"))

	_, home = fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("echo hello > echoed.txt"), hosttest.Text("echoed")))
	r = runCmd(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "write a file")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(work, "echoed.txt"))
}

func TestRunRulesPolicyBadInput(t *testing.T) {
	t.Parallel()
	bad := writeRules(t, "[[rule]]\nname = \"x\"\ndecision = \"allow\"\n\n[[rule]]\ndecision = \"decline\"\n")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing file", []string{"run", "--policy", "/no/such/rules.toml", "hi"}, []string{"--policy /no/such/rules.toml: no such file"}},
		{"invalid rules", []string{"run", "--policy", bad, "hi"}, []string{bad + ":3", `unknown decision "allow"`, "more problems"}},
		{"not TOML", []string{"run", "--policy", writeRules(t, "[[rule]\n"), "hi"}, []string{"TOML"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.args...)
			assert.Equal(t, exitUsage, r.code)
			for _, s := range tc.want {
				assert.Contains(t, r.stderr, s)
			}
			assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
			assert.Empty(t, r.stdout)
		})
	}
}

// countLines counts the lines of codexhost's own output in s: codex's
// notices ("codex warning: …", e.g. no bubblewrap on this machine) are
// codex's, not codexhost's, and are left out.
func countLines(s string) int {
	n := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		if !strings.HasSuffix(line, "\n") || strings.HasPrefix(line, "codex warning: ") || strings.HasPrefix(line, "codex deprecated: ") {
			continue
		}
		n++
	}
	return n
}
