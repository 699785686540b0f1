package host_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
)

// fakeCodexScript is an app-server that answers initialize with the user
// agent in $FAKE_UA and then reads until its stdin closes.
const fakeCodexScript = `#!/bin/sh
read -r line
id=$(printf '%s' "$line" | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
printf '{"id":%s,"result":{"userAgent":"%s","codexHome":"/fake","platformFamily":"unix","platformOs":"linux"}}\n' "$id" "$FAKE_UA"
while read -r line; do :; done
`

func uaCodex(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "codex")
	require.NoError(t, os.WriteFile(bin, []byte(fakeCodexScript), 0o755))
	return bin
}

// warnings collects the log records at warning level.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) Enabled(context.Context, slog.Level) bool { return true }
func (w *warnings) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		w.mu.Lock()
		w.msgs = append(w.msgs, r.Message)
		w.mu.Unlock()
	}
	return nil
}
func (w *warnings) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnings) WithGroup(string) slog.Handler      { return w }
func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func startFakeUA(t *testing.T, ua string, logs *warnings) (*host.Client, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	opts := &host.Options{Codex: uaCodex(t), Env: []string{"FAKE_UA=" + ua}}
	if logs != nil {
		opts.Logger = slog.New(logs)
	}
	c, err := host.Start(ctx, opts)
	if c != nil {
		t.Cleanup(func() { _ = c.Close(); _ = c.Wait() })
	}
	return c, err
}

func TestStartRefusesCodexOlderThanMinimum(t *testing.T) {
	c, err := startFakeUA(t, "codexhost/0.168.9 (Debian 12.0.0; x86_64) xterm (codexhost; 0.1.0)", nil)
	require.ErrorIs(t, err, host.ErrCodexTooOld)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "codex 0.168.9")
	assert.Contains(t, err.Error(), host.MinCodexVersion)

	_, err = startFakeUA(t, "codexhost/0.169.0-alpha.3 (x)", nil)
	require.ErrorIs(t, err, host.ErrCodexTooOld, "a prerelease of the minimum is older than it")
}

// unique versions: the warning is once per version and process, and the
// test may run several times in one process (-count, -cpu).
var newerPatch atomic.Int32

func TestStartWarnsOnceForCodexNewerThanTested(t *testing.T) {
	newer := fmt.Sprintf("9.0.%d", newerPatch.Add(1))
	var logs warnings
	for range 2 {
		c, err := startFakeUA(t, "codexhost/"+newer+" (Debian 12.0.0; x86_64) xterm (codexhost; 0.1.0)", &logs)
		require.NoError(t, err)
		assert.Equal(t, newer, c.CodexVersion())
	}
	require.Len(t, logs.all(), 1, "one warning for two clients: %q", logs.all())
	assert.Contains(t, logs.all()[0], "newer than the newest version codexhost is tested with")
}

func TestStartAcceptsTestedAndUnreadableVersions(t *testing.T) {
	for _, v := range []string{host.MinCodexVersion, host.NewestTestedCodexVersion} {
		var logs warnings
		c, err := startFakeUA(t, "codexhost/"+v+" (x)", &logs)
		require.NoError(t, err, v)
		assert.Equal(t, v, c.CodexVersion())
		assert.Empty(t, logs.all(), v)
	}
	// A user agent codexhost cannot read: accepted, with a warning.
	var logs warnings
	c, err := startFakeUA(t, "fake/0", &logs)
	require.NoError(t, err)
	assert.Empty(t, c.CodexVersion())
	require.Len(t, logs.all(), 1)
	assert.Contains(t, logs.all()[0], "cannot read the codex version")
}

func TestCompareCodexVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		cmp  int
		ok   bool
	}{
		{"0.169.0", "0.169.0", 0, true},
		{"0.169.0", "0.171.0", -1, true},
		{"0.171.0", "0.169.0", 1, true},
		{"0.170.10", "0.170.9", 1, true},
		{"1.0.0", "0.999.999", 1, true},
		{"0.170.0-alpha.1", "0.170.0", -1, true},
		{"0.170.0-alpha.2", "0.170.0-alpha.1", 1, true},
		{"0.170.0+build", "0.170.0", 0, true},
		{"0.170", "0.170.0", 0, false},
		{"v0.170.0", "0.170.0", 0, false},
		{"0.x.0", "0.170.0", 0, false},
		{"", "0.170.0", 0, false},
	} {
		cmp, ok := host.CompareCodexVersions(tc.a, tc.b)
		assert.Equal(t, tc.ok, ok, "%s vs %s", tc.a, tc.b)
		assert.Equal(t, tc.cmp, cmp, "%s vs %s", tc.a, tc.b)
	}
}
