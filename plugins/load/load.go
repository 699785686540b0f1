// Package load admits plugins. A [Set] opens each plugin from a file or an
// oci:// reference, in the runtime its bytes call for (plugins/wasm for a
// WebAssembly module, plugins/process for an executable), and refuses it
// unless it passes every check, in this order:
//
//   - the digest pin (PluginOptions.SHA256), before anything runs;
//   - the trust policy (Options.Trust): a signature by a trusted key,
//     beside a file (PATH.sig) or attached to the artifact in its
//     registry;
//   - the runtime's checks of the manifest: ABI version, hooks, grants,
//     limits;
//   - the settings against the manifest's settings schema (bounded in
//     size and depth before it is compiled) and the tools (bounded in
//     number, named unlike codex's built-in tools and the tools of the
//     set's other plugins), before the plugin is configured;
//   - configure, by the runtime;
//   - a signed plugin must describe itself as its signature (or its
//     artifact's manifest) says: what the operator reviewed is what runs.
//
// The Set owns what it loaded and closes it in Close, which is how a plugin
// set retired by a hot swap is released.
//
// Every error of [Set.Load] is an [*Error] naming the plugin's source; what
// went wrong is matched with errors.Is against this package's sentinels,
// those of package plugins (ErrBadManifest, ErrNotGranted, ErrLimits,
// ErrIncompatibleABI, ErrBadModule) and of plugins/dist (registry
// failures), or with errors.As against [*SettingsError] and [*ToolError].
// Callers never need to read an error's text.
package load

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Errors. Set.Load wraps them in an *Error naming the plugin.
var (
	// ErrBadDigest: PluginOptions.SHA256 is not a sha256 digest.
	ErrBadDigest = errors.New("load: not a sha256 digest (64 hex digits, optionally prefixed sha256:)")
	// ErrDigestMismatch: the module's sha256 is not the pinned one. The
	// plugin was not started.
	ErrDigestMismatch = errors.New("load: sha256 does not match the pinned digest")
	// ErrUnsigned: a trust policy is in force and the plugin has no
	// signature, and Options.AllowUnsigned is not set.
	ErrUnsigned = errors.New("load: plugin is not signed")
	// ErrUntrusted: the plugin's signature does not make it trusted: it
	// does not verify, is not about this plugin, or is by a key the
	// policy does not trust for it. The error wraps plugins/dist's
	// ErrBadSignature or ErrUntrusted too.
	ErrUntrusted = errors.New("load: plugin is not trusted")
	// ErrUnpinned: an oci:// reference by tag only, with no trust policy
	// to verify what the tag names, and Options.AllowUnsigned not set.
	ErrUnpinned = errors.New("load: a tag with no trust policy and no pinned digest")
	// ErrNotAsSigned: the plugin describes itself (name, version, or for
	// an oci:// plugin its whole manifest) differently from its signature
	// or its artifact's manifest.
	ErrNotAsSigned = errors.New("load: plugin describes itself differently from what was signed")
	// ErrBadSettings: the settings do not satisfy the plugin's settings
	// schema; see *SettingsError.
	ErrBadSettings = errors.New("load: settings do not match the plugin's schema")
	// ErrSchemaTooLarge: the plugin's settings schema exceeds
	// Options.MaxSchemaBytes or Options.MaxSchemaDepth. The error wraps
	// plugins.ErrBadManifest too.
	ErrSchemaTooLarge = errors.New("load: settings schema too large")
	// ErrTooManyTools: the plugin declares more tools than
	// Options.MaxToolsPerPlugin, or brings the set's past Options.MaxTools.
	ErrTooManyTools = errors.New("load: too many tools")
	// ErrTool: a tool's name is malformed or taken; see *ToolError.
	ErrTool = errors.New("load: tool refused")
	// ErrCache: the plugin cache for oci:// plugins cannot be opened.
	ErrCache = errors.New("load: plugin cache")
	// ErrClosed: Load on a closed Set.
	ErrClosed = errors.New("load: set closed")
)

// An Error is a plugin that was not admitted.
type Error struct {
	// Source is the path or oci:// reference given to Load.
	Source string
	// Runtime is the runtime the plugin was loaded in, or "" when it
	// failed before one was chosen.
	Runtime dist.Runtime
	// Err is what went wrong.
	Err error
}

func (e *Error) Error() string { return "plugin " + e.Source + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// A DigestError is a module whose sha256 is not the pinned one.
// errors.Is(err, ErrDigestMismatch) holds.
type DigestError struct {
	// Got is the module's hex sha256, Want the pinned one.
	Got, Want string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%v: the module's is %s, %s is pinned; it was not started", ErrDigestMismatch, e.Got, e.Want)
}

// Is reports whether target is ErrDigestMismatch.
func (e *DigestError) Is(target error) bool { return target == ErrDigestMismatch }

// Options configure a [Set]. A nil *Options means defaults.
type Options struct {
	// Trust is the trust policy in force: every plugin must carry a
	// signature it trusts. Nil: no policy, and no signature is checked.
	Trust *dist.TrustPolicy
	// AllowUnsigned lets a plugin with no signature at all load although
	// Trust is set, and an oci:// tag load without Trust. A signature
	// that is present and fails is never allowed.
	AllowUnsigned bool
	// OnUnsigned, if not nil, is called with the source of each plugin
	// that AllowUnsigned let load unsigned under a trust policy.
	OnUnsigned func(source string)
	// CacheDir is the plugin cache of oci:// plugins, opened on the
	// first. Default: dist.DefaultCacheDir().
	CacheDir string
	// PlainHTTP talks HTTP to registries (plugins/dist Options.PlainHTTP).
	PlainHTTP bool
	// Logger receives the Wasm runtime's warnings and the plugins' logs
	// and output. Default: discard.
	Logger *slog.Logger
	// MaxSchemaBytes and MaxSchemaDepth bound a plugin's settings schema.
	// Defaults: DefaultMaxSchemaBytes, DefaultMaxSchemaDepth.
	MaxSchemaBytes, MaxSchemaDepth int
	// MaxToolsPerPlugin and MaxTools bound the dynamic tools of one plugin
	// and of the set. Defaults: DefaultMaxToolsPerPlugin, DefaultMaxTools.
	MaxToolsPerPlugin, MaxTools int
	// Lazy loads Wasm plugins lazily (wasm.Options.Lazy): a plugin that
	// loaded before with the same settings and grants is admitted on its
	// recorded manifest, and loads at its first call or when its Ready
	// method (on Plugin.Plugin, a *wasm.Plugin) is called.
	Lazy bool
}

// PluginOptions configure one plugin. A nil *PluginOptions means defaults.
type PluginOptions struct {
	// Options are the plugin's settings, grants and limits. Options.Admit,
	// if set, runs after the Set's own checks.
	plugins.Options
	// SHA256 pins the module: hex sha256, optionally prefixed "sha256:".
	// Empty: not pinned.
	SHA256 string
}

// A Plugin is an admitted plugin and where it came from. It is a
// plugins.Plugin; the Set that loaded it closes it.
type Plugin struct {
	plugins.Plugin
	// Source is the path or oci:// reference it was loaded from.
	Source string
	// Runtime is the runtime that runs it.
	Runtime dist.Runtime
	// SHA256 is the hex sha256 of its module (the Wasm bytes or the
	// executable). A process plugin is pinned to it: the runtime refuses
	// to start a binary that no longer matches.
	SHA256 string
	// Verified is the signature that made it trusted; nil when there is
	// no trust policy, or it is unsigned and AllowUnsigned let it load.
	Verified *dist.Verification
}

// Ready is plugins.Ready of the plugin: a lazy Wasm plugin loads then. The
// embedded interface does not carry the runtime's Ready, so without this a
// chain's plugins.Ready on a *Plugin returned at once, and the first call
// waited for the load inside its own timeout: on a busy machine a render
// call timed out "waiting for the plugin to load", and the crash budget
// counted it against the plugin.
func (p *Plugin) Ready(ctx context.Context) error { return plugins.Ready(ctx, p.Plugin) }

// A Set loads plugins and owns them.
//
// Load calls are serialized; a Set is safe for concurrent use. Close
// closes every plugin it loaded, then the Wasm runtime they share; it
// waits for a Load in progress.
type Set struct {
	opts Options

	mu     sync.Mutex
	rt     *wasm.Runtime // created on the first Wasm plugin
	cache  *dist.Cache   // opened on the first oci:// plugin
	loaded []*Plugin
	tools  map[string]string // tool name → plugin name
	closed bool
}

// NewSet returns an empty Set. It copies opts.
func NewSet(opts *Options) *Set {
	s := &Set{tools: map[string]string{}}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	if o.MaxSchemaBytes <= 0 {
		o.MaxSchemaBytes = DefaultMaxSchemaBytes
	}
	if o.MaxSchemaDepth <= 0 {
		o.MaxSchemaDepth = DefaultMaxSchemaDepth
	}
	if o.MaxToolsPerPlugin <= 0 {
		o.MaxToolsPerPlugin = DefaultMaxToolsPerPlugin
	}
	if o.MaxTools <= 0 {
		o.MaxTools = DefaultMaxTools
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return s
}

// Load admits the plugin at source, a file path or an oci:// reference
// (see plugins/dist), with opts. The Set owns the plugin: it is closed by
// Close.
//
// # Errors
//
// An *Error naming source, wrapping one of: fs errors (no such file);
// ErrBadDigest, ErrDigestMismatch (*DigestError); ErrUnsigned, ErrUntrusted, ErrUnpinned,
// ErrNotAsSigned; ErrCache and plugins/dist's errors (a bad reference, a
// registry or cache failure); the runtime's load errors
// (plugins.ErrBadModule, ErrIncompatibleABI, ErrBadManifest,
// ErrNotGranted, ErrLimits, a process that does not start, an *abi.Error
// from configure); ErrSchemaTooLarge, *SettingsError, ErrTooManyTools,
// *ToolError; ErrClosed.
func (s *Set) Load(ctx context.Context, source string, opts *PluginOptions) (*Plugin, error) {
	var o PluginOptions
	if opts != nil {
		o = *opts
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, &Error{Source: source, Err: ErrClosed}
	}
	pin := ""
	if o.SHA256 != "" {
		var err error
		if pin, err = normDigest(o.SHA256); err != nil {
			return nil, &Error{Source: source, Err: err}
		}
	}
	o.Options.Admit = s.admit(o.Settings, o.Options.Admit)
	var lp *Plugin
	var err error
	if dist.IsRef(source) {
		lp, err = s.loadRef(ctx, source, pin, &o.Options)
	} else {
		lp, err = s.loadFile(ctx, source, pin, &o.Options)
	}
	if err != nil {
		return nil, err
	}
	for _, t := range lp.Manifest().Tools {
		s.tools[t.Name] = lp.Manifest().Name
	}
	s.loaded = append(s.loaded, lp)
	return lp, nil
}

// admit returns the Admit function of a plugin: the settings and tool
// checks, then next (the caller's), if any. It runs under s.mu.
func (s *Set) admit(settings json.RawMessage, next func(*abi.Manifest) error) func(*abi.Manifest) error {
	return func(m *abi.Manifest) error {
		if err := checkSettings(m, settings, s.opts.MaxSchemaBytes, s.opts.MaxSchemaDepth); err != nil {
			return err
		}
		if err := checkTools(m, s.tools, s.opts.MaxToolsPerPlugin, s.opts.MaxTools); err != nil {
			return err
		}
		if next != nil {
			return next(m)
		}
		return nil
	}
}

// Plugins returns the plugins loaded so far, in order.
func (s *Set) Plugins() []*Plugin {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Plugin(nil), s.loaded...)
}

// Close closes every plugin of the set, the last loaded first, then the
// Wasm runtime. It is idempotent; it returns the plugins' close errors.
func (s *Set) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for i := len(s.loaded) - 1; i >= 0; i-- {
		errs = append(errs, s.loaded[i].Close(ctx))
	}
	if s.rt != nil {
		errs = append(errs, s.rt.Close(ctx))
	}
	return errors.Join(errs...)
}

// loadFile loads a plugin file.
func (s *Set) loadFile(ctx context.Context, path, pin string, o *plugins.Options) (*Plugin, error) {
	b, err := regfile.Read(path)
	if err != nil {
		return nil, &Error{Source: path, Err: err}
	}
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	if pin != "" && pin != digest {
		return nil, &Error{Source: path, Err: &DigestError{Got: digest, Want: pin}}
	}
	rt := detect(b)
	var verified *dist.Verification
	if s.opts.Trust != nil {
		if verified, err = verifyFile(s.opts.Trust, path, digest); errors.Is(err, ErrUnsigned) && s.opts.AllowUnsigned {
			if s.opts.OnUnsigned != nil {
				s.opts.OnUnsigned(path)
			}
			err = nil
		}
		if err != nil {
			return nil, &Error{Source: path, Runtime: rt, Err: err}
		}
	}
	var p plugins.Plugin
	if rt == dist.RuntimeWasm {
		// The bytes that were hashed, not the file again.
		p, err = s.loadWasm(ctx, path, b, o)
	} else {
		// The pin makes the runtime re-check the file before every start.
		p, err = process.Load(ctx, path, &process.Options{Options: *o, SHA256: digest, Logger: s.opts.Logger})
	}
	if err != nil {
		return nil, &Error{Source: path, Runtime: rt, Err: err}
	}
	if verified != nil {
		m := p.Manifest()
		if st := verified.Statement; st != nil && (m.Name != st.Name || m.Version != st.Version) {
			_ = p.Close(context.Background())
			return nil, &Error{Source: path, Runtime: rt, Err: fmt.Errorf("%w: it says it is %s %s, its signature is for %s %s",
				ErrNotAsSigned, m.Name, m.Version, st.Name, st.Version)}
		}
	}
	return &Plugin{Plugin: p, Source: path, Runtime: rt, SHA256: digest, Verified: verified}, nil
}

// loadRef loads the plugin an oci:// reference names: from the cache if
// pinned and cached, else from the registry; verified if a trust policy
// is in force.
func (s *Set) loadRef(ctx context.Context, source, pin string, o *plugins.Options) (*Plugin, error) {
	fail := func(rt dist.Runtime, err error) (*Plugin, error) {
		return nil, &Error{Source: source, Runtime: rt, Err: err}
	}
	ref, err := dist.ParseRef(source)
	if err != nil {
		return fail("", err)
	}
	if s.opts.Trust == nil && ref.Digest == "" && !s.opts.AllowUnsigned {
		return fail("", ErrUnpinned)
	}
	if s.cache == nil {
		if s.cache, err = dist.OpenCache(s.opts.CacheDir); err != nil {
			return fail("", fmt.Errorf("%w: %w", ErrCache, err))
		}
	}
	a, err := dist.Resolve(ctx, ref, &dist.Options{Cache: s.cache, Policy: s.opts.Trust,
		AllowUnsigned: s.opts.AllowUnsigned, PlainHTTP: s.opts.PlainHTTP})
	if err != nil {
		return fail("", trustErr(err))
	}
	if s.opts.Trust != nil && a.Verified == nil && s.opts.OnUnsigned != nil {
		s.opts.OnUnsigned(source)
	}
	digest, err := normDigest(a.ModuleDigest)
	if err != nil {
		return fail("", fmt.Errorf("%w: module digest %q", dist.ErrNotPlugin, a.ModuleDigest))
	}
	rt := a.Config.Runtime
	if pin != "" && pin != digest {
		return fail(rt, &DigestError{Got: digest, Want: pin})
	}
	var p plugins.Plugin
	switch rt {
	case dist.RuntimeWasm:
		p, err = s.loadWasm(ctx, source, a.Module, o)
	case dist.RuntimeProcess:
		var exe string
		if exe, err = s.cache.Executable(a.ModuleDigest); err == nil {
			// The pin re-checks the file before every start.
			p, err = process.Load(ctx, exe, &process.Options{Options: *o, SHA256: digest, Logger: s.opts.Logger})
		}
	default:
		err = fmt.Errorf("%w: unknown runtime %q", dist.ErrNotPlugin, rt)
	}
	if err != nil {
		return fail(rt, err)
	}
	// The module must describe itself exactly as its (signed) artifact
	// does: what the operator reviewed is what runs.
	if !plugins.SameManifest(p.Manifest(), &a.Config.Manifest) {
		_ = p.Close(context.Background())
		return fail(rt, fmt.Errorf("%w: its manifest differs from its artifact's", ErrNotAsSigned))
	}
	return &Plugin{Plugin: p, Source: source, Runtime: rt, SHA256: digest, Verified: a.Verified}, nil
}

// loadWasm loads Wasm bytes in the set's runtime, started on first use.
func (s *Set) loadWasm(ctx context.Context, name string, b []byte, o *plugins.Options) (plugins.Plugin, error) {
	if s.rt == nil {
		rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{Logger: s.opts.Logger})
		if err != nil {
			return nil, err
		}
		s.rt = rt
	}
	return s.rt.Load(ctx, b, &wasm.Options{Options: *o, Name: name, Lazy: s.opts.Lazy})
}

// detect returns the runtime of a module: Wasm if b starts with the
// WebAssembly magic number, else process.
func detect(b []byte) dist.Runtime {
	if len(b) >= 4 && string(b[:4]) == "\x00asm" {
		return dist.RuntimeWasm
	}
	return dist.RuntimeProcess
}

// VerifyFile checks the signature of the local plugin file at path
// (PATH.sig, see dist.SignatureFile) against policy, without loading it.
// The Verification's Module is the digest of the bytes it read and
// verified: quote that one, not a digest of another read.
//
// # Errors
//
//   - ErrUnsigned: there is no PATH.sig.
//   - ErrUntrusted (with dist.ErrBadSignature or dist.ErrUntrusted): the
//     signature does not make the file trusted.
//   - fs errors reading the file or its signature, or an error if path
//     is not a regular file (a FIFO could give other bytes to each read).
func VerifyFile(policy *dist.TrustPolicy, path string) (*dist.Verification, error) {
	b, err := regfile.Read(path)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return verifyFile(policy, path, hex.EncodeToString(sum[:]))
}

func verifyFile(policy *dist.TrustPolicy, path, hexDigest string) (*dist.Verification, error) {
	var sigs []dist.Signature
	sig, err := regfile.Read(dist.SignatureFile(path))
	switch {
	case err == nil:
		sigs = []dist.Signature{dist.ParseSignatureFile(sig)}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	}
	v, err := policy.Verify(sigs, &dist.Subject{Module: "sha256:" + hexDigest})
	if err != nil {
		return nil, trustErr(err)
	}
	return v, nil
}

// trustErr adds this package's sentinels to plugins/dist's trust errors.
func trustErr(err error) error {
	switch {
	case errors.Is(err, dist.ErrUnsigned):
		return fmt.Errorf("%w: %w", ErrUnsigned, err)
	case errors.Is(err, dist.ErrUntrusted), errors.Is(err, dist.ErrBadSignature):
		return fmt.Errorf("%w: %w", ErrUntrusted, err)
	}
	return err
}

// normDigest returns a pin in lower-case hex.
func normDigest(s string) (string, error) {
	h := strings.ToLower(strings.TrimSpace(s))
	h = strings.TrimPrefix(h, "sha256:")
	if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%w: %q", ErrBadDigest, s)
	}
	return h, nil
}
