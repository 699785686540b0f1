package dist

// Cosign-compatible signatures: keys as cosign writes them, Sigstore
// bundles as cosign v3 signs images (a DSSE envelope over an in-toto
// statement with cosign's sign predicate, attached as an OCI referrer), the
// older simple-signing form of cosign's sha256-HEX.sig tag, and bundles of
// local files as `cosign sign-blob --bundle` writes them. The formats are
// sigstore-go's and sigstore/sigstore's: nothing here encodes or checks a
// signature by hand.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	intoto "github.com/in-toto/attestation/go/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
	sigoptions "github.com/sigstore/sigstore/pkg/signature/options"
	sigpayload "github.com/sigstore/sigstore/pkg/signature/payload"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// Media types, annotations and the predicate of cosign's signatures.
const (
	// BundleMediaType is the media type of a Sigstore bundle (v0.3), and
	// the artifactType of the referrer manifest that carries one.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// CosignSignPredicateType is the in-toto predicate type of the
	// statement `cosign sign` signs: "this image is signed". Bundles with
	// other predicates (attestations such as SBOMs) are not signatures.
	CosignSignPredicateType = "https://sigstore.dev/cosign/sign/v1"

	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	annotationCosignSig    = "dev.cosignproject.cosign/signature"
	annotationBundlePred   = "dev.sigstore.bundle.predicateType"
	annotationBundleKind   = "dev.sigstore.bundle.content"
	intotoPayloadType      = "application/vnd.in-toto+json"
)

// A SignatureFormat says how a signature is encoded.
type SignatureFormat string

const (
	// FormatBundle: a Sigstore bundle, as cosign v3 attaches to an image
	// (an OCI referrer) or writes for a file (cosign sign-blob --bundle).
	FormatBundle SignatureFormat = "sigstore-bundle"
	// FormatSigTag: a simple-signing payload and its signature in a layer
	// of the image at cosign's sha256-HEX.sig tag (cosign before v3, and
	// v3 with --new-bundle-format=false).
	FormatSigTag SignatureFormat = "cosign-sig-tag"
	// FormatLegacy: codexhost's own ed25519 envelope (before cosign
	// compatibility); verified only under legacy-signatures = true.
	FormatLegacy SignatureFormat = "codexhost-ed25519"
)

// ErrLegacyKey: an ed25519 private key, which signs only codexhost's
// legacy format (SignLegacy, SignStatement); cosign-compatible signatures
// need a cosign key pair (GenerateCosignKeyPair).
var ErrLegacyKey = errors.New("dist: a legacy ed25519 key")

// ErrPassword: an encrypted private key and no password, or the wrong one.
var ErrPassword = errors.New("dist: wrong or missing password for the encrypted private key")

// A SigningKey signs plugins. It is immutable and safe for concurrent use.
type SigningKey struct {
	sv  signature.SignerVerifier
	pub crypto.PublicKey
	alg signature.AlgorithmDetails
}

// GenerateCosignKeyPair returns a new ECDSA P-256 key pair in cosign's
// files: the private key encrypted with password ("ENCRYPTED SIGSTORE
// PRIVATE KEY", as `cosign generate-key-pair` writes cosign.key) and the
// PKIX public key (cosign.pub). An empty password still encrypts, as
// cosign does.
func GenerateCosignKeyPair(password []byte) (privPEM, pubPEM []byte, err error) {
	return cryptoutils.GeneratePEMEncodedECDSAKeyPair(elliptic.P256(), func(bool) ([]byte, error) {
		return append([]byte{}, password...), nil // never nil: nil means unencrypted
	})
}

// LoadSigningKey reads a private key in PEM: cosign's encrypted key files
// (ENCRYPTED SIGSTORE PRIVATE KEY or ENCRYPTED COSIGN PRIVATE KEY, opened
// with password), or an unencrypted PKCS #8, SEC 1 or PKCS #1 ECDSA or RSA
// key. An ed25519 key is ErrLegacyKey: read it with ParsePrivateKey.
//
// # Errors
//
//   - ErrPassword: an encrypted key that password does not open.
//   - ErrBadKey: anything else that is not such a key.
func LoadSigningKey(pemBytes, password []byte) (*SigningKey, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || !strings.HasSuffix(blk.Type, "PRIVATE KEY") {
		return nil, fmt.Errorf("%w: want a PEM private key (cosign.key, or a PKCS #8 \"PRIVATE KEY\")", ErrBadKey)
	}
	encrypted := strings.HasPrefix(blk.Type, "ENCRYPTED ")
	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(pemBytes, func(bool) ([]byte, error) { return append([]byte{}, password...), nil })
	if err != nil {
		if encrypted {
			return nil, fmt.Errorf("%w (%v)", ErrPassword, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	var sv signature.SignerVerifier
	switch k := priv.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey:
		sv, err = signature.LoadSignerVerifier(k, crypto.SHA256)
	case ed25519.PrivateKey:
		// cosign signs with ed25519 keys as ed25519ph, and codexhost's
		// ed25519 keys are the legacy format's: see SignLegacy.
		return nil, fmt.Errorf("%w: an ed25519 key (codexhost plugin keygen --legacy): it signs only the legacy format", ErrLegacyKey)
	default:
		return nil, fmt.Errorf("%w: a %T private key", ErrBadKey, priv)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	alg, err := signature.GetDefaultAlgorithmDetails(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return &SigningKey{sv: sv, pub: pub, alg: alg}, nil
}

// Public returns the public key.
func (k *SigningKey) Public() crypto.PublicKey { return k.pub }

// ID returns the key's [KeyID].
func (k *SigningKey) ID() string { return KeyID(k.pub) }

// keypair adapts k to sigstore-go's sign.Keypair (as cosign's
// SignerVerifierKeypair does).
type keypair struct{ k *SigningKey }

func (p keypair) GetHashAlgorithm() protocommon.HashAlgorithm { return p.k.alg.GetProtoHashType() }
func (p keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return p.k.alg.GetSignatureAlgorithm()
}
func (p keypair) GetHint() []byte { return []byte(keyHint(p.k.pub)) }
func (p keypair) GetKeyAlgorithm() string {
	switch p.k.alg.GetKeyType() {
	case signature.ECDSA:
		return "ECDSA"
	case signature.RSA:
		return "RSA"
	case signature.ED25519:
		return "ED25519"
	}
	return ""
}
func (p keypair) GetPublicKey() crypto.PublicKey { return p.k.pub }
func (p keypair) GetPublicKeyPem() (string, error) {
	b, err := cryptoutils.MarshalPublicKeyToPEM(p.k.pub)
	return string(b), err
}
func (p keypair) SignData(ctx context.Context, data []byte) ([]byte, []byte, error) {
	var digest []byte
	opts := []signature.SignOption{sigoptions.WithContext(ctx)}
	if h := p.k.alg.GetHashType(); h != 0 {
		hh := h.New()
		hh.Write(data)
		digest = hh.Sum(nil)
		opts = append(opts, sigoptions.WithDigest(digest))
	}
	sig, err := p.k.sv.SignMessage(bytes.NewReader(data), opts...)
	return sig, digest, err
}

// keyHint is the public key hint cosign puts in a keyed bundle: the
// base64 sha256 of the PKIX DER key.
func keyHint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// signImageBundle signs the OCI manifest with digest ("sha256:HEX") as
// `cosign sign` v3 does: a DSSE envelope over an in-toto statement with
// that subject digest and the cosign sign predicate, in a Sigstore bundle.
// There is no transparency-log entry (as cosign sign --tlog-upload=false).
func signImageBundle(ctx context.Context, key *SigningKey, digest string) ([]byte, error) {
	algo, hexDigest, _ := strings.Cut(digest, ":")
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       []*intoto.ResourceDescriptor{{Digest: map[string]string{algo: hexDigest}}},
		PredicateType: CosignSignPredicateType,
		Predicate:     &structpb.Struct{},
	}
	payload, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	return signBundle(ctx, key, &sign.DSSEData{Data: payload, PayloadType: intotoPayloadType})
}

// signBlobBundle signs data as `cosign sign-blob --bundle` does: a message
// signature over its sha256 in a Sigstore bundle.
func signBlobBundle(ctx context.Context, key *SigningKey, data []byte) ([]byte, error) {
	return signBundle(ctx, key, &sign.PlainData{Data: data})
}

func signBundle(ctx context.Context, key *SigningKey, content sign.Content) ([]byte, error) {
	b, err := sign.Bundle(content, keypair{key}, sign.BundleOptions{Context: ctx})
	if err != nil {
		return nil, err
	}
	return protojson.Marshal(b)
}

// A keyVerifier verifies bundles and simple signatures with one public key.
type keyVerifier struct {
	pub  crypto.PublicKey
	hint string
	sv   *verify.Verifier
	sig  signature.Verifier
}

func newKeyVerifier(pub crypto.PublicKey) (*keyVerifier, error) {
	sig, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, err
	}
	key := root.NewExpiringKey(sig, time.Time{}, time.Time{})
	tm := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	// A keyed signature without a transparency log entry or timestamp,
	// as cosign sign --key --tlog-upload=false makes and cosign verify
	// --key --insecure-ignore-tlog accepts.
	sv, err := verify.NewVerifier(tm, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, err
	}
	return &keyVerifier{pub: pub, hint: keyHint(pub), sv: sv, sig: sig}, nil
}

// errNotThisKey: the signature names another key in its hint.
var errNotThisKey = errors.New("signed by another key")

// verifyBundle verifies a bundle against the artifact with digest
// ("sha256:HEX"). image says the bundle must be a cosign image signature
// (a DSSE in-toto statement with the sign predicate); otherwise it is a
// signature of a file with that digest.
func (kv *keyVerifier) verifyBundle(b *sgbundle.Bundle, digest string, image bool) error {
	vm := b.GetVerificationMaterial()
	if pk := vm.GetPublicKey(); pk != nil && pk.GetHint() != "" && pk.GetHint() != kv.hint {
		return errNotThisKey
	}
	if vm.GetCertificate() != nil || vm.GetX509CertificateChain() != nil {
		return errNotThisKey // keyless: it counts only for an identity
	}
	algo, hexDigest, _ := strings.Cut(digest, ":")
	raw, err := hex.DecodeString(hexDigest)
	if err != nil || algo != "sha256" {
		return fmt.Errorf("bad digest %q", digest)
	}
	res, err := kv.sv.Verify(b, verify.NewPolicy(verify.WithArtifactDigest(algo, raw), verify.WithKey()))
	if err != nil {
		return err
	}
	return checkStatement(res, image)
}

// checkStatement says whether a verified bundle is a signature of an OCI
// artifact (image: a DSSE in-toto statement with cosign's sign predicate)
// or of a file (a message signature).
func checkStatement(res *verify.VerificationResult, image bool) error {
	if image {
		if res.Statement == nil {
			return errors.New("a message signature, not a signature of an OCI artifact")
		}
		if res.Statement.GetPredicateType() != CosignSignPredicateType {
			return fmt.Errorf("an attestation of %q, not a cosign signature", res.Statement.GetPredicateType())
		}
	} else if res.Statement != nil {
		return errors.New("a DSSE statement, not a signature of a file")
	}
	return nil
}

// verifySimple verifies a simple-signing payload of the sha256-HEX.sig tag
// and returns the manifest digest it names.
func (kv *keyVerifier) verifySimple(payload, sig []byte) (string, error) {
	if err := kv.sig.VerifySignature(bytes.NewReader(sig), bytes.NewReader(payload)); err != nil {
		return "", err
	}
	var sci sigpayload.SimpleContainerImage
	if err := json.Unmarshal(payload, &sci); err != nil {
		return "", fmt.Errorf("signed payload: %v", err)
	}
	if sci.Critical.Type != sigpayload.CosignSignatureType {
		return "", fmt.Errorf("signed payload of type %q", sci.Critical.Type)
	}
	return sci.Critical.Image.DockerManifestDigest, nil
}

// parseBundle decodes a Sigstore bundle's JSON.
func parseBundle(b []byte) (*sgbundle.Bundle, error) {
	var bun sgbundle.Bundle
	if err := bun.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("%w: not a Sigstore bundle: %v", ErrBadSignature, err)
	}
	return &bun, nil
}

// ParseSignatureFile reads the signature file of a local plugin
// (SignatureFile): a Sigstore bundle (cosign sign-blob --bundle), or a
// legacy codexhost envelope.
func ParseSignatureFile(b []byte) Signature {
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if json.Unmarshal(b, &probe) == nil && strings.HasPrefix(probe.MediaType, "application/vnd.dev.sigstore.bundle") {
		return Signature{Format: FormatBundle, Envelope: b}
	}
	return Signature{Format: FormatLegacy, Envelope: b}
}

// hintKeyID turns a bundle's key hint (base64 sha256 of the PKIX key, as
// cosign writes it) into a [KeyID], or "" if it is not one.
func hintKeyID(hint string) string {
	b, err := base64.StdEncoding.DecodeString(hint)
	if err != nil || len(b) != sha256.Size {
		return ""
	}
	return "sha256:" + hex.EncodeToString(b)
}
