//go:build linux

package process_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRestartSparseBinary (review, adv3): a process plugin runs with the
// operator's rights, so it can replace its own pinned binary with a
// regular file of any size (a sparse file costs no disk: 64 GiB of holes
// here) and then crash. The next call restarts it, and the restart hashes
// the file to check the pin: reading and hashing 64 GiB takes tens of
// seconds, and nothing but the file's end stopped it. The call must end by
// its deadline (docs/security.md: "Process: restart | within the deadline
// of the call that needs it"), and Close must not wait for the hash.
func TestRestartSparseBinary(t *testing.T) {
	// What the plugin can do to itself: its binary becomes a huge sparse
	// file, and it crashes.
	p, bin, err := restartReplaced(t, func(bin string) {
		f, err := os.OpenFile(bin+".new", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		require.NoError(t, err)
		require.NoError(t, f.Truncate(64<<30))
		require.NoError(t, f.Close())
		require.NoError(t, os.Rename(bin+".new", bin))
	}, "it is hashing a 64 GiB file", func(bin string) {
		// Unblock it: the file ends at once.
		require.NoError(t, os.Truncate(bin, 0))
	})
	assert.Error(t, err, "the restart refuses a binary that is not the pinned one")
	t.Log(err)
	closed := make(chan struct{})
	go func() {
		_ = p.Close(context.Background())
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(slack): // far less than hashing 64 GiB takes
		t.Error("Close waited for the restart's hash")
		require.NoError(t, os.Truncate(bin, 0))
		<-closed
	}
}
