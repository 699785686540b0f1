package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// The registry tests here are not parallel: they build guests and start
// registries, and on a small machine that load would starve the tests with
// tight time bounds (TestRunTimeout), which run in parallel after these.

// distEnv is a registry, keys "a" and "b" made with `plugin keygen`, a
// trust policy that trusts a for 127.0.0.1:*/policies/* and local files,
// and a plugin cache.
type distEnv struct {
	reg                 *disttest.Registry
	dir, policy, cache  string
	keyA, keyB, keyAPub string
}

func newDistEnv(t *testing.T) *distEnv {
	t.Helper()
	e := &distEnv{reg: disttest.StartRegistry(t), dir: t.TempDir()}
	e.cache = filepath.Join(e.dir, "cache")
	for _, k := range []string{"a", "b"} {
		distKeyFiles(t, e.dir, k)
	}
	e.keyA, e.keyB, e.keyAPub = filepath.Join(e.dir, "a.key"), filepath.Join(e.dir, "b.key"), filepath.Join(e.dir, "a.pub")
	e.policy = filepath.Join(e.dir, "trust.toml")
	require.NoError(t, os.WriteFile(e.policy, []byte(`
[keys.team]
public-key-file = "a.pub"

[[rule]]
repositories = ["127.0.0.1:*/policies/*"]
keys = ["team"]

[[rule]]
local = true
keys = ["team"]
`), 0o644))
	return e
}

// distKeys holds, per name, the files `plugin keygen` made the first time a
// test asked for that name. A key file is encrypted with scrypt, which
// under the race detector costs about a second each time: the fixtures of
// this file reuse the pairs rather than make fresh ones for every test.
var distKeys = struct {
	sync.Mutex
	m map[string][2][]byte // NAME.key, NAME.pub
}{m: map[string][2][]byte{}}

// distKeyFiles writes the key pair NAME into dir as NAME.key and NAME.pub.
func distKeyFiles(t *testing.T, dir, name string) {
	t.Helper()
	distKeys.Lock()
	defer distKeys.Unlock()
	kp, ok := distKeys.m[name]
	if !ok {
		gen := t.TempDir()
		r := runCmd(t, "plugin", "keygen", filepath.Join(gen, name))
		require.Equal(t, exitOK, r.code)
		require.Regexp(t, `key ID: sha256:[0-9a-f]{64}`, r.stdout)
		for i, ext := range []string{".key", ".pub"} {
			b, err := os.ReadFile(filepath.Join(gen, name+ext))
			require.NoError(t, err)
			kp[i] = b
		}
		distKeys.m[name] = kp
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".key"), kp[0], 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pub"), kp[1], 0o644))
}

func (e *distEnv) ref(repo string) string { return "oci://" + e.reg.Host + "/" + repo }

var digestRE = regexp.MustCompile(`@(sha256:[0-9a-f]{64})`)

// push pushes path to ref (signed with key, if not empty) and returns the
// pinned reference.
func (e *distEnv) push(t *testing.T, path, ref, key string) string {
	t.Helper()
	args := []string{"plugin", "push", "--plugin-cache", e.cache, path, ref}
	if key != "" {
		args = append(args, "--sign", key)
	}
	r := runCmd(t, args...)
	require.Equal(t, exitOK, r.code)
	m := digestRE.FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	return ref + "@" + m[1]
}

// The CLI against a real registry: push --sign, pull, verify, inspect, and
// the refusals: unsigned, wrong signer, tampered blob.
func TestPluginPushPullSignVerify(t *testing.T) {
	e := newDistEnv(t)
	policy := policyPlugin(t)
	signed := e.ref("policies/deny-rm:1.0.0")
	pinned := e.push(t, policy, signed, e.keyA)

	cache := filepath.Join(e.dir, "fresh-cache")
	r := runCmd(t, "plugin", "pull", "--trust-policy", e.policy, "--plugin-cache", cache, signed)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "pulled deny-rm 1.0.0 (wasm)")
	assert.Contains(t, r.stdout, "digest:    "+strings.TrimPrefix(pinned, signed+"@"))
	assert.Contains(t, r.stdout, `verified:  yes, signed by key "team"`)

	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, "--plugin-cache", cache, pinned)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "verified "+pinned+": deny-rm 1.0.0")

	r = runCmd(t, "plugin", "inspect", "--trust-policy", e.policy, "--plugin-cache", cache, pinned)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "name:         deny-rm")
	assert.Contains(t, r.stdout, "runtime:      wasm")
	assert.Contains(t, r.stdout, "sha256:       "+digestOf(t, policy))
	assert.Contains(t, r.stdout, ": trusted yes")
	r = runCmd(t, "plugin", "inspect", "--json", "--plugin-cache", cache, pinned)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, `"digest": "sha256:`)
	assert.Contains(t, r.stdout, `"keyid": "sha256:`)

	// Unsigned.
	unsigned := e.ref("policies/unsigned:1.0.0")
	e.push(t, policy, unsigned, "")
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, "--plugin-cache", cache, unsigned)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "is not signed, and the trust policy requires a signature")
	r = runCmd(t, "plugin", "pull", "--trust-policy", e.policy, "--plugin-cache", cache, unsigned)
	assert.Equal(t, exitUsage, r.code)
	r = runCmd(t, "plugin", "pull", "--trust-policy", e.policy, "--allow-unsigned", "--plugin-cache", cache, unsigned)
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "verified:  no: unsigned, allowed by --allow-unsigned")

	// Wrong signer: b is not in the policy.
	other := e.ref("policies/by-b:1.0.0")
	e.push(t, policy, other, e.keyB)
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, "--plugin-cache", cache, other)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "which trust policy "+e.policy+" does not list")
	// Signed by a, but in a repository the policy does not cover for a.
	elsewhere := e.ref("elsewhere/deny-rm:1.0.0")
	e.push(t, policy, elsewhere, e.keyA)
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, "--plugin-cache", cache, elsewhere)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `does not trust for plugin "deny-rm" from repository `+e.reg.Host+"/elsewhere/deny-rm")

	// A tampered blob in the registry's storage.
	b, err := os.ReadFile(policy)
	require.NoError(t, err)
	blob := e.reg.BlobPath(dist.Digest(b))
	b[len(b)/3] ^= 0x55
	require.NoError(t, os.WriteFile(blob, b, 0o644))
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, "--plugin-cache", filepath.Join(e.dir, "cache3"), signed)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "digest mismatch")
	assert.Contains(t, r.stderr, "refusing it")
	// The cache pulled before the tampering still has the good bytes.
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, "--plugin-cache", cache, pinned)
	assert.Equal(t, exitOK, r.code)
}

// The pulled, verified plugin decides a real codex approval; pinned and
// cached, it loads with the registry stopped; unsigned or untrusted, the
// run is refused before any turn starts.
func TestRunSignedPluginFromRegistry(t *testing.T) {
	e := newDistEnv(t)
	policy := policyPlugin(t)
	signed := e.ref("policies/deny-rm:1.0.0")
	pinned := e.push(t, policy, signed, e.keyA)
	unsigned := e.ref("policies/unsigned:1.0.0")
	e.push(t, policy, unsigned, "")
	wrong := e.ref("policies/by-b:1.0.0")
	e.push(t, policy, wrong, e.keyB)

	model, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")))
	work := t.TempDir()
	victim := filepath.Join(work, "victim.txt")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	cache := filepath.Join(e.dir, "run-cache")
	runArgs := func(plugin string, extra ...string) []string {
		return append([]string{"run", "--codex-home", home, "--cwd", work, "--plugin-cache", cache,
			"--trust-policy", e.policy, "--plugin", plugin}, append(extra, "remove the victim")...)
	}

	for name, tc := range map[string]struct {
		plugin, stderr string
	}{
		"unsigned":     {unsigned, "is not signed"},
		"wrong signer": {wrong, "does not list"},
	} {
		r := runCmd(t, runArgs(tc.plugin)...)
		assert.Equal(t, exitUsage, r.code, name)
		assert.Contains(t, r.stderr, tc.stderr, name)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line")
	}
	require.Empty(t, model.Requests(), "no turn started")

	r := runCmd(t, runArgs(signed)...)
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "deny-rm: removing files is not allowed")
	_, err := os.Stat(victim)
	require.NoError(t, err, "the declined rm did not run")

	// Pinned by digest and cached: no registry needed.
	e.reg.Stop()
	r = runCmd(t, runArgs(pinned)...)
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "deny-rm: removing files is not allowed")
	r = runCmd(t, runArgs(signed)...)
	assert.Equal(t, exitUsage, r.code, "a tag needs the registry")
	assert.Contains(t, r.stderr, "connection refused")
}

// With a trust policy, a local file needs a trusted PATH.sig, or
// --allow-unsigned.
func TestLocalPluginSignature(t *testing.T) {
	e := newDistEnv(t)
	policy := policyPlugin(t)

	r := runCmd(t, "plugin", "verify", "--trust-policy", e.policy, policy)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "has no signature ("+policy+".sig)")
	// Loading refuses it before codex starts (--codex does not exist).
	r = runCmd(t, "run", "--codex", "/nonexistent", "--trust-policy", e.policy, "--plugin", policy, "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "has no signature")
	r = runCmd(t, "run", "--codex", "/nonexistent", "--trust-policy", e.policy, "--allow-unsigned", "--plugin", policy, "hi")
	assert.Equal(t, exitConn, r.code, "loaded; then codex is missing")
	assert.Contains(t, r.stderr, "warning: loading unsigned plugin "+policy)

	r = runCmd(t, "plugin", "sign", "--key", e.keyA, policy)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "Sigstore bundle "+policy+".sig")
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, policy)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, `(sha256:`+digestOf(t, policy)+`): signed by key "team"`)
	r = runCmd(t, "run", "--codex", "/nonexistent", "--trust-policy", e.policy, "--plugin", policy, "hi")
	assert.Equal(t, exitConn, r.code, "verified and loaded; then codex is missing")
	assert.NotContains(t, r.stderr, "warning")

	// Signed by b: not trusted.
	r = runCmd(t, "plugin", "sign", "--key", e.keyB, policy)
	require.Equal(t, exitOK, r.code)
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, policy)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "does not list")

	// A changed module no longer matches its signature.
	r = runCmd(t, "plugin", "sign", "--key", e.keyA, policy)
	require.Equal(t, exitOK, r.code)
	f, err := os.OpenFile(policy, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	r = runCmd(t, "plugin", "verify", "--trust-policy", e.policy, policy)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "bad signature")
}

// Settings are checked against the plugin's schema, and capabilities
// against the grants, when the plugin loads: before codex starts.
func TestRunSettingsAndGrantsCheckedAtLoad(t *testing.T) {
	configured := filepath.Join(t.TempDir(), "configured.wasm")
	b, err := plugintest.GoGuest("../../plugins/wasm/testdata/guests/configured")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(configured, b, 0o644))
	granted := filepath.Join(t.TempDir(), "granted.wasm")
	b, err = plugintest.GoGuest("../../plugins/wasm/testdata/guests/granted")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(granted, b, 0o644))

	// --settings @FILE: TOML for a .toml file, JSON otherwise.
	dir := t.TempDir()
	settingsFile := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		return path
	}
	goodTOML := settingsFile("good.toml", "# the limit\nmaxFiles = 2\n")
	badTOML := settingsFile("bad.toml", "maxFiles = \"many\"\n")
	brokenTOML := settingsFile("broken.toml", "maxFiles = = 2\n")
	goodJSON := settingsFile("good.json", `{"maxFiles": 3}`)
	brokenJSON := settingsFile("broken.settings", `maxFiles = 3`)

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--plugin", configured, "--settings", "@" + goodTOML}, exitConn, `codex binary not found`},
		{[]string{"--plugin", configured, "--settings", "@" + goodJSON}, exitConn, `codex binary not found`},
		{[]string{"--plugin", configured, "--settings", "@" + badTOML}, exitUsage, `/maxFiles: got string, want integer`},
		{[]string{"--plugin", configured, "--settings", "@" + brokenTOML}, exitUsage, brokenTOML + `:1: not valid TOML`},
		{[]string{"--plugin", configured, "--settings", "@" + brokenJSON}, exitUsage, `not valid JSON (name a TOML file .toml)`},
		{[]string{"--plugin", configured, "--settings", "@" + filepath.Join(dir, "missing.toml")}, exitUsage, `missing.toml: no such file or directory`},
		{[]string{"--plugin", configured, "--settings", `{"maxFiles": "many"}`}, exitUsage, `/maxFiles: got string, want integer`},
		{[]string{"--plugin", configured}, exitUsage, `settings do not match the plugin's schema`},
		{[]string{"--plugin", configured, "--settings", `{"maxFiles": 2, "x": 1}`}, exitUsage, `additional properties 'x' not allowed`},
		{[]string{"--plugin", configured, "--settings", `{"maxFiles": 2}`}, exitConn, `codex binary not found`},
		{[]string{"--plugin", granted}, exitUsage, `asks for environment variable CODEXHOST_WASM_TEST_SECRET`},
	} {
		r := runCmd(t, append(append([]string{"run", "--codex", "/nonexistent"}, tc.args...), "hi")...)
		assert.Equal(t, tc.code, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.stderr)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line")
	}
	r := runCmd(t, "plugin", "inspect", "--settings", `{"maxFiles": 1}`, configured)
	assert.Contains(t, r.stdout, "limits:       384 memory pages, 2000 ms per call")
	r = runCmd(t, "plugin", "inspect", "--settings", "@"+goodTOML, configured)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "name:         configured")

	// In the configuration file: settings_file.
	cfg := settingsFile("codexhost.toml", "[[plugin]]\npath = \""+configured+"\"\nsettings_file = \"bad.toml\"\n")
	r = runCmd(t, "run", "--codex", "/nonexistent", "--config-file", cfg, "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `/maxFiles: got string, want integer`)
	cfg = settingsFile("codexhost.toml", "[[plugin]]\npath = \""+configured+"\"\nsettings_file = \"good.toml\"\n")
	r = runCmd(t, "run", "--codex", "/nonexistent", "--config-file", cfg, "hi")
	assert.Equal(t, exitConn, r.code, r.stderr)
}

func TestDistBadInput(t *testing.T) {
	dir := t.TempDir()
	notKey := filepath.Join(dir, "notakey")
	require.NoError(t, os.WriteFile(notKey, []byte("hello\n"), 0o600))
	badPolicy := filepath.Join(dir, "bad.toml")
	require.NoError(t, os.WriteFile(badPolicy, []byte("[[rule]]\nkeys = []\n"), 0o644))
	r := runCmd(t, "plugin", "keygen", filepath.Join(dir, "k"))
	require.Equal(t, exitOK, r.code)
	const ref = "oci://127.0.0.1:1/policies/p:1"
	for _, tc := range []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"push no args", []string{"plugin", "push"}, []string{"want PATH and oci://REF"}},
		{"push digest", []string{"plugin", "push", "x.wasm", "oci://127.0.0.1:1/p@sha256:" + strings.Repeat("a", 64)}, []string{"push to a tag"}},
		{"push bad ref", []string{"plugin", "push", "x.wasm", "127.0.0.1/p:1"}, []string{"does not start with oci://"}},
		{"push missing file", []string{"plugin", "push", "/no/such.wasm", ref}, []string{"/no/such.wasm", "no such file"}},
		{"push bad key", []string{"plugin", "push", "--sign", notKey, "/no/such.wasm", ref}, []string{"--sign", notKey, "PRIVATE KEY"}},
		{"pull no ref", []string{"plugin", "pull"}, []string{"want exactly one oci://REF"}},
		{"pull no tag", []string{"plugin", "pull", "oci://127.0.0.1:1/p"}, []string{"names no tag or digest"}},
		{"sign no key", []string{"plugin", "sign", ref}, []string{"no signing key: pass --key FILE"}},
		{"sign public key", []string{"plugin", "sign", "--key", filepath.Join(dir, "k.pub"), ref}, []string{"PRIVATE KEY"}},
		{"verify no policy", []string{"plugin", "verify", "--trust-policy", "", ref}, []string{"no trust policy to verify against"}},
		{"verify missing policy", []string{"plugin", "verify", "--trust-policy", "/no/such.toml", ref}, []string{"--trust-policy /no/such.toml: no such file"}},
		{"verify bad policy", []string{"plugin", "verify", "--trust-policy", badPolicy, ref}, []string{badPolicy, "invalid trust policy", "lists no keys"}},
		{"keygen exists", []string{"plugin", "keygen", filepath.Join(dir, "k")}, []string{"k.key exists", "--force"}},
		{"keygen no name", []string{"plugin", "keygen"}, []string{"want exactly one NAME"}},
		{"run tag without policy", []string{"run", "--codex", "/nonexistent", "--plugin", ref, "hi"}, []string{"a tag with no trust policy to verify it is not trusted"}},
		{"run bad ref", []string{"run", "--plugin", "oci://127.0.0.1:1", "hi"}, []string{"names no repository"}},
		{"run bad trust policy", []string{"run", "--trust-policy", badPolicy, "--plugin", ref, "hi"}, []string{"invalid trust policy"}},
		{"run settings not JSON", []string{"run", "--plugin", "x.wasm", "--settings", "{", "hi"}, []string{`--settings "{"`, "is not JSON"}},
		{"run too many settings", []string{"run", "--settings", "{}", "hi"}, []string{"1 --settings values for 0 --plugin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.Contains(tc.name, "verify no policy") && os.Getenv(envTrustPolicy) != "" {
				t.Skip("$" + envTrustPolicy + " is set")
			}
			r := runCmd(t, tc.args...)
			assert.Equal(t, exitUsage, r.code)
			for _, s := range tc.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.True(t, strings.HasPrefix(r.stderr, "codexhost: ") || strings.HasPrefix(r.stderr, "Usage:"), "stderr starts with the error or the usage")
			assert.Empty(t, r.stdout)
		})
	}
}

// A process plugin travels the same way: pushed for this platform, pulled
// into the cache as an executable pinned to its digest, verified, run.
func TestProcessPluginFromRegistry(t *testing.T) {
	t.Parallel()
	e := newDistEnv(t)
	bin, err := plugintest.ProcessGuest("../../examples/policy")
	require.NoError(t, err)
	ref := e.ref("policies/deny-rm-process:1.0.0")
	pinned := e.push(t, bin, ref, e.keyA)

	r := runCmd(t, "plugin", "inspect", "--trust-policy", e.policy, "--plugin-cache", e.cache, pinned)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "runtime:      process")
	assert.Contains(t, r.stdout, "platform:     "+runtime.GOOS+"/"+runtime.GOARCH)

	var df distFlags
	df.trustPolicy, df.cacheDir = e.policy, filepath.Join(e.dir, "load-cache")
	var ld loader
	defer ld.close()
	ld.trust, err = df.config(&cmdIO{stderr: io.Discard}, false)
	require.NoError(t, err)
	p, err := ld.load(t.Context(), ref, "")
	require.NoError(t, err)
	resp, err := plugins.Call[abi.ApprovalResponse](t.Context(), p, abi.HookApproval, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "rm -rf /"})
	require.NoError(t, err)
	assert.Equal(t, abi.Decline, resp.Decision)
	assert.Equal(t, digestOf(t, bin), ld.digests[0])
}

// A module that describes itself differently from its artifact's (signed)
// config is refused: what was reviewed is what runs.
func TestRefuseManifestMismatch(t *testing.T) {
	e := newDistEnv(t)
	module, err := os.ReadFile(policyPlugin(t))
	require.NoError(t, err)
	keyPEM, err := os.ReadFile(e.keyA)
	require.NoError(t, err)
	key, err := dist.LoadSigningKey(keyPEM, nil)
	require.NoError(t, err)
	// The real manifest, with a description the module does not have.
	r := runCmd(t, "plugin", "inspect", "--json", policyPlugin(t))
	require.Equal(t, exitOK, r.code)
	var m abi.Manifest
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &m))
	m.Description = "reviewed, but not what the module says"
	ref, err := dist.ParseRef(e.ref("policies/deny-rm:lying"))
	require.NoError(t, err)
	_, err = dist.Push(t.Context(), ref, module, &dist.Config{Runtime: dist.RuntimeWasm, Manifest: m}, nil)
	require.NoError(t, err)
	_, err = dist.Sign(t.Context(), ref, key, &dist.Options{Cache: mustCache(t)})
	require.NoError(t, err)

	r = runCmd(t, "run", "--codex", "/nonexistent", "--trust-policy", e.policy, "--plugin-cache", e.cache, "--plugin", ref.String(), "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "describes itself differently from its artifact's manifest")
}

func mustCache(t *testing.T) *dist.Cache {
	c, err := dist.OpenCache(t.TempDir())
	require.NoError(t, err)
	return c
}

// The default trust policy is used if it exists. One that exists but
// cannot be looked at (here a link to itself; a directory this user may
// not search does the same) fails closed: it is not "no policy".
func TestDefaultTrustPolicyThatCannotBeReadFailsClosed(t *testing.T) {
	cfg := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(cfg, "codexhost"), 0o755))
	p := filepath.Join(cfg, "codexhost", "trust-policy.toml")
	require.NoError(t, os.Symlink(p, p))
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv(envTrustPolicy, "")
	r := runCmd(t, "run", "--codex", "/nonexistent", "--plugin", "x.wasm", "hi")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "the default trust policy")
	assert.Contains(t, r.stderr, "too many levels of symbolic links")
}

// plugin verify reads a local file once, and prints the digest of the
// bytes it verified. A FIFO, which could give each read other bytes, is
// refused (without waiting for a writer).
func TestVerifyLocalFileIsReadOnce(t *testing.T) {
	dir := t.TempDir()
	distKeyFiles(t, dir, "k")
	policy := filepath.Join(dir, "trust.toml")
	require.NoError(t, os.WriteFile(policy, []byte("[keys.k]\npublic-key-file = \"k.pub\"\n[[rule]]\nlocal = true\nkeys = [\"k\"]\n"), 0o644))
	fifo := filepath.Join(dir, "p.wasm")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	r := runCmd(t, "plugin", "verify", "--trust-policy", policy, fifo)
	assert.NotEqual(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "not a regular file")
	assert.Empty(t, r.stdout)
}
