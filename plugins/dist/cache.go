package dist

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/codexhost/codexhost/internal/regfile"
)

// A Cache is a content-addressed store of pulled artifacts on disk:
//
//	DIR/blobs/sha256/HEX                  manifests, configs, modules, signatures (read-only files)
//	DIR/referrers/REGISTRY/REPOSITORY/sha256/SUBJECT/HEX
//	                                      empty: HEX is a signature manifest of SUBJECT in that repository
//	DIR/tags/REGISTRY/REPOSITORY/TAG      the manifest digest TAG resolved to when last pulled
//	DIR/bin/sha256/HEX                    executable copies of process plugin modules
//
// Every write goes to a temporary file in the same directory and is renamed
// into place, so readers never see a partial blob, and several codexhost
// processes can share one cache. Every read is re-hashed: a blob that does
// not match its name is reported (ErrCorrupt) and removed, never returned.
// The tags directory only serves offline tag lookups; a digest reference
// never consults it.
//
// A Cache is safe for concurrent use.
type Cache struct {
	dir string
}

// DefaultCacheDir is the cache's default location:
// $CODEXHOST_PLUGIN_CACHE if set, else os.UserCacheDir()/codexhost/plugins,
// else codexhost-plugins-UID under os.TempDir().
func DefaultCacheDir() string {
	if d := os.Getenv("CODEXHOST_PLUGIN_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "codexhost", "plugins")
	}
	// A name of this user's own in the shared temporary directory (a
	// directory someone else made there first is refused by OpenCache).
	return filepath.Join(os.TempDir(), fmt.Sprintf("codexhost-plugins-%d", os.Getuid()))
}

// OpenCache returns the cache in dir ("" means DefaultCacheDir), creating
// it if needed. A cache directory that is not this user's own (owned by
// another user, or writable by others) is refused: who can write it can
// change what runs.
func OpenCache(dir string) (*Cache, error) {
	if dir == "" {
		dir = DefaultCacheDir()
	}
	for _, sub := range []string{"blobs/sha256", "referrers", "tags", "bin/sha256"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("dist: cache: %w", err)
		}
	}
	// Who can write the cache can swap an executable between its pin
	// check and its start, plant FIFOs or fill the disk: it must be this
	// user's own.
	for _, sub := range []string{"", "blobs", "blobs/sha256", "referrers", "tags", "bin", "bin/sha256"} {
		if err := regfile.OwnDir(filepath.Join(dir, sub), 0); err != nil {
			return nil, fmt.Errorf("dist: cache: %w", err)
		}
	}
	return &Cache{dir: dir}, nil
}

func hexOf(digest string) (string, error) {
	d, err := normDigest(digest)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(d, "sha256:"), nil
}

// BlobPath returns the path of the blob with digest (present or not).
func (c *Cache) BlobPath(digest string) (string, error) {
	h, err := hexOf(digest)
	if err != nil {
		return "", err
	}
	return filepath.Join(c.dir, "blobs", "sha256", h), nil
}

// Has reports whether the blob is cached (without checking its content).
func (c *Cache) Has(digest string) bool {
	p, err := c.BlobPath(digest)
	if err != nil {
		return false
	}
	fi, err := os.Lstat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Get returns the blob with digest, after checking that it hashes to it.
//
// # Errors
//
//   - ErrNotCached: the blob is not in the cache.
//   - ErrCorrupt: the file does not hash to digest; it has been removed.
func (c *Cache) Get(digest string) ([]byte, error) {
	p, err := c.BlobPath(digest)
	if err != nil {
		return nil, err
	}
	b, err := regfile.Read(p) // a FIFO planted there must not block
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: blob %s", ErrNotCached, digest)
	}
	if errors.Is(err, regfile.ErrNotRegular) {
		_ = os.Remove(p)
		return nil, fmt.Errorf("%w: %v; removed it, pull again", ErrCorrupt, err)
	}
	if err != nil {
		return nil, fmt.Errorf("dist: cache: %w", err)
	}
	if got := Digest(b); got != "sha256:"+filepath.Base(p) {
		_ = os.Remove(p)
		return nil, fmt.Errorf("%w: %s hashes to %s; removed it, pull again", ErrCorrupt, p, got)
	}
	return b, nil
}

// Put stores b under its digest, which it returns. If digest is not empty,
// b must hash to it (ErrDigestMismatch otherwise).
func (c *Cache) Put(digest string, b []byte) (string, error) {
	got := Digest(b)
	if digest != "" {
		want, err := normDigest(digest)
		if err != nil {
			return "", err
		}
		if want != got {
			return "", fmt.Errorf("%w: content hashes to %s, expected %s", ErrDigestMismatch, got, want)
		}
	}
	p, err := c.BlobPath(got)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err == nil {
		return got, nil
	}
	return got, writeAtomic(p, b, 0o444)
}

// writeAtomic writes b to path through a temporary file and a rename.
func writeAtomic(path string, b []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("dist: cache: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("dist: cache: %w", err)
	}
	return nil
}

// referrersDir is where the signatures of subject in r's repository are
// recorded. Referrers are per repository, as in a registry: a signature
// pushed to one repository says nothing about another.
func (c *Cache) referrersDir(r Ref, subject string) (string, error) {
	sh, err := hexOf(subject)
	if err != nil {
		return "", err
	}
	return filepath.Join(c.dir, "referrers", url.PathEscape(r.Registry), filepath.FromSlash(r.Repository), "sha256", sh), nil
}

// addReferrer records that the manifest sig refers to subject in r's
// repository.
func (c *Cache) addReferrer(r Ref, subject, sig string) error {
	dir, err := c.referrersDir(r, subject)
	if err != nil {
		return err
	}
	gh, err := hexOf(sig)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("dist: cache: %w", err)
	}
	p := filepath.Join(dir, gh)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	return writeAtomic(p, nil, 0o444)
}

// referrers lists the digests of the cached signature manifests of subject
// in r's repository.
func (c *Cache) referrers(r Ref, subject string) ([]string, error) {
	dir, err := c.referrersDir(r, subject)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dist: cache: %w", err)
	}
	var out []string
	for _, e := range ents {
		if _, err := hex.DecodeString(e.Name()); err == nil && len(e.Name()) == 2*sha256.Size {
			out = append(out, "sha256:"+e.Name())
		}
	}
	slices.Sort(out)
	return out, nil
}

func (c *Cache) tagPath(r Ref) string {
	return filepath.Join(c.dir, "tags", url.PathEscape(r.Registry), filepath.FromSlash(r.Repository), url.PathEscape(r.Tag))
}

// setTag records the digest r's tag resolved to.
func (c *Cache) setTag(r Ref, digest string) error {
	p := c.tagPath(r)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("dist: cache: %w", err)
	}
	return writeAtomic(p, []byte(digest+"\n"), 0o644)
}

// tag returns the digest r's tag resolved to when last pulled.
func (c *Cache) tag(r Ref) (string, error) {
	b, err := regfile.Read(c.tagPath(r))
	if err != nil {
		return "", fmt.Errorf("%w: tag %s was never pulled", ErrNotCached, r)
	}
	return normDigest(string(b))
}

// Executable returns the path of an executable copy of the cached module
// blob with digest, creating it if needed. The caller must pin the digest
// when it runs the file (process.Options.SHA256): the copy is checked when
// created, and the pin checks it again before every start.
func (c *Cache) Executable(digest string) (string, error) {
	h, err := hexOf(digest)
	if err != nil {
		return "", err
	}
	p := filepath.Join(c.dir, "bin", "sha256", h)
	if b, err := regfile.Read(p); err == nil && Digest(b) == "sha256:"+h {
		return p, nil
	}
	b, err := c.Get(digest)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", fmt.Errorf("dist: cache: %w", err)
	}
	_ = os.Remove(p)
	return p, writeAtomic(p, b, 0o555)
}
