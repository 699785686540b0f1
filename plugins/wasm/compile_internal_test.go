package wasm

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// A runtime compiles, checks and rewrites a module once per bytes and
// limits: a second plugin from the same bytes shares the first's compiled
// module, and the same bytes under other limits are checked against those.
func TestCompileSharedPerLimits(t *testing.T) {
	ctx := t.Context()
	b := plugintest.BuildGoGuest(t, "testdata/guests/configured")
	rt, err := NewRuntime(ctx, &RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer rt.Close(ctx)
	entries := func() int {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return len(rt.compiled)
	}

	p1, err := rt.Load(ctx, b, nil)
	require.NoError(t, err)
	defer p1.Close(ctx)
	p2, err := rt.Load(ctx, b, &Options{MaxInstances: 1})
	require.NoError(t, err)
	defer p2.Close(ctx)
	require.Same(t, p1.compiled, p2.compiled, "the same bytes and limits: one compiled module")
	assert.Equal(t, 2, p1.compiled.refs)
	assert.Equal(t, 1, entries())

	// Loaded before with the default limits, the same bytes are still
	// checked against smaller ones.
	_, err = rt.Load(ctx, b, &Options{MaxModuleBytes: len(b) - 1})
	require.Error(t, err)
	assert.True(t, errors.Is(err, plugins.ErrLimits), "%v", err)
	assert.Equal(t, 1, entries())

	// Other limits that the module meets: a module of its own.
	p3, err := rt.Load(ctx, b, &Options{MaxModuleBytes: len(b) + 1})
	require.NoError(t, err)
	defer p3.Close(ctx)
	assert.NotSame(t, p1.compiled, p3.compiled)
	assert.Equal(t, 2, entries())
}
