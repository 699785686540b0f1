package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// lazyconfDir is testdata/lazyconf's granted directory.
const lazyconfDir = "/tmp/codexhost-test-lazyconf"

// A plugin that loaded before loads lazily, after codex has started. If it
// then no longer loads (here its granted file changed, which its record
// does not cover), the run declines what the agent asks, stops the turn
// and exits with the load's error, as for a plugin that does not load at
// start.
func TestRunLazyPluginThatNoLongerLoads(t *testing.T) {
	t.Parallel()
	// The granted directory is fixed (the guest's manifest names it); a
	// directory of this test's own inside it keeps concurrent test
	// processes apart.
	require.NoError(t, os.MkdirAll(lazyconfDir, 0o777))
	mine, err := os.MkdirTemp(lazyconfDir, "run-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(mine) })
	ok := filepath.Join(mine, "ok")
	require.NoError(t, os.WriteFile(ok, []byte("yes"), 0o644))
	dir := t.TempDir()
	guest := writeFile(t, dir, "lazyconf.wasm", string(plugintest.BuildGoGuest(t, "testdata/lazyconf")))
	cfg := writeFile(t, dir, "codexhost.toml", fmt.Sprintf(`[[plugin]]
path = %q
grants = { read_dirs = [%q] }
settings = { file = %q }
`, guest, lazyconfDir, filepath.Join(filepath.Base(mine), "ok")))
	script := hosttest.Turn(hosttest.ExecCommand("touch ran.txt"), hosttest.Text("done"))

	// Twice while it loads: the first run records it (if no earlier run
	// did), the second loads it lazily.
	for range 2 {
		_, home := fakeCodexHome(t, script)
		work := t.TempDir()
		r := runCmd(t, "run", "--config-file", cfg, "--approval-policy", "untrusted", "--codex-home", home, "--cwd", work, "touch it")
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.FileExists(t, filepath.Join(work, "ran.txt"), "the plugin accepted")
	}

	require.NoError(t, os.WriteFile(ok, []byte("no"), 0o644))
	_, home := fakeCodexHome(t, script)
	work := t.TempDir()
	r := runCmd(t, "run", "--config-file", cfg, "--approval-policy", "untrusted", "--codex-home", home, "--cwd", work, "touch it")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codexhost: plugin "+guest+": ")
	assert.Contains(t, r.stderr, "the granted file says no")
	// The approval came either before the load failed (the gate declined
	// it) or after (the turn had stopped): either way nothing ran.
	assert.NoFileExists(t, filepath.Join(work, "ran.txt"), "nothing the plugin never vouched for ran")
	assert.Contains(t, r.stderr, "continue it with codexhost run --thread", "the turn had started: the load was lazy")

	// The failed load removed the record: the next run loads at once and
	// refuses the plugin before codex starts.
	_, home = fakeCodexHome(t, script)
	r = runCmd(t, "run", "--config-file", cfg, "--approval-policy", "untrusted", "--codex-home", home, "--cwd", t.TempDir(), "touch it")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "the granted file says no")
	assert.NotContains(t, r.stderr, "continue it with", "refused at start")
}
