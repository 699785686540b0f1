package dist_test

// Keyless verification against sigstore-go's virtual Sigstore
// (pkg/testing/ca): a Fulcio CA, a Rekor log and a timestamp authority
// created in the test, whose trusted root is written as the policy's
// pinned trusted_root.json. Nothing here uses the network.

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/codexhost/codexhost/plugins/dist"
)

const (
	ciIssuer  = "https://token.actions.githubusercontent.com"
	ciSubject = "https://github.com/org/policies/.github/workflows/release.yml@refs/heads/main"
)

// virtualSigstore is a Sigstore instance of the test, and the directory
// holding its trusted_root.json.
type virtualSigstore struct {
	vs  *ca.VirtualSigstore
	dir string
}

func newVirtualSigstore(t *testing.T) *virtualSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	require.NoError(t, err)
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), rawLogIDs(t, vs.CTLogs()), vs.TimestampingAuthorities(), rawLogIDs(t, vs.RekorLogs()))
	require.NoError(t, err)
	js, err := tr.MarshalJSON()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trusted_root.json"), js, 0o644))
	return &virtualSigstore{vs: vs, dir: dir}
}

// rawLogIDs copies the virtual Sigstore's logs with their IDs as bytes:
// it keeps them as hex text, which its map keys match in memory but a
// trusted_root.json (whose keyId is the bytes, keyed by their hex) would
// not.
func rawLogIDs(t *testing.T, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
	t.Helper()
	out := make(map[string]*root.TransparencyLog, len(logs))
	for k, l := range logs {
		id, err := hex.DecodeString(k)
		require.NoError(t, err)
		c := *l
		c.ID = id
		out[k] = &c
	}
	return out
}

type bundleOpts struct {
	at           time.Time // the log's integrated time; zero: in the certificate's validity
	noTlog       bool      // leave out the transparency-log entry
	noTimestamps bool      // leave out the RFC 3161 timestamps
}

// signImage signs the manifest digest as cosign sign does, keyless, and
// returns the Sigstore bundle's JSON.
func (v *virtualSigstore) signImage(t *testing.T, subject, issuer, digest string, o bundleOpts) []byte {
	t.Helper()
	stmt := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":%q}}],"predicateType":%q,"predicate":{}}`,
		digest[len("sha256:"):], dist.CosignSignPredicateType)
	at := o.at
	if at.IsZero() {
		at = time.Now().Add(5 * time.Minute) // as VirtualSigstore.Attest
	}
	e, err := v.vs.AttestAtTime(subject, issuer, []byte(stmt), at, true)
	require.NoError(t, err)
	return v.bundle(t, e, o)
}

// signBlob signs a file as cosign sign-blob --bundle does, keyless.
func (v *virtualSigstore) signBlob(t *testing.T, subject, issuer string, data []byte) []byte {
	t.Helper()
	e, err := v.vs.SignAtTime(subject, issuer, data, time.Now().Add(5*time.Minute))
	require.NoError(t, err)
	return v.bundle(t, e, bundleOpts{})
}

// bundle turns the virtual Sigstore's entity into a v0.3 bundle, as
// cosign writes one: the leaf certificate, the tlog entry with its
// inclusion promise (and proof, when there is one), the timestamps.
func (v *virtualSigstore) bundle(t *testing.T, e *ca.TestEntity, o bundleOpts) []byte {
	t.Helper()
	vc, err := e.VerificationContent()
	require.NoError(t, err)
	pb := &protobundle.Bundle{
		MediaType: dist.BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_Certificate{Certificate: &protocommon.X509Certificate{RawBytes: vc.Certificate().Raw}},
		},
	}
	sc, err := e.SignatureContent()
	require.NoError(t, err)
	kind := "hashedrekord"
	switch c := sc.(type) {
	case *sgbundle.Envelope:
		kind = "dsse"
		raw := c.RawEnvelope()
		payload, err := base64.StdEncoding.DecodeString(raw.Payload)
		require.NoError(t, err)
		sig, err := base64.StdEncoding.DecodeString(raw.Signatures[0].Sig)
		require.NoError(t, err)
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload: payload, PayloadType: raw.PayloadType,
			Signatures: []*protodsse.Signature{{Sig: sig}},
		}}
	case *sgbundle.MessageSignature:
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: c.Digest()},
			Signature:     c.Signature(),
		}}
	default:
		t.Fatalf("signature content %T", sc)
	}
	if !o.noTlog {
		entries, err := e.TlogEntries()
		require.NoError(t, err)
		for _, entry := range entries {
			tle := proto.Clone(entry.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
			tle.KindVersion = &protorekor.KindVersion{Kind: kind, Version: "0.0.1"}
			set, err := v.vs.RekorSignPayload(tlog.RekorPayload{
				Body:           base64.StdEncoding.EncodeToString(tle.CanonicalizedBody),
				IntegratedTime: tle.IntegratedTime,
				LogIndex:       tle.LogIndex,
				LogID:          hex.EncodeToString(tle.LogId.KeyId),
			})
			require.NoError(t, err)
			tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
			if tle.InclusionProof == nil { // a v0.3 bundle needs one
				ip, err := v.vs.GetInclusionProof(tle.CanonicalizedBody)
				require.NoError(t, err)
				hashes := make([][]byte, len(ip.Hashes))
				for i, h := range ip.Hashes {
					hashes[i], err = hex.DecodeString(h)
					require.NoError(t, err)
				}
				rootHash, err := hex.DecodeString(*ip.RootHash)
				require.NoError(t, err)
				tle.InclusionProof = &protorekor.InclusionProof{
					LogIndex: *ip.LogIndex, RootHash: rootHash, TreeSize: *ip.TreeSize, Hashes: hashes,
					Checkpoint: &protorekor.Checkpoint{Envelope: *ip.Checkpoint},
				}
			}
			pb.VerificationMaterial.TlogEntries = append(pb.VerificationMaterial.TlogEntries, tle)
		}
	}
	if !o.noTimestamps {
		tss, err := e.Timestamps()
		require.NoError(t, err)
		tvd := &protobundle.TimestampVerificationData{}
		for _, ts := range tss {
			tvd.Rfc3161Timestamps = append(tvd.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
		}
		pb.VerificationMaterial.TimestampVerificationData = tvd
	}
	js, err := protojson.Marshal(pb)
	require.NoError(t, err)
	return js
}

// policy parses a trust policy in v's directory, with v's trusted root.
func (v *virtualSigstore) policy(t *testing.T, body string) (*dist.TrustPolicy, error) {
	t.Helper()
	return dist.ParseTrustPolicy([]byte("trusted-root = \"trusted_root.json\"\n"+body), v.dir)
}

func (v *virtualSigstore) mustPolicy(t *testing.T, body string) *dist.TrustPolicy {
	t.Helper()
	p, err := v.policy(t, body)
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
	v := newVirtualSigstore(t)
	p := v.mustPolicy(t, ciPolicy)
	subj, d := imageSubject("manifest")
	got, err := p.Verify(bundleSig(v.signImage(t, ciSubject, ciIssuer, d, bundleOpts{})), subj)
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
	v := newVirtualSigstore(t)
	p := v.mustPolicy(t, ciPolicy)
	subj, d := imageSubject("manifest")
	for _, c := range []struct {
		name   string
		bundle func() []byte
		subj   *dist.Subject
		want   error
		msg    string
	}{
		{"wrong subject", func() []byte {
			return v.signImage(t, "https://github.com/org/other/.github/workflows/x.yml@refs/heads/main", ciIssuer, d, bundleOpts{})
		}, subj, dist.ErrUntrusted, "an identity which trust policy"},
		{"wrong issuer", func() []byte {
			return v.signImage(t, ciSubject, "https://accounts.google.com", d, bundleOpts{})
		}, subj, dist.ErrUntrusted, "issuer https://accounts.google.com"},
		{"tampered artifact", func() []byte {
			_, other := imageSubject("another manifest")
			return v.signImage(t, ciSubject, ciIssuer, other, bundleOpts{})
		}, subj, dist.ErrBadSignature, `for identity "ci" and does not verify: failed to verify signature: provided artifact digest does not match`},
		{"certificate expired at the log's time", func() []byte {
			// The leaf is valid for 10 minutes from now; the only
			// observer timestamp is the log's, 30 minutes from now.
			return v.signImage(t, ciSubject, ciIssuer, d, bundleOpts{at: time.Now().Add(30 * time.Minute), noTimestamps: true})
		}, subj, dist.ErrBadSignature, "integrated time outside certificate validity"},
		{"no tlog entry", func() []byte {
			return v.signImage(t, ciSubject, ciIssuer, d, bundleOpts{noTlog: true})
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
	v := newVirtualSigstore(t)
	p := v.mustPolicy(t, `
[identities.ci]
issuer-regexp = "https://token\\.actions\\.githubusercontent\\.com"
subject-regexp = "https://github\\.com/org/policies/.*@refs/heads/main"

[[rule]]
repositories = ["registry.example.com/policies/*"]
identities = ["ci"]
`)
	subj, d := imageSubject("manifest")
	_, err := p.Verify(bundleSig(v.signImage(t, ciSubject, ciIssuer, d, bundleOpts{})), subj)
	require.NoError(t, err)

	for _, c := range []struct{ subject, issuer string }{
		{"https://evil.example/?x=" + ciSubject, ciIssuer},
		{ciSubject + ".evil", ciIssuer},
		{ciSubject, ciIssuer + ".evil.example"},
		{ciSubject, "https://evil.example/" + ciIssuer},
	} {
		_, err := p.Verify(bundleSig(v.signImage(t, c.subject, c.issuer, d, bundleOpts{})), subj)
		require.ErrorIs(t, err, dist.ErrUntrusted, "%s from %s", c.subject, c.issuer)
	}
}

// A keyed bundle (no certificate) never satisfies an identity.
func TestKeylessKeyedBundleIsNoIdentity(t *testing.T) {
	v := newVirtualSigstore(t)
	p := v.mustPolicy(t, ciPolicy)
	key := newCosignKey(t)
	subj, d := imageSubject("manifest")
	b, err := dist.SignImageBundle(t.Context(), key, d)
	require.NoError(t, err)
	_, err = p.Verify(bundleSig(b), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
}

func newCosignKey(t *testing.T) *dist.SigningKey {
	t.Helper()
	priv, _, err := dist.GenerateCosignKeyPair([]byte("pw"))
	require.NoError(t, err)
	key, err := dist.LoadSigningKey(priv, []byte("pw"))
	require.NoError(t, err)
	return key
}

// all-of a key and an identity: both signatures are needed.
func TestKeylessAllOfKeyAndIdentity(t *testing.T) {
	v := newVirtualSigstore(t)
	key := newCosignKey(t)
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(key.Public())
	require.NoError(t, err)
	p := v.mustPolicy(t, `
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
	keyless := v.signImage(t, ciSubject, ciIssuer, d, bundleOpts{})
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
	v := newVirtualSigstore(t)
	p := v.mustPolicy(t, `
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
	_, err := p.Verify(bundleSig(v.signBlob(t, ciSubject, ciIssuer, module)), subj)
	require.NoError(t, err)

	sum = sha256.Sum256([]byte("other module"))
	_, err = p.Verify(bundleSig(v.signBlob(t, ciSubject, ciIssuer, module)), &dist.Subject{Module: "sha256:" + hex.EncodeToString(sum[:])})
	require.ErrorIs(t, err, dist.ErrBadSignature)
}

// Keyless settings that would leave a check to an optional field are
// refused when the policy loads.
func TestKeylessPolicyErrors(t *testing.T) {
	v := newVirtualSigstore(t)
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
			_, err := dist.ParseTrustPolicy([]byte(c.body), v.dir)
			require.ErrorIs(t, err, dist.ErrBadPolicy)
			require.ErrorContains(t, err, c.msg)
		})
	}

	require.NoError(t, os.WriteFile(filepath.Join(v.dir, "bad.json"), []byte(`{"mediaType": "x"}`), 0o644))
	_, err := dist.ParseTrustPolicy([]byte(`trusted-root = "bad.json"
[identities.ci]
issuer = "i"
subject = "s"
[[rule]]
repositories = ["r/*"]
identities = ["ci"]
`), v.dir)
	require.ErrorIs(t, err, dist.ErrBadPolicy)
}
