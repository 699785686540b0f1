package render_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/render"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// loadTurn reads testdata/turn.jsonl: the events of a real codex turn
// (streamed text, an accepted command with output, an accepted file
// change, more text, token usage), recorded by
// `go test ./plugins/chain -run TestBuiltinRendererRealTurn -record`.
func loadTurn(t *testing.T) []abi.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "turn.jsonl"))
	require.NoError(t, err)
	var evs []abi.Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev abi.Event
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
		evs = append(evs, ev)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, evs)
	return evs
}

func renderAll(t *testing.T, r render.Renderer, evs []abi.Event) string {
	t.Helper()
	var b bytes.Buffer
	for i := range evs {
		require.NoError(t, r.Render(&b, &evs[i]))
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./plugins/render -update to create it")
	require.Equal(t, string(want), got)
}

// The recorded turn, rendered by each renderer, matches its golden file.
func TestGoldenTurn(t *testing.T) {
	evs := loadTurn(t)
	for _, tc := range []struct {
		name   string
		r      render.Renderer
		golden string
	}{
		{"execstyle", &render.ExecStyle{}, "execstyle.golden"},
		{"execstyle-color", &render.ExecStyle{Color: true}, "execstyle-color.golden"},
		{"execstyle-dir", &render.ExecStyle{Dir: "/work"}, "execstyle-dir.golden"},
		{"jsonl", render.JSONL{}, "jsonl.golden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.golden, renderAll(t, tc.r, evs))
		})
	}
}

// Rendering is the same whatever the batching: RenderString per event
// equals Render into one writer.
func TestRenderStringSame(t *testing.T) {
	evs := loadTurn(t)
	s := &render.ExecStyle{Color: true}
	var b strings.Builder
	for i := range evs {
		b.WriteString(s.RenderString(&evs[i]))
	}
	assert.Equal(t, renderAll(t, &render.ExecStyle{Color: true}, evs), b.String())
}

// Without Color, no escape sequence is written; JSONL lines round-trip.
func TestNoColorAndJSONLRoundTrip(t *testing.T) {
	evs := loadTurn(t)
	assert.NotContains(t, renderAll(t, &render.ExecStyle{}, evs), "\x1b")
	out := renderAll(t, render.JSONL{}, evs)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, len(evs))
	for i, l := range lines {
		var ev abi.Event
		require.NoError(t, json.Unmarshal([]byte(l), &ev))
		assert.Equal(t, evs[i], ev)
	}
}

func intp(i int) *int    { return &i }
func boolp(b bool) *bool { return &b }

// The parts the recorded turn lacks: reasoning, truncated output, failed
// and declined commands, deletes and moves, tool calls, errors, failed and
// interrupted turns, token usage across turns, unstreamed messages.
func TestExecStyleCases(t *testing.T) {
	many := ""
	for i := 1; i <= 25; i++ {
		many += "line " + strings.Repeat("x", i%3) + "\n"
	}
	evs := []abi.Event{
		{Kind: abi.EventTurnStarted, Turn: &abi.TurnStatus{ID: "t1", State: "inProgress"}},
		{Kind: abi.EventReasoningSummaryDelta, ItemID: "r1", Delta: "Considering "},
		{Kind: abi.EventReasoningSummaryDelta, ItemID: "r1", Delta: "options."},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "r1", Type: "reasoning", Text: "Considering options."}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "r2", Type: "reasoning", Text: "Unstreamed summary."}},
		{Kind: abi.EventItemStarted, Item: &abi.Item{ID: "c1", Type: "commandExecution", Command: "seq 25"}},
		{Kind: abi.EventCommandOutputDelta, ItemID: "c1", Delta: "line 1\n"},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "c1", Type: "commandExecution", Command: "seq 25", Status: "completed", ExitCode: intp(0), Output: many}},
		{Kind: abi.EventItemStarted, Item: &abi.Item{ID: "c2", Type: "commandExecution", Command: "false"}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "c2", Type: "commandExecution", Status: "failed", ExitCode: intp(1)}},
		{Kind: abi.EventItemStarted, Item: &abi.Item{ID: "c3", Type: "commandExecution", Command: "rm -rf /"}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "c3", Type: "commandExecution", Status: "declined"}},
		{Kind: abi.EventItemStarted, Item: &abi.Item{ID: "c4", Type: "commandExecution", Command: "exit 3"}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "c4", Type: "commandExecution", Status: "completed", ExitCode: intp(3), Output: "oops"}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "f1", Type: "fileChange", Status: "completed", Changes: []abi.FileChange{
			{Path: "/w/a.txt", Kind: "add"}, {Path: "/w/b.txt", Kind: "update"}, {Path: "/w/c.txt", Kind: "delete"},
			{Path: "/w/d.txt", Kind: "update", MovePath: "/w/e.txt"}}}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "f2", Type: "fileChange", Status: "declined", Changes: []abi.FileChange{{Path: "/etc/passwd", Kind: "update"}}}},
		{Kind: abi.EventItemStarted, Item: &abi.Item{ID: "m1", Type: "mcpToolCall", Server: "docs", Tool: "search", Arguments: abi.RawJSON(`{"q":"go"}`)}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "m1", Type: "mcpToolCall", Server: "docs", Tool: "search", Status: "completed"}},
		{Kind: abi.EventItemStarted, Item: &abi.Item{ID: "d1", Type: "dynamicToolCall", Tool: "lookup", Arguments: abi.RawJSON(`{}`)}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "d1", Type: "dynamicToolCall", Tool: "lookup", Status: "completed", Success: boolp(false)}},
		{Kind: abi.EventAgentMessageDelta, ItemID: "a1", Delta: "half a line"},
		{Kind: abi.EventError, Error: &abi.TurnFailure{Message: "stream disconnected", WillRetry: true}},
		{Kind: abi.EventItemCompleted, Item: &abi.Item{ID: "a2", Type: "agentMessage", Text: "Unstreamed answer."}},
		{Kind: abi.EventTokenUsage, Usage: &abi.TokenUsage{Total: abi.TokenCounts{Input: 100, CachedInput: 40, Output: 7}}},
		{Kind: abi.EventTurnCompleted, Turn: &abi.TurnStatus{ID: "t1", State: "failed"}, Error: &abi.TurnFailure{Message: "quota exceeded"}},
		{Kind: abi.EventTurnStarted, Turn: &abi.TurnStatus{ID: "t2", State: "inProgress"}},
		{Kind: abi.EventTokenUsage, Usage: &abi.TokenUsage{Total: abi.TokenCounts{Input: 150, CachedInput: 90, Output: 10}}},
		{Kind: abi.EventTurnCompleted, Turn: &abi.TurnStatus{ID: "t2", State: "interrupted"}},
		{Kind: abi.EventTurnStarted, Turn: &abi.TurnStatus{ID: "t3", State: "inProgress"}},
		{Kind: abi.EventTurnCompleted, Turn: &abi.TurnStatus{ID: "t3", State: "completed"}},
	}
	s := &render.ExecStyle{Dir: "/w/"}
	golden(t, "cases.golden", renderAll(t, s, evs))

	none := &render.ExecStyle{MaxOutputLines: -1}
	out := renderAll(t, none, evs[5:8])
	assert.Equal(t, "$ seq 25\nexit 0\n", out)

	// HideReasoning drops exactly the reasoning, NoTurnSummary exactly the
	// token lines: the rest is the golden output, line for line.
	all := renderAll(t, &render.ExecStyle{Dir: "/w/"}, evs)
	hidden := renderAll(t, &render.ExecStyle{Dir: "/w/", HideReasoning: true}, evs)
	assert.Equal(t, withoutLines(all, "thinking", "Considering options.", "Unstreamed summary."), hidden)
	assert.Contains(t, all, "thinking\nConsidering options.\n")
	assert.NotContains(t, hidden, "onsidering")
	assert.NotContains(t, hidden, "Unstreamed summary.")

	bare := renderAll(t, &render.ExecStyle{Dir: "/w/", NoTurnSummary: true}, evs)
	assert.Contains(t, all, "tokens: in 100 (cached 40) out 7\n")
	assert.Equal(t, withoutLines(all, "tokens: in 100 (cached 40) out 7", "tokens: in 50 (cached 50) out 3"), bare)
	assert.Contains(t, bare, "turn failed: quota exceeded\n", "a failed turn is still reported")
	assert.Contains(t, bare, "turn interrupted\n")

	// A negative MaxOutputLines (run --hide-tool-output) drops exactly
	// the commands' output.
	quiet := renderAll(t, &render.ExecStyle{Dir: "/w/", MaxOutputLines: -1}, evs)
	assert.Equal(t, withoutLines(all, "… 5 earlier lines", "line ", "line x", "line xx", "oops"), quiet)
	assert.Contains(t, quiet, "$ seq 25\nexit 0\n$ false\n")
	assert.Contains(t, quiet, "$ exit 3\nexit 3\n")
}

// On a real codex turn, a negative MaxOutputLines (run
// --hide-tool-output) leaves out the command's output line and nothing
// else.
func TestExecStyleNoOutputLinesRealTurn(t *testing.T) {
	evs := loadTurn(t)
	all := renderAll(t, &render.ExecStyle{}, evs)
	quiet := renderAll(t, &render.ExecStyle{MaxOutputLines: -1}, evs)
	assert.Contains(t, all, "$ /bin/bash -lc 'echo hi'\nhi\nexit 0")
	assert.Contains(t, quiet, "$ /bin/bash -lc 'echo hi'\nexit 0")
	assert.Equal(t, withoutLines(all, "hi"), quiet)
}

// withoutLines is out without the lines equal to one of drop.
func withoutLines(out string, drop ...string) string {
	var kept []string
	for l := range strings.SplitSeq(out, "\n") {
		if !slices.Contains(drop, l) {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "\n")
}

func TestUseColor(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	assert.False(t, render.UseColor(&bytes.Buffer{}))
	f, err := os.CreateTemp(t.TempDir(), "out")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, render.UseColor(f))
	if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
		defer tty.Close()
		assert.True(t, render.UseColor(tty))
		t.Setenv("NO_COLOR", "1")
		assert.False(t, render.UseColor(tty))
	}
}
