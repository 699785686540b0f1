package dist_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/dist"
)

func TestParseRef(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	tests := []struct {
		in   string
		want dist.Ref
		err  string
	}{
		{in: "oci://127.0.0.1:5000/policies/deny-rm:1.0", want: dist.Ref{Registry: "127.0.0.1:5000", Repository: "policies/deny-rm", Tag: "1.0"}},
		{in: "oci://reg.example.com/a/b/c@" + d, want: dist.Ref{Registry: "reg.example.com", Repository: "a/b/c", Digest: d}},
		{in: "oci://reg.example.com/p:v1@" + d, want: dist.Ref{Registry: "reg.example.com", Repository: "p", Tag: "v1", Digest: d}},
		{in: "oci://reg.example.com/p@SHA256:" + "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", want: dist.Ref{Registry: "reg.example.com", Repository: "p", Digest: d}},
		{in: "oci://reg.example.com/p", err: "names no tag or digest"},
		{in: "oci://reg.example.com", err: "names no repository"},
		{in: "oci://reg.example.com/p@sha256:12", err: "not a sha256 digest"},
		{in: "oci://reg.example.com/P:1", err: "invalid reference"},
		{in: "reg.example.com/p:1", err: "does not start with oci://"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := dist.ParseRef(tt.in)
			if tt.err != "" {
				require.ErrorIs(t, err, dist.ErrBadRef)
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, r)
			again, err := dist.ParseRef(r.String())
			require.NoError(t, err)
			require.Equal(t, r, again)
		})
	}
}

func TestKeys(t *testing.T) {
	pub, priv, err := dist.GenerateKey()
	require.NoError(t, err)
	pb, err := dist.MarshalPublicKey(pub)
	require.NoError(t, err)
	kb, err := dist.MarshalPrivateKey(priv)
	require.NoError(t, err)
	pub2, err := dist.ParsePublicKey(pb)
	require.NoError(t, err)
	priv2, err := dist.ParsePrivateKey(kb)
	require.NoError(t, err)
	require.True(t, pub.Equal(pub2))
	require.True(t, priv.Equal(priv2))
	require.Equal(t, dist.KeyID(pub), dist.KeyID(priv2.Public()))
	_, err = dist.ParsePublicKey(kb)
	require.ErrorIs(t, err, dist.ErrBadKey)
	_, err = dist.ParsePrivateKey(pb)
	require.ErrorIs(t, err, dist.ErrBadKey)
	_, err = dist.ParsePrivateKey([]byte("not pem"))
	require.ErrorIs(t, err, dist.ErrBadKey)
}

// Cosign key pairs: the private key encrypted with the password, opened
// only with it; the key ID is the public key's.
func TestCosignKeys(t *testing.T) {
	kb, pb, err := dist.GenerateCosignKeyPair([]byte("s3cret"))
	require.NoError(t, err)
	require.Contains(t, string(kb), "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
	_, err = dist.LoadSigningKey(kb, []byte("wrong"))
	require.ErrorIs(t, err, dist.ErrPassword)
	_, err = dist.LoadSigningKey(kb, nil)
	require.ErrorIs(t, err, dist.ErrPassword)
	k, err := dist.LoadSigningKey(kb, []byte("s3cret"))
	require.NoError(t, err)
	pub, err := dist.ParsePublicKey(pb)
	require.NoError(t, err)
	require.Equal(t, dist.KeyID(pub), k.ID())
	_, err = dist.LoadSigningKey(pb, nil)
	require.ErrorIs(t, err, dist.ErrBadKey)
	_, err = dist.ParsePublicKey(kb)
	require.ErrorIs(t, err, dist.ErrBadKey)
	// A legacy ed25519 key signs only the legacy format.
	_, lpriv, err := dist.GenerateKey()
	require.NoError(t, err)
	lb, err := dist.MarshalPrivateKey(lpriv)
	require.NoError(t, err)
	_, err = dist.LoadSigningKey(lb, nil)
	require.ErrorIs(t, err, dist.ErrLegacyKey)
}

// keyFiles writes a cosign key pair into dir as NAME.key (encrypted with
// the password "pw") and NAME.pub.
func keyFiles(t *testing.T, dir, name string) *dist.SigningKey {
	t.Helper()
	c := testKey(t, name)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pub"), c.pub, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".key"), c.priv, 0o600))
	return c.key
}

// cachedKey is a cosign key pair encrypted with the password "pw" and the
// key it decrypts to.
type cachedKey struct {
	priv, pub []byte
	key       *dist.SigningKey
}

// testKeys holds one key pair per name for the whole test binary. A
// cosign key file is encrypted with scrypt (N=32768), which under the race
// detector costs about a second to encrypt and again to decrypt: generating
// fresh pairs in every fixture was most of this package's test time. Each
// test still has distinct keys for distinct names.
var testKeys = struct {
	sync.Mutex
	m map[string]*cachedKey
}{m: map[string]*cachedKey{}}

func testKey(t *testing.T, name string) *cachedKey {
	t.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	if c := testKeys.m[name]; c != nil {
		return c
	}
	kb, pb, err := dist.GenerateCosignKeyPair([]byte("pw"))
	require.NoError(t, err)
	k, err := dist.LoadSigningKey(kb, []byte("pw"))
	require.NoError(t, err)
	c := &cachedKey{priv: kb, pub: pb, key: k}
	testKeys.m[name] = c
	return c
}

// legacyKeyFiles writes an ed25519 key pair into dir as NAME.key and
// NAME.pub.
func legacyKeyFiles(t *testing.T, dir, name string) ed25519.PrivateKey {
	t.Helper()
	pub, priv, err := dist.GenerateKey()
	require.NoError(t, err)
	pb, err := dist.MarshalPublicKey(pub)
	require.NoError(t, err)
	kb, err := dist.MarshalPrivateKey(priv)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".pub"), pb, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".key"), kb, 0o600))
	return priv
}

func writePolicy(t *testing.T, dir, text string) *dist.TrustPolicy {
	t.Helper()
	p := filepath.Join(dir, "trust.toml")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	pol, err := dist.LoadTrustPolicy(p)
	require.NoError(t, err)
	return pol
}

func TestTrustPolicyErrors(t *testing.T) {
	dir := t.TempDir()
	keyFiles(t, dir, "a")
	for name, text := range map[string]string{
		"typo":            "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepository = [\"x/*\"]\nkeys = [\"a\"]\n",
		"no rules":        "[keys.a]\npublic-key-file = \"a.pub\"\n",
		"unknown key":     "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepositories = [\"x/*\"]\nkeys = [\"b\"]\n",
		"no keys":         "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepositories = [\"x/*\"]\n",
		"covers nothing":  "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nkeys = [\"a\"]\n",
		"missing file":    "[keys.a]\npublic-key-file = \"nope.pub\"\n[[rule]]\nrepositories = [\"x/*\"]\nkeys = [\"a\"]\n",
		"private key":     "[keys.a]\npublic-key-file = \"a.key\"\n[[rule]]\nrepositories = [\"x/*\"]\nkeys = [\"a\"]\n",
		"bad pattern":     "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepositories = [\"x/[\"]\nkeys = [\"a\"]\n",
		"not toml":        "[keys.a\n",
		"key without pem": "[keys.a]\n[[rule]]\nrepositories = [\"x/*\"]\nkeys = [\"a\"]\n",
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, "trust.toml")
			require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
			_, err := dist.LoadTrustPolicy(p)
			require.ErrorIs(t, err, dist.ErrBadPolicy)
			require.ErrorContains(t, err, p)
		})
	}
}

// legacy wraps codexhost ed25519 envelopes as signatures.
func legacy(envs ...[]byte) []dist.Signature {
	sigs := make([]dist.Signature, len(envs))
	for i, e := range envs {
		sigs[i] = dist.Signature{Format: dist.FormatLegacy, Envelope: e}
	}
	return sigs
}

// The legacy ed25519 format verifies under legacy-signatures = true, with
// the checks it always had.
func TestVerifyLegacyStatement(t *testing.T) {
	dir := t.TempDir()
	a := legacyKeyFiles(t, dir, "a")
	b := legacyKeyFiles(t, dir, "b")
	pol := writePolicy(t, dir, `
legacy-signatures = true
[keys.a]
public-key-file = "a.pub"
[keys.b]
public-key-file = "b.pub"
[[rule]]
repositories = ["reg.example.com/policies/*"]
plugins = ["deny-*"]
keys = ["a"]
[[rule]]
repositories = ["reg.example.com/team/**"]
keys = ["b"]
[[rule]]
local = true
keys = ["a"]
`)
	module := []byte("\x00asm module")
	st := dist.Statement{Artifact: dist.Digest([]byte("manifest")), Repository: "reg.example.com/policies/deny-rm",
		Module: dist.Digest(module), Runtime: dist.RuntimeWasm, Name: "deny-rm", Version: "1.0.0"}
	subj := dist.Subject{Repository: st.Repository, Artifact: st.Artifact, Module: st.Module, Name: "deny-rm", Version: "1.0.0"}
	sign := func(st dist.Statement, k ed25519.PrivateKey) []byte {
		env, err := dist.SignStatement(&st, k)
		require.NoError(t, err)
		return env
	}

	v, err := pol.Verify(legacy(sign(st, a)), &subj)
	require.NoError(t, err)
	require.Equal(t, "a", v.Key)
	require.Equal(t, "deny-rm", v.Statement.Name)

	_, err = pol.Verify(nil, &subj)
	require.ErrorIs(t, err, dist.ErrUnsigned)

	// b is trusted, but not for this repository.
	_, err = pol.Verify(legacy(sign(st, b)), &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, "does not list")

	// A key the policy does not list.
	_, other, _ := dist.GenerateKey()
	_, err = pol.Verify(legacy(sign(st, other)), &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, "does not list")

	// The rule's plugin pattern.
	st2, subj2 := st, subj
	st2.Name, subj2.Name = "allow-all", "allow-all"
	_, err = pol.Verify(legacy(sign(st2, a)), &subj2)
	require.ErrorIs(t, err, dist.ErrUntrusted)

	// "/**" covers nested repositories.
	st3, subj3 := st, subj
	st3.Repository, subj3.Repository = "reg.example.com/team/x/y", "reg.example.com/team/x/y"
	_, err = pol.Verify(legacy(sign(st3, b)), &subj3)
	require.NoError(t, err)

	// A valid signature about something else is a bad signature.
	for name, mutate := range map[string]func(*dist.Subject){
		"artifact": func(s *dist.Subject) { s.Artifact = dist.Digest([]byte("other")) },
		"module":   func(s *dist.Subject) { s.Module = dist.Digest([]byte("other")) },
		"version":  func(s *dist.Subject) { s.Version = "2.0.0" },
	} {
		s := subj
		mutate(&s)
		_, err = pol.Verify(legacy(sign(st, a)), &s)
		require.ErrorIs(t, err, dist.ErrBadSignature, name)
	}

	// A forged payload.
	env := sign(st, a)
	forged := []byte(string(env[:20]) + "X" + string(env[21:]))
	_, err = pol.Verify(legacy(forged), &subj)
	require.Error(t, err)

	// The worst error wins; a good signature among bad ones verifies.
	_, err = pol.Verify(legacy(sign(st, other), sign(st, a)), &subj)
	require.NoError(t, err)

	// A signature for another repository does not apply here.
	s := subj
	s.Repository = "reg.example.com/policies/other"
	_, err = pol.Verify(legacy(sign(st, a)), &s)
	require.ErrorIs(t, err, dist.ErrUntrusted)

	// Local files: a signature of the module alone, under a local rule.
	m := &abi.Manifest{Name: "deny-rm", Version: "1.0.0"}
	lenv, err := dist.SignStatement(&dist.Statement{Module: dist.Digest(module), Runtime: dist.RuntimeWasm, Name: m.Name, Version: m.Version}, a)
	require.NoError(t, err)
	v, err = pol.Verify(legacy(lenv), &dist.Subject{Module: dist.Digest(module)})
	require.NoError(t, err)
	require.Equal(t, "deny-rm", v.Statement.Name)
	lenvB, err := dist.SignStatement(&dist.Statement{Module: dist.Digest(module), Runtime: dist.RuntimeWasm, Name: m.Name, Version: m.Version}, b)
	require.NoError(t, err)
	_, err = pol.Verify(legacy(lenvB), &dist.Subject{Module: dist.Digest(module)})
	require.ErrorIs(t, err, dist.ErrUntrusted)
	// A registry signature does not make a local file trusted, nor the
	// other way round.
	_, err = pol.Verify(legacy(sign(st, a)), &dist.Subject{Module: dist.Digest(module)})
	require.ErrorIs(t, err, dist.ErrUntrusted)
	_, err = pol.Verify(legacy(lenv), &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)

	// Without legacy-signatures, the same signature is refused.
	strict := writePolicy(t, dir, strings.Replace(string(must(os.ReadFile(filepath.Join(dir, "trust.toml")))), "legacy-signatures = true", "", 1))
	_, err = strict.Verify(legacy(sign(st, a)), &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, "legacy-signatures")
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestCache(t *testing.T) {
	c, err := dist.OpenCache(t.TempDir())
	require.NoError(t, err)
	d, err := c.Put("", []byte("hello"))
	require.NoError(t, err)
	require.Equal(t, dist.Digest([]byte("hello")), d)
	b, err := c.Get(d)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
	_, err = c.Put(d, []byte("other"))
	require.ErrorIs(t, err, dist.ErrDigestMismatch)

	_, err = c.Get(dist.Digest([]byte("absent")))
	require.ErrorIs(t, err, dist.ErrNotCached)

	// A corrupt blob is reported and removed.
	p, err := c.BlobPath(d)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(p, 0o644))
	require.NoError(t, os.WriteFile(p, []byte("HELLO"), 0o644))
	_, err = c.Get(d)
	require.ErrorIs(t, err, dist.ErrCorrupt)
	require.False(t, c.Has(d))

	// Executable copies.
	d, err = c.Put("", []byte("#!/bin/sh\n"))
	require.NoError(t, err)
	x, err := c.Executable(d)
	require.NoError(t, err)
	st, err := os.Stat(x)
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&0o111)
}

// BenchmarkVerify measures one signature check under a policy: a
// cosign-format Sigstore bundle (DSSE, ECDSA P-256) verified by
// sigstore-go, its subject digest and the rule, without hashing the
// module.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	kb, pb, err := dist.GenerateCosignKeyPair(nil)
	require.NoError(b, err)
	key, err := dist.LoadSigningKey(kb, nil)
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(filepath.Join(dir, "a.pub"), pb, 0o644))
	pol, err := dist.ParseTrustPolicy([]byte("[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepositories = [\"reg.example.com/policies/*\"]\nkeys = [\"a\"]\n"), dir)
	require.NoError(b, err)
	subj := dist.Subject{Repository: "reg.example.com/policies/p", Artifact: dist.Digest([]byte("m")), Module: dist.Digest([]byte("x")), Name: "p", Version: "1"}
	bundle, err := dist.SignImageBundle(b.Context(), key, subj.Artifact)
	require.NoError(b, err)
	sigs := []dist.Signature{{Format: dist.FormatBundle, Envelope: bundle}}
	for b.Loop() {
		if _, err := pol.Verify(sigs, &subj); err != nil {
			b.Fatal(err)
		}
	}
}

// Named rules, any-of with a minimum, all-of: every covering rule must be
// satisfied by signatures that verify and are about this artifact, and a
// refusal names the rule.
func TestPolicyRules(t *testing.T) {
	dir := t.TempDir()
	keys := map[string]*dist.SigningKey{}
	for _, n := range []string{"a", "b", "c", "sec", "stranger"} {
		keys[n] = keyFiles(t, dir, n)
	}
	pol := writePolicy(t, dir, `
[keys.a]
public-key-file = "a.pub"
[keys.b]
public-key-file = "b.pub"
[keys.c]
public-key-file = "c.pub"
[keys.sec]
public-key-file = "sec.pub"

[[rule]]
name = "two of three"
repositories = ["reg.example.com/policies/**"]
any-of = { keys = ["a", "b", "c"], minimum = 2 }

[[rule]]
name = "security signs deny plugins"
repositories = ["reg.example.com/policies/**"]
plugins = ["deny-*"]
all-of = { keys = ["sec"] }
`)
	subj := dist.Subject{Repository: "reg.example.com/policies/x", Artifact: dist.Digest([]byte("manifest")), Module: dist.Digest([]byte("m")), Name: "allow-ls", Version: "1"}
	sig := func(k string, s *dist.Subject) dist.Signature {
		b, err := dist.SignImageBundle(t.Context(), keys[k], s.Artifact)
		require.NoError(t, err)
		return dist.Signature{Format: dist.FormatBundle, Envelope: b}
	}
	_, err := pol.Verify([]dist.Signature{sig("a", &subj)}, &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, `rule "two of three"`)
	require.ErrorContains(t, err, "needs 2 signature(s)")

	v, err := pol.Verify([]dist.Signature{sig("a", &subj), sig("stranger", &subj), sig("c", &subj)}, &subj)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c"}, v.Keys)
	require.Equal(t, []string{"two of three"}, v.Rules)
	require.Equal(t, dist.FormatBundle, v.Formats[0])

	// Two signatures by the same key count once.
	_, err = pol.Verify([]dist.Signature{sig("a", &subj), sig("a", &subj)}, &subj)
	require.ErrorIs(t, err, dist.ErrUntrusted)

	// deny-* needs sec as well as two of a, b, c.
	deny := subj
	deny.Name = "deny-rm"
	_, err = pol.Verify([]dist.Signature{sig("a", &deny), sig("b", &deny)}, &deny)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, `rule "security signs deny plugins"`)
	v, err = pol.Verify([]dist.Signature{sig("a", &deny), sig("b", &deny), sig("sec", &deny)}, &deny)
	require.NoError(t, err)
	require.Equal(t, []string{"two of three", "security signs deny plugins"}, v.Rules)

	// A valid signature of another artifact is a bad signature.
	other := subj
	other.Artifact = dist.Digest([]byte("other manifest"))
	_, err = pol.Verify([]dist.Signature{sig("a", &other), sig("b", &other)}, &subj)
	require.ErrorIs(t, err, dist.ErrBadSignature)

	// A tampered bundle.
	s := sig("a", &subj)
	s.Envelope = []byte(strings.Replace(string(s.Envelope), `"signatures":[{"sig":"`, `"signatures":[{"sig":"AAAA`, 1))
	_, err = pol.Verify([]dist.Signature{s, sig("b", &subj)}, &subj)
	require.ErrorIs(t, err, dist.ErrBadSignature)

	// No rule covers it: refused, whoever signed.
	elsewhere := subj
	elsewhere.Repository = "reg.example.com/elsewhere/x"
	_, err = pol.Verify([]dist.Signature{sig("a", &elsewhere), sig("b", &elsewhere)}, &elsewhere)
	require.ErrorIs(t, err, dist.ErrUntrusted)
	require.ErrorContains(t, err, "no rule")

	// No signature at all fails closed.
	_, err = pol.Verify(nil, &subj)
	require.ErrorIs(t, err, dist.ErrUnsigned)

	// Bad rules.
	for name, text := range map[string]string{
		"minimum too high": "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepositories = [\"x/*\"]\nany-of = { keys = [\"a\"], minimum = 2 }\n",
		"empty all-of":     "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nrepositories = [\"x/*\"]\nall-of = { keys = [] }\n",
		"same name":        "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nname = \"r\"\nrepositories = [\"x/*\"]\nkeys = [\"a\"]\n[[rule]]\nname = \"r\"\nrepositories = [\"y/*\"]\nkeys = [\"a\"]\n",
	} {
		_, err := dist.ParseTrustPolicy([]byte(text), dir)
		require.ErrorIs(t, err, dist.ErrBadPolicy, name)
	}
}

// A local file's signature is a bundle as cosign sign-blob --bundle writes
// it: over the module's bytes.
func TestSignModule(t *testing.T) {
	dir := t.TempDir()
	a := keyFiles(t, dir, "a")
	pol := writePolicy(t, dir, "[keys.a]\npublic-key-file = \"a.pub\"\n[[rule]]\nlocal = true\nkeys = [\"a\"]\n")
	module := []byte("\x00asm module")
	b, err := dist.SignModule(t.Context(), module, a)
	require.NoError(t, err)
	sig := dist.ParseSignatureFile(b)
	require.Equal(t, dist.FormatBundle, sig.Format)
	v, err := pol.Verify([]dist.Signature{sig}, &dist.Subject{Module: dist.Digest(module)})
	require.NoError(t, err)
	require.Equal(t, "a", v.Key)
	_, err = pol.Verify([]dist.Signature{sig}, &dist.Subject{Module: dist.Digest([]byte("other"))})
	require.ErrorIs(t, err, dist.ErrBadSignature)
	// A file's signature does not sign an OCI artifact with that digest.
	_, err = pol.Verify([]dist.Signature{sig}, &dist.Subject{Repository: "r/x", Artifact: dist.Digest(module)})
	require.Error(t, err)
}

// BenchmarkCacheGet measures reading and re-hashing a 4 MiB module from
// the cache, the cost of every load of a cached plugin.
func BenchmarkCacheGet(b *testing.B) {
	c, err := dist.OpenCache(b.TempDir())
	require.NoError(b, err)
	blob := make([]byte, 4<<20)
	d, err := c.Put("", blob)
	require.NoError(b, err)
	b.SetBytes(int64(len(blob)))
	for b.Loop() {
		if _, err := c.Get(d); err != nil {
			b.Fatal(err)
		}
	}
}
