package wasm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// A module that loops forever in _initialize is stopped at the load's
// deadline (the caller's ctx here; at most the start timeout otherwise)
// and refused: loading never hangs the host.
func TestLoadHangingModule(t *testing.T) {
	bin := testdataWAT(t, "hang")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	p, err := testRuntime.Load(ctx, bin, nil)
	if p != nil {
		_ = p.Close(context.Background())
	}
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "stopped near the deadline")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailTimeout, ce.Kind)
	assert.Contains(t, err.Error(), "the caller's deadline")
	assert.Contains(t, err.Error(), "failed to start")
}

// A load whose context ends during compilation says so; it does not blame
// the module.
func TestCompileCancelledIsNotABadModule(t *testing.T) {
	rt, err := wasm.NewRuntime(t.Context(), &wasm.RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = rt.Load(ctx, testdataGuest(t, "configured"), nil)
	require.Error(t, err)
	assert.NotErrorIs(t, err, plugins.ErrBadModule)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "compile stopped")
}
