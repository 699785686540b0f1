package load_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/load"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// guestFile builds a Go guest for Wasm into a file of its own.
func guestFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), filepath.Base(dir)+".wasm")
	require.NoError(t, os.WriteFile(path, plugintest.BuildGoGuest(t, dir), 0o644))
	return path
}

func refFile(t *testing.T) string { return guestFile(t, "../../sdk-guest/internal/testguests/ref") }

func newSet(t *testing.T, opts *load.Options) *load.Set {
	s := load.NewSet(opts)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

var refOpts = &load.PluginOptions{Options: plugins.Options{Settings: json.RawMessage(`{"prefix":"> "}`)}}

func TestLoadFile(t *testing.T) {
	path := refFile(t)
	s := newSet(t, nil)
	p, err := s.Load(t.Context(), path, refOpts)
	require.NoError(t, err)
	assert.Equal(t, "ref", p.Manifest().Name)
	assert.Equal(t, dist.RuntimeWasm, p.Runtime)
	assert.Equal(t, path, p.Source)
	assert.Equal(t, dist.Digest(plugintest.BuildGoGuest(t, "../../sdk-guest/internal/testguests/ref")), "sha256:"+p.SHA256)
	assert.Nil(t, p.Verified)

	// Pinned: the same digest loads (in either spelling), another does not.
	_, err = newSet(t, nil).Load(t.Context(), path, &load.PluginOptions{Options: refOpts.Options, SHA256: "sha256:" + p.SHA256})
	require.NoError(t, err)
	other := "0000000000000000000000000000000000000000000000000000000000000000"
	_, err = newSet(t, nil).Load(t.Context(), path, &load.PluginOptions{SHA256: other})
	require.ErrorIs(t, err, load.ErrDigestMismatch)
	var le *load.Error
	require.ErrorAs(t, err, &le)
	assert.Equal(t, path, le.Source)
	_, err = newSet(t, nil).Load(t.Context(), path, &load.PluginOptions{SHA256: "abc"})
	require.ErrorIs(t, err, load.ErrBadDigest)

	_, err = newSet(t, nil).Load(t.Context(), filepath.Join(t.TempDir(), "missing.wasm"), nil)
	require.ErrorIs(t, err, fs.ErrNotExist)

	// Not Wasm: tried as a process plugin, which it is not either.
	text := filepath.Join(t.TempDir(), "notaplugin")
	require.NoError(t, os.WriteFile(text, []byte("hello"), 0o755))
	_, err = newSet(t, nil).Load(t.Context(), text, nil)
	require.ErrorAs(t, err, &le)
	assert.Equal(t, dist.RuntimeProcess, le.Runtime)
}

// Two plugins of a set may not declare the same tool: the second is
// refused, naming both.
func TestToolCollisionAcrossPlugins(t *testing.T) {
	path := refFile(t)
	s := newSet(t, nil)
	_, err := s.Load(t.Context(), path, refOpts)
	require.NoError(t, err)
	_, err = s.Load(t.Context(), path, refOpts)
	var te *load.ToolError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "ref", te.Other)
	assert.Equal(t, "echo", te.Tool)
	assert.Len(t, s.Plugins(), 1, "the refused plugin is not in the set")

	// A per-plugin bound below ref's two tools.
	_, err = newSet(t, &load.Options{MaxToolsPerPlugin: 1}).Load(t.Context(), path, refOpts)
	require.ErrorIs(t, err, load.ErrTooManyTools)
}

// Settings are checked against the plugin's schema before configure, and
// the caller's Admit runs after the set's checks.
func TestSettingsCheckedAtLoad(t *testing.T) {
	path := guestFile(t, "../wasm/testdata/guests/configured")
	s := newSet(t, nil)
	_, err := s.Load(t.Context(), path, &load.PluginOptions{Options: plugins.Options{Settings: json.RawMessage(`{"maxFiles": "2"}`)}})
	var se *load.SettingsError
	require.ErrorAs(t, err, &se)
	require.ErrorIs(t, err, load.ErrBadSettings)
	assert.Equal(t, "configured", se.Plugin)
	assert.Equal(t, []load.SettingsProblem{{Path: "/maxFiles", Message: "got string, want integer"}}, se.Problems)
	_, err = s.Load(t.Context(), path, nil)
	require.ErrorIs(t, err, load.ErrBadSettings)

	called := false
	p, err := s.Load(t.Context(), path, &load.PluginOptions{Options: plugins.Options{Settings: json.RawMessage(`{"maxFiles": 2}`),
		Admit: func(m *abi.Manifest) error { called = true; return nil }}})
	require.NoError(t, err)
	assert.True(t, called)
	r, err := plugins.Call[abi.ApprovalResponse](t.Context(), p, abi.HookApproval, &abi.ApprovalRequest{Kind: abi.ApprovalFileChange, Changes: make([]abi.FileChange, 3)})
	require.NoError(t, err)
	assert.Equal(t, abi.Decline, r.Decision, "configured with the settings")
}

// With a trust policy, a local file loads only with a signature by a
// trusted key: a Sigstore bundle over its bytes (cosign sign-blob
// --bundle PATH.sig).
func TestTrustPolicyLocalFile(t *testing.T) {
	path := refFile(t)
	dir := t.TempDir()
	kb, pb, err := dist.GenerateCosignKeyPair([]byte("pw"))
	require.NoError(t, err)
	key, err := dist.LoadSigningKey(kb, []byte("pw"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "team.pub"), pb, 0o644))
	policy, err := dist.ParseTrustPolicy([]byte("[keys.team]\npublic-key-file = \"team.pub\"\n[[rule]]\nkeys = [\"team\"]\nlocal = true\n"), dir)
	require.NoError(t, err)

	_, err = newSet(t, &load.Options{Trust: policy}).Load(t.Context(), path, refOpts)
	require.ErrorIs(t, err, load.ErrUnsigned)
	var warned []string
	p, err := newSet(t, &load.Options{Trust: policy, AllowUnsigned: true, OnUnsigned: func(s string) { warned = append(warned, s) }}).Load(t.Context(), path, refOpts)
	require.NoError(t, err)
	assert.Nil(t, p.Verified)
	assert.Equal(t, []string{path}, warned)

	module, err := os.ReadFile(path)
	require.NoError(t, err)
	sig, err := dist.SignModule(t.Context(), module, key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dist.SignatureFile(path), sig, 0o644))
	p, err = newSet(t, &load.Options{Trust: policy}).Load(t.Context(), path, refOpts)
	require.NoError(t, err)
	require.NotNil(t, p.Verified)
	assert.Equal(t, "team", p.Verified.Key)
	v, err := load.VerifyFile(policy, path)
	require.NoError(t, err)
	assert.Equal(t, []string{"team"}, v.Keys)

	// Signed by a key the policy does not list.
	okb, _, err := dist.GenerateCosignKeyPair(nil)
	require.NoError(t, err)
	otherKey, err := dist.LoadSigningKey(okb, nil)
	require.NoError(t, err)
	sig, err = dist.SignModule(t.Context(), module, otherKey)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dist.SignatureFile(path), sig, 0o644))
	_, err = newSet(t, &load.Options{Trust: policy, AllowUnsigned: true}).Load(t.Context(), path, refOpts)
	require.ErrorIs(t, err, load.ErrUntrusted)
	require.ErrorIs(t, err, dist.ErrUntrusted)
}

// A legacy ed25519 signature (legacy-signatures = true) names the plugin
// too: a module that describes itself otherwise is refused.
func TestTrustPolicyLocalFileLegacy(t *testing.T) {
	path := refFile(t)
	dir := t.TempDir()
	pub, key, err := dist.GenerateKey()
	require.NoError(t, err)
	pb, err := dist.MarshalPublicKey(pub)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "team.pub"), pb, 0o644))
	policy, err := dist.ParseTrustPolicy([]byte("legacy-signatures = true\n[keys.team]\npublic-key-file = \"team.pub\"\n[[rule]]\nkeys = [\"team\"]\nlocal = true\n"), dir)
	require.NoError(t, err)
	module, err := os.ReadFile(path)
	require.NoError(t, err)
	sign := func(name, version string) {
		env, err := dist.SignStatement(&dist.Statement{Module: dist.Digest(module), Runtime: dist.RuntimeWasm, Name: name, Version: version}, key)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dist.SignatureFile(path), env, 0o644))
	}
	sign("ref", "1.0.0")
	p, err := newSet(t, &load.Options{Trust: policy}).Load(t.Context(), path, refOpts)
	require.NoError(t, err)
	assert.Equal(t, "team", p.Verified.Key)
	assert.Equal(t, "ref", p.Verified.Statement.Name)

	sign("other", "1.0.0")
	_, err = newSet(t, &load.Options{Trust: policy}).Load(t.Context(), path, refOpts)
	require.ErrorIs(t, err, load.ErrNotAsSigned)
}

// An oci:// tag with neither a trust policy nor a pin is refused before
// the registry is asked.
func TestUnpinnedTag(t *testing.T) {
	_, err := newSet(t, nil).Load(t.Context(), "oci://127.0.0.1:1/policies/p:1", nil)
	require.ErrorIs(t, err, load.ErrUnpinned)
	_, err = newSet(t, nil).Load(t.Context(), "oci://127.0.0.1:1", nil)
	require.ErrorIs(t, err, dist.ErrBadRef)
}

// Close closes every plugin of the set; the set loads nothing after.
func TestCloseClosesThePlugins(t *testing.T) {
	path := refFile(t)
	s := load.NewSet(nil)
	p, err := s.Load(t.Context(), path, refOpts)
	require.NoError(t, err)
	require.NoError(t, s.Close(t.Context()))
	require.NoError(t, s.Close(t.Context()), "idempotent")
	_, err = p.Call(t.Context(), abi.HookApproval, []byte(`{"kind":"command","command":"ls"}`))
	require.ErrorIs(t, err, plugins.ErrClosed)
	_, err = s.Load(t.Context(), path, refOpts)
	require.ErrorIs(t, err, load.ErrClosed)
}
