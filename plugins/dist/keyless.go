package dist

// Keyless verification: a Sigstore bundle whose signing key is in a
// short-lived Fulcio certificate for an OIDC identity (a CI workflow, a
// person), logged in a Rekor transparency log, checked offline against a
// pinned Sigstore trusted root (trusted_root.json) as `cosign verify
// --certificate-identity(-regexp) --certificate-oidc-issuer(-regexp)
// --trusted-root FILE` does. The checks are sigstore-go's.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// errNoCertificate: the bundle is keyed (a public key hint), so it
// satisfies no identity.
var errNoCertificate = errors.New("no certificate: a keyed signature, not a keyless one")

// errNotThisIdentity: the bundle's certificate is for another identity.
var errNotThisIdentity = errors.New("certified for another identity")

// bundleLeaf summarizes the bundle's signing certificate (unverified: for
// matching and messages only), or is errNoCertificate.
func bundleLeaf(b *sgbundle.Bundle) (certificate.Summary, error) {
	vc, err := b.VerificationContent()
	if err != nil {
		return certificate.Summary{}, err
	}
	c := vc.Certificate()
	if c == nil {
		return certificate.Summary{}, errNoCertificate
	}
	return certificate.SummarizeCertificate(c)
}

// An identityVerifier verifies keyless bundles for one certificate
// identity. It is immutable and safe for concurrent use.
type identityVerifier struct {
	sv *verify.Verifier
	id verify.CertificateIdentity
}

// anchor makes a regexp match the whole string, as cosign's
// --certificate-identity-regexp users expect and a substring match would
// not give: "https://github.com/org/repo/.*" must not match
// "https://evil.example/?https://github.com/org/repo/x".
func anchor(re string) string {
	if re == "" {
		return ""
	}
	return `^(?:` + re + `)$`
}

// newIdentityVerifier checks the identity's settings and builds its
// verifier over tm. Exact values are matched exactly; regexps are matched
// against the whole value.
func newIdentityVerifier(tm root.TrustedMaterial, issuer, issuerRegexp, subject, subjectRegexp string) (*identityVerifier, error) {
	if tm == nil {
		return nil, errors.New("no trusted root: set trusted-root")
	}
	if (issuer == "") == (issuerRegexp == "") {
		return nil, errors.New("give exactly one of issuer and issuer-regexp")
	}
	if (subject == "") == (subjectRegexp == "") {
		return nil, errors.New("give exactly one of subject and subject-regexp")
	}
	for _, re := range []string{issuerRegexp, subjectRegexp} {
		// On its own first: "x)|(.*" compiles once anchored, as
		// ^(?:x)|(.*)$, which matches anything.
		if _, err := regexp.Compile(re); err != nil {
			return nil, err
		}
		if _, err := regexp.Compile(anchor(re)); err != nil {
			return nil, err
		}
	}
	id, err := verify.NewShortCertificateIdentity(issuer, anchor(issuerRegexp), subject, anchor(subjectRegexp))
	if err != nil {
		return nil, err
	}
	// At least one transparency-log entry, verified against the trusted
	// root's Rekor keys, and at least one observer timestamp (the log's
	// integrated time or an RFC 3161 timestamp from a trusted TSA) at
	// which the certificate was valid: cosign verify's defaults, without
	// the certificate transparency (SCT) check.
	sv, err := verify.NewVerifier(tm, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	if err != nil {
		return nil, err
	}
	return &identityVerifier{sv: sv, id: id}, nil
}

// A KeylessSigner says who signed a keyless signature that verified.
type KeylessSigner struct {
	// Identity is the trust policy's name of the identity.
	Identity string
	// Subject and Issuer are the certificate's identity (its SAN) and
	// OIDC issuer.
	Subject, Issuer string
	// LogIndex is the index of the transparency-log entry, and
	// IntegratedTime the time the log recorded it.
	LogIndex       int64
	IntegratedTime time.Time
}

func (s KeylessSigner) String() string {
	return fmt.Sprintf("%s (issuer %s) at %s, tlog index %d", s.Subject, s.Issuer, s.IntegratedTime.UTC().Format(time.RFC3339), s.LogIndex)
}

// verifyBundle verifies a keyless bundle about the artifact with digest
// ("sha256:HEX"), as keyVerifier.verifyBundle does, and returns who signed.
func (iv *identityVerifier) verifyBundle(b *sgbundle.Bundle, digest string, image bool) (KeylessSigner, error) {
	vm := b.GetVerificationMaterial()
	leaf, err := bundleLeaf(b)
	if err != nil {
		return KeylessSigner{}, err
	}
	// As the key hint for keys: a certificate for another identity is
	// not this identity's signature (which the policy may still accept
	// under another), and not a forgery either.
	if err := iv.id.Verify(leaf); err != nil {
		return KeylessSigner{Subject: leaf.SubjectAlternativeName, Issuer: leaf.Issuer}, fmt.Errorf("%w: %v", errNotThisIdentity, err)
	}
	if len(vm.GetTlogEntries()) == 0 {
		return KeylessSigner{}, errors.New("no transparency-log entry")
	}
	algo, raw, err := digestBytes(digest)
	if err != nil {
		return KeylessSigner{}, err
	}
	res, err := iv.sv.Verify(b, verify.NewPolicy(verify.WithArtifactDigest(algo, raw), verify.WithCertificateIdentity(iv.id)))
	if err != nil {
		return KeylessSigner{}, err
	}
	if err := checkStatement(res, image); err != nil {
		return KeylessSigner{}, err
	}
	s := KeylessSigner{}
	if res.Signature != nil && res.Signature.Certificate != nil {
		s.Subject = res.Signature.Certificate.SubjectAlternativeName
		s.Issuer = res.Signature.Certificate.Issuer
	}
	if len(res.VerifiedTimestamps) == 0 {
		return KeylessSigner{}, errors.New("no verified timestamp")
	}
	s.LogIndex = vm.GetTlogEntries()[0].GetLogIndex()
	s.IntegratedTime = time.Unix(vm.GetTlogEntries()[0].GetIntegratedTime(), 0).UTC()
	return s, nil
}

// digestBytes splits "sha256:HEX".
func digestBytes(digest string) (string, []byte, error) {
	algo, hexDigest, _ := strings.Cut(digest, ":")
	raw, err := hex.DecodeString(hexDigest)
	if err != nil || algo != "sha256" || len(raw) != 32 {
		return "", nil, fmt.Errorf("bad digest %q", digest)
	}
	return algo, raw, nil
}

// loadTrustedRoot reads a Sigstore trusted_root.json.
func loadTrustedRoot(path string) (root.TrustedMaterial, error) {
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, err
	}
	return tr, nil
}
