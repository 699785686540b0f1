package main

// Signed, pinned plugins from OCI registries: the flags and checks the
// loader uses, and `codexhost plugin push|pull|sign|verify|keygen` and
// `plugin inspect oci://…`. The format and the trust model are in
// docs/distribution.md.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/process"
)

// envTrustPolicy names the trust policy file when --trust-policy is not
// given.
const envTrustPolicy = "CODEXHOST_TRUST_POLICY"

// distFlags are the trust and cache flags shared by run and the plugin
// subcommands.
type distFlags struct {
	trustPolicy   string
	allowUnsigned bool
	cacheDir      string
	plainHTTP     bool
}

func (d *distFlags) register(fs *pflag.FlagSet, withAllowUnsigned bool) {
	fs.StringVar(&d.trustPolicy, "trust-policy", "", "trust policy `FILE` (default: $"+envTrustPolicy+", else "+displayDefaultPolicy()+" if it exists); when there is one, every plugin must be signed by a key it trusts")
	if withAllowUnsigned {
		fs.BoolVar(&d.allowUnsigned, "allow-unsigned", false, "load plugins that carry no signature although a trust policy is in force, or oci:// tags without one (local development; a bad or untrusted signature is still refused)")
	}
	fs.StringVar(&d.cacheDir, "plugin-cache", "", "plugin cache `DIR` (default: $CODEXHOST_PLUGIN_CACHE, else "+displayPath(dist.DefaultCacheDir())+")")
	fs.BoolVar(&d.plainHTTP, "plain-http", false, "talk HTTP, not HTTPS, to registries (loopback registries always use HTTP)")
}

// defaultPolicyPath is the trust policy used when neither --trust-policy
// nor $CODEXHOST_TRUST_POLICY is set, if the file exists.
func defaultPolicyPath() string {
	d, err := os.UserConfigDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "codexhost", "trust-policy.toml")
}

func displayDefaultPolicy() string {
	if p := defaultPolicyPath(); p != "" {
		return displayPath(p)
	}
	return "none"
}

func displayPath(p string) string {
	if home, err := os.UserHomeDir(); err == nil && strings.HasPrefix(p, home+string(filepath.Separator)) {
		return "~" + p[len(home):]
	}
	return p
}

// A distConfig is what the loader needs: the trust policy in force (nil:
// none), the operator's flags, and the cache.
type distConfig struct {
	policy        *dist.TrustPolicy
	allowUnsigned bool
	cacheDir      string
	plainHTTP     bool
	warn          func(format string, args ...any)
}

// config loads the trust policy the flags select. require makes a missing
// policy an error (for `plugin verify`).
func (d *distFlags) config(cio *cmdIO, require bool) (distConfig, error) {
	c := distConfig{allowUnsigned: d.allowUnsigned, cacheDir: d.cacheDir, plainHTTP: d.plainHTTP,
		warn: func(format string, args ...any) { fmt.Fprintf(cio.stderr, "codexhost: warning: "+format+"\n", args...) }}
	path, from := d.trustPolicy, "--trust-policy"
	if path == "" {
		path, from = os.Getenv(envTrustPolicy), "$"+envTrustPolicy
	}
	if path == "" {
		if p := defaultPolicyPath(); p != "" {
			if _, err := os.Stat(p); err == nil {
				path, from = p, "the default trust policy"
			}
		}
	}
	if path == "" {
		if require {
			return c, usageErr("no trust policy to verify against: pass --trust-policy FILE or set $%s (see docs/distribution.md)", envTrustPolicy)
		}
		return c, nil
	}
	p, err := dist.LoadTrustPolicy(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, usageErr("%s %s: no such file", from, path)
	}
	if err != nil {
		return c, usageErr("%s: %s", from, oneLine(err.Error()))
	}
	c.policy = p
	return c, nil
}

func (c *distConfig) options(l *loader) (*dist.Options, error) {
	if l.cache == nil {
		cache, err := dist.OpenCache(c.cacheDir)
		if err != nil {
			return nil, usageErr("plugin cache: %s; pass --plugin-cache DIR", oneLine(err.Error()))
		}
		l.cache = cache
	}
	return &dist.Options{Cache: l.cache, Policy: c.policy, AllowUnsigned: c.allowUnsigned, PlainHTTP: c.plainHTTP}, nil
}

// distErr turns an error of package dist about what into a one-line usage
// error that says what to do.
func distErr(what string, err error) error {
	msg := oneLine(err.Error())
	switch {
	case errors.Is(err, dist.ErrUnsigned):
		return usageErr("%s is not signed, and the trust policy requires a signature; sign it (codexhost plugin sign) or pass --allow-unsigned for local development", what)
	case errors.Is(err, dist.ErrUntrusted):
		return usageErr("%s: %s; refusing it (add the key to the trust policy if you trust it)", what, msg)
	case errors.Is(err, dist.ErrBadSignature), errors.Is(err, dist.ErrDigestMismatch), errors.Is(err, dist.ErrCorrupt):
		return usageErr("%s: %s; refusing it", what, msg)
	case errors.Is(err, dist.ErrNotCached):
		return usageErr("%s: %s; run codexhost plugin pull first", what, msg)
	case errors.Is(err, dist.ErrBadRef), errors.Is(err, dist.ErrNotPlugin), errors.Is(err, dist.ErrWrongPlatform), errors.Is(err, dist.ErrBadKey):
		return usageErr("%s", msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fail(exitTurnFailed, "%s: %s", what, msg)
	}
	return usageErr("%s: %s", what, msg)
}

// verifyFile checks the signature of a local plugin file against the trust
// policy. It returns the verification, or nil when there is no policy or
// the file is unsigned and --allow-unsigned lets it through.
func (l *loader) verifyFile(path, hexDigest string) (*dist.Verification, error) {
	c := &l.trust
	if c.policy == nil {
		return nil, nil
	}
	var envs [][]byte
	sig, err := os.ReadFile(dist.SignatureFile(path))
	switch {
	case err == nil:
		envs = [][]byte{sig}
	case !errors.Is(err, fs.ErrNotExist):
		return nil, usageErr("plugin %s: %v", path, err)
	}
	v, err := c.policy.Verify(envs, &dist.Subject{Module: "sha256:" + hexDigest})
	if errors.Is(err, dist.ErrUnsigned) {
		if c.allowUnsigned {
			c.warn("loading unsigned plugin %s (--allow-unsigned)", path)
			return nil, nil
		}
		return nil, usageErr("plugin %s has no signature (%s) and trust policy %s is in force; sign it (codexhost plugin sign %s --key KEY) or pass --allow-unsigned for local development",
			path, dist.SignatureFile(path), c.policy.Path(), path)
	}
	if err != nil {
		return nil, distErr("plugin "+path, err)
	}
	return v, nil
}

// checkSigned refuses a local plugin whose name or version is not the
// signed one.
func checkSigned(path string, p plugins.Plugin, v *dist.Verification) error {
	m := p.Manifest()
	if m.Name != v.Statement.Name || m.Version != v.Statement.Version {
		return usageErr("plugin %s says it is %s %s, its signature is for %s %s; refusing it", path, m.Name, m.Version, v.Statement.Name, v.Statement.Version)
	}
	return nil
}

// loadRef loads the plugin an oci:// reference names: from the cache if
// pinned and cached, else from the registry; verified if a trust policy is
// in force.
func (l *loader) loadRef(ctx context.Context, s, want string, o *plugins.Options) (plugins.Plugin, error) {
	ref, err := dist.ParseRef(s)
	if err != nil {
		return nil, usageErr("plugin %s", strings.TrimPrefix(oneLine(err.Error()), "dist: "))
	}
	c := &l.trust
	if c.policy == nil && ref.Digest == "" && !c.allowUnsigned {
		return nil, usageErr("plugin %s: a tag with no trust policy to verify it is not trusted; pass --trust-policy FILE, pin it with @sha256:DIGEST, or --allow-unsigned", s)
	}
	dopts, err := c.options(l)
	if err != nil {
		return nil, err
	}
	a, err := dist.Resolve(ctx, ref, dopts)
	if err != nil {
		return nil, distErr("plugin "+s, err)
	}
	if c.policy != nil && a.Verified == nil {
		c.warn("loading unsigned plugin %s (--allow-unsigned)", s)
	}
	digest := strings.TrimPrefix(a.ModuleDigest, "sha256:")
	if want != "" && want != digest {
		return nil, usageErr("plugin %s: module sha256 is %s, --sha256 expects %s; refusing to load it", s, digest, want)
	}
	var p plugins.Plugin
	switch a.Config.Runtime {
	case dist.RuntimeWasm:
		if p, err = l.loadWasm(ctx, s, a.Module, o); err != nil {
			return nil, err
		}
	case dist.RuntimeProcess:
		exe, err := l.cache.Executable(a.ModuleDigest)
		if err != nil {
			return nil, distErr("plugin "+s, err)
		}
		// The pin re-checks the file before every start.
		if p, err = process.Load(ctx, exe, &process.Options{Options: *o, SHA256: a.ModuleDigest}); err != nil {
			return nil, usageErr("plugin %s does not load: %s", s, oneLine(err.Error()))
		}
	default:
		return nil, usageErr("plugin %s: unknown runtime %q", s, a.Config.Runtime)
	}
	// The module must describe itself exactly as its (signed) artifact
	// does: what the operator reviewed is what runs.
	if !sameManifest(p.Manifest(), &a.Config.Manifest) {
		_ = p.Close(context.Background())
		return nil, usageErr("plugin %s describes itself differently from its artifact's manifest; refusing it", s)
	}
	l.loaded = append(l.loaded, p)
	l.digests = append(l.digests, digest)
	return p, nil
}

func sameManifest(a, b *abi.Manifest) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// describePlugin loads a local plugin without a trust policy and returns
// its manifest and runtime, for push and sign. settings are needed only if
// the plugin's schema requires some.
func describePlugin(ctx context.Context, path, settings string) (*abi.Manifest, dist.Runtime, []byte, error) {
	var ld loader
	defer ld.close()
	var o *plugins.Options
	if settings != "" {
		if !json.Valid([]byte(settings)) {
			return nil, "", nil, usageErr("--settings %q is not JSON", settings)
		}
		o = &plugins.Options{Settings: json.RawMessage(settings)}
	}
	p, err := ld.loadWith(ctx, path, "", o)
	if err != nil {
		return nil, "", nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", nil, usageErr("plugin %s: %v", path, err)
	}
	if "sha256:"+ld.digests[0] != dist.Digest(b) {
		return nil, "", nil, usageErr("plugin %s changed while it was being read; try again", path)
	}
	rt := dist.RuntimeProcess
	if bytes.HasPrefix(b, wasmMagic) {
		rt = dist.RuntimeWasm
	}
	m := *p.Manifest()
	return &m, rt, b, nil
}

func readKey(flag, path string) (*keyFile, error) {
	if path == "" {
		return nil, usageErr("no signing key: pass %s FILE (make one with codexhost plugin keygen)", flag)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("%s %s: %v", flag, path, err)
	}
	k, err := dist.ParsePrivateKey(b)
	if err != nil {
		return nil, usageErr("%s %s: %s", flag, path, strings.TrimPrefix(oneLine(err.Error()), "dist: "))
	}
	return &keyFile{path: path, key: k}, nil
}

func parseRefArg(s string) (dist.Ref, error) {
	r, err := dist.ParseRef(s)
	if err != nil {
		return r, usageErr("%s", strings.TrimPrefix(oneLine(err.Error()), "dist: "))
	}
	return r, nil
}

// cmdPush: codexhost plugin push PATH oci://REF [--sign KEY].
func cmdPush(ctx context.Context, cio *cmdIO, args []string) error {
	var df distFlags
	var keyPath, settings string
	fs := newFlagSet(cio, "plugin push", "plugin push [flags] PATH oci://REGISTRY/REPOSITORY:TAG\n\nLoads the plugin at PATH to read its manifest, then pushes it as an OCI\nartifact (manifest as config, module as layer) and prints its digest.\nWith --sign, signs it too. A process plugin is pushed for this platform\n("+runtime.GOOS+"/"+runtime.GOARCH+").")
	fs.StringVar(&keyPath, "sign", "", "sign the pushed artifact with the ed25519 private key `FILE`")
	fs.StringVar(&settings, "settings", "", "settings `JSON` to load the plugin with, if its schema requires some")
	df.register(fs, false)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return usageErr("plugin push: want PATH and oci://REF, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	ref, err := parseRefArg(fs.Arg(1))
	if err != nil {
		return err
	}
	if ref.Tag == "" || ref.Digest != "" {
		return usageErr("plugin push: %s: push to a tag (oci://REGISTRY/REPOSITORY:TAG); the digest is computed", ref)
	}
	var key *keyFile
	if keyPath != "" {
		if key, err = readKey("--sign", keyPath); err != nil {
			return err
		}
	}
	m, rt, module, err := describePlugin(ctx, path, settings)
	if err != nil {
		return err
	}
	cfg := &dist.Config{Runtime: rt, Manifest: *m}
	if rt == dist.RuntimeProcess {
		cfg.OS, cfg.Arch = runtime.GOOS, runtime.GOARCH
	}
	var ld loader
	dopts, err := (&distConfig{cacheDir: df.cacheDir, plainHTTP: df.plainHTTP}).options(&ld)
	if err != nil {
		return err
	}
	start := time.Now()
	d, err := dist.Push(ctx, ref, module, cfg, dopts)
	if err != nil {
		return distErr("push "+ref.String(), err)
	}
	fmt.Fprintf(cio.stdout, "pushed %s %s (%s, %d bytes) as %s in %v\n", m.Name, orNone(m.Version), rt, len(module), ref.WithDigest(d), time.Since(start).Round(time.Millisecond))
	if key != nil {
		return signRef(ctx, cio, ref.WithDigest(d), key, dopts)
	}
	return nil
}

type keyFile struct {
	path string
	key  ed25519.PrivateKey
}

func signRef(ctx context.Context, cio *cmdIO, ref dist.Ref, k *keyFile, o *dist.Options) error {
	sig, err := dist.Sign(ctx, ref, k.key, o)
	if err != nil {
		return distErr("sign "+ref.String(), err)
	}
	fmt.Fprintf(cio.stdout, "signed %s with key %s (%s); signature %s\n", ref, sig.KeyID, k.path, sig.Digest)
	return nil
}

// cmdPull: codexhost plugin pull oci://REF.
func cmdPull(ctx context.Context, cio *cmdIO, args []string) error {
	var df distFlags
	fs := newFlagSet(cio, "plugin pull", "plugin pull [flags] oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]\n\nFetches the plugin and its signatures into the plugin cache and prints its\ndigest. With a trust policy it is verified too, and refused if it does not\nverify. Load it later by digest (--plugin oci://…@sha256:…) without the\nnetwork.")
	df.register(fs, true)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin pull: want exactly one oci://REF, got %d arguments", fs.NArg())
	}
	ref, err := parseRefArg(fs.Arg(0))
	if err != nil {
		return err
	}
	c, err := df.config(cio, false)
	if err != nil {
		return err
	}
	var ld loader
	o, err := c.options(&ld)
	if err != nil {
		return err
	}
	start := time.Now()
	a, err := dist.Pull(ctx, ref, o)
	if err != nil {
		return distErr("pull "+ref.String(), err)
	}
	m := a.Config.Manifest
	fmt.Fprintf(cio.stdout, "pulled %s %s (%s) in %v\n", m.Name, orNone(m.Version), a.Config.Runtime, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(cio.stdout, "digest:    %s\n", a.Ref.Digest)
	fmt.Fprintf(cio.stdout, "reference: %s\n", a.Ref)
	fmt.Fprintf(cio.stdout, "verified:  %s\n", verifiedText(a, c.policy))
	return nil
}

func verifiedText(a *dist.Artifact, p *dist.TrustPolicy) string {
	switch {
	case a.Verified != nil:
		return fmt.Sprintf("yes, signed by key %q (%s), trust policy %s", a.Verified.Key, a.Verified.KeyID, p.Path())
	case p != nil:
		return "no: unsigned, allowed by --allow-unsigned"
	}
	return fmt.Sprintf("no trust policy; %d signature(s) not checked", len(a.Signatures))
}

// cmdSign: codexhost plugin sign oci://REF|PATH --key KEY.
func cmdSign(ctx context.Context, cio *cmdIO, args []string) error {
	var df distFlags
	var keyPath, settings string
	fs := newFlagSet(cio, "plugin sign", "plugin sign --key FILE (oci://REF | PATH)\n\nSigns a plugin in a registry (the signature is attached to it as a\nreferrer) or a local plugin file (the signature is written to PATH.sig).")
	fs.StringVar(&keyPath, "key", "", "ed25519 private key `FILE` (PKCS #8 PEM, from codexhost plugin keygen)")
	fs.StringVar(&settings, "settings", "", "settings `JSON` to load a local plugin with, if its schema requires some")
	df.register(fs, false)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin sign: want exactly one oci://REF or PATH, got %d arguments", fs.NArg())
	}
	target := fs.Arg(0)
	var ref dist.Ref
	var err error
	if dist.IsRef(target) {
		if ref, err = parseRefArg(target); err != nil {
			return err
		}
	}
	k, err := readKey("--key", keyPath)
	if err != nil {
		return err
	}
	if dist.IsRef(target) {
		var ld loader
		o, err := (&distConfig{cacheDir: df.cacheDir, plainHTTP: df.plainHTTP}).options(&ld)
		if err != nil {
			return err
		}
		return signRef(ctx, cio, ref, k, o)
	}
	m, rt, module, err := describePlugin(ctx, target, settings)
	if err != nil {
		return err
	}
	env, err := dist.SignModule(module, rt, m, k.key)
	if err != nil {
		return usageErr("sign %s: %v", target, err)
	}
	out := dist.SignatureFile(target)
	if err := os.WriteFile(out, env, 0o644); err != nil {
		return usageErr("write %s: %v", out, err)
	}
	fmt.Fprintf(cio.stdout, "signed %s (%s %s, %s) with key %s (%s); signature %s\n", target, m.Name, orNone(m.Version), dist.Digest(module), keyIDOf(k), k.path, out)
	return nil
}

func keyIDOf(k *keyFile) string { return dist.KeyID(k.key.Public().(ed25519.PublicKey)) }

// cmdVerify: codexhost plugin verify oci://REF|PATH.
func cmdVerify(ctx context.Context, cio *cmdIO, args []string) error {
	var df distFlags
	fs := newFlagSet(cio, "plugin verify", "plugin verify [flags] (oci://REF | PATH)\n\nVerifies a plugin against the trust policy without loading it: an oci://\nreference from the cache (if pinned and cached) or the registry, a local\nfile against PATH.sig. Exits 0 if it verifies, 2 if it does not.")
	df.register(fs, false)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin verify: want exactly one oci://REF or PATH, got %d arguments", fs.NArg())
	}
	target := fs.Arg(0)
	c, err := df.config(cio, true)
	if err != nil {
		return err
	}
	if !dist.IsRef(target) {
		b, err := os.ReadFile(target)
		if err != nil {
			return usageErr("plugin %s: %v", target, err)
		}
		ld := loader{trust: c}
		v, err := ld.verifyFile(target, strings.TrimPrefix(dist.Digest(b), "sha256:"))
		if err != nil {
			return err
		}
		fmt.Fprintf(cio.stdout, "verified %s: %s %s (%s), signed by key %q (%s), trust policy %s\n",
			target, v.Statement.Name, orNone(v.Statement.Version), v.Statement.Module, v.Key, v.KeyID, c.policy.Path())
		return nil
	}
	ref, err := parseRefArg(target)
	if err != nil {
		return err
	}
	var ld loader
	o, err := c.options(&ld)
	if err != nil {
		return err
	}
	start := time.Now()
	a, err := dist.Resolve(ctx, ref, o)
	if err != nil {
		return distErr(ref.String(), err)
	}
	fmt.Fprintf(cio.stdout, "verified %s: %s %s (%s), signed by key %q (%s), trust policy %s, in %v\n",
		a.Ref, a.Config.Manifest.Name, orNone(a.Config.Manifest.Version), a.ModuleDigest, a.Verified.Key, a.Verified.KeyID, c.policy.Path(), time.Since(start).Round(time.Millisecond))
	return nil
}

// inspectRef prints an artifact's manifest, digests and signatures
// without loading it.
func inspectRef(ctx context.Context, cio *cmdIO, s string, asJSON bool, df *distFlags) error {
	ref, err := parseRefArg(s)
	if err != nil {
		return err
	}
	c, err := df.config(cio, false)
	if err != nil {
		return err
	}
	policy := c.policy
	c.policy = nil // list the signatures, judge them below
	var ld loader
	o, err := c.options(&ld)
	if err != nil {
		return err
	}
	var a *dist.Artifact
	if ref.Digest != "" && o.Cache.Has(ref.Digest) {
		a, err = dist.Resolve(ctx, ref, &dist.Options{Cache: o.Cache, Offline: true})
	} else {
		a, err = dist.Pull(ctx, ref, o)
	}
	if err != nil {
		return distErr(ref.String(), err)
	}
	type sigOut struct {
		Digest  string `json:"digest"`
		KeyID   string `json:"keyid"`
		Trusted string `json:"trusted,omitempty"`
	}
	sigs := make([]sigOut, len(a.Signatures))
	for i, sg := range a.Signatures {
		sigs[i] = sigOut{Digest: sg.Digest, KeyID: sg.KeyID}
		if policy != nil {
			_, err := policy.Verify([][]byte{sg.Envelope}, &dist.Subject{Repository: ref.Name(), Artifact: a.Ref.Digest,
				Module: a.ModuleDigest, Name: a.Config.Manifest.Name, Version: a.Config.Manifest.Version})
			if err != nil {
				sigs[i].Trusted = "no: " + strings.TrimPrefix(oneLine(err.Error()), "dist: ")
			} else {
				sigs[i].Trusted = "yes"
			}
		}
	}
	m := &a.Config.Manifest
	if asJSON {
		type out struct {
			Ref        string   `json:"ref"`
			Digest     string   `json:"digest"`
			Runtime    string   `json:"runtime"`
			Platform   string   `json:"platform,omitempty"`
			SHA256     string   `json:"sha256"`
			Signatures []sigOut `json:"signatures"`
			*abi.Manifest
		}
		plat := ""
		if a.Config.OS != "" {
			plat = a.Config.OS + "/" + a.Config.Arch
		}
		b, err := marshalIndent(out{Ref: a.Ref.String(), Digest: a.Ref.Digest, Runtime: string(a.Config.Runtime), Platform: plat,
			SHA256: strings.TrimPrefix(a.ModuleDigest, "sha256:"), Signatures: sigs, Manifest: m})
		if err != nil {
			return err
		}
		fmt.Fprintln(cio.stdout, string(b))
		return nil
	}
	w := cio.stdout
	printManifest(w, m, string(a.Config.Runtime))
	if a.Config.OS != "" {
		fmt.Fprintf(w, "platform:     %s/%s\n", a.Config.OS, a.Config.Arch)
	}
	fmt.Fprintf(w, "sha256:       %s\n", strings.TrimPrefix(a.ModuleDigest, "sha256:"))
	fmt.Fprintf(w, "reference:    %s\n", a.Ref)
	if len(sigs) == 0 {
		fmt.Fprintf(w, "signatures:   none\n")
	} else {
		fmt.Fprintf(w, "signatures:\n")
		for _, sg := range sigs {
			fmt.Fprintf(w, "  key %s (%s)", sg.KeyID, sg.Digest)
			if sg.Trusted != "" {
				fmt.Fprintf(w, ": trusted %s", sg.Trusted)
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// cmdKeygen: codexhost plugin keygen NAME.
func cmdKeygen(cio *cmdIO, args []string) error {
	var force bool
	fs := newFlagSet(cio, "plugin keygen", "plugin keygen [--force] NAME\n\nWrites a new ed25519 signing key to NAME.key (PKCS #8 PEM, mode 0600)\nand its public key to NAME.pub (for the trust policy), and prints its key ID.")
	fs.BoolVar(&force, "force", false, "overwrite existing files")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin keygen: want exactly one NAME, got %d arguments", fs.NArg())
	}
	name := fs.Arg(0)
	pub, priv, err := dist.GenerateKey()
	if err != nil {
		return err
	}
	kb, err := dist.MarshalPrivateKey(priv)
	if err != nil {
		return err
	}
	pb, err := dist.MarshalPublicKey(pub)
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{name + ".key", kb, 0o600}, {name + ".pub", pb, 0o644}} {
		fh, err := os.OpenFile(f.path, flags, f.mode)
		if errors.Is(err, os.ErrExist) {
			return usageErr("plugin keygen: %s exists; pick another NAME or pass --force", f.path)
		}
		if err != nil {
			return usageErr("plugin keygen: %v", err)
		}
		_, err = fh.Write(f.data)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return usageErr("plugin keygen: %v", err)
		}
	}
	fmt.Fprintf(cio.stdout, "wrote %s.key (private: keep it secret) and %s.pub\nkey ID: %s\n", name, name, dist.KeyID(pub))
	return nil
}

// pluginOptions are the options of the i-th --plugin: the --settings in
// the same position, or nil.
func (c *runConfig) pluginOptions(i int) *plugins.Options {
	if i >= len(c.settings) || c.settings[i] == "" {
		return nil
	}
	return &plugins.Options{Settings: json.RawMessage(c.settings[i])}
}

// checkDistFlags validates run's --settings and loads the trust policy
// into ld.
func (c *runConfig) checkDistFlags(cio *cmdIO, ld *loader) error {
	if len(c.settings) > len(c.plugins) {
		return usageErr("%d --settings values for %d --plugin files; each --settings pairs with the --plugin in the same position", len(c.settings), len(c.plugins))
	}
	for i, s := range c.settings {
		if s != "" && !json.Valid([]byte(s)) {
			return usageErr("--settings %q (for --plugin %s) is not JSON", s, c.plugins[i])
		}
	}
	var err error
	ld.trust, err = c.dist.config(cio, false)
	return err
}
