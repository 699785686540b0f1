package dist_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// fixture is a registry, two signing keys, a trust policy that trusts key
// "a" for 127.0.0.1:*/policies/*, and the deny-rm example policy.
type fixture struct {
	reg        *disttest.Registry
	a, b       *dist.SigningKey
	policy     *dist.TrustPolicy
	module     []byte
	cfg        dist.Config
	rt         *wasm.Runtime
	policyFile string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{reg: disttest.StartRegistry(t)}
	dir := t.TempDir()
	f.a = keyFiles(t, dir, "a")
	f.b = keyFiles(t, dir, "b")
	f.policy = writePolicy(t, dir, `
[keys.a]
public-key-file = "a.pub"
[keys.b]
public-key-file = "b.pub"
[[rule]]
repositories = ["127.0.0.1:*/policies/*"]
keys = ["a"]
[[rule]]
repositories = ["127.0.0.1:*/other/*"]
keys = ["b"]
`)
	f.policyFile = filepath.Join(dir, "trust.toml")
	var err error
	f.rt, err = wasm.NewRuntime(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.rt.Close(context.Background()) })
	f.module = plugintest.BuildGoGuest(t, "../../examples/policy")
	f.cfg = dist.Config{Runtime: dist.RuntimeWasm, Manifest: f.describe(t, f.module)}
	return f
}

// describe loads module and returns its manifest, as `plugin push` does.
func (f *fixture) describe(t *testing.T, module []byte) abi.Manifest {
	t.Helper()
	p, err := f.rt.Load(t.Context(), module, nil)
	require.NoError(t, err)
	defer p.Close(context.Background())
	return *p.Manifest()
}

func (f *fixture) ref(t *testing.T, s string) dist.Ref {
	t.Helper()
	r, err := dist.ParseRef("oci://" + f.reg.Host + "/" + s)
	require.NoError(t, err)
	return r
}

// opts returns options with a fresh cache and the policy.
func (f *fixture) opts(t *testing.T) *dist.Options {
	t.Helper()
	c, err := dist.OpenCache(t.TempDir())
	require.NoError(t, err)
	return &dist.Options{Cache: c, Policy: f.policy}
}

func (f *fixture) push(t *testing.T, ref dist.Ref, module []byte, cfg *dist.Config) string {
	t.Helper()
	d, err := dist.Push(t.Context(), ref, module, cfg, nil)
	require.NoError(t, err)
	return d
}

// The whole path on a real registry: push, sign, pull into an empty cache,
// verify, load and run the plugin.
func TestPushSignPullVerifyRun(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	start := time.Now()
	d := f.push(t, ref, f.module, &f.cfg)
	t.Logf("push %d bytes: %v", len(f.module), time.Since(start))
	// Deterministic: pushing the same plugin again gives the same digest.
	require.Equal(t, d, f.push(t, ref, f.module, &f.cfg))

	sig, err := dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)
	// docker-registry 2.8 has no referrers API: the signature is indexed
	// under the referrers tag schema (sha256-HEX).
	require.Contains(t, f.tags(t, "policies/deny-rm"), "sha256-"+d[len("sha256:"):])

	o := f.opts(t)
	start = time.Now()
	a, err := dist.Pull(t.Context(), ref, o)
	require.NoError(t, err)
	t.Logf("pull + verify into an empty cache: %v", time.Since(start))
	require.Equal(t, d, a.Ref.Digest)
	require.NotNil(t, a.Verified)
	require.Equal(t, "a", a.Verified.Key)
	require.Len(t, a.Signatures, 1)
	require.Equal(t, sig.Digest, a.Signatures[0].Digest)
	require.Equal(t, f.cfg.Manifest, a.Config.Manifest)

	// Verify again from the cache, by digest.
	start = time.Now()
	a, err = dist.Resolve(t.Context(), ref.WithDigest(d), o)
	require.NoError(t, err)
	t.Logf("resolve + verify from the cache: %v", time.Since(start))
	require.NotNil(t, a.Verified)

	p, err := f.rt.Load(t.Context(), a.Module, nil)
	require.NoError(t, err)
	defer p.Close(context.Background())
	require.Equal(t, a.Config.Manifest, *p.Manifest())
	for cmd, want := range map[string]abi.Decision{"rm -rf /": abi.Decline, "echo hi": abi.Accept} {
		r, err := plugins.Call[abi.ApprovalResponse](t.Context(), p, abi.HookApproval,
			&abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: cmd})
		require.NoError(t, err)
		require.Equal(t, want, r.Decision, cmd)
	}
}

// tags lists the repository's tags through the registry's API.
func (f *fixture) tags(t *testing.T, repo string) []string {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/v2/%s/tags/list", f.reg.Host, repo))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var l struct{ Tags []string }
	require.NoError(t, json.Unmarshal(b, &l), string(b))
	return l.Tags
}

// A blob changed in the registry's storage is refused at pull.
func TestRefuseTamperedBlob(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	f.push(t, ref, f.module, &f.cfg)
	_, err := dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)

	// Flip one byte of the module, in place (same size).
	p := f.reg.BlobPath(dist.Digest(f.module))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	b[len(b)/2] ^= 0xff
	require.NoError(t, os.WriteFile(p, b, 0o644))

	_, err = dist.Pull(t.Context(), ref, f.opts(t))
	require.ErrorIs(t, err, dist.ErrDigestMismatch)
	_, err = dist.Resolve(t.Context(), ref, f.opts(t))
	require.ErrorIs(t, err, dist.ErrDigestMismatch)
}

// Another plugin pushed under the signed tag is not signed: the signature
// names the digest of the artifact that was signed.
func TestRefuseRetaggedArtifact(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	f.push(t, ref, f.module, &f.cfg)
	_, err := dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)

	evil := plugintest.GuestWasm(t, plugintest.GuestApproveAll)
	m := f.describe(t, evil)
	m.Name, m.Version = f.cfg.Manifest.Name, f.cfg.Manifest.Version // pretend
	f.push(t, ref, evil, &dist.Config{Runtime: dist.RuntimeWasm, Manifest: m})

	_, err = dist.Resolve(t.Context(), ref, f.opts(t))
	require.ErrorIs(t, err, dist.ErrUnsigned)
}

// A signature by a key the policy does not trust for the repository is
// refused, and so is an unsigned artifact, unless AllowUnsigned.
func TestRefuseWrongSignerAndUnsigned(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)

	_, err := dist.Resolve(t.Context(), ref, f.opts(t))
	require.ErrorIs(t, err, dist.ErrUnsigned)
	o := f.opts(t)
	o.AllowUnsigned = true
	a, err := dist.Resolve(t.Context(), ref, o)
	require.NoError(t, err)
	require.Nil(t, a.Verified)

	// b is trusted only for other/*.
	_, err = dist.Sign(t.Context(), ref, f.b, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)
	_, err = dist.Resolve(t.Context(), ref, f.opts(t))
	require.ErrorIs(t, err, dist.ErrUntrusted)
	// AllowUnsigned does not excuse an untrusted signature.
	o = f.opts(t)
	o.AllowUnsigned = true
	_, err = dist.Resolve(t.Context(), ref, o)
	require.ErrorIs(t, err, dist.ErrUntrusted)

	// Once a trusted key signs too, it verifies.
	_, err = dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)
	a, err = dist.Resolve(t.Context(), ref, f.opts(t))
	require.NoError(t, err)
	require.Equal(t, "a", a.Verified.Key)
	require.Len(t, a.Signatures, 2)

	// The same bytes copied to a repository the policy covers with key b:
	// a's signature does not travel with them (it names the repository).
	other := f.ref(t, "other/deny-rm:1.0.0")
	require.Equal(t, d, f.push(t, other, f.module, &f.cfg))
	_, err = dist.Resolve(t.Context(), other, f.opts(t))
	require.ErrorIs(t, err, dist.ErrUnsigned)
}

// A digest reference that is cached resolves with the registry stopped; a
// corrupt cache file is detected and refetched.
func TestResolveFromCacheOffline(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)
	_, err := dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)
	o := f.opts(t)
	_, err = dist.Pull(t.Context(), ref, o)
	require.NoError(t, err)

	f.reg.Stop()
	a, err := dist.Resolve(t.Context(), ref.WithDigest(d), o)
	require.NoError(t, err)
	require.NotNil(t, a.Verified)
	require.Equal(t, f.module, a.Module)
	// A tag needs the registry, unless offline (the tag as last pulled).
	_, err = dist.Resolve(t.Context(), ref, o)
	require.Error(t, err)
	off := *o
	off.Offline = true
	a, err = dist.Resolve(t.Context(), ref, &off)
	require.NoError(t, err)
	require.Equal(t, d, a.Ref.Digest)

	// Corrupt the cached module: detected, removed, and not loaded.
	p, err := o.Cache.BlobPath(dist.Digest(f.module))
	require.NoError(t, err)
	require.NoError(t, os.Chmod(p, 0o644))
	b := append([]byte(nil), f.module...)
	b[100] ^= 1
	require.NoError(t, os.WriteFile(p, b, 0o644))
	_, err = dist.Resolve(t.Context(), ref.WithDigest(d), o)
	require.ErrorIs(t, err, dist.ErrCorrupt)
	// With the registry back, the next resolve fetches it again.
	require.NoError(t, f.reg.Start())
	a, err = dist.Resolve(t.Context(), ref.WithDigest(d), o)
	require.NoError(t, err)
	require.Equal(t, f.module, a.Module)
}

// The legacy ed25519 format still signs and verifies through a registry,
// but only under a policy that says legacy-signatures = true.
func TestLegacySignatureInRegistry(t *testing.T) {
	f := newFixture(t)
	dir := t.TempDir()
	key := legacyKeyFiles(t, dir, "old")
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	f.push(t, ref, f.module, &f.cfg)
	sig, err := dist.SignLegacy(t.Context(), ref, key, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)
	require.Equal(t, dist.FormatLegacy, sig.Format)

	text := "[keys.old]\npublic-key-file = \"old.pub\"\n[[rule]]\nrepositories = [\"127.0.0.1:*/policies/*\"]\nkeys = [\"old\"]\n"
	strict := writePolicy(t, dir, text)
	c, err := dist.OpenCache(t.TempDir())
	require.NoError(t, err)
	_, err = dist.Pull(t.Context(), ref, &dist.Options{Cache: c, Policy: strict})
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, "legacy-signatures")

	legacyPol := writePolicy(t, dir, "legacy-signatures = true\n"+text)
	a, err := dist.Pull(t.Context(), ref, &dist.Options{Cache: c, Policy: legacyPol})
	require.NoError(t, err)
	require.Equal(t, []dist.SignatureFormat{dist.FormatLegacy}, a.Verified.Formats)
	require.Equal(t, "deny-rm", a.Verified.Statement.Name)
}
