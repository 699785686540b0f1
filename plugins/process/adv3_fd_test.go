//go:build linux

package process_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestInheritedDescriptorsNotPassed (review, adv3): the host controls a
// process plugin's environment (nothing of the host's unless granted) and
// its stdin (/dev/null); the descriptors it inherits should be as
// deliberate. Go opens its own files close-on-exec, but a descriptor the
// host itself inherited without close-on-exec (from a shell's `3<file`,
// an IDE, a parent that leaks: a secret file, a privileged socket) is
// passed on to every plugin process: os/exec closes nothing but what is
// close-on-exec. Here the test process opens a file without O_CLOEXEC,
// as such a parent would have, and looks at the plugin's descriptors.
//
// The runner now has the child close them: nil entries of ExtraFiles up
// to the highest such descriptor.
func TestInheritedDescriptorsNotPassed(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte("hunter2"), 0o600))
	fd, err := unix.Open(secret, unix.O_RDONLY, 0) // no O_CLOEXEC: inherited from a parent
	require.NoError(t, err)
	t.Cleanup(func() { _ = unix.Close(fd) })

	p := load(t, refBin(t), nil)
	dir := fmt.Sprintf("/proc/%d/fd", p.Pid())
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		t.Logf("plugin fd %s -> %s", e.Name(), target)
		assert.NotEqual(t, secret, target, "the plugin inherited the host's descriptor %d as its fd %s", fd, e.Name())
	}
}
