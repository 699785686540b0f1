package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --json promises JSON lines on stdout, so run refuses a render plugin
// with it (TestRunJSONRefusesARenderPlugin). A reload is held to the same
// promise: a configuration edited, during the turn, to add a render
// plugin is not applied (the plugin's text would come between the JSON
// lines, where it can pass for codex's events or a decision line), the
// set in use stays, and stdout stays JSON lines.
func TestRunJSONReloadRefusesARenderPlugin(t *testing.T) {
	t.Parallel()
	renderer := guestFile(t, "../../examples/renderer")
	script, secondAsked, open := gatedTurn("echo one > one.txt", "echo two > two.txt")
	_, home := fakeCodexHome(t, script)
	dir := t.TempDir()
	writeFile(t, dir, "rules.toml", echoRulesFile("accept", "echo is fine"))
	base := `policy = "rules.toml"
[reload]
interval = "50ms"
`
	cfg := writeFile(t, dir, "codexhost.toml", base)
	work := t.TempDir()
	a := startRun(t, "run", "--json", "--config-file", cfg, "--codex-home", home, "--cwd", work, "write two files")

	a.waitFor(t, secondAsked)
	require.NoError(t, os.WriteFile(cfg, []byte(base+fmt.Sprintf("[[plugin]]\nname = \"renderer\"\npath = %q\n", renderer)), 0o644))
	m := a.waitStderr(t, `codexhost: (reloaded|reload of) \S+ \(file changed\)(.*)\n`)
	assert.Equal(t, "reload of", m[1], "the reload is refused: %s", m[0])
	assert.Contains(t, m[2], "failed; still using plugin set 1")
	assert.Contains(t, m[2], "drop --json or the plugin")
	close(open)

	assert.Equal(t, exitOK, a.wait(t), a.stderr.String())
	assert.FileExists(t, filepath.Join(work, "two.txt"))
	out := strings.TrimSpace(a.stdout.String())
	require.NotEmpty(t, out)
	for _, line := range strings.Split(out, "\n") {
		assert.True(t, json.Valid([]byte(line)), "stdout holds a line that is not JSON: %q", line)
	}
}
