package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
)

// scriptCodex writes a codex whose --version prints out.
func scriptCodex(t *testing.T, out string) string {
	bin := filepath.Join(t.TempDir(), "codex")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\necho '"+out+"'\n"), 0o755))
	return bin
}

func TestVersionReportsTheCodexGiven(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		printed, want, status string
		code                  int
	}{
		{"codex-cli 0.171.0", "0.171.0", "supported", exitOK},
		{"codex-cli 0.169.0", "0.169.0", "supported", exitOK},
		{"codex-cli 0.172.3", "0.172.3", "newer than tested", exitOK},
		{"codex-cli 0.168.0", "0.168.0", "too old", exitConn},
	} {
		bin := scriptCodex(t, tc.printed)
		r := runCmd(t, "version", "--codex", bin)
		assert.Equal(t, tc.code, r.code, tc.printed)
		assert.Contains(t, r.stdout, "codex     "+tc.want+" ("+tc.status+")\n          binary: "+bin+"\n", tc.printed)
		if tc.code == exitConn {
			assert.Contains(t, r.stderr, "older than "+host.MinCodexVersion)
		}
	}
	r := runCmd(t, "version", "--codex", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, exitConn, r.code)
	assert.Contains(t, r.stderr, "--codex")
	assert.NotContains(t, r.stdout, "          binary: ", "no binary to name")

	// A relative --codex is named by its absolute path, in text and JSON.
	bin := scriptCodex(t, "codex-cli 0.171.0")
	wd, err := os.Getwd()
	require.NoError(t, err)
	rel, err := filepath.Rel(wd, bin)
	require.NoError(t, err)
	r = runCmd(t, "version", "--codex", rel)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "          binary: "+bin+"\n")
	r = runCmd(t, "version", "--json", "--codex", rel)
	require.Equal(t, exitOK, r.code, r.stderr)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v))
	assert.Equal(t, bin, v["codexPath"])
	assert.Equal(t, "0.171.0", v["codex"])
}

// The newest tested codex, when its install is there (`make codex
// CODEX_VERSION=0.171.0`; `make test-codex-newest` does it).
func TestVersionReportsNewestInstalledCodex(t *testing.T) {
	t.Parallel()
	bins, _ := filepath.Glob(filepath.Join("..", "..", "tools", "codex-"+host.NewestTestedCodexVersion,
		"node_modules", "@openai", "codex-"+runtime.GOOS+"-*", "vendor", "*", "bin", "codex"))
	if len(bins) == 0 {
		t.Skip("codex " + host.NewestTestedCodexVersion + " is not installed (make codex CODEX_VERSION=" + host.NewestTestedCodexVersion + ")")
	}
	r := runCmd(t, "version", "--codex", bins[0])
	require.Equal(t, exitOK, r.code, r.stderr)
	abs, err := filepath.Abs(bins[0])
	require.NoError(t, err)
	assert.Contains(t, r.stdout, "codex     "+host.NewestTestedCodexVersion+" (supported)\n          binary: "+abs+"\n")
}

// oldAppServer is a codex app-server that reports version 0.150.0 at
// initialize.
const oldAppServer = `#!/bin/sh
read -r line
id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
printf '{"id":%s,"result":{"userAgent":"codexhost/0.150.0 (x)","codexHome":"/fake","platformFamily":"unix","platformOs":"linux"}}\n' "$id"
while read -r line; do :; done
`

func TestRunRefusesCodexTooOld(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "codex")
	require.NoError(t, os.WriteFile(bin, []byte(oldAppServer), 0o755))
	r := runCmd(t, "run", "--codex", bin, "hello")
	assert.Equal(t, exitConn, r.code)
	assert.Contains(t, r.stderr, "codex 0.150.0; codexhost needs codex "+host.MinCodexVersion+" or newer")
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line: %q", r.stderr)
}
