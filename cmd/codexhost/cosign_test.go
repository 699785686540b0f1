package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
)

// A plugin signed with the real cosign CLI (with a key pair from `plugin
// keygen`) is pulled from the registry, admitted under a trust policy with
// a named any-of rule, and decides a real codex approval; one signed by a
// key the policy does not list is refused, naming the rule, before the
// model gets any request.
func TestRunCosignSignedPlugin(t *testing.T) {
	disttest.Cosign(t)
	e := newDistEnv(t)
	policy := policyPlugin(t)
	signed := e.push(t, policy, e.ref("policies/deny-rm:1.0.0"), "")
	stranger := e.push(t, policy, e.ref("policies/by-stranger:1.0.0"), "")
	cosignSign := func(key, pinned string) {
		args := append([]string{"sign", "--key", key}, disttest.CosignSignArgs...)
		_, err := disttest.RunCosign(t, "", append(args, strings.TrimPrefix(pinned, "oci://"))...)
		require.NoError(t, err)
	}
	cosignSign(e.keyA, signed)
	cosignSign(e.keyB, stranger)

	trust := filepath.Join(e.dir, "cosign-trust.toml")
	require.NoError(t, os.WriteFile(trust, []byte(`
[keys.release]
public-key-file = "a.pub"

[[rule]]
name = "release signs policies"
repositories = ["127.0.0.1:*/policies/*"]
any-of = { keys = ["release"], minimum = 1 }
`), 0o644))

	r := runCmd(t, "plugin", "verify", "--trust-policy", trust, "--plugin-cache", e.cache, signed)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, `signed by key "release"`)
	assert.Contains(t, r.stdout, `[sigstore-bundle], rule "release signs policies"`)

	model, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")))
	work := t.TempDir()
	victim := filepath.Join(work, "victim.txt")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	runArgs := func(plugin string) []string {
		return []string{"run", "--codex-home", home, "--cwd", work, "--plugin-cache", filepath.Join(e.dir, "run-cache"),
			"--trust-policy", trust, "--plugin", plugin, "remove the victim"}
	}

	r = runCmd(t, runArgs(stranger)...)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "does not list")
	assert.Contains(t, r.stderr, `rule "release signs policies"`)
	require.Empty(t, model.Requests(), "refused before any turn started")

	r = runCmd(t, runArgs(signed)...)
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "deny-rm: removing files is not allowed")
	require.NotEmpty(t, model.Requests(), "the admitted plugin ran in a real turn")
	_, err := os.Stat(victim)
	require.NoError(t, err, "the declined rm did not run")
}

// plugin keygen writes cosign's encrypted key pair with $COSIGN_PASSWORD;
// plugin sign needs the same password; --legacy writes the old ed25519
// pair, which signs the legacy format, accepted only under
// legacy-signatures = true.
func TestKeygenCosignPassword(t *testing.T) {
	dir := t.TempDir()
	plugin := policyPlugin(t)
	t.Setenv(envCosignPassword, "s3cret")
	r := runCmd(t, "plugin", "keygen", filepath.Join(dir, "k"))
	require.Equal(t, exitOK, r.code)
	kb, err := os.ReadFile(filepath.Join(dir, "k.key"))
	require.NoError(t, err)
	assert.Contains(t, string(kb), "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
	st, err := os.Stat(filepath.Join(dir, "k.key"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	r = runCmd(t, "plugin", "sign", "--key", filepath.Join(dir, "k.key"), plugin)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "Sigstore bundle "+plugin+".sig")

	t.Setenv(envCosignPassword, "wrong")
	r = runCmd(t, "plugin", "sign", "--key", filepath.Join(dir, "k.key"), plugin)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "the password in $COSIGN_PASSWORD does not open the key")
	t.Setenv(envCosignPassword, "")
	r = runCmd(t, "plugin", "sign", "--key", filepath.Join(dir, "k.key"), plugin)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "the key is encrypted: set $COSIGN_PASSWORD")

	r = runCmd(t, "plugin", "keygen", "--legacy", filepath.Join(dir, "l"))
	require.Equal(t, exitOK, r.code)
	lb, err := os.ReadFile(filepath.Join(dir, "l.key"))
	require.NoError(t, err)
	assert.Contains(t, string(lb), "-----BEGIN PRIVATE KEY-----")
	r = runCmd(t, "plugin", "sign", "--key", filepath.Join(dir, "l.key"), plugin)
	require.Equal(t, exitOK, r.code)
	policy := filepath.Join(dir, "trust.toml")
	assert.Contains(t, r.stdout, "legacy ed25519 signature")
	policyText := "[keys.l]\npublic-key-file = \"l.pub\"\n[[rule]]\nlocal = true\nkeys = [\"l\"]\n"
	require.NoError(t, os.WriteFile(policy, []byte(policyText), 0o644))
	r = runCmd(t, "plugin", "verify", "--trust-policy", policy, plugin)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "legacy-signatures = false")
	require.NoError(t, os.WriteFile(policy, []byte("legacy-signatures = true\n"+policyText), 0o644))
	r = runCmd(t, "plugin", "verify", "--trust-policy", policy, plugin)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, `signed by key "l"`)
	assert.Contains(t, r.stdout, "[codexhost-ed25519]")
}
