package host_test

import (
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
)

// Thread and turn options reach the model, and Extra params are merged
// last: they win over the typed fields.
func TestRealOptionsAndExtraReachTheModel(t *testing.T) {
	e := startReal(t, hosttest.Text("ok"), nil, nil)
	ctx := ctxFor(t, 60*time.Second)
	schema := json.RawMessage(`{"type":"object","properties":{"answer_marker":{"type":"string"}},"required":["answer_marker"],"additionalProperties":false}`)
	res, err := e.client.Run(ctx, "hello", &host.RunOptions{
		Thread: &host.ThreadOptions{Cwd: e.work, DeveloperInstructions: "typed-dev-marker",
			Extra: map[string]any{"developerInstructions": "extra-dev-marker"}},
		Turn: &host.TurnOptions{OutputSchema: schema, Summary: "concise", Personality: "pragmatic"},
	})
	require.NoError(t, err)
	assert.Equal(t, host.TurnCompleted, res.Status)
	reqs := e.model.Requests()
	require.NotEmpty(t, reqs)
	body := string(reqs[len(reqs)-1].Body)
	assert.Contains(t, body, "extra-dev-marker", "Extra reaches thread/start")
	assert.NotContains(t, body, "typed-dev-marker", "Extra wins over the typed field")
	assert.Contains(t, body, "answer_marker", "the output schema reaches the model")
}

// Run with a ThreadID resumes the thread, as the seed SDK does: a second
// app-server, which has not loaded the thread, continues it with its
// history.
func TestRealRunResumesThreadID(t *testing.T) {
	e := startReal(t, hosttest.Text("noted"), nil, nil)
	ctx := ctxFor(t, 90*time.Second)
	first, err := e.client.Run(ctx, "remember the number 11", e.thread())
	require.NoError(t, err)
	require.NoError(t, e.client.Close())
	require.NoError(t, e.client.Wait())

	c2, err := host.Start(ctx, &host.Options{CodexHome: e.home, Dir: e.work})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c2.Close(); _ = c2.Wait() })
	var turn *host.Turn
	res, err := c2.Run(ctx, "what number?", &host.RunOptions{ThreadID: first.ThreadID, OnTurn: func(tu *host.Turn) { turn = tu }})
	require.NoError(t, err)
	assert.Equal(t, first.ThreadID, res.ThreadID)
	require.NotNil(t, turn, "OnTurn saw the turn")
	assert.Equal(t, res.TurnID, turn.ID)
	last := e.model.Requests()[len(e.model.Requests())-1]
	assert.Contains(t, last.UserTexts(), "remember the number 11", "the resumed thread carries its history")

	// The history, paged one entry at a time, both ways.
	var turns []*host.TurnRecord
	for tr, err := range c2.ThreadTurns(ctx, first.ThreadID, &host.HistoryOptions{PageSize: 1}) {
		require.NoError(t, err)
		turns = append(turns, tr)
	}
	require.Len(t, turns, 2)
	assert.Equal(t, first.TurnID, turns[0].ID)
	assert.Equal(t, res.TurnID, turns[1].ID)
	var userTexts []string
	for _, it := range turns[0].Items {
		if it.Type == host.ItemUserMessage {
			userTexts = append(userTexts, it.Text)
		}
	}
	assert.Equal(t, []string{"remember the number 11"}, userTexts)

	var newest []string
	for tr, err := range c2.ThreadTurns(ctx, first.ThreadID, &host.HistoryOptions{NewestFirst: true, PageSize: 1, WithoutItems: true}) {
		require.NoError(t, err)
		newest = append(newest, tr.ID)
		assert.Empty(t, tr.Items, "WithoutItems")
	}
	assert.Equal(t, []string{res.TurnID, first.TurnID}, newest)

	var types []host.ItemType
	for it, err := range c2.ThreadItems(ctx, first.ThreadID, &host.HistoryOptions{TurnID: res.TurnID, PageSize: 1}) {
		require.NoError(t, err)
		assert.Equal(t, res.TurnID, it.TurnID)
		types = append(types, it.Item.Type)
	}
	assert.Contains(t, types, host.ItemUserMessage)
	assert.Contains(t, types, host.ItemAgentMessage)
}

// ReplaceEnv gives app-server exactly Env: a variable of the test process
// does not reach the commands codex runs.
func TestRealReplaceEnv(t *testing.T) {
	t.Setenv("CODEXHOST_SENTINEL", "inherited")
	for _, replace := range []bool{false, true} {
		opts := &host.Options{}
		if replace {
			opts = &host.Options{ReplaceEnv: true, Env: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}}
		}
		e := startReal(t, hosttest.Text("ok"), opts, nil)
		res, err := e.client.Exec(ctxFor(t, 30*time.Second), []string{"sh", "-c", "echo ${CODEXHOST_SENTINEL:-unset}"}, &host.ExecOptions{Cwd: e.work})
		require.NoError(t, err)
		want := "inherited"
		if replace {
			want = "unset"
		}
		assert.Equal(t, want, strings.TrimSpace(res.Stdout), "ReplaceEnv=%v", replace)
	}
}

// ReadThread with turns, ResumeThread and ForkThread page the history with
// thread/turns/list, as codex asks: codex sends no deprecation notice, and
// the turns are all there.
func TestRealHistoryWithoutDeprecatedCalls(t *testing.T) {
	var mu sync.Mutex
	var notices []string
	obs := host.EventObserverFunc(func(ev *host.Event) {
		if ev.Method == "deprecationNotice" {
			mu.Lock()
			notices = append(notices, string(ev.Params))
			mu.Unlock()
		}
	})
	e := startReal(t, hosttest.Text("ok"), &host.Options{Observers: []host.EventObserver{obs}}, nil)
	ctx := ctxFor(t, 60*time.Second)
	first, err := e.client.Run(ctx, "one", e.thread())
	require.NoError(t, err)
	_, err = e.client.Run(ctx, "two", &host.RunOptions{ThreadID: first.ThreadID})
	require.NoError(t, err)

	th, err := e.client.ReadThread(ctx, first.ThreadID, true)
	require.NoError(t, err)
	require.Len(t, th.Turns, 2)
	assert.Equal(t, first.TurnID, th.Turns[0].ID)
	assert.NotEmpty(t, th.Turns[0].Items)
	th, err = e.client.ResumeThread(ctx, first.ThreadID, nil)
	require.NoError(t, err)
	assert.Len(t, th.Turns, 2)
	_, err = e.client.ForkThread(ctx, first.ThreadID, nil)
	require.NoError(t, err)
	// A request after the others: codex writes its answer after any notice
	// they caused. (Observers run on the delivery goroutine, so a notice
	// still being delivered could be missed: this can pass wrongly, never
	// fail wrongly; before paging, codex noticed every call.)
	_, err = e.client.ReadThread(ctx, first.ThreadID, false)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, notices)
}
