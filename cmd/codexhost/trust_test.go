package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist/disttest"
)

// trust refresh reaches the network, which tests here do not have: these
// check its flags and that, offline, it fails and leaves FILE alone. The
// fetch itself is sigstore-go's TUF client; that it writes a trusted root
// the policy loads is not tested here (it needs the public-good TUF
// repository).
func TestTrustRefreshFlags(t *testing.T) {
	r := runCmd(t, "trust", "refresh", "extra")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `unexpected argument "extra"`)

	r = runCmd(t, "trust", "refresh", "--output", "x.json")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "unknown flag: --output")

	r = runCmd(t, "trust", "refresh", "--out", "")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--out is empty")
}

func TestTrustRefreshOfflineFails(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // no cached TUF metadata to fall back on
	out := filepath.Join(t.TempDir(), "trusted_root.json")
	require.NoError(t, os.WriteFile(out, []byte("previous"), 0o644))
	// A closed port on the loopback: the fetch fails at once.
	r := runCmd(t, "trust", "refresh", "--out", out, "--mirror", "http://127.0.0.1:1")
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "trust refresh: TUF repository http://127.0.0.1:1")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "previous", string(b), "FILE is left as it was")
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left")
}

// plugin verify of a local plugin signed keyless (cosign sign-blob
// --bundle, by sigstore-go's virtual Sigstore): it names the identity,
// the log's time and the entry's index; another subject is refused,
// naming the rule.
func TestVerifyKeylessLocalPlugin(t *testing.T) {
	sg := disttest.NewSigstore(t)
	plugin := policyPlugin(t)
	module, err := os.ReadFile(plugin)
	require.NoError(t, err)
	const (
		issuer  = "https://token.actions.githubusercontent.com"
		subject = "https://github.com/org/policies/.github/workflows/release.yml@refs/heads/main"
	)
	policy := filepath.Join(sg.Dir, "trust.toml")
	require.NoError(t, os.WriteFile(policy, []byte(`trusted-root = "trusted_root.json"
[identities.ci]
issuer = "`+issuer+`"
subject = "`+subject+`"
[[rule]]
name = "ci signs local plugins"
local = true
identities = ["ci"]
`), 0o644))

	require.NoError(t, os.WriteFile(plugin+".sig", sg.SignBlob(t, subject, issuer, module), 0o644))
	r := runCmd(t, "plugin", "verify", "--trust-policy", policy, plugin)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, `signed by keyless identity "ci": `+subject+` (issuer `+issuer+`) at `)
	assert.Contains(t, r.stdout, ", tlog index ")
	assert.Contains(t, r.stdout, `rule "ci signs local plugins"`)

	require.NoError(t, os.WriteFile(plugin+".sig", sg.SignBlob(t, subject+"-fork", issuer, module), 0o644))
	r = runCmd(t, "plugin", "verify", "--trust-policy", policy, plugin)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "signed keyless by "+subject+"-fork")
	assert.Contains(t, r.stderr, `rule "ci signs local plugins"`)
}
