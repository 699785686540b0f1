package wasm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
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

// Runtime.Close does not wait on a guest asleep in WASI past its call's
// deadline, and stops it at once when its ctx is done.
func TestRuntimeCloseWakesSleepers(t *testing.T) {
	// Logs "hostile: sleeping in WASI", then sleeps for hours.
	sleeper := plugintest.BuildWAT(t, "../internal/hostile/testdata/wat/log-then-sleep-handle.wat")
	for _, done := range []bool{false, true} {
		rt, err := wasm.NewRuntime(t.Context(), &wasm.RuntimeOptions{CacheDir: t.TempDir()})
		require.NoError(t, err)
		const timeout = 300 * time.Millisecond
		logger, sig := signalLogger("hostile: sleeping in WASI")
		p, err := rt.Load(t.Context(), sleeper, &wasm.Options{Logger: logger, Options: plugins.Options{Timeout: timeout}})
		require.NoError(t, err)
		callErr := make(chan error, 1)
		go func() {
			_, err := p.Call(context.Background(), abi.HookApproval, []byte(`{}`))
			callErr <- err
		}()
		<-sig[0] // in flight, falling asleep
		ctx := t.Context()
		if done {
			c, cancel := context.WithCancel(ctx)
			cancel()
			ctx = c
		}
		start := time.Now()
		require.NoError(t, rt.Close(ctx))
		elapsed := time.Since(start)
		err = <-callErr
		var ce *plugins.CallError
		require.ErrorAs(t, err, &ce)
		if done {
			assert.ErrorIs(t, err, plugins.ErrClosed, "stopped by Close")
		} else {
			assert.Equal(t, plugins.FailTimeout, ce.Kind, "woken at its deadline: %v", err)
		}
		t.Logf("ctx done: %v: Close took %v; the call: %v", done, elapsed, err)
		// The guest sleeps for hours: a Close bounded by the call's
		// deadline ends far sooner, with room for a loaded machine, which
		// can delay the wake-up by more than a second.
		assert.Less(t, elapsed, timeout+10*time.Second, "Close is bounded by the deadlines in flight")
	}
}
