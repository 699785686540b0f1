package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

var update = flag.Bool("update", false, "rewrite testdata/turn.golden")

// A whole real codex turn (streamed text, an approved command, more text)
// rendered by the Wasm renderer matches the golden file.
func TestRendererGoldenTurn(t *testing.T) {
	e2e.RequireCodex(t)
	renderer := e2e.LoadWasm(t, ".", nil)
	approve := e2e.LoadWasm(t, mustSource(t, plugintest.GuestApproveAll), nil)
	var out e2e.Buffer
	r, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{renderer}, Render: chain.RenderOptions{Output: &out}})
	require.NoError(t, err)
	defer r.Close()
	env := e2e.Start(t, e2e.Config{
		Script:    hosttest.Turn(hosttest.Text("Let me check.").InDeltas(3).And(hosttest.ExecCommand("echo hi")), hosttest.Text("All done, it printed hi.").InDeltas(4)),
		Chain:     chain.Options{Plugins: []plugins.Plugin{approve}},
		Observers: []host.EventObserver{r},
	})
	env.Run(t, "say hi")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, r.Flush(ctx))

	golden := filepath.Join("testdata", "turn.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./examples/renderer -update to create it")
	require.Equal(t, string(want), out.String())
}

func mustSource(t *testing.T, guest string) string {
	src, err := plugintest.GuestSource(guest)
	require.NoError(t, err)
	return src
}
