package chain_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/render"
)

// hostile is text the agent or a plugin controls: a window title (OSC 0),
// a hyperlink (OSC 8), a screen clear, a carriage return that rewrites
// the line, a bidi override, an 8-bit CSI, and a colour, which may stay.
const hostile = "\x1b]0;pwned\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\x1b[2J\x1b[31mred\x1b[0m\rdeclined\u202eevil\u009b2J"

// echoPlugin is a render plugin (not in process: the chain calls it with
// JSON) that prints the deltas it is given.
type echoPlugin struct{}

func (echoPlugin) Manifest() *abi.Manifest {
	return &abi.Manifest{ABI: abi.Version, Name: "echo", Version: "1", Hooks: []abi.Hook{abi.HookEventRender}, Features: abi.FeatureRenderBatch}
}

func (echoPlugin) Call(_ context.Context, _ abi.Hook, req []byte) ([]byte, error) {
	var r abi.RenderRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, err
	}
	out := ""
	for _, ev := range r.Events {
		out += ev.Delta
	}
	return json.Marshal(abi.RenderResponse{Output: out})
}

func (echoPlugin) Close(context.Context) error { return nil }

// What a renderer prints reaches the output through termsafe.Render,
// whichever way the chain calls it: escape sequences other than colours,
// carriage returns and other controls are removed, colours and text stay.
func TestRenderOutputCannotDriveTheTerminal(t *testing.T) {
	for _, p := range []plugins.Plugin{
		chain.RendererPlugin("exec", &render.ExecStyle{}), // in process, the fast path
		chain.RendererPlugin("prefix", &prefixRenderer{}),
		echoPlugin{}, // through the hook's JSON
	} {
		t.Run(p.Manifest().Name, func(t *testing.T) {
			var out e2e.Buffer
			c, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}, Render: chain.RenderOptions{Output: &out}})
			require.NoError(t, err)
			defer c.Close()
			c.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: 1, Delta: hostile})
			c.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: 2, Delta: " and more\n"})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			require.NoError(t, c.Flush(ctx))
			got := out.String()
			t.Logf("%q", got)
			for _, bad := range []string{"\x1b]", "\x1b[2J", "\r", "\u202e", "\u009b", "\x07"} {
				assert.NotContains(t, got, bad)
			}
			assert.Contains(t, got, "\x1b[31mred\x1b[0m", "colours stay")
			assert.Contains(t, got, "link\x1b[31mred\x1b[0mdeclinedevil and more\n")
		})
	}
}
