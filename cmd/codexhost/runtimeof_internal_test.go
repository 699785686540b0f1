package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/plugintest"
)

// The runtime a trace names is the loaded plugin's, seen through the
// *load.Plugin that the loader returns: a type switch on the wrapper
// itself named every Wasm and process plugin "other".
func TestRuntimeOfLoadedPlugin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "declineall.wasm")
	require.NoError(t, os.WriteFile(path, plugintest.GuestWasm(t, plugintest.GuestDeclineAllWAT), 0o644))
	l := &loader{}
	defer l.close()
	p, err := l.load(context.Background(), path, "")
	require.NoError(t, err)
	assert.Equal(t, "wasm", runtimeOf(p))
}
