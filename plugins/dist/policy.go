package dist

import (
	"crypto"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/codexhost/codexhost/internal/regfile"
)

// A TrustPolicy says which keys must sign which plugins. It is read from a
// TOML file (docs/distribution.md), and reads like Kubewarden's
// verification config:
//
//	legacy-signatures = false           # also accept codexhost's old ed25519 format
//	trusted-root = "trusted_root.json"  # Sigstore trusted root, for identities
//
//	[keys.release]
//	public-key-file = "cosign.pub"      # PKIX PEM (cosign.pub), relative to this file
//
//	[identities.ci]                     # keyless: certificate identity and issuer
//	issuer = "https://token.actions.githubusercontent.com"
//	subject-regexp = "https://github\\.com/org/.*"  # or subject; anchored
//
//	[[rule]]
//	name = "policies"                   # named in every refusal; default "rule N"
//	repositories = ["registry.example.com/policies/*"]
//	plugins = ["deny-*"]                # plugin names; default: any
//	local = false                       # also covers local files with a .sig
//	keys = ["release"]                  # short for any-of.keys with minimum 1
//	any-of = { keys = ["a", "b", "c"], minimum = 2 }
//	all-of = { keys = ["security"], identities = ["ci"] }
//
// Every rule that covers an artifact's repository and plugin name must be
// satisfied: each all-of key or identity has a valid signature of the
// artifact, and at least minimum (default 1) of the any-of ones do. A
// keyless signature is valid for an identity when sigstore-go verifies it
// against the trusted root (certificate chain, at least one transparency-
// log entry, the certificate valid at a verified log or timestamp time)
// and its certificate names the identity's issuer and subject. A signature is valid
// when it verifies under the key and is about this artifact: its signed
// subject is the artifact's manifest digest (which pins the config and
// the module), or for a local file the module's digest. Nothing optional
// decides: a policy with a covering rule and no signature refuses. A
// TrustPolicy is immutable and safe for concurrent use.
type TrustPolicy struct {
	path       string
	legacy     bool
	keys       []policyKey
	identities []policyIdentity
	rules      []policyRule
}

// A policyIdentity is a keyless signer: a certificate identity and OIDC
// issuer, checked against the policy's trusted root.
type policyIdentity struct {
	name string
	iv   *identityVerifier
}

type policyKey struct {
	name string
	id   string
	pub  crypto.PublicKey
	kv   *keyVerifier
}

type policyRule struct {
	name         string
	repositories []string
	plugins      []string
	anyOf        []string
	minimum      int
	allOf        []string
	local        bool
}

type keySet struct {
	Keys       []string `toml:"keys"`
	Identities []string `toml:"identities"`
	Minimum    int      `toml:"minimum"`
}

type allSet struct {
	Keys       []string `toml:"keys"`
	Identities []string `toml:"identities"`
}

func (s *keySet) keys() []string {
	if s == nil {
		return nil
	}
	return s.Keys
}

func (s *keySet) identities() []string {
	if s == nil {
		return nil
	}
	return s.Identities
}

func (s *allSet) keys() []string {
	if s == nil {
		return nil
	}
	return s.Keys
}

func (s *allSet) identities() []string {
	if s == nil {
		return nil
	}
	return s.Identities
}

// The file's shape.
type policyFile struct {
	Legacy      bool   `toml:"legacy-signatures"`
	TrustedRoot string `toml:"trusted-root"`
	Keys        map[string]struct {
		PublicKey     string `toml:"public-key"`
		PublicKeyFile string `toml:"public-key-file"`
	} `toml:"keys"`
	Identities map[string]struct {
		Issuer        string `toml:"issuer"`
		IssuerRegexp  string `toml:"issuer-regexp"`
		Subject       string `toml:"subject"`
		SubjectRegexp string `toml:"subject-regexp"`
	} `toml:"identities"`
	Rules []struct {
		Name         string   `toml:"name"`
		Repositories []string `toml:"repositories"`
		Plugins      []string `toml:"plugins"`
		Keys         []string `toml:"keys"`
		Identities   []string `toml:"identities"`
		AnyOf        *keySet  `toml:"any-of"`
		AllOf        *allSet  `toml:"all-of"`
		Local        bool     `toml:"local"`
	} `toml:"rule"`
}

// LoadTrustPolicy reads the trust policy file at path.
//
// # Errors
//
//   - ErrBadPolicy: the file does not parse, has a key it does not know
//     (a typo must not weaken the policy silently), names a key file that
//     is missing or not a public key, has an identity without a
//     trusted-root (or a trusted-root that does not load), an identity
//     without exactly one issuer and one subject setting, a rule without
//     keys or identities or without repositories (and not local), or a
//     bad pattern.
//   - an fs error if the file cannot be read.
func LoadTrustPolicy(path string) (*TrustPolicy, error) {
	b, err := regfile.Read(path)
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
	p := &TrustPolicy{legacy: f.Legacy}
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
		kv, err := newKeyVerifier(pub)
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: %v", ErrBadPolicy, name, err)
		}
		id := KeyID(pub)
		if j := slices.IndexFunc(p.keys, func(k policyKey) bool { return k.id == id }); j >= 0 {
			// One signature would count as two signers.
			return nil, fmt.Errorf("%w: keys %q and %q are the same public key (%s); name it once", ErrBadPolicy, p.keys[j].name, name, id)
		}
		p.keys = append(p.keys, policyKey{name: name, id: id, pub: pub, kv: kv})
	}
	var tm root.TrustedMaterial
	if f.TrustedRoot != "" {
		rp := f.TrustedRoot
		if !filepath.IsAbs(rp) {
			rp = filepath.Join(dir, rp)
		}
		if tm, err = loadTrustedRoot(rp); err != nil {
			return nil, fmt.Errorf("%w: trusted-root %s: %v", ErrBadPolicy, f.TrustedRoot, err)
		}
	}
	names = names[:0]
	for name := range f.Identities {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, ok := f.Keys[name]; ok {
			return nil, fmt.Errorf("%w: %q names both a key and an identity", ErrBadPolicy, name)
		}
		id := f.Identities[name]
		if tm == nil {
			return nil, fmt.Errorf("%w: identity %q: a keyless identity needs trusted-root = \"FILE\" (a Sigstore trusted_root.json; codexhost trust refresh writes one)", ErrBadPolicy, name)
		}
		iv, err := newIdentityVerifier(tm, id.Issuer, id.IssuerRegexp, id.Subject, id.SubjectRegexp)
		if err != nil {
			return nil, fmt.Errorf("%w: identity %q: %v", ErrBadPolicy, name, err)
		}
		p.identities = append(p.identities, policyIdentity{name: name, iv: iv})
	}
	names = names[:0]
	for i, r := range f.Rules {
		where := r.Name
		if where == "" {
			where = fmt.Sprintf("rule %d", i+1)
		}
		if slices.Contains(names, where) {
			return nil, fmt.Errorf("%w: two rules are named %q", ErrBadPolicy, where)
		}
		names = append(names, where)
		pr := policyRule{name: where, repositories: r.Repositories, local: r.Local, anyOf: slices.Concat(r.Keys, r.Identities)}
		if r.AnyOf != nil {
			pr.anyOf = slices.Concat(pr.anyOf, r.AnyOf.Keys, r.AnyOf.Identities)
			pr.minimum = r.AnyOf.Minimum
			if len(r.AnyOf.Keys)+len(r.AnyOf.Identities) == 0 {
				return nil, fmt.Errorf("%w: %s: any-of lists no keys or identities", ErrBadPolicy, where)
			}
		}
		if r.AllOf != nil {
			if len(r.AllOf.Keys)+len(r.AllOf.Identities) == 0 {
				return nil, fmt.Errorf("%w: %s: all-of lists no keys or identities", ErrBadPolicy, where)
			}
			pr.allOf = slices.Concat(r.AllOf.Keys, r.AllOf.Identities)
		}
		for _, k := range slices.Concat(r.Keys, r.AnyOf.keys(), r.AllOf.keys()) {
			if _, ok := f.Keys[k]; !ok {
				return nil, fmt.Errorf("%w: %s names key %q, which [keys] does not define", ErrBadPolicy, where, k)
			}
		}
		for _, k := range slices.Concat(r.Identities, r.AnyOf.identities(), r.AllOf.identities()) {
			if _, ok := f.Identities[k]; !ok {
				return nil, fmt.Errorf("%w: %s names identity %q, which [identities] does not define", ErrBadPolicy, where, k)
			}
		}
		// A name listed twice (in keys and any-of, say) is one signer.
		pr.anyOf, pr.allOf = uniq(pr.anyOf), uniq(pr.allOf)
		if len(pr.anyOf) > 0 && pr.minimum == 0 {
			pr.minimum = 1
		}
		if pr.minimum < 0 || pr.minimum > len(pr.anyOf) {
			return nil, fmt.Errorf("%w: %s: minimum %d of %d any-of keys", ErrBadPolicy, where, pr.minimum, len(pr.anyOf))
		}
		if len(pr.anyOf)+len(pr.allOf) == 0 {
			return nil, fmt.Errorf("%w: %s lists no keys", ErrBadPolicy, where)
		}
		if len(r.Repositories) == 0 && !r.Local {
			return nil, fmt.Errorf("%w: %s covers nothing: give repositories, or local = true", ErrBadPolicy, where)
		}
		for _, pat := range append(slices.Clone(r.Repositories), r.Plugins...) {
			if _, err := path.Match(strings.TrimSuffix(pat, "/**"), ""); err != nil || pat == "" {
				return nil, fmt.Errorf("%w: %s: bad pattern %q", ErrBadPolicy, where, pat)
			}
		}
		for _, pat := range r.Repositories {
			if why := repositoryPatternTypo(pat); why != "" {
				return nil, fmt.Errorf("%w: %s: repository pattern %q %s: it would match no repository", ErrBadPolicy, where, pat, why)
			}
		}
		pr.plugins = r.Plugins
		if len(pr.plugins) == 0 {
			pr.plugins = []string{"*"}
		}
		p.rules = append(p.rules, pr)
	}
	if len(p.rules) == 0 {
		return nil, fmt.Errorf("%w: no [[rule]]: the policy would trust nothing", ErrBadPolicy)
	}
	return p, nil
}

// repositoryPatternTypo says why pat, a repositories pattern, cannot
// match a repository (REGISTRY/PATH, as Ref.Name has it), or "": a rule
// that covers nothing would silently not apply, a countersign rule
// among them.
func repositoryPatternTypo(pat string) string {
	host, rest, _ := strings.Cut(pat, "/")
	switch {
	case strings.Contains(pat, "://"):
		return "has a scheme (write the repository without oci://)"
	case strings.Contains(pat, "@"):
		return "has a digest (a repository has none)"
	case strings.Contains(rest, ":"):
		return "has a tag (a repository has none)"
	case rest != strings.ToLower(rest):
		return "has upper-case letters in its path (repository paths are lower case)"
	case host == "" || rest == "":
		return "is not REGISTRY/PATH"
	}
	return ""
}

// uniq returns names without repeats, in order.
func uniq(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
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

// A Verification is the outcome of a policy check that passed.
type Verification struct {
	// Rules are the names of the rules that covered the artifact; each
	// was satisfied.
	Rules []string
	// Keys are the policy's names of the keys whose signatures verified,
	// sorted, then of the identities whose keyless signatures verified,
	// sorted; KeyIDs their [KeyID]s, in the same order (for an identity,
	// "keyless:" and the certificate's subject).
	Keys, KeyIDs []string
	// Key and KeyID are Keys[0] and KeyIDs[0].
	Key, KeyID string
	// Formats are the formats of the signatures that verified.
	Formats []SignatureFormat
	// Statement is the signed statement of a legacy signature, or nil.
	Statement *Statement
	// Keyless are the keyless signatures that verified, in the order of
	// the signatures.
	Keyless []KeylessSigner
	// Module is the digest of the module bytes the signatures were
	// checked against (the subject's).
	Module string
}

// Verify checks sigs against subj under the policy: every rule covering
// subj's repository (or local files) and plugin name must be satisfied by
// signatures that verify and are about subj.
//
// # Errors
//
//   - ErrUntrusted: no rule covers subj; or the signatures that verify do
//     not satisfy a covering rule (named in the message), because they
//     are by keys the rule does not list, too few, or the policy does not
//     accept their format.
//   - ErrUnsigned: a rule covers subj and there is no signature.
//   - ErrBadSignature: no rule is satisfied and a signature by a policy
//     key does not verify, or verifies but is about other content.
//
// The most serious error wins: a bad signature before an untrusted one. A
// good set of signatures among bad ones verifies.
func (p *TrustPolicy) Verify(sigs []Signature, subj *Subject) (*Verification, error) {
	subj = legacyLocalSubject(sigs, subj)
	var rules []*policyRule
	for i := range p.rules {
		if p.rules[i].covers(subj.Repository, subj.Name) {
			rules = append(rules, &p.rules[i])
		}
	}
	where := "repository " + subj.Repository
	if subj.Repository == "" {
		where = "local files"
	}
	if len(sigs) == 0 {
		return nil, fmt.Errorf("%w: %s has no signature, and trust policy %s requires one", ErrUnsigned, subj, p.displayPath())
	}
	if len(rules) == 0 {
		what := fmt.Sprintf("plugin %q from %s", subj.Name, where)
		if subj.Name == "" {
			what = where
		}
		return nil, fmt.Errorf("%w: trust policy %s does not trust for %s: no rule covers it", ErrUntrusted, p.displayPath(), what)
	}
	var wanted []int // indexes into p.keys of the keys the rules name
	for i, k := range p.keys {
		for _, r := range rules {
			if slices.Contains(r.anyOf, k.name) || slices.Contains(r.allOf, k.name) {
				wanted = append(wanted, i)
				break
			}
		}
	}
	var wantedIDs []int // indexes into p.identities
	for i, id := range p.identities {
		for _, r := range rules {
			if slices.Contains(r.anyOf, id.name) || slices.Contains(r.allOf, id.name) {
				wantedIDs = append(wantedIDs, i)
				break
			}
		}
	}
	v := &Verification{}
	valid := map[string]map[string]bool{} // name → the signers it verifies under
	var bad, untrusted error
	for i := range sigs {
		keys, st, err := p.verifySignature(&sigs[i], subj, wanted, wantedIDs, v)
		for _, k := range keys {
			if valid[k.name] == nil {
				valid[k.name] = map[string]bool{}
				v.Formats = append(v.Formats, sigs[i].Format)
			}
			valid[k.name][k.signer] = true
		}
		if st != nil && v.Statement == nil {
			v.Statement = st
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrUntrusted):
			untrusted = cmpOr(untrusted, err)
		default:
			bad = cmpOr(bad, err)
		}
	}
	for _, r := range rules {
		if err := r.satisfiedBy(valid); err != nil {
			if bad != nil {
				return nil, fmt.Errorf("%w (rule %q of trust policy %s)", bad, r.name, p.displayPath())
			}
			if untrusted != nil && len(valid) == 0 {
				return nil, fmt.Errorf("%w (rule %q of trust policy %s)", untrusted, r.name, p.displayPath())
			}
			return nil, fmt.Errorf("%w: %s: rule %q of trust policy %s is not satisfied: %v", ErrUntrusted, subj, r.name, p.displayPath(), err)
		}
		v.Rules = append(v.Rules, r.name)
	}
	for _, k := range p.keys {
		if valid[k.name] != nil {
			v.Keys = append(v.Keys, k.name)
			v.KeyIDs = append(v.KeyIDs, k.id)
		}
	}
	for _, id := range p.identities {
		if valid[id.name] != nil {
			i := slices.IndexFunc(v.Keyless, func(s KeylessSigner) bool { return s.Identity == id.name })
			v.Keys = append(v.Keys, id.name)
			v.KeyIDs = append(v.KeyIDs, "keyless:"+v.Keyless[i].Subject)
		}
	}
	v.Key, v.KeyID = v.Keys[0], v.KeyIDs[0]
	v.Module = subj.Module
	return v, nil
}

// A signedBy is a key or identity name a signature verifies under, and
// who signed: the key ("key " and its ID) or the certificate's identity
// ("keyless ISSUER SUBJECT"). Two names of one key, or two identities one
// certificate matches, have one signer.
type signedBy struct{ name, signer string }

// legacyLocalSubject returns subj, a local file's, with the plugin name
// and version a legacy signature's statement names, if subj has none:
// the rules with plugins patterns then cover it (a Sigstore bundle of a
// file names no plugin). The statement is not verified here; the name
// only chooses the rules, and verifyLegacy refuses a statement whose
// name is not the subject's.
func legacyLocalSubject(sigs []Signature, subj *Subject) *Subject {
	if subj.Repository != "" || subj.Name != "" {
		return subj
	}
	for _, sg := range sigs {
		if sg.Format != FormatLegacy {
			continue
		}
		env, err := parseEnvelope(sg.Envelope)
		if err != nil {
			continue
		}
		var st Statement
		if json.Unmarshal(env.Payload, &st) == nil && st.Name != "" {
			named := *subj
			named.Name, named.Version = st.Name, st.Version
			return &named
		}
	}
	return subj
}

// satisfiedBy reports why the signatures do not satisfy the rule, or nil.
// valid maps each name to the signers it verifies under. Each signer
// counts once: for every all-of name and at least minimum any-of names,
// a signer of its own (a name in both lists counts for both).
func (r *policyRule) satisfiedBy(valid map[string]map[string]bool) error {
	var missing []string
	for _, k := range r.allOf {
		if valid[k] == nil {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("all-of needs a signature by %s: none verifies", quoteList(missing))
	}
	// A bipartite matching of names to distinct signers (Kuhn's
	// augmenting paths), the all-of names first: an augmenting path never
	// unmatches a name, so they stay matched while the any-of ones are
	// added.
	owner := map[string]string{} // signer → the name it counts for
	var try func(name string, seen map[string]bool) bool
	try = func(name string, seen map[string]bool) bool {
		for _, signer := range slices.Sorted(maps.Keys(valid[name])) {
			if seen[signer] {
				continue
			}
			seen[signer] = true
			if o, taken := owner[signer]; !taken || try(o, seen) {
				owner[signer] = name
				return true
			}
		}
		return false
	}
	matched := map[string]bool{}
	for _, k := range r.names() {
		if try(k, map[string]bool{}) {
			matched[k] = true
		}
	}
	var unmatched []string
	for _, k := range r.allOf {
		if !matched[k] {
			unmatched = append(unmatched, k)
		}
	}
	if len(unmatched) > 0 {
		return fmt.Errorf("all-of needs a signature by %s of its own: one signer counts once", quoteList(unmatched))
	}
	n := 0
	for _, k := range r.anyOf {
		if matched[k] {
			n++
		}
	}
	if n < r.minimum {
		have := slices.Sorted(maps.Keys(valid))
		if len(have) == 0 {
			return fmt.Errorf("it needs %d signature(s) by %s, and no signature verifies under any of them", r.minimum, quoteList(r.anyOf))
		}
		return fmt.Errorf("it needs %d signature(s) by distinct signers among %s, and has %d (valid signatures by %s)", r.minimum, quoteList(r.anyOf), n, quoteList(have))
	}
	return nil
}

// names are the rule's key and identity names, all-of first, each once.
func (r *policyRule) names() []string { return uniq(slices.Concat(r.allOf, r.anyOf)) }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// verifySignature returns the names of the keys among wanted, and of the
// identities among wantedIDs, under which sig verifies and is about subj
// (a signature verifies under at most one key, but nothing here assumes
// it), and the statement of a legacy one; it appends keyless signers to
// v.Keyless. The error says why it counts for no key or identity.
func (p *TrustPolicy) verifySignature(sig *Signature, subj *Subject, wanted, wantedIDs []int, v *Verification) ([]signedBy, *Statement, error) {
	switch sig.Format {
	case FormatLegacy:
		if !p.legacy {
			return nil, nil, fmt.Errorf("%w: %s carries a legacy codexhost ed25519 signature, which trust policy %s does not accept (legacy-signatures = false); sign it again with codexhost plugin sign or cosign sign", ErrUntrusted, subj, p.displayPath())
		}
		v, err := p.verifyLegacy(sig.Envelope, subj, wanted)
		if err != nil {
			return nil, nil, err
		}
		return []signedBy{{name: v.Key, signer: "key " + v.KeyID}}, v.Statement, nil
	case FormatBundle:
		b, err := parseBundle(sig.Envelope)
		if err != nil {
			return nil, nil, err
		}
		digest, image := subj.Artifact, true
		if subj.Repository == "" {
			digest, image = subj.Module, false
		}
		var keys []signedBy
		var bad error
		for _, i := range wanted {
			k := &p.keys[i]
			err := k.kv.verifyBundle(b, digest, image)
			switch {
			case err == nil:
				keys = append(keys, signedBy{name: k.name, signer: "key " + k.id})
			case errors.Is(err, errNotThisKey):
			default:
				bad = cmpOr(bad, fmt.Errorf("%w: %s: the Sigstore bundle %s names key %q and does not verify: %v", ErrBadSignature, subj, shortDigest(sig.Digest), k.name, err))
			}
		}
		var other *KeylessSigner
		for _, i := range wantedIDs {
			id := &p.identities[i]
			signer, err := id.iv.verifyBundle(b, digest, image)
			switch {
			case err == nil:
				keys = append(keys, signedBy{name: id.name, signer: "keyless " + signer.Issuer + " " + signer.Subject})
				signer.Identity = id.name
				v.Keyless = append(v.Keyless, signer)
			case errors.Is(err, errNoCertificate):
			case errors.Is(err, errNotThisIdentity):
				other = &signer
			default:
				bad = cmpOr(bad, fmt.Errorf("%w: %s: the keyless Sigstore bundle %s is for identity %q and does not verify: %v", ErrBadSignature, subj, shortDigest(sig.Digest), id.name, err))
			}
		}
		if len(keys) > 0 {
			return keys, nil, nil
		}
		if bad != nil {
			return nil, nil, bad
		}
		if other == nil {
			if leaf, err := bundleLeaf(b); err == nil {
				other = &KeylessSigner{Subject: leaf.SubjectAlternativeName, Issuer: leaf.Issuer}
			}
		}
		if other != nil {
			return nil, nil, fmt.Errorf("%w: %s is signed keyless by %s (issuer %s) (Sigstore bundle %s), an identity which trust policy %s does not list for it", ErrUntrusted, subj, other.Subject, other.Issuer, shortDigest(sig.Digest), p.displayPath())
		}
		return nil, nil, fmt.Errorf("%w: %s is signed by key %s (Sigstore bundle %s), which trust policy %s does not list for it", ErrUntrusted, subj, orUnnamed(hintKeyID(b.GetVerificationMaterial().GetPublicKey().GetHint())), shortDigest(sig.Digest), p.displayPath())
	case FormatSigTag:
		var keys []signedBy
		var bad error
		for _, i := range wanted {
			k := &p.keys[i]
			signed, err := k.kv.verifySimple(sig.Envelope, sig.Sig)
			if err != nil {
				continue // another key's signature: simple signatures carry no key hint
			}
			if signed != subj.Artifact {
				bad = cmpOr(bad, fmt.Errorf("%w: %s: key %q signed %s, not this artifact (a signature of the .sig tag copied from another artifact)", ErrBadSignature, subj, k.name, signed))
				continue
			}
			keys = append(keys, signedBy{name: k.name, signer: "key " + k.id})
		}
		if len(keys) > 0 {
			return keys, nil, nil
		}
		if bad != nil {
			return nil, nil, bad
		}
		return nil, nil, fmt.Errorf("%w: %s is signed (cosign .sig tag %s) by a key which trust policy %s does not list for it", ErrUntrusted, subj, shortDigest(sig.Digest), p.displayPath())
	}
	return nil, nil, fmt.Errorf("%w: %s: a signature of unknown format %q", ErrBadSignature, subj, sig.Format)
}

func orUnnamed(id string) string {
	if id == "" {
		return "(unnamed)"
	}
	return id
}

func shortDigest(d string) string {
	if d == "" {
		return "(file)"
	}
	if len(d) > 19 {
		return d[:19]
	}
	return d
}

// verifyLegacy checks a codexhost ed25519 envelope, as before cosign
// compatibility.
func (p *TrustPolicy) verifyLegacy(b []byte, subj *Subject, wanted []int) (*Verification, error) {
	env, err := parseEnvelope(b)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(wanted, func(i int) bool { return p.keys[i].id == env.KeyID })
	if i < 0 {
		return nil, fmt.Errorf("%w: %s is signed by key %s, which trust policy %s does not list for it", ErrUntrusted, subj, env.KeyID, p.displayPath())
	}
	key := p.keys[wanted[i]]
	pub, ok := key.pub.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not an ed25519 key", ErrBadSignature, key.name)
	}
	st, err := openEnvelope(env, pub)
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
	return &Verification{Key: key.name, KeyID: key.id, Statement: st}, nil
}

func (p *TrustPolicy) displayPath() string {
	if p.path == "" {
		return "(in memory)"
	}
	return p.path
}
