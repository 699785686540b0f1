package chain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	"github.com/codexhost/codexhost/plugins/render"
)

var record = flag.Bool("record", false, "record ../render/testdata/turn.jsonl from the real codex")

// builtin returns a chain whose only member renders with r into out,
// closed with the test.
func builtin(t *testing.T, name string, r chain.EventRenderer, out *e2e.Buffer, opts *chain.RenderOptions) *chain.Chain {
	t.Helper()
	ro := chain.RenderOptions{}
	if opts != nil {
		ro = *opts
	}
	ro.Output = out
	c, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{chain.RendererPlugin(name, r)}, Render: ro})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// A real codex turn through the built-in renderer, a member of a chain: it
// renders what ExecStyle renders for the same events, in order. With
// -record it also rewrites the recorded turn of package render's golden
// tests (volatile paths replaced by /work and /home).
func TestBuiltinRendererRealTurn(t *testing.T) {
	var out, jsonl e2e.Buffer
	ob := builtin(t, "exec", &render.ExecStyle{}, &out, nil)
	ojs := builtin(t, "json", render.JSONL{}, &jsonl, nil)
	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turn(
			hosttest.Text("Let me check.").InDeltas(3).And(hosttest.ExecCommand("echo hi")),
			hosttest.ApplyPatch(hosttest.AddFilePatch("hello.txt", "hi\n")),
			hosttest.Text("Done: it printed hi, and hello.txt is written.").InDeltas(4),
		),
		Chain:     chain.Options{Fallback: abi.Accept},
		Observers: []host.EventObserver{ob, ojs},
	})
	env.Run(t, "say hi and write hello.txt")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ob.Flush(ctx))
	require.NoError(t, ojs.Flush(ctx))

	// Replaying the JSONL through a fresh ExecStyle gives the same text.
	var replay bytes.Buffer
	s := &render.ExecStyle{}
	for _, line := range strings.SplitAfter(jsonl.String(), "\n") {
		if line == "" {
			continue
		}
		var ev abi.Event
		require.NoError(t, json.Unmarshal([]byte(line), &ev))
		require.NoError(t, s.Render(&replay, &ev))
	}
	assert.Equal(t, replay.String(), out.String())
	rendered := e2e.WithoutProfileOutput(out.String(), "$ /bin/bash -lc 'echo hi'", "hi")
	assert.Regexp(t, `\$ /bin/bash -lc 'echo hi'\nhi\nexit 0( in [0-9.]+m?s)?\n`, rendered, "the command, its output, exit code and duration (none under 1 ms)")
	assert.Contains(t, out.String(), "+ "+filepath.Join(env.Work, "hello.txt")+"\n")
	assert.Contains(t, out.String(), "tokens: in ")

	if *record {
		text := jsonl.String()
		text = strings.ReplaceAll(text, env.Work, "/work")
		if home, err := os.UserHomeDir(); err == nil && home != "/" {
			text = strings.ReplaceAll(text, home, "/home")
		}
		require.NoError(t, os.WriteFile(filepath.Join("..", "render", "testdata", "turn.jsonl"), []byte(text), 0o644))
	}
}

// Events reach the output in order, and Flush waits for them; after
// Close, observing neither blocks nor writes.
func TestBuiltinRendererOrderAndFlush(t *testing.T) {
	var out e2e.Buffer
	ob := builtin(t, "json", render.JSONL{}, &out, &chain.RenderOptions{Queue: 4})
	for i := 1; i <= 1000; i++ {
		ob.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: uint64(i), Delta: "x"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ob.Flush(ctx))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 1000)
	for i, l := range lines {
		var ev abi.Event
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		require.Equal(t, uint64(i+1), ev.Seq)
	}
	require.NoError(t, ob.Close())
	require.NoError(t, ob.Close())
	ob.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: 1001})
	require.NoError(t, ob.Flush(ctx))
	assert.Len(t, strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"), 1000)
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, os.ErrClosed
}

// A failing output does not block the turn, and is tried once.
func TestRenderOutputError(t *testing.T) {
	fw := &failWriter{}
	c, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{chain.RendererPlugin("exec", &render.ExecStyle{})},
		Render: chain.RenderOptions{Output: fw}})
	require.NoError(t, err)
	defer c.Close()
	for i := 1; i <= 100; i++ {
		c.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: uint64(i), Delta: "x"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, c.Flush(ctx))
	assert.Equal(t, 1, fw.n)
}

// The built-in renderer is a plugin like any other: through its JSON hook
// it renders what its fast path renders.
func TestRendererPluginCall(t *testing.T) {
	p := chain.RendererPlugin("json", render.JSONL{})
	assert.True(t, p.Manifest().Implements(abi.HookEventRender))
	req, _ := json.Marshal(abi.RenderRequest{Events: []abi.Event{{Kind: abi.EventAgentMessageDelta, Seq: 7, Delta: "hi"}}})
	out, err := p.Call(t.Context(), abi.HookEventRender, req)
	require.NoError(t, err)
	var resp abi.RenderResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	assert.JSONEq(t, `{"kind":"agentMessageDelta","method":"","seq":7,"delta":"hi"}`, strings.TrimSpace(resp.Output))
	_, err = p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	require.Error(t, err)
	require.NoError(t, p.Close(t.Context()))
	_, err = p.Call(t.Context(), abi.HookEventRender, req)
	require.ErrorIs(t, err, plugins.ErrClosed)
}

// prefixRenderer writes prefix and the delta of each event.
type prefixRenderer struct {
	prefix string
	n      int
}

func (p *prefixRenderer) Render(w io.Writer, ev *abi.Event) error {
	p.n++
	_, err := io.WriteString(w, p.prefix+ev.Delta)
	return err
}

// Render members follow the plugin set: a swap replaces the renderer from
// the next event on, and a monitor member renders with its output
// discarded.
func TestRenderMembersFollowSwapAndMonitor(t *testing.T) {
	var out e2e.Buffer
	a, b, mon := &prefixRenderer{prefix: "a:"}, &prefixRenderer{prefix: "b:"}, &prefixRenderer{prefix: "m:"}
	c, err := chain.New(&chain.Options{Members: []chain.Member{{Plugin: chain.RendererPlugin("a", a)},
		{Plugin: chain.RendererPlugin("mon", mon), Monitor: true}}, Render: chain.RenderOptions{Output: &out}})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: 1, Delta: "1 "})
	require.NoError(t, c.Flush(ctx))
	retired, err := c.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: chain.RendererPlugin("b", b)}}})
	require.NoError(t, err)
	require.NoError(t, retired.Wait(ctx))
	c.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: 2, Delta: "2 "})
	require.NoError(t, c.Flush(ctx))
	assert.Equal(t, "a:1 b:2 ", out.String())
	assert.Equal(t, 1, mon.n, "the monitor member rendered the first event, into nothing")
}
