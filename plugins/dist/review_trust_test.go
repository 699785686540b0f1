package dist_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
)

func signedBundle(t *testing.T, k *dist.SigningKey, s *dist.Subject) dist.Signature {
	t.Helper()
	b, err := dist.SignImageBundle(t.Context(), k, s.Artifact)
	require.NoError(t, err)
	return dist.Signature{Format: dist.FormatBundle, Envelope: b}
}

// "Two signatures by one key count once" and "at least minimum of the
// any-of keys has a signature": a name listed twice in a rule must not let
// one key's signature count twice toward the minimum. Either the policy
// is refused at load, or one signature does not satisfy minimum = 2.
func TestTrustAnyOfDuplicateNameCountsTwice(t *testing.T) {
	dir := t.TempDir()
	a := keyFiles(t, dir, "a")
	keyFiles(t, dir, "b")
	for name, rule := range map[string]string{
		"duplicate in any-of": `any-of = { keys = ["a", "a", "b"], minimum = 2 }`,
		"keys plus any-of":    "keys = [\"a\"]\nany-of = { keys = [\"a\", \"b\"], minimum = 2 }",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "trust.toml")
			require.NoError(t, os.WriteFile(p, []byte(`
[keys.a]
public-key-file = "a.pub"
[keys.b]
public-key-file = "b.pub"
[[rule]]
name = "two signers"
repositories = ["reg.example.com/policies/*"]
`+rule+"\n"), 0o644))
			pol, err := dist.LoadTrustPolicy(p)
			if err != nil {
				require.ErrorIs(t, err, dist.ErrBadPolicy)
				return // refusing the ambiguous policy is fine
			}
			subj := dist.Subject{Repository: "reg.example.com/policies/x", Artifact: dist.Digest([]byte("manifest")), Module: dist.Digest([]byte("m")), Name: "p", Version: "1"}
			v, err := pol.Verify([]dist.Signature{signedBundle(t, a, &subj)}, &subj)
			require.ErrorIs(t, err, dist.ErrUntrusted, "one signature by key a satisfied a 2-signature rule: %+v", v)
		})
	}
}

// The same public key under two names: one signature must not count as
// two signers toward minimum = 2.
func TestTrustAnyOfSameKeyTwoNames(t *testing.T) {
	dir := t.TempDir()
	a := keyFiles(t, dir, "a")
	keyFiles(t, dir, "b")
	p := filepath.Join(dir, "trust.toml")
	require.NoError(t, os.WriteFile(p, []byte(`
[keys.release]
public-key-file = "a.pub"
[keys.security]
public-key-file = "a.pub"
[keys.ops]
public-key-file = "b.pub"
[[rule]]
name = "two of three"
repositories = ["reg.example.com/policies/*"]
any-of = { keys = ["release", "security", "ops"], minimum = 2 }
`), 0o644))
	pol, err := dist.LoadTrustPolicy(p)
	if err != nil {
		require.ErrorIs(t, err, dist.ErrBadPolicy)
		return
	}
	subj := dist.Subject{Repository: "reg.example.com/policies/x", Artifact: dist.Digest([]byte("manifest")), Module: dist.Digest([]byte("m")), Name: "p", Version: "1"}
	v, err := pol.Verify([]dist.Signature{signedBundle(t, a, &subj)}, &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted, "one signature by one key satisfied a two-of-three rule: %+v", v)
}

// One keyless signature whose certificate matches two identities of a
// rule's any-of must not count as two signers toward minimum = 2.
func TestTrustKeylessOneSignatureTwoIdentities(t *testing.T) {
	v := disttest.NewSigstore(t)
	p := mustPolicy(t, v, `
[identities.main]
issuer = "`+ciIssuer+`"
subject = "`+ciSubject+`"
[identities.org-workflows]
issuer = "`+ciIssuer+`"
subject-regexp = "https://github\\.com/org/.*"

[[rule]]
name = "two signers"
repositories = ["registry.example.com/policies/*"]
any-of = { identities = ["main", "org-workflows"], minimum = 2 }
`)
	subj, d := imageSubject("manifest")
	got, err := p.Verify(bundleSig(v.SignImage(t, ciSubject, ciIssuer, d, disttest.KeylessOptions{})), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted, "one keyless signature satisfied a 2-signer rule: %+v", got)
}

// Docs: "A rule with plugins patterns does not cover a local file whose
// bundle names no plugin". A legacy envelope of a local file does name
// the plugin; a rule for deny-* plugins must then cover it.
func TestTrustLegacyLocalNamedPluginSkipsPluginRule(t *testing.T) {
	dir := t.TempDir()
	dev := legacyKeyFiles(t, dir, "dev")
	legacyKeyFiles(t, dir, "sec")
	pol := writePolicy(t, dir, `
legacy-signatures = true
[keys.dev]
public-key-file = "dev.pub"
[keys.sec]
public-key-file = "sec.pub"
[[rule]]
name = "dev signs local files"
local = true
keys = ["dev"]
[[rule]]
name = "security countersigns deny plugins"
local = true
plugins = ["deny-*"]
all-of = { keys = ["sec"] }
`)
	module := []byte("\x00asm module")
	env, err := dist.SignStatement(&dist.Statement{Module: dist.Digest(module), Runtime: dist.RuntimeWasm, Name: "deny-rm", Version: "1.0.0"}, dev)
	require.NoError(t, err)
	v, err := pol.Verify(legacy(env), &dist.Subject{Module: dist.Digest(module)})
	require.ErrorIs(t, err, dist.ErrUntrusted, "a local deny-rm signed only by dev verified: rules %v", v)
}

// "A regexp matches the whole value: codexhost anchors it (^(?:RE)$)".
// Only the anchored form is compiled, so a regexp that is invalid alone
// (a stray ")" ... "(") escapes the group and matches any subject; it must
// be refused at load.
func TestTrustKeylessRegexpEscapesAnchor(t *testing.T) {
	v := disttest.NewSigstore(t)
	p, err := policyIn(t, v, `
[identities.ci]
issuer = "`+ciIssuer+`"
subject-regexp = "https://github\\.com/org/policies/.*)|(.*"
[[rule]]
repositories = ["registry.example.com/policies/*"]
identities = ["ci"]
`)
	if err != nil {
		require.ErrorIs(t, err, dist.ErrBadPolicy)
		return
	}
	subj, d := imageSubject("manifest")
	_, err = p.Verify(bundleSig(v.SignImage(t, "https://evil.example/anyone", ciIssuer, d, disttest.KeylessOptions{})), subj)
	require.ErrorIs(t, err, dist.ErrUntrusted, "an evil subject matched the 'anchored' regexp")
}

// A typo in a trust policy must not weaken it: an unknown setting, or a
// pattern that can match no repository (a countersign rule that would
// silently never apply), refuses the policy.
func TestTrustPolicyTypos(t *testing.T) {
	dir := t.TempDir()
	keyFiles(t, dir, "a")
	keyFiles(t, dir, "b")
	head := "[keys.a]\npublic-key-file = \"a.pub\"\n[keys.b]\npublic-key-file = \"b.pub\"\n"
	for name, text := range map[string]string{
		"minimun":         head + "[[rule]]\nrepositories = [\"r/x/*\"]\nany-of = { keys = [\"a\",\"b\"], minimun = 2 }\n",
		"rules plural":    head + "[[rule]]\nrepositories = [\"r/x/*\"]\nkeys=[\"a\"]\n[[rules]]\nrepositories = [\"r/x/*\"]\nall-of = { keys = [\"b\"] }\n",
		"all_of":          head + "[[rule]]\nrepositories = [\"r/x/*\"]\nkeys=[\"a\"]\nall_of = { keys = [\"b\"] }\n",
		"allof minimum":   head + "[[rule]]\nrepositories = [\"r/x/*\"]\nkeys=[\"a\"]\nall-of = { keys = [\"b\"], minimum = 1 }\n",
		"plugin singular": head + "[[rule]]\nrepositories = [\"r/x/*\"]\nplugin = [\"deny-*\"]\nkeys=[\"a\"]\n",
		"subtable typo":   head + "[[rule]]\nrepositories = [\"r/x/*\"]\nkeys=[\"a\"]\n[rule.all-of]\nkey = [\"b\"]\n",
		"legacy typo":     head + "legacy-signature = true\n[[rule]]\nrepositories = [\"r/x/*\"]\nkeys=[\"a\"]\n",
		"oci scheme":      head + "[[rule]]\nrepositories = [\"r/x/**\"]\nkeys=[\"a\"]\n[[rule]]\nrepositories = [\"oci://r/x/prod/*\"]\nall-of = { keys = [\"b\"] }\n",
		"empty plugin":    head + "[[rule]]\nrepositories = [\"r/x/**\"]\nkeys=[\"a\"]\n[[rule]]\nrepositories = [\"r/x/**\"]\nplugins = [\"\"]\nall-of = { keys = [\"b\"] }\n",
		"uppercase":       head + "[[rule]]\nrepositories = [\"r/x/**\"]\nkeys=[\"a\"]\n[[rule]]\nrepositories = [\"r/x/Prod/*\"]\nall-of = { keys = [\"b\"] }\n",
		"with tag":        head + "[[rule]]\nrepositories = [\"r/x/**\"]\nkeys=[\"a\"]\n[[rule]]\nrepositories = [\"r/x/prod:latest\"]\nall-of = { keys = [\"b\"] }\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "trust.toml")
			require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
			_, err := dist.LoadTrustPolicy(p)
			require.ErrorIs(t, err, dist.ErrBadPolicy)
		})
	}
}
