package dist_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist"
)

// Docs: "Resolving a digest that is cached from another repository fetches
// this repository's signatures", and "A signature that is present and
// fails, is by an untrusted key, or is about other content is refused
// whatever the flags". With AllowUnsigned, a digest cached from
// policies/ resolves in other/ without asking the registry: other/'s
// signature by a key the policy does not trust there is never seen, and
// the plugin loads as "unsigned".
func TestTrustAllowUnsignedSkipsThisRepositorysSignatures(t *testing.T) {
	f := newFixture(t)
	ref := f.ref(t, "policies/deny-rm:1.0.0")
	d := f.push(t, ref, f.module, &f.cfg)
	_, err := dist.Sign(t.Context(), ref, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)
	o := f.opts(t)
	_, err = dist.Pull(t.Context(), ref, o)
	require.NoError(t, err)

	// The same bytes in other/, signed there by a, which the policy trusts
	// only for policies/ (other/ wants b).
	other := f.ref(t, "other/deny-rm:1.0.0")
	require.Equal(t, d, f.push(t, other, f.module, &f.cfg))
	_, err = dist.Sign(t.Context(), other, f.a, &dist.Options{Cache: f.opts(t).Cache})
	require.NoError(t, err)

	// A fresh cache: refused whatever the flags.
	fresh := f.opts(t)
	fresh.AllowUnsigned = true
	_, err = dist.Resolve(t.Context(), other.WithDigest(d), fresh)
	require.ErrorIs(t, err, dist.ErrUntrusted)

	// The cache that holds the digest from policies/: must be the same.
	o.AllowUnsigned = true
	a, err := dist.Resolve(t.Context(), other.WithDigest(d), o)
	if err == nil {
		t.Fatalf("loaded as unsigned (Verified=%v, %d signatures) although other/ carries an untrusted signature", a.Verified != nil, len(a.Signatures))
	}
	require.ErrorIs(t, err, dist.ErrUntrusted)
}
