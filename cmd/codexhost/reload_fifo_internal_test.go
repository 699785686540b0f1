//go:build linux

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReloaderFIFO: the reloader watches the plugin files the
// configuration names, and a process plugin runs with the operator's
// rights: it can replace its own binary with a FIFO. The reloader's poll
// (changed, then snapshot) reads every watched file with os.ReadFile,
// which blocks on a FIFO no one writes, for ever: the reload loop stops,
// and reloader.Close, which codexhost run calls on its way out, waits for
// that loop (<-r.done), so codexhost never exits. A file that is no
// regular file must be a change the reload reports (regfile refuses it
// elsewhere), not a read that never ends.
func TestReloaderFIFO(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "codexhost.toml")
	plugin := filepath.Join(dir, "plugin")
	require.NoError(t, os.WriteFile(cfg, []byte("a"), 0o644))
	require.NoError(t, os.WriteFile(plugin, []byte("binary"), 0o755))
	r := &reloader{watched: []string{cfg, plugin}}
	r.stats, r.sum = snapshot(r.watched)

	// The plugin replaces its binary with a FIFO.
	require.NoError(t, os.Remove(plugin))
	require.NoError(t, syscall.Mkfifo(plugin, 0o644))

	done := make(chan bool, 1)
	go func() { done <- r.changed() }()
	// Reading the FIFO would block for ever; stat-ing it returns at once.
	// 30 s tells them apart on a loaded machine too.
	late := time.NewTimer(30 * time.Second)
	defer late.Stop()
	select {
	case <-done:
	case <-late.C:
		t.Errorf("the reloader's poll blocks reading the FIFO %s: the reload loop, and reloader.Close, never return", plugin)
		// Unblock it.
		if f, err := os.OpenFile(plugin, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		<-done
	}
}
