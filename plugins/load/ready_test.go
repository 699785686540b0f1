package load_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/load"
)

// lazyPlugin is a plugin whose load ends when loaded is closed, with err.
type lazyPlugin struct {
	loaded chan struct{}
	err    error
}

func (p *lazyPlugin) Manifest() *abi.Manifest { return &abi.Manifest{Name: "lazy"} }
func (p *lazyPlugin) Call(context.Context, abi.Hook, []byte) ([]byte, error) {
	return nil, errors.New("not called")
}
func (p *lazyPlugin) Close(context.Context) error { return nil }
func (p *lazyPlugin) Ready(ctx context.Context) error {
	select {
	case <-p.loaded:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// plugins.Ready of a *load.Plugin waits for the plugin it holds: the chain
// waits so for a lazy Wasm plugin before a call's timeout starts. The
// embedded interface alone did not carry Ready: plugins.Ready returned at
// once, and a render call waited for the load inside its timeout (seen as
// TestRunCrashBudget failing on a busy machine: the crash budget counted
// "waiting for the plugin to load" against the plugin).
func TestPluginReadyWaitsForTheLoad(t *testing.T) {
	inner := &lazyPlugin{loaded: make(chan struct{}), err: errors.New("the load failed")}
	p := &load.Plugin{Plugin: inner, Source: "lazy.wasm"}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, plugins.Ready(ctx, p), context.Canceled, "not loaded yet: the wait ends with ctx")

	close(inner.loaded)
	require.ErrorIs(t, plugins.Ready(t.Context(), p), inner.err, "the load's own error")
}
