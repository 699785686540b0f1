package dist_test

import (
	"fmt"

	"github.com/codexhost/codexhost/plugins/dist"
)

func ExampleParseRef() {
	r, err := dist.ParseRef("oci://registry.example.com/policies/deny-rm:1.0.0")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Registry, r.Repository, r.Tag)
	fmt.Println(r.Name())
	pinned := r.WithDigest(dist.Digest([]byte("manifest")))
	fmt.Println(pinned)

	_, err = dist.ParseRef("oci://registry.example.com/policies/deny-rm")
	fmt.Println(err)
	// Output:
	// registry.example.com policies/deny-rm 1.0.0
	// registry.example.com/policies/deny-rm
	// oci://registry.example.com/policies/deny-rm:1.0.0@sha256:05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f
	// dist: invalid reference: "oci://registry.example.com/policies/deny-rm" names no tag or digest; add :TAG or @sha256:DIGEST
}
