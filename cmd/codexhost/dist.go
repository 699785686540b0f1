package main

// Signed, pinned plugins from OCI registries: the flags and checks the
// loader uses, and `codexhost plugin push|pull|sign|verify|keygen` and
// `plugin inspect oci://…`. The format and the trust model are in
// docs/distribution.md.

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/load"
)

// envTrustPolicy names the trust policy file when --trust-policy is not
// given.
const envTrustPolicy = "CODEXHOST_TRUST_POLICY"

// envCosignPassword holds the password of an encrypted cosign private key,
// as for cosign itself.
const envCosignPassword = "COSIGN_PASSWORD"

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
			// Only a policy that does not exist is no policy: one that
			// cannot be read (a directory this user may not search) fails
			// closed, when it is loaded below.
			if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
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

// options opens the plugin cache and returns the options of package
// dist's registry functions.
func (c *distConfig) options() (*dist.Options, error) {
	cache, err := dist.OpenCache(c.cacheDir)
	if err != nil {
		return nil, usageErr("plugin cache: %s; pass --plugin-cache DIR", termsafe.Line(oneLine(err.Error())))
	}
	return &dist.Options{Cache: cache, Policy: c.policy, AllowUnsigned: c.allowUnsigned, PlainHTTP: c.plainHTTP}, nil
}

// loadOptions are the options of a load.Set under this configuration.
func (c *distConfig) loadOptions() *load.Options {
	o := &load.Options{Trust: c.policy, AllowUnsigned: c.allowUnsigned, CacheDir: c.cacheDir, PlainHTTP: c.plainHTTP}
	if c.warn != nil {
		warn := c.warn
		o.OnUnsigned = func(source string) { warn("loading unsigned plugin %s (--allow-unsigned)", source) }
	}
	return o
}

// distErr turns an error of package dist about what into a one-line usage
// error that says what to do.
func distErr(what string, err error) error {
	msg := termsafe.Line(oneLine(err.Error()))
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

// describePlugin loads a local plugin without a trust policy and returns
// its manifest and runtime, for push and sign. settings are needed only if
// the plugin's schema requires some.
func describePlugin(ctx context.Context, path, settings string) (*abi.Manifest, dist.Runtime, []byte, error) {
	var ld loader
	defer ld.close()
	var o *plugins.Options
	if settings != "" {
		b, err := readSettings("--settings", settings)
		if err != nil {
			return nil, "", nil, err
		}
		o = &plugins.Options{Settings: b}
	}
	p, err := ld.loadPlugin(ctx, path, "", o)
	if err != nil {
		return nil, "", nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", nil, usageErr("plugin %s: %v", path, err)
	}
	if "sha256:"+p.SHA256 != dist.Digest(b) {
		return nil, "", nil, usageErr("plugin %s changed while it was being read; try again", path)
	}
	m := *p.Manifest()
	return &m, p.Runtime, b, nil
}

func readKey(flag, path string) (*keyFile, error) {
	if path == "" {
		return nil, usageErr("no signing key: pass %s FILE (make one with codexhost plugin keygen)", flag)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("%s %s: %v", flag, path, err)
	}
	k, err := dist.LoadSigningKey(b, []byte(os.Getenv(envCosignPassword)))
	if errors.Is(err, dist.ErrLegacyKey) {
		lk, err := dist.ParsePrivateKey(b)
		if err != nil {
			return nil, usageErr("%s %s: %s", flag, path, oneLine(err.Error()))
		}
		return &keyFile{path: path, legacy: lk}, nil
	}
	if errors.Is(err, dist.ErrPassword) {
		if os.Getenv(envCosignPassword) != "" {
			return nil, usageErr("%s %s: the password in $%s does not open the key", flag, path, envCosignPassword)
		}
		return nil, usageErr("%s %s: the key is encrypted: set $%s to its password (as for cosign)", flag, path, envCosignPassword)
	}
	if err != nil {
		return nil, usageErr("%s %s: %s", flag, path, oneLine(err.Error()))
	}
	return &keyFile{path: path, key: k}, nil
}

func parseRefArg(s string) (dist.Ref, error) {
	r, err := dist.ParseRef(s)
	if err != nil {
		return r, usageErr("%s", oneLine(err.Error()))
	}
	return r, nil
}

// cmdPush: codexhost plugin push PATH oci://REF [--sign KEY].
func cmdPush(ctx context.Context, cio *cmdIO, args []string) error {
	var df distFlags
	var keyPath, settings string
	fs := newFlagSet(cio, "plugin push", "plugin push [flags] PATH oci://REGISTRY/REPOSITORY:TAG\n\nLoads the plugin at PATH to read its manifest, then pushes it as an OCI\nartifact (manifest as config, module as layer) and prints its digest.\nWith --sign, signs it too. A process plugin is pushed for this platform\n("+runtime.GOOS+"/"+runtime.GOARCH+").")
	fs.StringVar(&keyPath, "sign", "", "sign the pushed artifact with the private key `FILE` (cosign.key, password in $"+envCosignPassword+")")
	fs.StringVar(&settings, "settings", "", settingsUsage+", to load the plugin with, if its schema requires some")
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
	dopts, err := (&distConfig{cacheDir: df.cacheDir, plainHTTP: df.plainHTTP}).options()
	if err != nil {
		return err
	}
	start := time.Now()
	d, err := dist.Push(ctx, ref, module, cfg, dopts)
	if err != nil {
		return distErr("push "+ref.String(), err)
	}
	fmt.Fprintf(cio.stdout, "pushed %s %s (%s, %d bytes) as %s in %v\n", termsafe.Line(m.Name), termsafe.Line(orNone(m.Version)), rt, len(module), ref.WithDigest(d), time.Since(start).Round(time.Millisecond))
	if key != nil {
		return signRef(ctx, cio, ref.WithDigest(d), key, dopts)
	}
	return nil
}

// A keyFile is a cosign key (key), or a legacy ed25519 key (legacy),
// which signs the old codexhost format.
type keyFile struct {
	path   string
	key    *dist.SigningKey
	legacy ed25519.PrivateKey
}

func (k *keyFile) id() string {
	if k.legacy != nil {
		return dist.KeyID(k.legacy.Public())
	}
	return k.key.ID()
}

func signRef(ctx context.Context, cio *cmdIO, ref dist.Ref, k *keyFile, o *dist.Options) error {
	if k.legacy != nil {
		sig, err := dist.SignLegacy(ctx, ref, k.legacy, o)
		if err != nil {
			return distErr("sign "+ref.String(), err)
		}
		fmt.Fprintf(cio.stdout, "signed %s with legacy ed25519 key %s (%s); signature %s (verifiers need legacy-signatures = true)\n", ref, sig.KeyID, k.path, sig.Digest)
		return nil
	}
	sig, err := dist.Sign(ctx, ref, k.key, o)
	if err != nil {
		return distErr("sign "+ref.String(), err)
	}
	fmt.Fprintf(cio.stdout, "signed %s with key %s (%s): a Sigstore bundle attached as the referrer %s (cosign verify --key accepts it)\n", ref, sig.KeyID, k.path, sig.Digest)
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
	o, err := c.options()
	if err != nil {
		return err
	}
	start := time.Now()
	a, err := dist.Pull(ctx, ref, o)
	if err != nil {
		return distErr("pull "+ref.String(), err)
	}
	m := a.Config.Manifest
	fmt.Fprintf(cio.stdout, "pulled %s %s (%s) in %v\n", termsafe.Line(m.Name), termsafe.Line(orNone(m.Version)), a.Config.Runtime, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(cio.stdout, "digest:    %s\n", a.Ref.Digest)
	fmt.Fprintf(cio.stdout, "reference: %s\n", a.Ref)
	fmt.Fprintf(cio.stdout, "verified:  %s\n", verifiedText(a, c.policy))
	return nil
}

func verifiedText(a *dist.Artifact, p *dist.TrustPolicy) string {
	switch {
	case a.Verified != nil:
		return "yes, " + signerText(a.Verified, p)
	case p != nil:
		return "no: unsigned, allowed by --allow-unsigned"
	}
	return fmt.Sprintf("no trust policy; %d signature(s) not checked", len(a.Signatures))
}

// signerText says who signed, in which format, and which rules that
// satisfied.
func signerText(v *dist.Verification, p *dist.TrustPolicy) string {
	var keys, ids []string
	for i, k := range v.Keys {
		if j := slices.IndexFunc(v.Keyless, func(s dist.KeylessSigner) bool { return s.Identity == k }); j >= 0 {
			// Who signed, when, and which transparency-log entry.
			ids = append(ids, fmt.Sprintf("%q: %s", k, termsafe.Line(v.Keyless[j].String())))
			continue
		}
		keys = append(keys, fmt.Sprintf("%q (%s)", k, v.KeyIDs[i]))
	}
	var by []string
	if len(keys) > 0 {
		by = append(by, "key "+strings.Join(keys, ", "))
	}
	if len(ids) > 0 {
		by = append(by, "keyless identity "+strings.Join(ids, ", "))
	}
	formats := make([]string, len(v.Formats))
	for i, f := range v.Formats {
		formats[i] = string(f)
	}
	return fmt.Sprintf("signed by %s [%s], rule %s of trust policy %s", strings.Join(by, " and "), strings.Join(formats, ", "), strings.Join(quoteAll(v.Rules), ", "), p.Path())
}

func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return q
}

// cmdSign: codexhost plugin sign oci://REF|PATH --key KEY.
func cmdSign(ctx context.Context, cio *cmdIO, args []string) error {
	var df distFlags
	var keyPath, settings string
	fs := newFlagSet(cio, "plugin sign", "plugin sign --key FILE (oci://REF | PATH)\n\nSigns a plugin as cosign does: in a registry, a Sigstore bundle attached\nas a referrer (cosign sign --key FILE --tlog-upload=false REF); a local\nplugin file, a bundle written to PATH.sig (cosign sign-blob --key FILE\n--bundle PATH.sig PATH). The password of an encrypted key is read from\n$"+envCosignPassword+".")
	fs.StringVar(&keyPath, "key", "", "private key `FILE`: cosign.key (from codexhost plugin keygen or cosign generate-key-pair) or a PKCS #8 PEM key")
	fs.StringVar(&settings, "settings", "", settingsUsage+", to load a local plugin with, if its schema requires some")
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
		o, err := (&distConfig{cacheDir: df.cacheDir, plainHTTP: df.plainHTTP}).options()
		if err != nil {
			return err
		}
		return signRef(ctx, cio, ref, k, o)
	}
	m, rt, module, err := describePlugin(ctx, target, settings)
	if err != nil {
		return err
	}
	var env []byte
	what := "Sigstore bundle"
	if k.legacy != nil {
		env, err = dist.SignStatement(&dist.Statement{Module: dist.Digest(module), Runtime: rt, Name: m.Name, Version: m.Version}, k.legacy)
		what = "legacy ed25519 signature (verifiers need legacy-signatures = true)"
	} else {
		env, err = dist.SignModule(ctx, module, k.key)
	}
	if err != nil {
		return usageErr("sign %s: %v", target, err)
	}
	out := dist.SignatureFile(target)
	if err := os.WriteFile(out, env, 0o644); err != nil {
		return usageErr("write %s: %v", out, err)
	}
	fmt.Fprintf(cio.stdout, "signed %s (%s %s, %s, %s) with key %s (%s); %s %s\n", target, termsafe.Line(m.Name), termsafe.Line(orNone(m.Version)), rt, dist.Digest(module), k.id(), k.path, what, out)
	return nil
}

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
		v, err := load.VerifyFile(c.policy, target)
		if err != nil {
			return (&loader{trust: c}).loadErr(target, "", &load.Error{Source: target, Err: err})
		}
		// The digest of the bytes verified, not of another read.
		fmt.Fprintf(cio.stdout, "verified %s (%s): %s\n", target, v.Module, signerText(v, c.policy))
		return nil
	}
	ref, err := parseRefArg(target)
	if err != nil {
		return err
	}
	o, err := c.options()
	if err != nil {
		return err
	}
	start := time.Now()
	a, err := dist.Resolve(ctx, ref, o)
	if err != nil {
		return distErr(ref.String(), err)
	}
	if a.Verified == nil {
		return distErr(ref.String(), fmt.Errorf("%w: %s was not verified", dist.ErrUnsigned, a.Ref))
	}
	fmt.Fprintf(cio.stdout, "verified %s: %s %s (%s), %s, in %v\n",
		a.Ref, termsafe.Line(a.Config.Manifest.Name), termsafe.Line(orNone(a.Config.Manifest.Version)), a.ModuleDigest, signerText(a.Verified, c.policy), time.Since(start).Round(time.Millisecond))
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
	o, err := c.options()
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
		Format  string `json:"format"`
		KeyID   string `json:"keyid,omitempty"`
		Trusted string `json:"trusted,omitempty"`
	}
	sigs := make([]sigOut, len(a.Signatures))
	for i, sg := range a.Signatures {
		sigs[i] = sigOut{Digest: sg.Digest, Format: string(sg.Format), KeyID: sg.KeyID}
		if policy != nil {
			_, err := policy.Verify([]dist.Signature{sg}, &dist.Subject{Repository: ref.Name(), Artifact: a.Ref.Digest,
				Module: a.ModuleDigest, Name: a.Config.Manifest.Name, Version: a.Config.Manifest.Version})
			if err != nil {
				sigs[i].Trusted = "no: " + termsafe.Line(oneLine(err.Error()))
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
		fmt.Fprintf(w, "platform:     %s/%s\n", termsafe.Line(a.Config.OS), termsafe.Line(a.Config.Arch))
	}
	fmt.Fprintf(w, "sha256:       %s\n", strings.TrimPrefix(a.ModuleDigest, "sha256:"))
	fmt.Fprintf(w, "reference:    %s\n", a.Ref)
	if len(sigs) == 0 {
		fmt.Fprintf(w, "signatures:   none\n")
	} else {
		fmt.Fprintf(w, "signatures:\n")
		for _, sg := range sigs {
			fmt.Fprintf(w, "  %s key %s (%s)", termsafe.Line(sg.Format), termsafe.Line(orNone(sg.KeyID)), termsafe.Line(sg.Digest))
			if sg.Trusted != "" {
				fmt.Fprintf(w, ": trusted %s", termsafe.Line(sg.Trusted))
			}
			fmt.Fprintln(w)
		}
	}
	return nil
}

// cmdKeygen: codexhost plugin keygen NAME.
func cmdKeygen(cio *cmdIO, args []string) error {
	var force, legacy bool
	fs := newFlagSet(cio, "plugin keygen", "plugin keygen [--force] [--legacy] NAME\n\nWrites a new cosign key pair, as cosign generate-key-pair does: an ECDSA\nP-256 private key encrypted with $"+envCosignPassword+" (empty if unset) to\nNAME.key (mode 0600), and its public key to NAME.pub (for the trust\npolicy, or cosign verify --key NAME.pub), and prints its key ID.")
	fs.BoolVar(&force, "force", false, "overwrite existing files")
	fs.BoolVar(&legacy, "legacy", false, "write an unencrypted ed25519 key pair (PKCS #8 PEM), which signs codexhost's legacy format (trust policies need legacy-signatures = true)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin keygen: want exactly one NAME, got %d arguments", fs.NArg())
	}
	name := fs.Arg(0)
	if base := filepath.Base(name); name == "" || strings.HasSuffix(name, "/") || base == "." || base == ".." {
		return usageErr("plugin keygen: NAME %q: want a file name, such as release (for release.key and release.pub)", name)
	}
	if !force {
		// Both checked before either is written: a refusal leaves no new
		// private key beside someone else's public key.
		for _, p := range []string{name + ".key", name + ".pub"} {
			if _, err := os.Lstat(p); err == nil {
				return usageErr("plugin keygen: %s exists; pick another NAME or pass --force", p)
			}
		}
	}
	var kb, pb []byte
	if legacy {
		pub, priv, err := dist.GenerateKey()
		if err != nil {
			return err
		}
		if kb, err = dist.MarshalPrivateKey(priv); err != nil {
			return err
		}
		if pb, err = dist.MarshalPublicKey(pub); err != nil {
			return err
		}
	} else {
		var err error
		if kb, pb, err = dist.GenerateCosignKeyPair([]byte(os.Getenv(envCosignPassword))); err != nil {
			return err
		}
	}
	pub, err := dist.ParsePublicKey(pb)
	if err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	var written []string
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{name + ".key", kb, 0o600}, {name + ".pub", pb, 0o644}} {
		fh, err := os.OpenFile(f.path, flags, f.mode)
		if errors.Is(err, os.ErrExist) { // created since the check above
			for _, w := range written {
				_ = os.Remove(w)
			}
			return usageErr("plugin keygen: %s exists; pick another NAME or pass --force", f.path)
		}
		written = append(written, f.path)
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

// checkDistFlags validates run's --settings and loads the trust policy
// into ld.
func (c *runConfig) checkDistFlags(cio *cmdIO, ld *loader) error {
	if len(c.settings) > len(c.plugins) {
		return usageErr("%d --settings values for %d --plugin files; each --settings pairs with the --plugin in the same position", len(c.settings), len(c.plugins))
	}
	// --settings @FILE is read once, here: c.settings holds JSON after.
	for i, s := range c.settings {
		if s == "" {
			continue
		}
		b, err := readSettings("--settings", s)
		if err != nil {
			return err
		}
		c.settings[i] = string(b)
	}
	var err error
	ld.trust, err = c.dist.config(cio, false)
	return err
}
