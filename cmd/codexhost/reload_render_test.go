package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// A reload decides anew whether the built-in renderer renders: with the
// render setting left at its default, a render plugin replaces it, so a
// reload that removes the plugin gives the turn back to the built-in
// renderer (before, the built-in renderer was left out for good at the
// start, and after such a reload nothing rendered the rest of the turn),
// and a reload that adds one takes it away (before, every event was
// rendered twice).
func TestReloadRechoosesTheBuiltinRenderer(t *testing.T) {
	t.Parallel()
	renderer := guestFile(t, "../../examples/renderer")
	for _, tc := range []struct {
		name          string
		before, after string // the configurations' render plugins
	}{
		{"render plugin removed", fmt.Sprintf("[[plugin]]\nname = \"renderer\"\npath = %q\n", renderer), ""},
		{"render plugin added", "", fmt.Sprintf("[[plugin]]\nname = \"renderer\"\npath = %q\n", renderer)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script, secondAsked, open := gatedTurn("echo one > one.txt", "echo two > two.txt")
			_, home := fakeCodexHome(t, script)
			dir := t.TempDir()
			writeFile(t, dir, "rules.toml", echoRulesFile("accept", "echo is fine"))
			config := func(plugins string) string {
				return "policy = \"rules.toml\"\n" + plugins + "[reload]\ninterval = \"50ms\"\n"
			}
			cfg := writeFile(t, dir, "codexhost.toml", config(tc.before))
			work := t.TempDir()
			a := startRun(t, "run", "--config-file", cfg, "--codex-home", home, "--cwd", work, "write two files")
			a.waitFor(t, secondAsked)
			require.NoError(t, os.WriteFile(cfg, []byte(config(tc.after)), 0o644))
			a.waitStderr(t, `codexhost: reloaded \S+ \(file changed\): plugin set 2`)
			close(open)
			require.Equal(t, exitOK, a.wait(t), a.stderr.String())
			assert.FileExists(t, filepath.Join(work, "two.txt"))

			out := a.stdout.String()
			builtin := "$ /bin/bash -lc 'echo two > two.txt'\n"   // the built-in renderer's command line
			plugin := "$ /bin/bash -lc 'echo two > two.txt'\n  [" // the render plugin's, with its status
			if tc.after == "" {
				assert.Contains(t, out, builtin, "the built-in renderer renders after the plugin is gone")
				assert.NotContains(t, out, plugin)
			} else {
				assert.Contains(t, out, plugin, "the plugin renders after the reload")
				assert.NotContains(t, out, builtin+"exit", "the built-in renderer no longer renders")
			}
		})
	}
}

// A render plugin in monitor mode, whose output is discarded, does not
// replace the built-in renderer (before, it did: the turn was rendered by
// nothing, and the final message was not printed either).
func TestMonitorRendererKeepsTheBuiltinRenderer(t *testing.T) {
	t.Parallel()
	renderer := guestFile(t, "../../examples/renderer")
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("all done")))
	dir := t.TempDir()
	cfg := writeFile(t, dir, "codexhost.toml", fmt.Sprintf("[[plugin]]\nname = \"renderer\"\npath = %q\nmode = \"monitor\"\n", renderer))
	r := runCmd(t, "run", "--config-file", cfg, "--codex-home", home, "--cwd", t.TempDir(), "say it")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "all done\ntokens: ", "the built-in renderer rendered the turn")
	assert.NotContains(t, r.stdout, "── turn", "the monitor's output is discarded")
}
