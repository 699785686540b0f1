package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A run that starts without a policy or plugin (a configuration of
// render = "exec" alone) makes none of the checks a policy needs: no
// untrusted approval policy asked for, codex's approval policy, reviewer,
// permission hooks, exec-policy allow rules and the project's MCP servers
// not checked. A reload that adds a policy is refused, rather than
// reported as applied while codex may never ask it: the set stays empty,
// and a restart applies it.
func TestReloadDoesNotGuardAnUnguardedRun(t *testing.T) {
	t.Parallel()
	script, secondAsked, open := gatedTurn("echo one > one.txt", "echo two > two.txt")
	_, home := fakeCodexHome(t, script)
	dir := t.TempDir()
	writeFile(t, dir, "rules.toml", echoRulesFile("decline", "echo is forbidden"))
	base := `render = "none"
[reload]
interval = "50ms"
`
	cfg := writeFile(t, dir, "codexhost.toml", base)
	work := t.TempDir()
	a := startRun(t, "run", "--config-file", cfg, "--codex-home", home, "--cwd", work, "write two files")

	a.waitFor(t, secondAsked)
	require.NoError(t, os.WriteFile(cfg, []byte(`policy = "rules.toml"`+"\n"+base), 0o644))
	m := a.waitStderr(t, `codexhost: (reloaded|reload of) \S+ \(file changed\)(.*)\n`)
	assert.Equal(t, "reload of", m[1], "the reload is refused: %s", m[0])
	assert.Contains(t, m[2], "failed; still using plugin set 1")
	assert.Contains(t, m[2], "restart")
	close(open)
	// Without a plugin every request codex asks about is declined (the
	// fallback), the second echo too: the refused set was not applied.
	assert.Equal(t, exitDeclined, a.wait(t), a.stderr.String())
	assert.NotContains(t, a.stderr.String(), "echo is forbidden")
	assert.NoFileExists(t, filepath.Join(work, "two.txt"))
}
