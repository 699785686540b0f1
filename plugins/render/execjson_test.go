package render_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
)

// The exec schema, event by event, for a synthetic turn.
func TestExecJSONEvents(t *testing.T) {
	events := []abi.Event{
		{Kind: abi.EventTurnStarted, ThreadID: "th", TurnID: "tu", Turn: &abi.TurnStatus{ID: "tu", State: "inProgress"}},
		{Kind: abi.EventItemStarted, ThreadID: "th", Item: &abi.Item{ID: "u1", Type: "userMessage", Text: "hi"}},
		{Kind: abi.EventItemStarted, ThreadID: "th", Item: &abi.Item{ID: "c1", Type: "commandExecution", Command: "ls", Status: "inProgress"}},
		{Kind: abi.EventItemStarted, ThreadID: "th", Item: &abi.Item{ID: "m1", Type: "agentMessage"}},
		{Kind: abi.EventItemCompleted, ThreadID: "th", Item: &abi.Item{ID: "c1", Type: "commandExecution", Command: "ls", Status: "declined"}},
		{Kind: abi.EventItemCompleted, ThreadID: "th", Item: &abi.Item{ID: "r1", Type: "reasoning", Text: " "}},
		{Kind: abi.EventItemCompleted, ThreadID: "th", Item: &abi.Item{ID: "r2", Type: "reasoning", Text: "because"}},
		{Kind: abi.EventItemStarted, ThreadID: "th", Item: &abi.Item{ID: "f1", Type: "fileChange", Status: "inProgress", Changes: []abi.FileChange{{Path: "/w/a", Kind: "add"}}}},
		{Kind: abi.EventItemCompleted, ThreadID: "th", Item: &abi.Item{ID: "f1", Type: "fileChange", Status: "declined", Changes: []abi.FileChange{{Path: "/w/a", Kind: "add"}}}},
		{Kind: abi.EventItemCompleted, ThreadID: "th", Item: &abi.Item{ID: "c9", Type: "commandExecution", Command: "true", Status: "completed", ExitCode: intp(0), Output: "x\n"}},
		{Kind: abi.EventItemCompleted, ThreadID: "th", Item: &abi.Item{ID: "m1", Type: "agentMessage", Text: "done"}},
		{Kind: abi.EventTokenUsage, ThreadID: "th", Usage: &abi.TokenUsage{Total: abi.TokenCounts{Input: 5, CachedInput: 1, CacheWriteInput: 2, Output: 3, ReasoningOutput: 4, Total: 8}}},
		{Kind: abi.EventError, ThreadID: "th", Error: &abi.TurnFailure{Message: "retrying", WillRetry: true}},
		{Kind: abi.EventTurnCompleted, ThreadID: "th", Turn: &abi.TurnStatus{ID: "tu", State: "completed"}},
	}
	var out bytes.Buffer
	r := &render.ExecJSON{}
	for i := range events {
		require.NoError(t, r.Render(&out, &events[i]))
	}
	want := `{"type":"thread.started","thread_id":"th"}
{"type":"turn.started"}
{"type":"item.started","item":{"id":"item_0","type":"command_execution","command":"ls","aggregated_output":"","exit_code":null,"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_0","type":"command_execution","command":"ls","aggregated_output":"","exit_code":null,"status":"declined"}}
{"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"because"}}
{"type":"item.started","item":{"id":"item_2","type":"file_change","changes":[{"path":"/w/a","kind":"add"}],"status":"in_progress"}}
{"type":"item.completed","item":{"id":"item_2","type":"file_change","changes":[{"path":"/w/a","kind":"add"}],"status":"failed"}}
{"type":"item.completed","item":{"id":"item_3","type":"command_execution","command":"true","aggregated_output":"x\n","exit_code":0,"status":"completed"}}
{"type":"item.completed","item":{"id":"item_4","type":"agent_message","text":"done"}}
{"type":"turn.completed","usage":{"input_tokens":5,"cached_input_tokens":1,"cache_write_input_tokens":2,"output_tokens":3,"reasoning_output_tokens":4}}
`
	assert.Equal(t, want, out.String())
	assert.Equal(t, "done", r.LastMessage())
}

// A failed turn's messages are codex exec --json's: codex's message,
// without the error category (Info), as the pinned codex exec writes it
// (TestRunJSONTurnFailedMatchesCodexExec compares the two).
func TestExecJSONFailedTurn(t *testing.T) {
	var out bytes.Buffer
	r := &render.ExecJSON{}
	for _, ev := range []abi.Event{
		{Kind: abi.EventTurnStarted, ThreadID: "th", Turn: &abi.TurnStatus{ID: "tu"}},
		{Kind: abi.EventError, ThreadID: "th", Error: &abi.TurnFailure{Message: "stream broke", Info: "502"}},
		{Kind: abi.EventTurnCompleted, ThreadID: "th", Turn: &abi.TurnStatus{ID: "tu", State: "failed"}},
	} {
		require.NoError(t, r.Render(&out, &ev))
	}
	assert.Equal(t, `{"type":"thread.started","thread_id":"th"}
{"type":"turn.started"}
{"type":"error","message":"stream broke"}
{"type":"turn.failed","error":{"message":"stream broke"}}
`, out.String())

	out.Reset()
	require.NoError(t, render.WriteExecDecision(&out, &render.ExecDecision{Hook: "approval", Kind: "command", Decision: "decline", Plugin: "rules", Reason: "no"}))
	assert.Equal(t, `{"type":"codexhost.decision","hook":"approval","kind":"command","decision":"decline","plugin":"rules","reason":"no"}`+"\n", out.String())
}

// ExecJSON prints what the pinned `codex exec --json` prints for the same
// turn of the same fake model: the same events, item ids, item shapes and
// usage, once the thread id and the working directory are normalised.
func TestExecJSONMatchesCodexExec(t *testing.T) {
	e2e.RequireCodex(t)
	script := func() hosttest.Script {
		return hosttest.Turns(hosttest.Turn(
			hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "echo hi && exit 3"}),
			hosttest.ApplyPatch(hosttest.AddFilePatch("a.txt", "x\n")),
			hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "cat a.txt"}),
			hosttest.Text("all done"),
		))
	}
	codexOpts := &hosttest.CodexHomeOptions{ApprovalPolicy: "never", SandboxMode: "workspace-write"}

	// codex exec --json
	m1, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m1.Close() })
	home1, work1 := t.TempDir(), t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(home1, m1.URL(), codexOpts))
	bin := e2e.CodexBin(t)
	cmd := exec.Command(bin, "exec", "--json", "--skip-git-repo-check", "-C", work1, "do it")
	cmd.Env = append(os.Environ(), "CODEX_HOME="+home1)
	cmd.Stdin = strings.NewReader("")
	want, err := cmd.Output()
	require.NoError(t, err)

	// codexhost: the same turn through the host, rendered by ExecJSON.
	m2, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m2.Close() })
	home2, work2 := t.TempDir(), t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(home2, m2.URL(), codexOpts))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := host.Start(ctx, &host.Options{CodexHome: home2, Dir: work2})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	var got bytes.Buffer
	r := &render.ExecJSON{}
	for ev, err := range client.Events(ctx, "do it", &host.RunOptions{Thread: &host.ThreadOptions{Cwd: work2}}) {
		require.NoError(t, err)
		a := ev.ABIEvent()
		require.NoError(t, r.Render(&got, &a))
	}

	norm := func(out []byte, work string) []string {
		var lines []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var ev map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
			if _, ok := ev["thread_id"]; ok {
				ev["thread_id"] = "THREAD"
			}
			b, err := json.Marshal(ev)
			require.NoError(t, err)
			lines = append(lines, strings.ReplaceAll(string(b), work, "$WORK"))
		}
		return lines
	}
	w, g := norm(want, work1), norm(got.Bytes(), work2)
	t.Logf("codex exec --json:\n%s", strings.Join(w, "\n"))
	assert.Equal(t, w, g)
	assert.Equal(t, "all done", r.LastMessage())
}
