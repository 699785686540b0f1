package dist_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist"
)

// Review 16: the plugin cache as an attack surface.

// Who can write the cache can swap an executable between its pin check
// and its start: a cache directory of another user's, or one others may
// write, is refused, saying why. Without HOME and XDG_CACHE_HOME (a
// service, a cron job) the default was a fixed name in the shared
// temporary directory, which another user could make first; it now has
// the user's id in it, and is refused if someone else made it.
func TestCacheMustBeTheUsersOwn(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Chmod(dir, 0o777))
	_, err := dist.OpenCache(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "others may write it")

	tmp := t.TempDir()
	require.NoError(t, os.Chmod(tmp, 0o1777)) // like /tmp
	t.Setenv("TMPDIR", tmp)
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("CODEXHOST_PLUGIN_CACHE", "")
	def := dist.DefaultCacheDir()
	assert.True(t, strings.HasPrefix(filepath.Base(def), "codexhost-plugins-"), def)
	if os.Getuid() == 0 { // play the other user, who got there first
		require.NoError(t, os.Mkdir(def, 0o755))
		require.NoError(t, os.Chown(def, 65534, 65534))
		_, err := dist.OpenCache("")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "it belongs to uid 65534")
	}
}

// A FIFO planted under a blob's name counted as cached, and reading it
// blocked for ever (Load of oci://…@sha256:… ignored its context). It is
// not cached; reading it fails at once and removes it.
func TestCachedFIFOIsNoBlob(t *testing.T) {
	c, err := dist.OpenCache(t.TempDir())
	require.NoError(t, err)
	digest := "sha256:" + strings.Repeat("ab", 32)
	blob, err := c.BlobPath(digest)
	require.NoError(t, err)
	require.NoError(t, syscall.Mkfifo(blob, 0o600))
	assert.False(t, c.Has(digest))
	_, err = c.Get(digest)
	require.ErrorIs(t, err, dist.ErrCorrupt)
	_, err = os.Lstat(blob)
	assert.True(t, os.IsNotExist(err), "the FIFO is removed")
}
