package dist_test

// Interoperability with the real cosign CLI (`make cosign`, the version
// tools/cosign/go.mod pins), against the real docker-registry on
// 127.0.0.1, which has no referrers API: signatures travel through the
// referrers tag schema (sha256-HEX) or cosign's sha256-HEX.sig tag.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// cosignRef is REGISTRY/REPOSITORY@DIGEST, as cosign takes it.
func cosignRef(ref dist.Ref, digest string) string {
	return ref.Name() + "@" + digest
}

func (f *fixture) keyFile(name string) string {
	return filepath.Join(filepath.Dir(f.policyFile), name)
}

func cosignSign(t *testing.T, key string, extra []string, target string) {
	t.Helper()
	args := append([]string{"sign", "--key", key}, disttest.CosignSignArgs...)
	args = append(append(args, extra...), target)
	_, err := disttest.RunCosign(t, "pw", args...)
	require.NoError(t, err)
}

func cosignVerify(t *testing.T, pub, target string) error {
	t.Helper()
	args := append([]string{"verify", "--key", pub}, disttest.CosignVerifyArgs...)
	_, err := disttest.RunCosign(t, "", append(args, target)...)
	return err
}

// cosign sign --key (a Sigstore bundle attached as a referrer, cosign v3's
// default) → codexhost verifies it under the trust policy.
func TestCosignSignedVerifiedByCodexhost(t *testing.T) {
	disttest.Cosign(t)
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)

	cosignSign(t, f.keyFile("a.key"), nil, cosignRef(ref, d))
	require.Contains(t, f.tags(t, "policies/deny-rm"), "sha256-"+d[len("sha256:"):], "the referrers tag schema")

	a, err := dist.Pull(t.Context(), ref, f.opts(t))
	require.NoError(t, err)
	require.NotNil(t, a.Verified)
	require.Equal(t, []string{"a"}, a.Verified.Keys)
	require.Equal(t, []dist.SignatureFormat{dist.FormatBundle}, a.Verified.Formats)
	require.Equal(t, f.a.ID(), a.Signatures[0].KeyID)

	// Signed by b with cosign: b is not trusted for policies/*.
	ref2 := f.ref(t, "policies/by-b:1.0.0")
	d2 := f.push(t, ref2, f.module, &f.cfg)
	cosignSign(t, f.keyFile("b.key"), nil, cosignRef(ref2, d2))
	_, err = dist.Pull(t.Context(), ref2, f.opts(t))
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, f.b.ID())

	// The same bytes, cached from by-b: resolving them in deny-rm fetches
	// deny-rm's signatures rather than calling them unsigned.
	o := f.opts(t)
	_, err = dist.Pull(t.Context(), ref2, o)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.Equal(t, d, d2)
	a, err = dist.Resolve(t.Context(), ref.WithDigest(d), o)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, a.Verified.Keys)
}

// codexhost signs → cosign verify --key accepts it, and refuses it with
// another key.
func TestCodexhostSignedVerifiedByCosign(t *testing.T) {
	disttest.Cosign(t)
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)
	_, err := dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)

	require.NoError(t, cosignVerify(t, f.keyFile("a.pub"), cosignRef(ref, d)))
	require.NoError(t, cosignVerify(t, f.keyFile("a.pub"), ref.Name()+":1.0.0"))
	require.Error(t, cosignVerify(t, f.keyFile("b.pub"), cosignRef(ref, d)))
}

// Tampered signatures are refused by cosign and by codexhost: a valid
// bundle of one plugin attached to another, and a bundle whose signature
// bytes were changed.
func TestCosignTamperedRefusedByBoth(t *testing.T) {
	disttest.Cosign(t)
	f := newFixture(t)
	ctx := t.Context()
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)
	cosignSign(t, f.keyFile("a.key"), nil, cosignRef(ref, d))
	genuine, err := dist.Pull(ctx, ref, f.opts(t))
	require.NoError(t, err)
	bundle := genuine.Signatures[0].Envelope

	// Another plugin, with the genuine plugin's name, carrying the
	// genuine signature.
	evil := plugintest.GuestWasm(t, plugintest.GuestApproveAll)
	m := f.describe(t, evil)
	m.Name, m.Version = f.cfg.Manifest.Name, f.cfg.Manifest.Version
	evilRef := f.ref(t, "policies/deny-rm:evil")
	evilDigest := f.push(t, evilRef, evil, &dist.Config{Runtime: dist.RuntimeWasm, Manifest: m})
	f.attachBundle(t, evilRef, bundle)
	_, err = dist.Pull(ctx, evilRef, f.opts(t))
	require.ErrorIs(t, err, dist.ErrBadSignature)
	require.Error(t, cosignVerify(t, f.keyFile("a.pub"), cosignRef(evilRef, evilDigest)))

	// The genuine plugin in a new repository, with a forged signature.
	forgedRef := f.ref(t, "policies/forged:1.0.0")
	fd := f.push(t, forgedRef, f.module, &f.cfg)
	f.attachBundle(t, forgedRef, forgeBundle(t, bundle))
	_, err = dist.Pull(ctx, forgedRef, f.opts(t))
	require.ErrorIs(t, err, dist.ErrBadSignature)
	require.Error(t, cosignVerify(t, f.keyFile("a.pub"), cosignRef(forgedRef, fd)))
}

// forgeBundle changes one byte of the DSSE signature of a bundle.
func forgeBundle(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var b map[string]any
	require.NoError(t, json.Unmarshal(bundle, &b))
	sigs := b["dsseEnvelope"].(map[string]any)["signatures"].([]any)
	s := sigs[0].(map[string]any)
	raw, err := base64.StdEncoding.DecodeString(s["sig"].(string))
	require.NoError(t, err)
	raw[len(raw)/2] ^= 1
	s["sig"] = base64.StdEncoding.EncodeToString(raw)
	out, err := json.Marshal(b)
	require.NoError(t, err)
	return out
}

// attachBundle attaches bundle to the artifact ref names as cosign does: a
// referrer manifest whose one layer is the bundle.
func (f *fixture) attachBundle(t *testing.T, ref dist.Ref, bundle []byte) {
	t.Helper()
	ctx := t.Context()
	repo, err := remote.NewRepository(ref.Name())
	require.NoError(t, err)
	repo.PlainHTTP = true
	subject, err := repo.Resolve(ctx, ref.Tag)
	require.NoError(t, err)
	layer := content.NewDescriptorFromBytes(dist.BundleMediaType, bundle)
	cfg := ocispec.DescriptorEmptyJSON
	cfg.ArtifactType = dist.BundleMediaType
	for _, b := range []struct {
		d    ocispec.Descriptor
		data []byte
	}{{ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON.Data}, {layer, bundle}} {
		if ok, _ := repo.Exists(ctx, b.d); !ok {
			require.NoError(t, repo.Push(ctx, b.d, bytes.NewReader(b.data)))
		}
	}
	man := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: dist.BundleMediaType,
		Config: cfg, Layers: []ocispec.Descriptor{layer}, Subject: &ocispec.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size}}
	man.SchemaVersion = 2
	mb, err := json.Marshal(&man)
	require.NoError(t, err)
	require.NoError(t, repo.Push(ctx, content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, mb), bytes.NewReader(mb)))
}

// cosign's older storage form, the image at the sha256-HEX.sig tag (cosign
// sign --new-bundle-format=false): codexhost verifies it, and a .sig image
// copied to another artifact's tag is refused by both.
func TestCosignSigTagVerifiedByCodexhost(t *testing.T) {
	disttest.Cosign(t)
	f := newFixture(t)
	ctx := t.Context()
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)
	cosignSign(t, f.keyFile("a.key"), []string{"--new-bundle-format=false"}, cosignRef(ref, d))
	sigTag := strings.Replace(d, ":", "-", 1) + ".sig"
	require.Contains(t, f.tags(t, "policies/deny-rm"), sigTag)

	a, err := dist.Pull(ctx, ref, f.opts(t))
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, a.Verified.Keys)
	require.Equal(t, []dist.SignatureFormat{dist.FormatSigTag}, a.Verified.Formats)
	require.NoError(t, cosignVerify(t, f.keyFile("a.pub"), cosignRef(ref, d)))

	// The .sig image tagged for another artifact in the same repository.
	evil := plugintest.GuestWasm(t, plugintest.GuestApproveAll)
	m := f.describe(t, evil)
	evilRef := f.ref(t, "policies/deny-rm:evil")
	evilDigest := f.push(t, evilRef, evil, &dist.Config{Runtime: dist.RuntimeWasm, Manifest: m})
	repo, err := remote.NewRepository(ref.Name())
	require.NoError(t, err)
	repo.PlainHTTP = true
	desc, rc, err := repo.FetchReference(ctx, sigTag)
	require.NoError(t, err)
	sigManifest, err := content.ReadAll(rc, desc)
	rc.Close()
	require.NoError(t, err)
	require.NoError(t, repo.PushReference(context.Background(), desc, bytes.NewReader(sigManifest), strings.Replace(evilDigest, ":", "-", 1)+".sig"))
	_, err = dist.Pull(ctx, evilRef, f.opts(t))
	require.ErrorIs(t, err, dist.ErrBadSignature)
	require.Error(t, cosignVerify(t, f.keyFile("a.pub"), cosignRef(evilRef, evilDigest)))
}
