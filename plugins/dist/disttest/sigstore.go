package disttest

import (
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
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// dist's constants (disttest does not import dist): the bundle media type
// and cosign's sign predicate.
const (
	bundleMediaType         = "application/vnd.dev.sigstore.bundle.v0.3+json"
	cosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"
)

// A Sigstore is sigstore-go's virtual Sigstore (pkg/testing/ca: a Fulcio
// CA, a Rekor log and a timestamp authority in memory), with its trusted
// root written as a trusted_root.json. It signs keyless bundles as cosign
// writes them. Nothing uses the network.
type Sigstore struct {
	vs *ca.VirtualSigstore
	// Dir holds trusted_root.json, the instance's pinned trusted root.
	Dir string
}

// NewSigstore starts a virtual Sigstore for the test.
func NewSigstore(t testing.TB) *Sigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	require.NoError(t, err)
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), rawLogIDs(t, vs.CTLogs()), vs.TimestampingAuthorities(), rawLogIDs(t, vs.RekorLogs()))
	require.NoError(t, err)
	js, err := tr.MarshalJSON()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "trusted_root.json"), js, 0o644))
	return &Sigstore{vs: vs, Dir: dir}
}

// rawLogIDs copies the virtual Sigstore's logs with their IDs as bytes:
// it keeps them as hex text, which its map keys match in memory but a
// trusted_root.json (whose keyId is the bytes, keyed by their hex) would
// not.
func rawLogIDs(t testing.TB, logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
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

// KeylessOptions change how a keyless bundle is made, for refusal tests.
type KeylessOptions struct {
	At           time.Time // the log's integrated time; zero: in the certificate's validity
	NoTlog       bool      // leave out the transparency-log entry
	NoTimestamps bool      // leave out the RFC 3161 timestamps
}

// SignImage signs the manifest digest as cosign sign does, keyless, and
// returns the Sigstore bundle's JSON.
func (v *Sigstore) SignImage(t testing.TB, subject, issuer, digest string, o KeylessOptions) []byte {
	t.Helper()
	stmt := fmt.Sprintf(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":%q}}],"predicateType":%q,"predicate":{}}`,
		digest[len("sha256:"):], cosignSignPredicateType)
	at := o.At
	if at.IsZero() {
		at = time.Now().Add(5 * time.Minute) // as VirtualSigstore.Attest
	}
	e, err := v.vs.AttestAtTime(subject, issuer, []byte(stmt), at, true)
	require.NoError(t, err)
	return v.bundle(t, e, o)
}

// SignBlob signs a file as cosign sign-blob --bundle does, keyless.
func (v *Sigstore) SignBlob(t testing.TB, subject, issuer string, data []byte) []byte {
	t.Helper()
	e, err := v.vs.SignAtTime(subject, issuer, data, time.Now().Add(5*time.Minute))
	require.NoError(t, err)
	return v.bundle(t, e, KeylessOptions{})
}

// bundle turns the virtual Sigstore's entity into a v0.3 bundle, as
// cosign writes one: the leaf certificate, the tlog entry with its
// inclusion promise (and proof, when there is one), the timestamps.
func (v *Sigstore) bundle(t testing.TB, e *ca.TestEntity, o KeylessOptions) []byte {
	t.Helper()
	vc, err := e.VerificationContent()
	require.NoError(t, err)
	pb := &protobundle.Bundle{
		MediaType: bundleMediaType,
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
	if !o.NoTlog {
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
	if !o.NoTimestamps {
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
