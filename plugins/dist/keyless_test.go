package dist_test

// Keyless verification against sigstore-go's virtual Sigstore
// (pkg/testing/ca): a Fulcio CA, a Rekor log and a timestamp authority
// created in the test, whose trusted root is written as the policy's
// pinned trusted_root.json. Nothing here uses the network.

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
)

const (
	ciIssuer  = "https://token.actions.githubusercontent.com"
	ciSubject = "https://github.com/org/policies/.github/workflows/release.yml@refs/heads/main"
)

// policy parses a trust policy in v's directory, with v's trusted root.
func policyIn(t *testing.T, v *disttest.Sigstore, body string) (*dist.TrustPolicy, error) {
	t.Helper()
	return dist.ParseTrustPolicy([]byte("trusted-root = \"trusted_root.json\"\n"+body), v.Dir)
}

func mustPolicy(t *testing.T, v *disttest.Sigstore, body string) *dist.TrustPolicy {
	t.Helper()
	p, err := policyIn(t, v, body)
	require.NoError(t, err)
	return p
}

func imageSubject(data string) (*dist.Subject, string) {
	sum := sha256.Sum256([]byte(data))
	d := "sha256:" + hex.EncodeToString(sum[:])
	return &dist.Subject{Repository: "registry.example.com/policies/deny-rm", Artifact: d, Module: d, Name: "deny-rm", Version: "1.0.0"}, d
}

func bundleSig(b []byte) []dist.Signature {
	return []dist.Signature{{Format: dist.FormatBundle, Envelope: b}}
}

const ciPolicy = `
[identities.ci]
issuer = "` + ciIssuer + `"
subject = "` + ciSubject + `"

[[rule]]
name = "policies"
repositories = ["registry.example.com/policies/*"]
identities = ["ci"]
`

func TestKeylessRightIdentityAccepted(t *testing.T) {
	v := disttest.NewSigstore(t)
	p := mustPolicy(t, v, ciPolicy)
	subj, d := imageSubject("manifest")
	got, err := p.Verify(bundleSig(v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{})), subj)
	require.NoError(t, err)
	require.Equal(t, []string{"policies"}, got.Rules)
	require.Equal(t, []string{"ci"}, got.Keys)
	require.Equal(t, "keyless:"+ciSubject, got.KeyID)
	require.Len(t, got.Keyless, 1)
	require.Equal(t, "ci", got.Keyless[0].Identity)
	require.Equal(t, ciSubject, got.Keyless[0].Subject)
	require.Equal(t, ciIssuer, got.Keyless[0].Issuer)
	require.False(t, got.Keyless[0].IntegratedTime.IsZero())
}

func TestKeylessRefusals(t *testing.T) {
	v := disttest.NewSigstore(t)
	p := mustPolicy(t, v, ciPolicy)
	subj, d := imageSubject("manifest")
	for _, c := range []struct {
		name   string
		bundle func() []byte
		subj   *dist.Subject
		want   error
		msg    string
	}{
		{"wrong subject", func() []byte {
			return v.SignImage(t, "https://github.com/org/other/.github/workflows/x.yml@refs/heads/main", ciIssuer, d, disttest.KeylessOptions{})
		}, subj, dist.ErrUntrusted, "an identity which trust policy"},
		{"wrong issuer", func() []byte {
			return v.SignImage(t, ciSubject, "https://accounts.google.com", d, disttest.KeylessOptions{})
		}, subj, dist.ErrUntrusted, "issuer https://accounts.google.com"},
		{"tampered artifact", func() []byte {
			_, other := imageSubject("another manifest")
			return v.SignImage(t, ciSubject, ciIssuer, other, disttest.KeylessOptions{})
		}, subj, dist.ErrBadSignature, `for identity "ci" and does not verify: failed to verify signature: provided artifact digest does not match`},
		{"certificate expired at the log's time", func() []byte {
			// The leaf is valid for 10 minutes from now; the only
			// observer timestamp is the log's, 30 minutes from now.
			return v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{At: time.Now().Add(30 * time.Minute), NoTimestamps: true})
		}, subj, dist.ErrBadSignature, "integrated time outside certificate validity"},
		{"another Sigstore instance", func() []byte {
			// The identity is right, but neither its Fulcio CA nor its
			// Rekor log is in the pinned trusted root.
			return disttest.NewSigstore(t).SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{})
		}, subj, dist.ErrBadSignature, `for identity "ci" and does not verify`},
		{"no tlog entry", func() []byte {
			return v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{NoTlog: true})
		}, subj, dist.ErrBadSignature, "no transparency-log entry"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.Verify(bundleSig(c.bundle()), c.subj)
			t.Log(err)
			require.ErrorIs(t, err, c.want)
			require.ErrorContains(t, err, c.msg)
			require.ErrorContains(t, err, `rule "policies"`)
		})
	}
}

// A subject-regexp is anchored: it matches the whole identity, not a
// substring of a longer one.
func TestKeylessRegexpAnchored(t *testing.T) {
	v := disttest.NewSigstore(t)
	p := mustPolicy(t, v, `
[identities.ci]
issuer-regexp = "https://token\\.actions\\.githubusercontent\\.com"
subject-regexp = "https://github\\.com/org/policies/.*@refs/heads/main"

[[rule]]
repositories = ["registry.example.com/policies/*"]
identities = ["ci"]
`)
	subj, d := imageSubject("manifest")
	_, err := p.Verify(bundleSig(v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{})), subj)
	require.NoError(t, err)

	for _, c := range []struct{ subject, issuer string }{
		{"https://evil.example/?x=" + ciSubject, ciIssuer},
		{ciSubject + ".evil", ciIssuer},
		{ciSubject, ciIssuer + ".evil.example"},
		{ciSubject, "https://evil.example/" + ciIssuer},
	} {
		_, err := p.Verify(bundleSig(v.SignImage(t, c.subject, c.issuer, d, disttest.KeylessOptions{})), subj)
		require.ErrorIs(t, err, dist.ErrUntrusted, "%s from %s", c.subject, c.issuer)
	}
}

// A keyed bundle (no certificate) never satisfies an identity.
func TestKeylessKeyedBundleIsNoIdentity(t *testing.T) {
	v := disttest.NewSigstore(t)
	p := mustPolicy(t, v, ciPolicy)
	key := newCosignKey(t)
	subj, d := imageSubject("manifest")
	b, err := dist.SignImageBundle(t.Context(), key, d)
	require.NoError(t, err)
	_, err = p.Verify(bundleSig(b), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
}

// A keyless bundle never satisfies a key, even in a policy without
// identities: it is refused as signed by an unlisted identity.
func TestKeylessBundleIsNoKey(t *testing.T) {
	v := disttest.NewSigstore(t)
	key := newCosignKey(t)
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(key.Public())
	require.NoError(t, err)
	p, err := dist.ParseTrustPolicy([]byte(`
[keys.release]
public-key = """`+string(pubPEM)+`"""
[[rule]]
repositories = ["registry.example.com/policies/*"]
keys = ["release"]
`), v.Dir)
	require.NoError(t, err)
	subj, d := imageSubject("manifest")
	_, err = p.Verify(bundleSig(v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{})), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, "signed keyless by "+ciSubject+" (issuer "+ciIssuer+")")
}

func newCosignKey(t *testing.T) *dist.SigningKey {
	t.Helper()
	return testKey(t, "keyless-"+t.Name()).key
}

// all-of a key and an identity: both signatures are needed.
func TestKeylessAllOfKeyAndIdentity(t *testing.T) {
	v := disttest.NewSigstore(t)
	key := newCosignKey(t)
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(key.Public())
	require.NoError(t, err)
	p := mustPolicy(t, v, `
[keys.release]
public-key = """`+string(pubPEM)+`"""

[identities.ci]
issuer = "`+ciIssuer+`"
subject = "`+ciSubject+`"

[[rule]]
name = "two-party"
repositories = ["registry.example.com/policies/*"]
all-of = { keys = ["release"], identities = ["ci"] }
`)
	subj, d := imageSubject("manifest")
	keyless := v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{})
	keyed, err := dist.SignImageBundle(t.Context(), key, d)
	require.NoError(t, err)

	_, err = p.Verify(bundleSig(keyless), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, `rule "two-party"`)
	require.ErrorContains(t, err, `"release"`)

	_, err = p.Verify(bundleSig(keyed), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, `"ci"`)

	got, err := p.Verify(append(bundleSig(keyless), bundleSig(keyed)...), subj)
	require.NoError(t, err)
	require.Equal(t, []string{"release", "ci"}, got.Keys)
}

// A local file signed keyless, as cosign sign-blob --bundle does.
func TestKeylessLocalFile(t *testing.T) {
	v := disttest.NewSigstore(t)
	p := mustPolicy(t, v, `
[identities.ci]
issuer = "`+ciIssuer+`"
subject = "`+ciSubject+`"

[[rule]]
local = true
identities = ["ci"]
`)
	module := []byte("\x00asm module bytes")
	sum := sha256.Sum256(module)
	subj := &dist.Subject{Module: "sha256:" + hex.EncodeToString(sum[:])}
	_, err := p.Verify(bundleSig(v.SignBlob(t, ciSubject, ciIssuer, module)), subj)
	require.NoError(t, err)

	sum = sha256.Sum256([]byte("other module"))
	_, err = p.Verify(bundleSig(v.SignBlob(t, ciSubject, ciIssuer, module)), &dist.Subject{Module: "sha256:" + hex.EncodeToString(sum[:])})
	require.ErrorIs(t, err, dist.ErrBadSignature)
}

// Keyless settings that would leave a check to an optional field are
// refused when the policy loads.
func TestKeylessPolicyErrors(t *testing.T) {
	v := disttest.NewSigstore(t)
	for _, c := range []struct{ name, body, msg string }{
		{"no trusted root", `
[identities.ci]
issuer = "i"
subject = "s"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, "needs trusted-root"},
		{"missing trusted root file", `trusted-root = "nope.json"
[identities.ci]
issuer = "i"
subject = "s"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, "trusted-root nope.json"},
		{"no subject", `trusted-root = "trusted_root.json"
[identities.ci]
issuer = "i"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, "exactly one of subject and subject-regexp"},
		{"subject and subject-regexp", `trusted-root = "trusted_root.json"
[identities.ci]
issuer = "i"
subject = "s"
subject-regexp = "s.*"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, "exactly one of subject and subject-regexp"},
		{"no issuer", `trusted-root = "trusted_root.json"
[identities.ci]
subject = "s"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, "exactly one of issuer and issuer-regexp"},
		{"bad regexp", `trusted-root = "trusted_root.json"
[identities.ci]
issuer = "i"
subject-regexp = "("
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, `identity "ci"`},
		{"undefined identity", `trusted-root = "trusted_root.json"
[identities.ci]
issuer = "i"
subject = "s"
[[rule]]
repositories = ["r/*"]
any-of = { identities = ["cd"] }
`, `names identity "cd"`},
		{"identity named as a key", `trusted-root = "trusted_root.json"
[identities.ci]
issuer = "i"
subject = "s"
[[rule]]
repositories = ["r/*"]
keys = ["ci"]
`, `names key "ci"`},
		{"unknown identity setting", `trusted-root = "trusted_root.json"
[identities.ci]
issuer = "i"
subject = "s"
san = "x"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`, "unknown setting"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := dist.ParseTrustPolicy([]byte(c.body), v.Dir)
			require.ErrorIs(t, err, dist.ErrBadPolicy)
			require.ErrorContains(t, err, c.msg)
		})
	}

	require.NoError(t, os.WriteFile(filepath.Join(v.Dir, "bad.json"), []byte(`{"mediaType": "x"}`), 0o644))
	_, err := dist.ParseTrustPolicy([]byte(`trusted-root = "bad.json"
[identities.ci]
issuer = "i"
subject = "s"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`), v.Dir)
	require.ErrorIs(t, err, dist.ErrBadPolicy)
}

// A keyless bundle attached as a referrer on the real registry, as cosign
// sign attaches one: Pull verifies it under the identity, and refuses a
// bundle of another subject.
func TestKeylessPulledFromRegistry(t *testing.T) {
	f := newFixture(t)
	v := disttest.NewSigstore(t)
	f.policy = mustPolicy(t, v, `
[identities.ci]
issuer = "`+ciIssuer+`"
subject = "`+ciSubject+`"
[[rule]]
name = "ci signs policies"
repositories = ["127.0.0.1:*/policies/*"]
identities = ["ci"]
`)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)
	f.attachBundle(t, ref, v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{}))
	a, err := dist.Pull(t.Context(), ref, f.opts(t))
	require.NoError(t, err)
	require.Equal(t, []string{"ci"}, a.Verified.Keys)
	require.Len(t, a.Verified.Keyless, 1)
	require.Equal(t, ciSubject, a.Verified.Keyless[0].Subject)
	require.Equal(t, "keyless:"+ciSubject, a.Signatures[0].KeyID)

	ref2 := f.ref(t, "policies/forked:1.0.0")
	d2 := f.push(t, ref2, f.module, &f.cfg)
	f.attachBundle(t, ref2, v.SignImage(t, ciSubject+"-fork", ciIssuer, d2, disttest.KeylessOptions{}))
	_, err = dist.Pull(t.Context(), ref2, f.opts(t))
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, `rule "ci signs policies"`)
}
