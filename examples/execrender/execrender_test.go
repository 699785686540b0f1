package main

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// lockedBuffer is safe for the renderer's goroutine.
type lockedBuffer = e2e.Buffer

// The plugin, run in the Wasm sandbox on a real codex turn (streamed
// text, an accepted command, an accepted file change), writes exactly what
// the host's built-in renderer writes for the same turn, with and without
// colour.
func TestPluginMatchesBuiltIn(t *testing.T) {
	e2e.RequireCodex(t)
	load := func(settings string) plugins.Plugin {
		return e2e.LoadWasm(t, ".", &wasm.Options{Options: plugins.Options{Settings: []byte(settings)}, MaxInstances: 1})
	}
	plain, color := load(`{}`), load(`{"color":true}`)
	var plainOut, colorOut, builtinPlain, builtinColor lockedBuffer
	// Each renderer is the only member of a chain of its own, so that
	// each writes to its own buffer.
	renders := func(p plugins.Plugin, out *lockedBuffer) *chain.Chain {
		c, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}, Render: chain.RenderOptions{Output: out}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	rPlain, rColor := renders(plain, &plainOut), renders(color, &colorOut)
	oPlain := renders(chain.RendererPlugin("exec", &render.ExecStyle{}), &builtinPlain)
	oColor := renders(chain.RendererPlugin("exec", &render.ExecStyle{Color: true}), &builtinColor)

	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turn(
			hosttest.Text("Let me check.").InDeltas(3).And(hosttest.ExecCommand("echo hi")),
			hosttest.ApplyPatch(hosttest.AddFilePatch("hello.txt", "hi\n")),
			hosttest.Text("Done: it printed hi, and hello.txt is written.").InDeltas(4),
		),
		Chain:     chain.Options{Fallback: abi.Accept},
		Observers: []host.EventObserver{rPlain, rColor, oPlain, oColor},
	})
	env.Run(t, "say hi and write hello.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, rPlain.Flush(ctx))
	require.NoError(t, rColor.Flush(ctx))
	require.NoError(t, oPlain.Flush(ctx))
	require.NoError(t, oColor.Flush(ctx))

	want := "Let me check.\n$ /bin/bash -lc 'echo hi'\nhi\nexit 0 in DURATION\n+ " + filepath.Join(env.Work, "hello.txt") +
		"\nDone: it printed hi, and hello.txt is written.\ntokens: in 3 (cached 0) out 3\n"
	// A command that took under a millisecond shows no duration.
	got := e2e.WithoutProfileOutput(builtinPlain.String(), "$ /bin/bash -lc 'echo hi'", "hi")
	assert.Equal(t, want, regexp.MustCompile(`exit 0( in [0-9.]+m?s)?\n`).ReplaceAllString(got, "exit 0 in DURATION\n"))
	assert.Equal(t, builtinPlain.String(), plainOut.String())
	assert.Equal(t, builtinColor.String(), colorOut.String())
	assert.Contains(t, colorOut.String(), "\x1b[")
}

// Settings are read by their exact names; a wrong type or a member given
// twice refuses the plugin, naming the member.
func TestSettings(t *testing.T) {
	bin := plugintest.BuildGoGuest(t, ".")
	rt, err := wasm.NewRuntime(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	for _, c := range []struct{ settings, err string }{
		{`{"maxOutputLines":"20"}`, `execrender settings: member "maxOutputLines": cannot unmarshal string into Go value of type int`},
		{`{"color":true,"color":false}`, `execrender settings: member "color" appears twice`},
		{`[]`, `execrender settings: not a JSON object`},
	} {
		_, err := rt.Load(t.Context(), bin, &wasm.Options{Options: plugins.Options{Settings: []byte(c.settings)}})
		require.ErrorContains(t, err, c.err, c.settings)
	}
}
