package process_test

import (
	"fmt"
	"testing"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
)

// loader builds a reference guest from the same source as the Wasm kit,
// as a native process plugin.
func loader(t *testing.T, guest string, o *plugins.Options) (plugins.Plugin, error) {
	src, err := plugintest.GuestSource(guest)
	if err != nil {
		return nil, err
	}
	if guest == plugintest.GuestDeclineAllWAT || guest == plugintest.GuestSleeperWAT {
		return nil, fmt.Errorf("%w: a WAT guest is not a process plugin", plugintest.ErrNoGuest)
	}
	bin := plugintest.BuildProcessGuest(t, src)
	p, err := process.Load(t.Context(), bin, &process.Options{Options: *o})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = p.Close(t.Context()) })
	return p, nil
}

// TestConformance runs the ABI conformance kit against the process runtime
// with the reference guests built from the same source as for Wasm.
func TestConformance(t *testing.T) {
	plugintest.RunWith(t, loader, &plugintest.Options{
		// A process plugin has no memory limit of its own: that is what
		// the Wasm sandbox is for.
		Skip: []string{"ref/memory-limit"},
	})
}
