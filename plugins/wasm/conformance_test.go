package wasm_test

import (
	"testing"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// TestConformance runs the ABI conformance kit: the Go reference guests of
// sdk-guest, built from source, and the hand-written WAT guest.
func TestConformance(t *testing.T) {
	plugintest.Run(t, func(t *testing.T, guest string, o *plugins.Options) (plugins.Plugin, error) {
		p, err := testRuntime.Load(t.Context(), plugintest.GuestWasm(t, guest), opts(*o))
		if err != nil {
			return nil, err
		}
		return p, nil
	})
}
