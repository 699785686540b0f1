//go:build linux

package process_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/process"
)

// TestRestartFIFOBinary: a process plugin runs with the operator's
// rights, so it can replace its own (pinned) binary with a FIFO and then
// crash. The next call restarts it, and the restart checks the pin by
// opening the path: opening a FIFO that no one writes blocks, and nothing
// bounds it. The call must still end by its deadline (docs/security.md:
// "Process: restart | within the deadline of the call that needs it"), and
// Close must not wait for it forever.
func TestRestartFIFOBinary(t *testing.T) {
	// What the plugin can do to itself: its binary becomes a FIFO, and it
	// crashes.
	p, _, err := restartReplaced(t, func(bin string) {
		require.NoError(t, os.Remove(bin))
		require.NoError(t, syscall.Mkfifo(bin, 0o644))
	}, "it is blocked opening the FIFO", func(bin string) {
		// Unblock it: open the FIFO for writing and close it.
		if f, err := os.OpenFile(bin, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	assert.Error(t, err, "the restart refuses a binary that is not the pinned one")
	require.NoError(t, p.Close(context.Background()))
}

// restartReplaced loads a pinned copy of the reference plugin, lets
// replace do to its binary what the plugin can do to itself, crashes it,
// and returns the error of the call that restarts it, which must end by
// its deadline (500 ms) plus slack (10 s: a loaded machine can delay the
// end by seconds; reading a FIFO or hashing 64 GiB takes far longer):
// past that the test fails with stuck, and unblock(bin) lets the call end.
func restartReplaced(t *testing.T, replace func(bin string), stuck string, unblock func(bin string)) (*process.Plugin, string, error) {
	t.Helper()
	ref := refBin(t)
	bin := filepath.Join(t.TempDir(), "plugin")
	b, err := os.ReadFile(ref)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	p, err := process.Load(context.Background(), bin, &process.Options{SHA256: fileSHA256(t, bin)})
	require.NoError(t, err)

	replace(bin)
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
	hung := time.NewTimer(deadline + slack)
	defer hung.Stop()
	select {
	case err := <-done:
		return p, bin, err
	case <-hung.C:
		t.Errorf("the call that restarts the plugin did not end by its deadline (%v): %s", deadline, stuck)
		unblock(bin)
		return p, bin, <-done
	}
}

// TestHandshakeStalledSocket: the handshake line is the plugin's, and
// it may name any unix socket: here one that accepts the host's connection
// and never answers (a daemon the plugin double-forked, which escapes its
// kill, can hold such a socket; so can another program). The start must
// end by its deadline: StartTimeout bounds "launch, handshake, describe,
// configure", and the test allows slack (10 s, for a loaded machine) past
// it; a socket that never answers would hold it for ever.
func TestHandshakeStalledSocket(t *testing.T) {
	bin := testBin(t, "stall")
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held, never read or written
			mu.Unlock()
		}
	}()
	release := func() {
		l.Close()
		<-accepted
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	}
	defer release()

	const startTimeout = 500 * time.Millisecond
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		p, err := process.Load(context.Background(), bin, &process.Options{StartTimeout: startTimeout,
			Env: []string{"STALL_NET=unix", "STALL_ADDR=" + sock}})
		if p != nil {
			_ = p.Close(context.Background())
		}
		done <- err
	}()
	late := time.NewTimer(startTimeout + slack)
	defer late.Stop()
	select {
	case err := <-done:
		assert.Error(t, err)
		t.Logf("after %v: %v", time.Since(start), err)
	case <-late.C:
		t.Errorf("Load did not return within its StartTimeout (%v) plus %v: it waits on the socket the handshake named", startTimeout, slack)
		release()
		err := <-done
		t.Logf("returned after %v, once the socket was closed: %v", time.Since(start), err)
	}
}
