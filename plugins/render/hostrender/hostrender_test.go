package hostrender_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
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
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/plugins/render/hostrender"
)

var record = flag.Bool("record", false, "record ../testdata/turn.jsonl from the real codex")

// TurnScript is the model side of the recorded turn: streamed text, an
// accepted command with output, an accepted file change, more text.
func turnScript() hosttest.Script {
	return hosttest.Turn(
		hosttest.Text("Let me check.").InDeltas(3).And(hosttest.ExecCommand("echo hi")),
		hosttest.ApplyPatch(hosttest.AddFilePatch("hello.txt", "hi\n")),
		hosttest.Text("Done: it printed hi, and hello.txt is written.").InDeltas(4),
	)
}

func requireCodex(t testing.TB) { e2e.RequireCodex(t) }

// runTurn runs one turn of script on the real codex, accepting every
// approval, with obs observing. It returns the working directory.
func runTurn(t *testing.T, script hosttest.Script, obs ...host.EventObserver) string {
	t.Helper()
	requireCodex(t)
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script})
	require.NoError(t, err)
	t.Cleanup(func() { _ = model.Close() })
	home, work := t.TempDir(), t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(home, model.URL(), nil))
	chain, err := host.NewChain(&host.ChainOptions{Fallback: abi.Accept})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: work, Handler: chain, Observers: obs})
	require.NoError(t, err)
	defer func() {
		_ = c.Close()
		_ = c.Wait()
	}()
	_, err = c.Run(ctx, "say hi and write hello.txt", &host.RunOptions{Thread: &host.ThreadOptions{Cwd: work}})
	require.NoError(t, err)
	return work
}

// lockedBuffer is safe for the renderer's goroutine.
type lockedBuffer = e2e.Buffer

// A real codex turn through the built-in Observer: it renders what
// ExecStyle renders for the same events, in order. With -record it also
// rewrites the recorded turn of package render's golden tests (volatile
// paths replaced by /work and /home).
func TestObserverRealTurn(t *testing.T) {
	var out, jsonl lockedBuffer
	ob := hostrender.New(&hostrender.Options{Output: &out, Renderer: &render.ExecStyle{}})
	defer ob.Close()
	ojs := hostrender.New(&hostrender.Options{Output: &jsonl, Renderer: render.JSONL{}})
	defer ojs.Close()
	work := runTurn(t, turnScript(), ob, ojs)
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
	assert.Regexp(t, `\$ /bin/bash -lc 'echo hi'\nhi\nexit 0 in [0-9.]+m?s\n`, out.String(), "the command, its output, exit code and duration")
	assert.Contains(t, out.String(), "+ "+filepath.Join(work, "hello.txt")+"\n")
	assert.Contains(t, out.String(), "tokens: in ")

	if *record {
		text := jsonl.String()
		text = strings.ReplaceAll(text, work, "/work")
		if home, err := os.UserHomeDir(); err == nil && home != "/" {
			text = strings.ReplaceAll(text, home, "/home")
		}
		require.NoError(t, os.WriteFile(filepath.Join("..", "testdata", "turn.jsonl"), []byte(text), 0o644))
	}
}

// Events reach the output in order, and Flush waits for them.
func TestObserverOrderAndFlush(t *testing.T) {
	var out lockedBuffer
	ob := hostrender.New(&hostrender.Options{Output: &out, Renderer: render.JSONL{}, Queue: 4})
	defer ob.Close()
	for i := 1; i <= 1000; i++ {
		ob.ObserveEvent(&host.Event{Kind: host.EventAgentMessageDelta, Seq: uint64(i), Delta: "x"})
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
	// After Close, observing neither blocks nor writes.
	ob.ObserveEvent(&host.Event{Kind: host.EventAgentMessageDelta, Seq: 1001})
	require.NoError(t, ob.Flush(ctx))
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, os.ErrClosed
}

// A failing output does not block the turn.
func TestObserverWriteError(t *testing.T) {
	fw := &failWriter{}
	ob := hostrender.New(&hostrender.Options{Output: fw})
	defer ob.Close()
	for i := 1; i <= 100; i++ {
		ob.ObserveEvent(&host.Event{Kind: host.EventAgentMessageDelta, Seq: uint64(i), Delta: "x"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, ob.Flush(ctx))
	assert.Equal(t, 1, fw.n)
}

func TestUseColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	assert.False(t, hostrender.UseColor(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, hostrender.UseColor(f))
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		assert.True(t, hostrender.UseColor(tty))
		t.Setenv("NO_COLOR", "1")
		assert.False(t, hostrender.UseColor(tty))
	}
}
