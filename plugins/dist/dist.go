// Package dist distributes plugins through OCI registries, signed and
// pinned: a team publishes a plugin once, and every codexhost that loads it
// runs exactly those bytes, verified against the operator's trust policy,
// without trusting the registry or the network in between.
//
// A plugin artifact is an OCI image manifest (artifactType [ArtifactType])
// whose config blob is a [Config] (the plugin's abi.Manifest, its runtime
// and, for process plugins, its platform) and whose one layer is the
// module: a Wasm binary or a process plugin executable. A signature is a
// second artifact ([SignatureArtifactType]) that refers to the plugin's
// manifest through the OCI subject field (found with the referrers API, or
// the referrers tag schema on registries without it); its one layer is an
// ed25519 [Envelope] over a [Statement] that names the manifest digest, the
// module digest, the repository, and the plugin's name and version.
//
// [Pull] and [Resolve] fetch into a content-addressed [Cache]; loading a
// digest reference that is cached never touches the network. A
// [TrustPolicy] decides which keys may sign which plugins; when one is
// given, [Resolve] returns only module bytes whose digest is the one a
// trusted signature names. See docs/distribution.md for the format, the
// trust policy file and the threat model.
//
// # Concurrency
//
// Every function is safe for concurrent use, and so are a [Cache] and a
// [TrustPolicy]; several processes may share one cache directory. Each call
// that reaches a registry takes a context, which bounds it.
package dist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"oras.land/oras-go/v2/registry"

	"github.com/codexhost/codexhost/abi"
)

// Media and artifact types of codexhost's OCI artifacts.
const (
	// ArtifactType is the artifactType of a plugin's image manifest.
	ArtifactType = "application/vnd.codexhost.plugin.v1"
	// ConfigMediaType is the media type of a plugin's config blob, a
	// [Config] in JSON.
	ConfigMediaType = "application/vnd.codexhost.plugin.config.v1+json"
	// WasmLayerMediaType is the media type of a Wasm module layer.
	WasmLayerMediaType = "application/vnd.codexhost.plugin.wasm.v1"
	// ProcessLayerMediaType is the media type of a process plugin
	// executable layer.
	ProcessLayerMediaType = "application/vnd.codexhost.plugin.process.v1"
	// SignatureArtifactType is the artifactType of a signature manifest.
	SignatureArtifactType = "application/vnd.codexhost.signature.v1"
	// SignatureMediaType is the media type of a signature layer, an
	// [Envelope] in JSON.
	SignatureMediaType = "application/vnd.codexhost.signature.v1+json"
	// StatementType is the Type of every [Statement] of this version.
	StatementType = "codexhost.dev/plugin-statement/v1"
	// RefScheme prefixes a registry reference on the command line.
	RefScheme = "oci://"
)

// Errors. Each one wraps into an error whose message names the artifact
// and what to do.
var (
	// ErrBadRef: the reference is not oci://REGISTRY/REPOSITORY[:TAG][@sha256:HEX].
	ErrBadRef = errors.New("dist: invalid reference")
	// ErrNotPlugin: the artifact is not a codexhost plugin of this
	// version (wrong artifact or media type, or a malformed config).
	ErrNotPlugin = errors.New("dist: not a codexhost plugin artifact")
	// ErrNotCached: an offline resolve needs content the cache lacks.
	ErrNotCached = errors.New("dist: not in the cache")
	// ErrCorrupt: cached content does not hash to its digest.
	ErrCorrupt = errors.New("dist: cached content is corrupt")
	// ErrDigestMismatch: content does not match the digest that names it
	// (a tampered blob, a manifest that is not the pinned one, module
	// bytes that are not the signed ones).
	ErrDigestMismatch = errors.New("dist: digest mismatch")
	// ErrUnsigned: the trust policy requires a signature and the
	// artifact has none.
	ErrUnsigned = errors.New("dist: unsigned")
	// ErrUntrusted: the artifact is signed, but by no key the trust policy
	// trusts for its repository and name.
	ErrUntrusted = errors.New("dist: not signed by a trusted key")
	// ErrBadSignature: a signature does not verify, or its statement does
	// not describe this artifact.
	ErrBadSignature = errors.New("dist: bad signature")
	// ErrBadPolicy: the trust policy file is invalid.
	ErrBadPolicy = errors.New("dist: invalid trust policy")
	// ErrBadKey: a key file is not an ed25519 key in PEM.
	ErrBadKey = errors.New("dist: invalid key")
	// ErrWrongPlatform: a process plugin built for another OS or
	// architecture.
	ErrWrongPlatform = errors.New("dist: built for another platform")
)

// A Runtime is the kind of module an artifact carries.
type Runtime string

const (
	// RuntimeWasm: a WebAssembly module for plugins/wasm.
	RuntimeWasm Runtime = "wasm"
	// RuntimeProcess: an executable for plugins/process.
	RuntimeProcess Runtime = "process"
)

// layerMediaType returns the layer media type of the runtime.
func (r Runtime) layerMediaType() (string, bool) {
	switch r {
	case RuntimeWasm:
		return WasmLayerMediaType, true
	case RuntimeProcess:
		return ProcessLayerMediaType, true
	}
	return "", false
}

// Config is a plugin artifact's config blob.
type Config struct {
	// Runtime says which runtime loads the module.
	Runtime Runtime `json:"runtime"`
	// OS and Arch are the platform of a process plugin (GOOS, GOARCH
	// spelling); empty for Wasm.
	OS   string `json:"os,omitempty"`
	Arch string `json:"arch,omitempty"`
	// Manifest is what the plugin describes itself with. The host
	// refuses a module whose describe does not return exactly this.
	Manifest abi.Manifest `json:"manifest"`
}

// A Ref is a parsed registry reference. Digest, when set, pins the
// artifact: Tag is then informational and never resolved.
type Ref struct {
	// Registry is the registry host, with its port if any.
	Registry string
	// Repository is the repository path inside the registry.
	Repository string
	// Tag is the tag, or "".
	Tag string
	// Digest is "sha256:" and 64 lower-case hex digits, or "".
	Digest string
}

// IsRef reports whether s is meant as a registry reference (starts with
// oci://), valid or not.
func IsRef(s string) bool { return strings.HasPrefix(s, RefScheme) }

// ParseRef parses oci://REGISTRY/REPOSITORY[:TAG][@sha256:HEX]. A
// reference needs a tag or a digest.
func ParseRef(s string) (Ref, error) {
	if !IsRef(s) {
		return Ref{}, fmt.Errorf("%w: %q does not start with %s", ErrBadRef, s, RefScheme)
	}
	rest := strings.TrimPrefix(s, RefScheme)
	var r Ref
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		d, err := normDigest(rest[i+1:])
		if err != nil {
			return Ref{}, fmt.Errorf("%w: %q: %v", ErrBadRef, s, err)
		}
		r.Digest = d
		rest = rest[:i]
	}
	if !strings.Contains(rest, "/") {
		return Ref{}, fmt.Errorf("%w: %q names no repository; want %sREGISTRY/REPOSITORY:TAG", ErrBadRef, s, RefScheme)
	}
	pr, err := registry.ParseReference(rest)
	if err != nil {
		return Ref{}, fmt.Errorf("%w: %q: want %sREGISTRY/REPOSITORY:TAG or @sha256:DIGEST (lower-case repository)", ErrBadRef, s, RefScheme)
	}
	r.Registry, r.Repository = pr.Registry, pr.Repository
	if pr.Reference != "" {
		if err := pr.ValidateReferenceAsTag(); err != nil {
			return Ref{}, fmt.Errorf("%w: %q: bad tag %q", ErrBadRef, s, pr.Reference)
		}
		r.Tag = pr.Reference
	}
	if r.Tag == "" && r.Digest == "" {
		return Ref{}, fmt.Errorf("%w: %q names no tag or digest; add :TAG or @sha256:DIGEST", ErrBadRef, s)
	}
	return r, nil
}

// Name is REGISTRY/REPOSITORY, the name trust policy rules match and
// statements bind.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// String returns the reference in the oci:// form.
func (r Ref) String() string {
	s := RefScheme + r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// WithDigest returns r pinned to digest.
func (r Ref) WithDigest(digest string) Ref {
	r.Digest = digest
	return r
}

// reference is the tag or digest to resolve in the repository.
func (r Ref) reference() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// Digest returns the "sha256:HEX" digest of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// normDigest accepts "sha256:HEX" or bare HEX and returns "sha256:hex".
func normDigest(s string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%q is not a sha256 digest (sha256: and 64 hex digits)", s)
	}
	return "sha256:" + h, nil
}

// Options configure the functions that reach a registry or the cache. A
// nil *Options means defaults.
type Options struct {
	// Cache is where pulled artifacts are kept. Default: the cache at
	// DefaultCacheDir.
	Cache *Cache
	// Policy, when set, must verify every artifact Resolve or Pull
	// returns. Nil: nothing is verified but digests.
	Policy *TrustPolicy
	// AllowUnsigned lets Resolve return an artifact that has no signature
	// at all although Policy is set. A signature that is present and
	// fails is never allowed.
	AllowUnsigned bool
	// Offline forbids the network: everything must be in the cache.
	Offline bool
	// PlainHTTP talks HTTP instead of HTTPS to every registry. Loopback
	// registries (localhost, 127.0.0.0/8, ::1) always use plain HTTP.
	PlainHTTP bool
	// HTTPClient makes the requests. Default: http.DefaultTransport's
	// settings with ResponseTimeout, and credentials from the Docker
	// config, if any.
	HTTPClient *http.Client
	// ResponseTimeout bounds the wait for the headers of each response of
	// a registry, and is the window in which at least
	// MinBodyBytesPerWindow of its body must arrive (when HTTPClient is
	// nil; a slower body fails with ErrSlowRegistry). Default:
	// DefaultResponseTimeout.
	ResponseTimeout time.Duration
	// MaxModuleBytes bounds a module's size. Default: DefaultMaxModuleBytes.
	MaxModuleBytes int64
}

// DefaultResponseTimeout bounds the wait for a registry's response headers
// when Options.ResponseTimeout is 0.
const DefaultResponseTimeout = 60 * time.Second

// DefaultMaxModuleBytes bounds a module when Options.MaxModuleBytes is 0.
const DefaultMaxModuleBytes = 256 << 20

// Bounds on the other blobs.
const (
	maxConfigBytes    = 1 << 20
	maxSignatureBytes = 64 << 10
	maxSignatures     = 32
	// maxReferrerPages bounds the pages of a referrers listing a registry
	// may make the client read.
	maxReferrerPages = 16
)

func (o *Options) maxModule() int64 {
	if o.MaxModuleBytes > 0 {
		return o.MaxModuleBytes
	}
	return DefaultMaxModuleBytes
}

// isLoopback reports whether host (with or without port) is a loopback
// address or localhost.
func isLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
