package dist

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// GenerateKey returns a new ed25519 key pair (codexhost plugin keygen
// --legacy; such a key signs cosign-compatible signatures too).
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivateKey encodes key as a PKCS #8 "PRIVATE KEY" PEM block (as
// `openssl genpkey -algorithm ed25519` writes it).
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes key as a PKIX "PUBLIC KEY" PEM block (as
// `openssl pkey -pubout` writes it).
func MarshalPublicKey(key ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes an ed25519 PKCS #8 PEM private key.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%w: want a PEM \"PRIVATE KEY\" block (PKCS #8 ed25519)", ErrBadKey)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: a %T, want ed25519", ErrBadKey, k)
	}
	return ek, nil
}

// ParsePublicKey decodes a PKIX PEM public key ("PUBLIC KEY", as
// cosign.pub and `openssl pkey -pubout` write it): ECDSA, RSA or ed25519.
func ParsePublicKey(b []byte) (crypto.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%w: want a PEM \"PUBLIC KEY\" block (PKIX, as in cosign.pub)", ErrBadKey)
	}
	k, err := cryptoutils.UnmarshalPEMToPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	switch k.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: a %T public key", ErrBadKey, k)
}

// KeyID identifies a public key: "sha256:" and the hex sha256 of its PKIX
// DER encoding (the same for the same key, whatever file it is in; the hex
// form of the hint cosign puts in a keyed bundle).
func KeyID(key crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		return "sha256:invalid"
	}
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// A Statement is what a signature says: "the plugin Name at Version is the
// module with digest Module, published as the artifact Artifact in
// Repository". Everything a verifier relies on is in it; nothing is taken
// from unsigned fields of the artifact.
type Statement struct {
	// Type is StatementType.
	Type string `json:"type"`
	// Artifact is the digest of the plugin's OCI image manifest. Empty in
	// the statement of a local file.
	Artifact string `json:"artifact,omitempty"`
	// Repository is REGISTRY/REPOSITORY the artifact was signed in
	// (Ref.Name). Empty for a local file.
	Repository string `json:"repository,omitempty"`
	// Module is the digest of the module bytes (the layer).
	Module string `json:"module"`
	// Runtime is the module's runtime.
	Runtime Runtime `json:"runtime"`
	// Name and Version are the plugin's, from its manifest.
	Name    string `json:"name"`
	Version string `json:"version"`
}

// An Envelope carries a signed [Statement]: the signature is over
// signingPrefix followed by Payload, the statement's JSON exactly as
// signed (the verifier decodes the bytes it verified, never a re-encoding).
type Envelope struct {
	// Payload is the statement JSON (base64 in the envelope's JSON).
	Payload []byte `json:"payload"`
	// KeyID names the signing key ([KeyID]); it selects the key to try,
	// and is not trusted: the signature decides.
	KeyID string `json:"keyid"`
	// Sig is the ed25519 signature.
	Sig []byte `json:"sig"`
}

// signingPrefix separates codexhost statement signatures from any other
// use of the same key (domain separation).
const signingPrefix = "codexhost-plugin-signature-v1\x00"

// SignStatement signs st with key and returns the envelope's JSON.
func SignStatement(st *Statement, key ed25519.PrivateKey) ([]byte, error) {
	s := *st
	s.Type = StatementType
	payload, err := json.Marshal(&s)
	if err != nil {
		return nil, err
	}
	msg := append([]byte(signingPrefix), payload...)
	env := Envelope{
		Payload: payload,
		KeyID:   KeyID(key.Public().(ed25519.PublicKey)),
		Sig:     ed25519.Sign(key, msg),
	}
	return json.Marshal(&env)
}

// openEnvelope decodes an envelope and verifies it with pub; on success it
// returns the statement it carries.
func openEnvelope(env *Envelope, pub ed25519.PublicKey) (*Statement, error) {
	msg := append([]byte(signingPrefix), env.Payload...)
	if !ed25519.Verify(pub, msg, env.Sig) {
		return nil, fmt.Errorf("%w: the signature by key %s does not verify", ErrBadSignature, env.KeyID)
	}
	dec := json.NewDecoder(bytes.NewReader(env.Payload))
	dec.DisallowUnknownFields()
	var st Statement
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: signed statement: %v", ErrBadSignature, err)
	}
	if st.Type != StatementType {
		return nil, fmt.Errorf("%w: signed statement of type %q, want %q", ErrBadSignature, st.Type, StatementType)
	}
	return &st, nil
}

func parseEnvelope(b []byte) (*Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%w: not a signature envelope: %v", ErrBadSignature, err)
	}
	if len(env.Payload) == 0 || len(env.Sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: envelope without payload or ed25519 signature", ErrBadSignature)
	}
	return &env, nil
}
