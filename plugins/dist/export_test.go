package dist

// SignImageBundle is signImageBundle, for the tests of package dist_test:
// a Sigstore bundle as `cosign sign` attaches to the OCI manifest with
// digest.
var SignImageBundle = signImageBundle
