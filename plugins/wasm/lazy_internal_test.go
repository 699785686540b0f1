package wasm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// recordedHang returns a runtime on a fresh cache directory that records
// hang.wat (which loops in _initialize) as a plugin that loaded, the
// module, and the lazy options the record is for.
func recordedHang(t *testing.T) (*Runtime, []byte, *Options) {
	t.Helper()
	b := plugintest.BuildWAT(t, "testdata/hang.wat")
	rt, err := NewRuntime(t.Context(), &RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	o := &Options{Lazy: true}
	rt.record(b, o, DefaultMemoryLimitPages).write([]byte(`{"name":"hang","version":"1","abi":1,"hooks":["approval"]}`))
	return rt, b, o
}

// A lazy load whose guest never starts (hang.wat loops in _initialize)
// does not hold up Load, a call waiting for it ends with its ctx, and
// Close stops it at once: the load's own deadline (10 s) is not waited
// for.
func TestLazyLoadThatHangs(t *testing.T) {
	ctx := t.Context()
	rt, b, o := recordedHang(t)
	defer rt.Close(ctx)

	p, err := rt.Load(ctx, b, o)
	require.NoError(t, err, "Load returns with the record, before the guest starts")
	assert.Equal(t, "hang", p.Manifest().Name)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = p.Call(cctx, abi.HookApproval, []byte(`{}`))
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailUnavailable, ce.Kind)
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, p.Ready(cctx), context.Canceled)

	require.NoError(t, p.Close(ctx))
	require.ErrorIs(t, p.Ready(ctx), plugins.ErrClosed)
	_, err = p.Call(ctx, abi.HookApproval, []byte(`{}`))
	require.ErrorIs(t, err, plugins.ErrClosed)
	assert.FileExists(t, rt.record(b, o, DefaultMemoryLimitPages).path, "a load stopped by Close disproves nothing")
}

// Closing the runtime stops a lazy load too, and waits for it.
func TestLazyLoadRuntimeClose(t *testing.T) {
	ctx := t.Context()
	rt, b, o := recordedHang(t)
	var ps []*Plugin
	for range 3 { // one loads, two wait for their turn
		p, err := rt.Load(ctx, b, o)
		require.NoError(t, err)
		ps = append(ps, p)
	}
	require.NoError(t, rt.Close(ctx))
	for _, p := range ps {
		err := p.Ready(ctx)
		require.Error(t, err)
		assert.True(t, errors.Is(err, plugins.ErrClosed), "%v", err)
	}
	_, err := rt.Load(ctx, b, o)
	require.ErrorIs(t, err, plugins.ErrClosed)
	assert.FileExists(t, rt.record(b, o, DefaultMemoryLimitPages).path, "a load stopped by Close disproves nothing")
}

// A record that is not a regular file (a FIFO, which a plain open would
// block on until a writer came; a directory; a device) is no record: the
// plugin loads eagerly and Load does not block.
func TestLazyRecordNotARegularFile(t *testing.T) {
	b := plugintest.BuildWAT(t, "testdata/misbehave.wat")
	for name, plant := range map[string]func(path string) error{
		"fifo":      func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"directory": func(p string) error { return os.Mkdir(p, 0o700) },
		"device":    func(p string) error { return os.Symlink("/dev/zero", p) },
	} {
		t.Run(name, func(t *testing.T) {
			rt, err := NewRuntime(t.Context(), &RuntimeOptions{CacheDir: t.TempDir()})
			require.NoError(t, err)
			defer rt.Close(context.Background())
			o := &Options{Lazy: true}
			rec := rt.record(b, o, DefaultMemoryLimitPages)
			require.NoError(t, os.MkdirAll(filepath.Dir(rec.path), 0o700))
			require.NoError(t, plant(rec.path))
			assert.Nil(t, rec.read())
			p, err := rt.Load(t.Context(), b, o)
			require.NoError(t, err)
			assert.Nil(t, p.ready, "no record: the plugin loaded eagerly")
			require.NoError(t, p.Close(t.Context()))
		})
	}
}
