package dist

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// A TrustPolicy says which keys may sign which plugins. It is read from a
// TOML file (docs/distribution.md):
//
//	[keys.release]
//	public-key-file = "release.pub"     # PKIX PEM, relative to this file
//
//	[[rule]]
//	repositories = ["registry.example.com/policies/*"]
//	plugins = ["deny-*"]                 # plugin names; default: any
//	keys = ["release"]
//	local = false                        # also covers local files with a .sig
//
// An artifact verifies when one of its signatures is by a key that a rule
// covering the artifact's repository and plugin name lists, and the signed
// statement names this artifact's manifest digest, repository, module
// digest, name and version. A TrustPolicy is immutable and safe for
// concurrent use.
type TrustPolicy struct {
	path  string
	keys  []policyKey
	rules []policyRule
}

type policyKey struct {
	name string
	id   string
	pub  ed25519.PublicKey
}

type policyRule struct {
	repositories []string
	plugins      []string
	keys         []string
	local        bool
}

// The file's shape.
type policyFile struct {
	Keys map[string]struct {
		PublicKey     string `toml:"public-key"`
		PublicKeyFile string `toml:"public-key-file"`
	} `toml:"keys"`
	Rules []struct {
		Repositories []string `toml:"repositories"`
		Plugins      []string `toml:"plugins"`
		Keys         []string `toml:"keys"`
		Local        bool     `toml:"local"`
	} `toml:"rule"`
}

// LoadTrustPolicy reads the trust policy file at path.
//
// # Errors
//
//   - ErrBadPolicy: the file does not parse, has a key it does not know
//     (a typo must not weaken the policy silently), names a key file that
//     is missing or not an ed25519 public key, has a rule without keys or
//     without repositories (and not local), or a bad pattern.
//   - an fs error if the file cannot be read.
func LoadTrustPolicy(path string) (*TrustPolicy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := ParseTrustPolicy(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p.path = path
	return p, nil
}

// ParseTrustPolicy parses a trust policy; key files are relative to dir.
// See [LoadTrustPolicy].
func ParseTrustPolicy(data []byte, dir string) (*TrustPolicy, error) {
	var f policyFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPolicy, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%w: unknown setting %q", ErrBadPolicy, und[0].String())
	}
	p := &TrustPolicy{}
	names := make([]string, 0, len(f.Keys))
	for name := range f.Keys {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		k := f.Keys[name]
		var pemBytes []byte
		switch {
		case k.PublicKey != "" && k.PublicKeyFile != "":
			return nil, fmt.Errorf("%w: key %q has both public-key and public-key-file", ErrBadPolicy, name)
		case k.PublicKey != "":
			pemBytes = []byte(k.PublicKey)
		case k.PublicKeyFile != "":
			kp := k.PublicKeyFile
			if !filepath.IsAbs(kp) {
				kp = filepath.Join(dir, kp)
			}
			if pemBytes, err = os.ReadFile(kp); err != nil {
				return nil, fmt.Errorf("%w: key %q: %v", ErrBadPolicy, name, err)
			}
		default:
			return nil, fmt.Errorf("%w: key %q has neither public-key nor public-key-file", ErrBadPolicy, name)
		}
		pub, err := ParsePublicKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrBadPolicy, name, err)
		}
		p.keys = append(p.keys, policyKey{name: name, id: KeyID(pub), pub: pub})
	}
	for i, r := range f.Rules {
		where := fmt.Sprintf("rule %d", i+1)
		if len(r.Keys) == 0 {
			return nil, fmt.Errorf("%w: %s lists no keys", ErrBadPolicy, where)
		}
		for _, k := range r.Keys {
			if _, ok := f.Keys[k]; !ok {
				return nil, fmt.Errorf("%w: %s names key %q, which [keys] does not define", ErrBadPolicy, where, k)
			}
		}
		if len(r.Repositories) == 0 && !r.Local {
			return nil, fmt.Errorf("%w: %s covers nothing: give repositories, or local = true", ErrBadPolicy, where)
		}
		for _, pat := range append(slices.Clone(r.Repositories), r.Plugins...) {
			if _, err := path.Match(strings.TrimSuffix(pat, "/**"), ""); err != nil {
				return nil, fmt.Errorf("%w: %s: bad pattern %q", ErrBadPolicy, where, pat)
			}
		}
		plugins := r.Plugins
		if len(plugins) == 0 {
			plugins = []string{"*"}
		}
		p.rules = append(p.rules, policyRule{repositories: r.Repositories, plugins: plugins, keys: r.Keys, local: r.Local})
	}
	if len(p.rules) == 0 {
		return nil, fmt.Errorf("%w: no [[rule]]: the policy would trust nothing", ErrBadPolicy)
	}
	return p, nil
}

// Path returns the file the policy was loaded from, or "".
func (p *TrustPolicy) Path() string { return p.path }

// match reports whether pattern matches s: path.Match, where "*" stays
// within one path segment, plus a trailing "/**" for "this prefix and
// anything below it".
func match(pattern, s string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		if ok, _ := path.Match(prefix, s); ok {
			return true
		}
		for i := len(s) - 1; i > 0; i-- {
			if s[i] == '/' {
				if ok, _ := path.Match(prefix, s[:i]); ok {
					return true
				}
			}
		}
		return false
	}
	ok, _ := path.Match(pattern, s)
	return ok
}

// covers reports whether the rule applies to a plugin from repository
// ("" for a local file) named name.
func (r *policyRule) covers(repository, name string) bool {
	if repository == "" {
		if !r.local {
			return false
		}
	} else if !slices.ContainsFunc(r.repositories, func(p string) bool { return match(p, repository) }) {
		return false
	}
	return slices.ContainsFunc(r.plugins, func(p string) bool { return match(p, name) })
}

// A Subject is what a signature must be about. Empty Artifact and
// Repository mean a local file.
type Subject struct {
	// Repository is Ref.Name of the artifact, or "" for a local file.
	Repository string
	// Artifact is the digest of the plugin's image manifest, or "".
	Artifact string
	// Module is the digest of the module bytes.
	Module string
	// Name and Version are the plugin's, from the artifact's config (or,
	// for a local file, from the loaded plugin; "" skips the check).
	Name, Version string
}

func (s *Subject) String() string {
	if s.Repository == "" {
		return fmt.Sprintf("local plugin %s", s.Module)
	}
	return fmt.Sprintf("%s@%s", s.Repository, s.Artifact)
}

// A Verification is a signature that verified under a policy.
type Verification struct {
	// Key is the policy's name for the signing key; KeyID its [KeyID].
	Key, KeyID string
	// Statement is what the key signed.
	Statement Statement
}

// Verify checks envelopes (signature envelopes' JSON) against subj and
// returns the first that verifies under the policy.
//
// # Errors
//
//   - ErrUnsigned: no envelope.
//   - ErrBadSignature: an envelope by a policy key does not verify, or
//     its statement is about other content (another artifact, module,
//     repository, name or version).
//   - ErrUntrusted: every signature is by a key the policy does not trust
//     for subj's repository and plugin name (or no rule covers them).
//
// When several envelopes fail, the error is the most serious one: a bad
// signature before an untrusted key.
func (p *TrustPolicy) Verify(envelopes [][]byte, subj *Subject) (*Verification, error) {
	if len(envelopes) == 0 {
		return nil, fmt.Errorf("%w: %s has no signature", ErrUnsigned, subj)
	}
	var bad, untrusted error
	for _, b := range envelopes {
		v, err := p.verifyOne(b, subj)
		if err == nil {
			return v, nil
		}
		if errors.Is(err, ErrUntrusted) {
			untrusted = cmpOr(untrusted, err)
		} else {
			bad = cmpOr(bad, err)
		}
	}
	return nil, cmpOr(bad, untrusted)
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func (p *TrustPolicy) verifyOne(b []byte, subj *Subject) (*Verification, error) {
	env, err := parseEnvelope(b)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(p.keys, func(k policyKey) bool { return k.id == env.KeyID })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s is signed by key %s, which trust policy %s does not list", ErrUntrusted, subj, env.KeyID, p.displayPath())
	}
	key := p.keys[i]
	st, err := openEnvelope(env, key.pub)
	if err != nil {
		return nil, err
	}
	if st.Repository != subj.Repository {
		// A signature for the same content in another repository: not
		// forged, but not about this artifact either.
		return nil, fmt.Errorf("%w: %s: key %q signed it for repository %q, not for this one", ErrUntrusted, subj, key.name, st.Repository)
	}
	for _, c := range []struct{ what, signed, got string }{
		{"artifact", st.Artifact, subj.Artifact},
		{"module", st.Module, subj.Module},
	} {
		if c.signed != c.got {
			return nil, fmt.Errorf("%w: %s: key %q signed %s %q, this is %q", ErrBadSignature, subj, key.name, c.what, c.signed, c.got)
		}
	}
	if subj.Name != "" && (st.Name != subj.Name || st.Version != subj.Version) {
		return nil, fmt.Errorf("%w: %s: key %q signed plugin %s %s, the artifact says %s %s", ErrBadSignature, subj, key.name, st.Name, st.Version, subj.Name, subj.Version)
	}
	for _, r := range p.rules {
		if r.covers(st.Repository, st.Name) && slices.Contains(r.keys, key.name) {
			return &Verification{Key: key.name, KeyID: key.id, Statement: *st}, nil
		}
	}
	where := "repository " + st.Repository
	if st.Repository == "" {
		where = "local files"
	}
	return nil, fmt.Errorf("%w: %s is signed by key %q, which trust policy %s does not trust for plugin %q from %s", ErrUntrusted, subj, key.name, p.displayPath(), st.Name, where)
}

func (p *TrustPolicy) displayPath() string {
	if p.path == "" {
		return "(in memory)"
	}
	return p.path
}
