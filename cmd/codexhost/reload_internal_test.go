package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The poller reloads a change only once it has stayed the same for one
// poll: a file caught between its truncation and its write is never
// loaded. Each changed() call here is one poll.
func TestReloaderWaitsForAStableContent(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "codexhost.toml")
	rules := filepath.Join(dir, "rules.toml")
	write := func(p, s string) {
		t.Helper()
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
	}
	write(cfg, "a")
	write(rules, "r1")
	r := &reloader{watched: []string{cfg, rules}}
	r.stats, r.sum = snapshot(r.watched)
	reloaded := func() { r.stats, r.sum = snapshot(r.watched); r.pending = [32]byte{} } // what reload does

	assert.False(t, r.changed(), "nothing changed")

	write(cfg, "") // truncated, not yet written
	assert.False(t, r.changed(), "a change waits one poll")
	write(cfg, "b") // the write completes
	assert.False(t, r.changed(), "the content moved again: it waits again")
	assert.True(t, r.changed(), "stable for one poll: reload")
	reloaded()
	assert.False(t, r.changed())

	// A touch that leaves the content as it was is no change.
	now := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(cfg, now, now))
	assert.False(t, r.changed())
	assert.False(t, r.changed())

	// Changed and changed back before the next poll: nothing to do.
	write(rules, "r2")
	assert.False(t, r.changed())
	write(rules, "r1")
	assert.False(t, r.changed())
	assert.False(t, r.changed())

	// A file that disappears is a change too (the reload reports it).
	require.NoError(t, os.Remove(rules))
	assert.False(t, r.changed())
	assert.True(t, r.changed())
}
