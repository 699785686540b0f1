package dist

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
)

// Annotations codexhost sets.
const (
	annotationKeyID   = "dev.codexhost.signature.keyid"
	annotationTitle   = ocispec.AnnotationTitle
	annotationVersion = ocispec.AnnotationVersion
)

// An Artifact is a plugin read from the cache, its digests checked.
type Artifact struct {
	// Ref is the reference it was resolved from, pinned: Digest is the
	// image manifest's digest.
	Ref Ref
	// Config is the artifact's config blob.
	Config Config
	// Module is the module's bytes, and ModuleDigest their digest
	// (computed from these bytes, not taken from the manifest).
	Module       []byte
	ModuleDigest string
	// Signatures are the signatures found for the artifact, verified or
	// not.
	Signatures []Signature
	// Verified is the signature that verified under Options.Policy; nil
	// when there is no policy, or the artifact is unsigned and
	// Options.AllowUnsigned let it through.
	Verified *Verification

	manifest []byte // the image manifest, as fetched
}

// A Signature is a signature of a plugin, verified or not.
type Signature struct {
	// Format says what Envelope is.
	Format SignatureFormat
	// Digest is the digest of the manifest that carries it: an OCI
	// referrer, or the image at the sha256-HEX.sig tag. Empty for a
	// local file's signature.
	Digest string
	// KeyID is the key it says signed it ([KeyID]; unverified, and empty
	// when it does not say), or for a keyless bundle "keyless:" and the
	// subject its certificate names (unverified too).
	KeyID string
	// Envelope is the signature: a Sigstore bundle's JSON, a
	// simple-signing payload (FormatSigTag), or a legacy envelope's JSON.
	Envelope []byte
	// Sig is the signature of a simple-signing payload (FormatSigTag).
	Sig []byte
}

func (o *Options) orDefaults() (*Options, error) {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Cache == nil {
		var err error
		if c.Cache, err = OpenCache(""); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// repository returns the oras client for ref's repository.
func (o *Options) repository(ref Ref) (*remote.Repository, error) {
	repo, err := remote.NewRepository(ref.Name())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadRef, ref, err)
	}
	repo.PlainHTTP = o.PlainHTTP || isLoopback(ref.Registry)
	// A registry drives the listing of referrers page by page: a hostile
	// one links to a next page for ever (review, round 10).
	repo.ReferrerListMaxPages = maxReferrerPages
	hc := o.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient(o.ResponseTimeout)
	}
	client := &auth.Client{Client: hc, Cache: auth.NewCache()}
	// Credentials as docker login and oras login store them; none if there
	// is no Docker config.
	if store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{}); err == nil {
		client.Credential = credentials.Credential(store)
	}
	repo.Client = client
	return repo, nil
}

// Push publishes module as a plugin artifact tagged ref.Tag, and returns
// its manifest digest. The manifest is deterministic (no timestamps): the
// same module and config always have the same digest, so pushing again is
// a no-op and a signature stays valid.
func Push(ctx context.Context, ref Ref, module []byte, cfg *Config, opts *Options) (string, error) {
	o, err := opts.orDefaults()
	if err != nil {
		return "", err
	}
	if ref.Tag == "" {
		return "", fmt.Errorf("%w: push to %s needs a tag", ErrBadRef, ref)
	}
	layerType, ok := cfg.Runtime.layerMediaType()
	if !ok {
		return "", fmt.Errorf("%w: runtime %q", ErrNotPlugin, cfg.Runtime)
	}
	if cfg.Manifest.Name == "" {
		return "", fmt.Errorf("%w: the manifest has no name", ErrNotPlugin)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return "", err
	}
	repo, err := o.repository(ref)
	if err != nil {
		return "", err
	}
	layer := content.NewDescriptorFromBytes(layerType, module)
	layer.Annotations = map[string]string{annotationTitle: cfg.Manifest.Name + "." + string(cfg.Runtime)}
	config := content.NewDescriptorFromBytes(ConfigMediaType, cfgJSON)
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: ArtifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Annotations: map[string]string{
			annotationTitle:   cfg.Manifest.Name,
			annotationVersion: cfg.Manifest.Version,
		},
	}
	manJSON, err := json.Marshal(&man)
	if err != nil {
		return "", err
	}
	for _, b := range []struct {
		desc ocispec.Descriptor
		data []byte
	}{{layer, module}, {config, cfgJSON}} {
		if err := pushBlob(ctx, repo, b.desc, b.data); err != nil {
			return "", fmt.Errorf("push to %s: %w", ref, err)
		}
	}
	manDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manJSON)
	if err := repo.PushReference(ctx, manDesc, bytes.NewReader(manJSON), ref.Tag); err != nil {
		return "", fmt.Errorf("push to %s: %w", ref, err)
	}
	return manDesc.Digest.String(), nil
}

func pushBlob(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, data []byte) error {
	if ok, err := repo.Exists(ctx, desc); err == nil && ok {
		return nil
	}
	err := repo.Push(ctx, desc, bytes.NewReader(data))
	if errors.Is(err, errdef.ErrAlreadyExists) {
		return nil
	}
	return err
}

// Pull fetches the artifact ref names, with its signatures, from the
// registry into the cache, then reads it back as [Resolve] does (verifying
// it if opts.Policy is set). It always asks the registry, so it also picks
// up signatures added since the last pull.
func Pull(ctx context.Context, ref Ref, opts *Options) (*Artifact, error) {
	o, err := opts.orDefaults()
	if err != nil {
		return nil, err
	}
	if o.Offline {
		return nil, fmt.Errorf("%w: pull %s: offline", ErrNotCached, ref)
	}
	d, err := o.fetch(ctx, ref)
	if err != nil {
		return nil, err
	}
	return o.open(ref.WithDigest(d), false)
}

// Resolve returns the plugin ref names, ready to load: from the cache when
// ref has a digest that is cached (no network at all), else pulled from
// the registry first (also when a cached blob was missing or corrupt). When opts.Policy is set the artifact must verify
// under it; the returned Module is the bytes whose digest the verified
// statement names. A process plugin must be built for this OS and
// architecture.
//
// # Errors
//
//   - ErrNotCached: Offline and not cached.
//   - ErrDigestMismatch, ErrCorrupt: content that does not match its
//     digest (a tampered blob in the registry or in the cache).
//   - ErrNotPlugin: not a codexhost plugin artifact.
//   - ErrUnsigned, ErrUntrusted, ErrBadSignature: see TrustPolicy.Verify.
//   - ErrWrongPlatform: a process plugin for another platform.
//   - registry and network errors.
func Resolve(ctx context.Context, ref Ref, opts *Options) (*Artifact, error) {
	o, err := opts.orDefaults()
	if err != nil {
		return nil, err
	}
	d := ref.Digest
	if d != "" && o.Cache.Has(d) {
		// Without AllowUnsigned first: bytes cached from another
		// repository have none of this one's signatures yet, and those
		// are fetched (and verified) before the artifact counts as
		// unsigned here.
		strict := *o
		strict.AllowUnsigned = false
		a, err := strict.open(ref, true)
		if o.Offline && errors.Is(err, ErrUnsigned) {
			return o.open(ref, true)
		}
		if o.Offline || !(errors.Is(err, ErrNotCached) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsigned)) {
			return a, err
		}
		// Part of it is missing or was corrupt (and removed), or no
		// signature of it in this repository is cached (the same bytes
		// may have been pulled from another one): fetch it.
		if _, ferr := o.fetch(ctx, ref); ferr != nil {
			return nil, fmt.Errorf("%w; fetching it again failed: %v", err, ferr)
		}
		return o.open(ref, true)
	}
	switch {
	case o.Offline && d == "":
		if d, err = o.Cache.tag(ref); err != nil {
			return nil, err
		}
	case o.Offline:
		return nil, fmt.Errorf("%w: %s (pull it first)", ErrNotCached, ref)
	default:
		if d, err = o.fetch(ctx, ref); err != nil {
			return nil, err
		}
	}
	return o.open(ref.WithDigest(d), true)
}

// fetch copies the artifact and its signatures into the cache and returns
// the manifest digest.
func (o *Options) fetch(ctx context.Context, ref Ref) (string, error) {
	repo, err := o.repository(ref)
	if err != nil {
		return "", err
	}
	desc, err := repo.Resolve(ctx, ref.reference())
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	if ref.Digest != "" {
		// Whatever the registry says, the pinned digest is the one the
		// content must have.
		desc.Digest = digest.Digest(ref.Digest)
	}
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return "", fmt.Errorf("%w: %s is a %s, not an OCI image manifest", ErrNotPlugin, ref, desc.MediaType)
	}
	manJSON, err := fetchBlob(ctx, repo, desc, 4<<20)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", ref, err)
	}
	man, err := parsePluginManifest(manJSON)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	limits := []int64{maxConfigBytes, o.maxModule()}
	for i, bd := range []ocispec.Descriptor{man.Config, man.Layers[0]} {
		if _, err := o.Cache.Get(bd.Digest.String()); err == nil {
			continue
		}
		b, err := fetchBlob(ctx, repo, bd, limits[i])
		if err != nil {
			return "", fmt.Errorf("fetch %s: %w", ref, err)
		}
		if _, err := o.Cache.Put(bd.Digest.String(), b); err != nil {
			return "", err
		}
	}
	d, err := o.Cache.Put(desc.Digest.String(), manJSON)
	if err != nil {
		return "", err
	}
	if ref.Tag != "" && ref.Digest == "" {
		if err := o.Cache.setTag(ref, d); err != nil {
			return "", err
		}
	}
	if err := o.fetchSignatures(ctx, repo, ref, desc); err != nil {
		return "", err
	}
	return d, nil
}

// fetchBlob fetches desc and checks its size and digest.
func fetchBlob(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, limit int64) ([]byte, error) {
	if desc.Size > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d", desc.Digest, desc.Size, limit)
	}
	rc, err := repo.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := content.ReadAll(rc, desc)
	if errors.Is(err, ErrSlowRegistry) {
		return nil, fmt.Errorf("%s: %w", desc.Digest, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDigestMismatch, desc.Digest, err)
	}
	return b, nil
}

// errEnoughSignatures stops the listing of referrers at maxSignatures.
var errEnoughSignatures = errors.New("dist: enough signatures")

// defaultHTTPClient is http.DefaultTransport's settings with a bound on
// the wait for each response's headers (default DefaultResponseTimeout):
// a registry that accepts a request and never answers would hold a pull,
// and codexhost run loading a plugin by tag, for ever (review, round 10).
// The body is bounded too (slowBodyGuard): headers followed by a trickle
// would hold it as long.
func defaultHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultResponseTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = timeout
	return &http.Client{Transport: &slowBodyGuard{next: t, window: timeout, minBytes: MinBodyBytesPerWindow}}
}

// MinBodyBytesPerWindow is the least a registry must send of a response's
// body in each ResponseTimeout (64 KiB a minute by default, ~1 KiB/s), as
// curl's --speed-limit and --speed-time: slower, the body is cut off with
// [ErrSlowRegistry]. A body that ends within the window is never cut.
const MinBodyBytesPerWindow = 64 << 10

// ErrSlowRegistry reports a registry that sent a response's body slower
// than MinBodyBytesPerWindow per ResponseTimeout.
var ErrSlowRegistry = errors.New("dist: the registry sends too slowly")

// slowBodyGuard cuts off response bodies that arrive slower than minBytes
// per window.
type slowBodyGuard struct {
	next     http.RoundTripper
	window   time.Duration
	minBytes int64
}

func (g *slowBodyGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	b := &guardedBody{rc: resp.Body, minBytes: g.minBytes, window: g.window}
	b.timer = time.AfterFunc(g.window, b.check)
	resp.Body = b
	return resp, nil
}

// A guardedBody counts what arrives in each window; the timer's check
// closes the body, which ends a blocked Read, when a window fell short.
type guardedBody struct {
	rc       io.ReadCloser
	minBytes int64
	window   time.Duration
	timer    *time.Timer

	mu     sync.Mutex
	n      int64 // bytes read in the current window
	slow   bool  // check cut the body off
	closed bool
}

func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.mu.Lock()
	b.n += int64(n)
	slow := b.slow
	b.mu.Unlock()
	if slow {
		return n, fmt.Errorf("%w: less than %d bytes in %v", ErrSlowRegistry, b.minBytes, b.window)
	}
	if err != nil {
		b.timer.Stop() // EOF or a failure: nothing more to guard
	}
	return n, err
}

func (b *guardedBody) check() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	if b.n < b.minBytes {
		b.slow = true
		_ = b.rc.Close()
		return
	}
	b.n = 0
	b.timer.Reset(b.window)
}

func (b *guardedBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.timer.Stop()
	return b.rc.Close()
}

// fetchSignatures caches the signatures of desc: its referrers (codexhost
// and Sigstore bundle artifacts, through the referrers API or the
// referrers tag schema) and the image at cosign's sha256-HEX.sig tag.
func (o *Options) fetchSignatures(ctx context.Context, repo *remote.Repository, ref Ref, desc ocispec.Descriptor) error {
	var sigs []ocispec.Descriptor
	err := repo.Referrers(ctx, desc, "", func(rs []ocispec.Descriptor) error {
		for _, r := range rs {
			if r.ArtifactType == SignatureArtifactType || r.ArtifactType == BundleMediaType {
				sigs = append(sigs, r)
				if len(sigs) == maxSignatures {
					return errEnoughSignatures // no more pages
				}
			}
		}
		return nil
	})
	if errors.Is(err, errEnoughSignatures) {
		err = nil
	}
	if err != nil && !errors.Is(err, errdef.ErrNotFound) {
		return fmt.Errorf("list the signatures of %s: %w", ref, err)
	}
	if len(sigs) > maxSignatures {
		sigs = sigs[:maxSignatures]
	}
	subject := desc.Digest.String()
	for _, sd := range sigs {
		if sd.MediaType != ocispec.MediaTypeImageManifest {
			continue
		}
		if err := o.fetchSignature(ctx, repo, ref, subject, sd); err != nil {
			return err
		}
	}
	// cosign's tag: sha256-HEX.sig.
	tag := strings.Replace(subject, ":", "-", 1) + ".sig"
	sd, err := repo.Resolve(ctx, tag)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolve the signature tag %s of %s: %w", tag, ref, err)
	}
	return o.fetchSignature(ctx, repo, ref, subject, sd)
}

// fetchSignature caches the signature manifest sd of subject and its
// layers, and records it as a signature of subject.
func (o *Options) fetchSignature(ctx context.Context, repo *remote.Repository, ref Ref, subject string, sd ocispec.Descriptor) error {
	mb, err := fetchBlob(ctx, repo, sd, maxSignatureBytes)
	if err != nil {
		return fmt.Errorf("fetch signature %s of %s: %w", sd.Digest, ref, err)
	}
	sm, _, err := parseSignatureManifest(mb, subject)
	if err != nil {
		return nil // someone else's artifact type; not ours to judge
	}
	for _, l := range sm.Layers {
		if _, err := o.Cache.Get(l.Digest.String()); err == nil {
			continue
		}
		eb, err := fetchBlob(ctx, repo, l, maxSignatureBytes)
		if err != nil {
			return fmt.Errorf("fetch signature %s of %s: %w", sd.Digest, ref, err)
		}
		if _, err := o.Cache.Put(l.Digest.String(), eb); err != nil {
			return err
		}
	}
	if _, err := o.Cache.Put(sd.Digest.String(), mb); err != nil {
		return err
	}
	return o.Cache.addReferrer(ref, subject, sd.Digest.String())
}

func parsePluginManifest(b []byte) (*ocispec.Manifest, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrNotPlugin, err)
	}
	if m.MediaType != ocispec.MediaTypeImageManifest || m.ArtifactType != ArtifactType || m.Config.MediaType != ConfigMediaType {
		return nil, fmt.Errorf("%w: artifact type %q, config %q (want %s)", ErrNotPlugin, m.ArtifactType, m.Config.MediaType, ArtifactType)
	}
	if len(m.Layers) != 1 {
		return nil, fmt.Errorf("%w: %d layers, want 1", ErrNotPlugin, len(m.Layers))
	}
	switch m.Layers[0].MediaType {
	case WasmLayerMediaType, ProcessLayerMediaType:
	default:
		return nil, fmt.Errorf("%w: layer type %q", ErrNotPlugin, m.Layers[0].MediaType)
	}
	return &m, nil
}

// parseSignatureManifest parses a manifest that carries signatures of
// subject and says in which format. A referrer must name subject; the
// image at the .sig tag names it in each signed payload instead.
func parseSignatureManifest(b []byte, subject string) (*ocispec.Manifest, SignatureFormat, error) {
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, "", err
	}
	var f SignatureFormat
	switch {
	case m.ArtifactType == SignatureArtifactType && len(m.Layers) == 1 && m.Layers[0].MediaType == SignatureMediaType:
		f = FormatLegacy
	case (m.ArtifactType == BundleMediaType || m.Config.ArtifactType == BundleMediaType) && len(m.Layers) == 1 && m.Layers[0].MediaType == BundleMediaType:
		f = FormatBundle
	case m.Subject == nil && len(m.Layers) > 0 && len(m.Layers) <= maxSignatures &&
		!slices.ContainsFunc(m.Layers, func(l ocispec.Descriptor) bool { return l.MediaType != simpleSigningMediaType }):
		return &m, FormatSigTag, nil
	default:
		return nil, "", fmt.Errorf("%w: not a signature", ErrNotPlugin)
	}
	if m.Subject == nil || m.Subject.Digest.String() != subject {
		return nil, "", fmt.Errorf("%w: signature of another artifact", ErrBadSignature)
	}
	return &m, f, nil
}

// open reads the artifact with ref.Digest from the cache, checks every
// blob against its digest, and verifies it if there is a policy. load
// adds the checks for loading it here (platform).
func (o *Options) open(ref Ref, load bool) (*Artifact, error) {
	c := o.Cache
	manJSON, err := c.Get(ref.Digest)
	if err != nil {
		return nil, err
	}
	man, err := parsePluginManifest(manJSON)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	cfgJSON, err := c.Get(man.Config.Digest.String())
	if err != nil {
		return nil, err
	}
	a := &Artifact{Ref: ref, manifest: manJSON}
	if err := json.Unmarshal(cfgJSON, &a.Config); err != nil {
		return nil, fmt.Errorf("%w: %s: config: %v", ErrNotPlugin, ref, err)
	}
	if lt, ok := a.Config.Runtime.layerMediaType(); !ok || lt != man.Layers[0].MediaType {
		return nil, fmt.Errorf("%w: %s: runtime %q with a %s layer", ErrNotPlugin, ref, a.Config.Runtime, man.Layers[0].MediaType)
	}
	if a.Module, err = c.Get(man.Layers[0].Digest.String()); err != nil {
		return nil, err
	}
	a.ModuleDigest = Digest(a.Module)
	if a.ModuleDigest != man.Layers[0].Digest.String() {
		return nil, fmt.Errorf("%w: %s: module", ErrDigestMismatch, ref)
	}
	sigs, err := c.referrers(ref, ref.Digest)
	if err != nil {
		return nil, err
	}
	for _, sd := range sigs {
		mb, err := c.Get(sd)
		if err != nil {
			return nil, err
		}
		sm, format, err := parseSignatureManifest(mb, ref.Digest)
		if err != nil {
			return nil, fmt.Errorf("cached signature %s of %s: %w", sd, ref, err)
		}
		for _, l := range sm.Layers {
			env, err := c.Get(l.Digest.String())
			if err != nil {
				return nil, err
			}
			sg := Signature{Format: format, Digest: sd, Envelope: env}
			switch format {
			case FormatLegacy:
				sg.KeyID = sm.Annotations[annotationKeyID]
			case FormatBundle:
				if b, err := parseBundle(env); err == nil {
					sg.KeyID = hintKeyID(b.GetVerificationMaterial().GetPublicKey().GetHint())
					if leaf, err := bundleLeaf(b); err == nil {
						sg.KeyID = "keyless:" + leaf.SubjectAlternativeName
					}
				}
			case FormatSigTag:
				if sg.Sig, err = base64.StdEncoding.DecodeString(l.Annotations[annotationCosignSig]); err != nil {
					continue
				}
			}
			a.Signatures = append(a.Signatures, sg)
		}
	}
	if load && a.Config.Runtime == RuntimeProcess && (a.Config.OS != runtime.GOOS || a.Config.Arch != runtime.GOARCH) {
		return nil, fmt.Errorf("%w: %s is a process plugin for %s/%s, this is %s/%s", ErrWrongPlatform, ref, a.Config.OS, a.Config.Arch, runtime.GOOS, runtime.GOARCH)
	}
	if o.Policy == nil {
		return a, nil
	}
	v, err := o.Policy.Verify(a.Signatures, &Subject{
		Repository: ref.Name(), Artifact: ref.Digest, Module: a.ModuleDigest,
		Name: a.Config.Manifest.Name, Version: a.Config.Manifest.Version,
	})
	if errors.Is(err, ErrUnsigned) && o.AllowUnsigned {
		return a, nil
	}
	if err != nil {
		return nil, err
	}
	// The bytes returned are the bytes a legacy statement names (a
	// Sigstore signature names the manifest, which names them).
	if v.Statement != nil && v.Statement.Module != Digest(a.Module) {
		return nil, fmt.Errorf("%w: %s: the module is not the signed one", ErrDigestMismatch, ref)
	}
	a.Verified = v
	return a, nil
}

// Sign signs the artifact ref names with key as `cosign sign --key` does
// and attaches the signature to it in the registry: a Sigstore bundle
// whose DSSE statement names the manifest digest, in a referrer manifest
// (found through the referrers API, or the referrers tag schema on
// registries without it). The manifest digest pins the config (the
// plugin's name and version) and the module.
func Sign(ctx context.Context, ref Ref, key *SigningKey, opts *Options) (*Signature, error) {
	o, a, err := pullForSigning(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	bundle, err := signImageBundle(ctx, key, a.Ref.Digest)
	if err != nil {
		return nil, err
	}
	// As cosign v3 writes it (pkg/oci/remote WriteAttestationNewBundleFormat).
	d, err := o.attach(ctx, ref, a, BundleMediaType, BundleMediaType, bundle, map[string]string{
		ocispec.AnnotationCreated: time.Now().UTC().Format(time.RFC3339),
		annotationBundleKind:      "dsse-envelope",
		annotationBundlePred:      CosignSignPredicateType,
	})
	if err != nil {
		return nil, err
	}
	return &Signature{Format: FormatBundle, Digest: d, KeyID: key.ID(), Envelope: bundle}, nil
}

// SignLegacy signs the artifact ref names in codexhost's old ed25519
// format, for runners not yet migrated (their trust policies must say
// legacy-signatures = true). The statement binds the manifest digest, the
// repository, the module digest, and the plugin's name and version.
func SignLegacy(ctx context.Context, ref Ref, key ed25519.PrivateKey, opts *Options) (*Signature, error) {
	o, a, err := pullForSigning(ctx, ref, opts)
	if err != nil {
		return nil, err
	}
	env, err := SignStatement(&Statement{
		Artifact: a.Ref.Digest, Repository: ref.Name(), Module: a.ModuleDigest,
		Runtime: a.Config.Runtime, Name: a.Config.Manifest.Name, Version: a.Config.Manifest.Version,
	}, key)
	if err != nil {
		return nil, err
	}
	keyID := KeyID(key.Public())
	d, err := o.attach(ctx, ref, a, SignatureArtifactType, SignatureMediaType, env, map[string]string{annotationKeyID: keyID})
	if err != nil {
		return nil, err
	}
	return &Signature{Format: FormatLegacy, Digest: d, KeyID: keyID, Envelope: env}, nil
}

func pullForSigning(ctx context.Context, ref Ref, opts *Options) (*Options, *Artifact, error) {
	o, err := opts.orDefaults()
	if err != nil {
		return nil, nil, err
	}
	o.Policy = nil
	a, err := Pull(ctx, ref, o)
	if err != nil {
		return nil, nil, err
	}
	return o, a, nil
}

// attach pushes a referrer manifest of a whose one layer is sig, caches
// it, and returns its digest.
func (o *Options) attach(ctx context.Context, ref Ref, a *Artifact, artifactType, layerType string, sig []byte, annotations map[string]string) (string, error) {
	repo, err := o.repository(ref)
	if err != nil {
		return "", err
	}
	layer := content.NewDescriptorFromBytes(layerType, sig)
	config := ocispec.DescriptorEmptyJSON
	if artifactType == BundleMediaType {
		config.ArtifactType = BundleMediaType
	}
	subject := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, a.manifest)
	man := ocispec.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       config,
		Layers:       []ocispec.Descriptor{layer},
		Subject:      &subject,
		Annotations:  annotations,
	}
	manJSON, err := json.Marshal(&man)
	if err != nil {
		return "", err
	}
	if err := pushBlob(ctx, repo, ocispec.DescriptorEmptyJSON, ocispec.DescriptorEmptyJSON.Data); err != nil {
		return "", fmt.Errorf("push signature to %s: %w", ref, err)
	}
	if err := pushBlob(ctx, repo, layer, sig); err != nil {
		return "", fmt.Errorf("push signature to %s: %w", ref, err)
	}
	manDesc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, manJSON)
	manDesc.ArtifactType = artifactType
	if err := repo.Push(ctx, manDesc, bytes.NewReader(manJSON)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return "", fmt.Errorf("push signature to %s: %w", ref, err)
	}
	// Cache it, so that an offline resolve sees it.
	for _, b := range [][]byte{sig, manJSON} {
		if _, err := o.Cache.Put("", b); err != nil {
			return "", err
		}
	}
	if err := o.Cache.addReferrer(ref, a.Ref.Digest, manDesc.Digest.String()); err != nil {
		return "", err
	}
	return manDesc.Digest.String(), nil
}

// SignModule signs a local plugin file's module bytes as `cosign sign-blob
// --key KEY --bundle PATH.sig` does, and returns the Sigstore bundle's
// JSON, which belongs next to the file in SignatureFile(path).
func SignModule(ctx context.Context, module []byte, key *SigningKey) ([]byte, error) {
	return signBlobBundle(ctx, key, module)
}

// SignatureFile is where the signature of the local plugin file path is
// kept: path + ".sig".
func SignatureFile(path string) string { return path + ".sig" }
