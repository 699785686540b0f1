//go:build linux

package process_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/process"
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
	ref := refBin(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "plugin")
	b, err := os.ReadFile(ref)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	p, err := process.Load(context.Background(), bin, &process.Options{SHA256: fileSHA256(t, bin)})
	require.NoError(t, err)

	// What the plugin can do to itself: its binary becomes a huge sparse
	// file, and it crashes.
	f, err := os.OpenFile(bin+".new", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(64<<30))
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(bin+".new", bin))
	_, err = approve(p, "exit-now")
	requireCallError(t, err, plugins.FailTrap)

	const deadline = 500 * time.Millisecond
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		_, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval,
			&abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "echo"})
		done <- err
	}()
	hung := time.NewTimer(deadline + 2*time.Second)
	defer hung.Stop()
	select {
	case err := <-done:
		assert.Error(t, err, "the restart refuses a binary that is not the pinned one")
		t.Log(err)
	case <-hung.C:
		t.Errorf("the call that restarts the plugin did not end by its deadline (%v): it is hashing a 64 GiB file", deadline)
		// Unblock it: the file ends at once.
		require.NoError(t, os.Truncate(bin, 0))
		<-done
	}
	closed := make(chan struct{})
	go func() {
		_ = p.Close(context.Background())
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Error("Close waited for the restart's hash")
		require.NoError(t, os.Truncate(bin, 0))
		<-closed
	}
}
