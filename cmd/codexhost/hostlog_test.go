package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCodex writes an executable that stands for codex: the test binary
// playing host/hosttest's fake app-server in scenario, with env (NAME=VALUE
// pairs) set. It returns its path, for --codex.
func fakeCodex(t *testing.T, scenario string, env ...string) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, kv := range append([]string{envFakeAppServer + "=" + scenario}, env...) {
		b.WriteString("export " + shellQuote(kv) + "\n")
	}
	b.WriteString("exec " + shellQuote(exe) + "\n")
	path := filepath.Join(t.TempDir(), "codex")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o755))
	return path
}

// TestRunShowsHostWarnings: the host's own warnings reach run's stderr,
// one line each (before, run gave the host no logger and they were lost:
// here, that the codex version could not be read, so its compatibility is
// unchecked); codex's configuration warning, which is an event too, is
// printed once, as codex exec prints it, not a second time as a log line.
func TestRunShowsHostWarnings(t *testing.T) {
	codex := fakeCodex(t, "basic", "FAKE_INIT_NOTICE=1")
	r := runCmd(t, "run", "--codex", codex, "--skip-git-repo-check", "--ephemeral", "hi")
	assert.Contains(t, r.stderr, "codexhost: cannot read the codex version from app-server's user agent; its compatibility is unchecked (userAgent=fake/0 codex=")
	assert.Equal(t, 1, strings.Count(r.stderr, "fake notice"), "the configuration warning, once")
	assert.Contains(t, r.stderr, "codex warning: fake notice\n")
}
