package host

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A permissions grant through a symbolic link grants what the link names:
// throughLink finds the link, on any part of the path, relative or not.
func TestThroughLink(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "src", "real"), 0o755))
	require.NoError(t, os.Symlink(out, filepath.Join(work, "src", "vendor")))
	for p, wantLink := range map[string]string{
		filepath.Join(work, "src", "vendor"):           filepath.Join(work, "src", "vendor"),
		filepath.Join(work, "src", "vendor", "x", "y"): filepath.Join(work, "src", "vendor"),
		"src/vendor":                                     filepath.Join(work, "src", "vendor"),
		"src/real/../vendor/z":                           filepath.Join(work, "src", "vendor"),
		filepath.Join(work, "src", "real"):               "",
		filepath.Join(work, "src", "real", "new", "dir"): "", // not there yet
		"src/real": "",
	} {
		link, target := throughLink(p, work)
		assert.Equal(t, wantLink, link, p)
		if wantLink != "" {
			assert.Equal(t, out, target, p)
		}
	}
}

// A ".." after a link is the link's target's parent to the kernel, not
// the link's directory: the walk stops at the link.
func TestThroughLinkDotDotAfterALink(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(out, "deep"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(out, "deep"), filepath.Join(work, "l")))
	link, _ := throughLink("l/../x", work)
	assert.Equal(t, filepath.Join(work, "l"), link, "l/../x is %s/x to the kernel", out)
}
