package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// cmdTrustRefresh: codexhost trust refresh [--out FILE] [--mirror URL].
// It is the only place codexhost reaches the network for Sigstore: keyless
// verification reads the file it writes and nothing else.
func cmdTrustRefresh(ctx context.Context, cio *cmdIO, args []string) error {
	fs := newFlagSet(cio, "trust refresh", `trust refresh [--out FILE] [--mirror URL]

Fetches the Sigstore public-good trusted root (Fulcio CAs, Rekor logs,
timestamp authorities) through its TUF repository, verified from the TUF
root embedded in codexhost (sigstore-go's), and writes it to FILE for a
trust policy's trusted-root = "FILE". This is the only step of keyless
verification that uses the network; verification never refreshes the file
by itself. The TUF metadata is cached in ~/.sigstore/root, as cosign
initialize caches it.`)
	out := fs.String("out", "trusted_root.json", "write the trusted root to `FILE`")
	mirror := fs.String("mirror", tuf.DefaultMirror, "`URL` of the public-good TUF repository or a mirror of it")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return usageErr("trust refresh: unexpected argument %q", safeText(fs.Arg(0)))
	}
	if *out == "" {
		return usageErr("trust refresh: --out is empty")
	}
	if u, err := url.Parse(*mirror); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usageErr("trust refresh: --mirror %q: want the http(s) URL of a TUF repository, such as %s", safeText(*mirror), tuf.DefaultMirror)
	}
	opts := tuf.DefaultOptions().WithContext(ctx).WithRepositoryBaseURL(*mirror)
	c, err := tuf.New(opts)
	if err != nil {
		return fail(exitTurnFailed, "trust refresh: TUF repository %s: %s", safeText(*mirror), safeText(err.Error()))
	}
	js, err := c.GetTarget("trusted_root.json")
	if err != nil {
		return fail(exitTurnFailed, "trust refresh: trusted_root.json from %s: %s", safeText(*mirror), safeText(err.Error()))
	}
	tr, err := root.NewTrustedRootFromJSON(js)
	if err != nil {
		return fail(exitTurnFailed, "trust refresh: the fetched trusted root does not parse: %s", safeText(err.Error()))
	}
	if err := writeFileAtomic(*out, js); err != nil {
		return fail(exitTurnFailed, "trust refresh: %s", safeText(err.Error()))
	}
	fmt.Fprintf(cio.stdout, "wrote %s: %d Fulcio CA(s), %d Rekor log(s), %d timestamp authorit(ies), from %s\n",
		safeText(*out), len(tr.FulcioCertificateAuthorities()), len(tr.RekorLogs()), len(tr.TimestampingAuthorities()), safeText(*mirror))
	return nil
}

// writeFileAtomic replaces path with b, or leaves it as it was: a policy
// never reads half a trusted root.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".trusted_root-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, nothing to remove
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
