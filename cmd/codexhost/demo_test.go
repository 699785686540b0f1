package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The full demo (make demo): everything of --mode demo, then a question
// answered by examples/answer, an interrupted turn, a compacted thread, a
// named thread, the loaded threads, the skills, the apps and a review;
// every step passes, so --strict exits 0.
func TestDemoFullMode(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := runCtx(ctx, t, "", "demo", "--mode", "full", "--strict")
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	for _, s := range []string{
		"loaded deny-rm", "loaded word-count", "loaded answer",
		"deny-rm: removing files is not allowed", "victim.txt is still there",
		`the model received the tool's answer: "4 words"`, "archived ",
		`question "Which color should the banner be?" answered by answer`,
		`the model received the answer: {"answers":{"color":{"answers":["Blue"]}}}`,
		": interrupted, ", " compacted (a contextCompaction item)",
		`is named "the banner colour"`,
		"skill(s), codexhost-demo among them",
		"app(s): the demo's CODEX_HOME connects none",
		": completed, items enteredReviewMode, ", "exitedReviewMode",
		"demo: done: 13 of 13 steps passed",
	} {
		assert.Contains(t, r.stdout, s)
	}
	for i, title := range []string{
		"streamed text", "an accepted command: echo", "a declined command: rm",
		"a dynamic tool call: word_count (examples/tool)", "threads: list, read, archive",
		"the agent asks a question; examples/answer answers it",
		"interrupt a turn while the model is busy (turn/interrupt)",
		"compact a thread's context (thread/compact)", "name a thread (thread/name/set)",
		"the threads app-server has loaded (thread/loaded/list)", "skills (skills/list)",
		"apps (app/list)", "a code review (review/start)",
	} {
		assert.Contains(t, r.stdout, fmt.Sprintf("\nPASS  %d. %s\n", i+1, title))
	}
	assert.NotContains(t, r.stdout, "FAIL")
}

// --model names the model of the demo's threads (the fake model checks
// every request asked for it), --show-events prints every event codex
// sends, and the summary reports the step.
func TestDemoSmokeModelAndEvents(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := runCtx(ctx, t, "", "demo", "--mode", "smoke", "--model", "gpt-demo-model", "--show-events", "--strict")
	require.Equal(t, exitOK, r.code, "stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	assert.Contains(t, r.stdout, "\n"+demoAnswer+"\n", "the answer whole, after its delta events")
	for _, s := range []string{
		" thread/started thread=", " turn/started thread=", " status=inProgress",
		" item/completed thread=", " item=agentMessage", ` delta="Hello from c"`,
		" turn/completed thread=", " status=completed",
		"\nPASS  1. a streamed answer\n", "demo: done: 1 of 1 steps passed",
	} {
		assert.Contains(t, r.stdout, s)
	}

	// Without --show-events, no event is printed.
	r = runCtx(ctx, t, "", "demo", "--mode", "smoke")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "   event ")
	assert.Contains(t, r.stdout, "demo: done: 1 of 1 steps passed")
}

// A failed step is reported and does not stop the next; the summary lists
// every step; only --strict turns a failure into exit status 1.
func TestDemoStepsSummaryAndStrict(t *testing.T) {
	t.Parallel()
	for _, strict := range []bool{false, true} {
		t.Run(fmt.Sprintf("strict=%v", strict), func(t *testing.T) {
			var out bytes.Buffer
			d := &demoSteps{say: func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }}
			ran := 0
			d.run(context.Background(), "1. first", func() error { ran++; return nil })
			d.run(context.Background(), "2. second", func() error { ran++; return errors.New("the model said no") })
			d.run(context.Background(), "3. third", func() error { ran++; return nil })
			err := d.finish(strict)
			assert.Equal(t, 3, ran, "a failed step does not stop the next")
			got := out.String()
			assert.Contains(t, got, "== 2. second\n   FAIL: the model said no\n")
			assert.Contains(t, got, "\n== summary\nPASS  1. first\nFAIL  2. second: the model said no\nPASS  3. third\ndemo: done: 2 of 3 steps passed\n")
			if !strict {
				assert.NoError(t, err)
				return
			}
			var ee *exitError
			require.True(t, errors.As(err, &ee), "%v", err)
			assert.Equal(t, exitTurnFailed, ee.code)
			assert.Equal(t, "demo: 1 of 3 steps failed (--strict)", err.Error())
		})
	}
}

// A demo whose context ends stops at the failed step: the steps after it
// do not run, and the outcome is a failure even without --strict.
func TestDemoStepsStopWhenContextEnds(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	d := &demoSteps{say: func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }}
	ctx, cancel := context.WithCancel(context.Background())
	d.run(ctx, "1. cancelled", func() error { cancel(); return ctx.Err() })
	ranAfter := false
	d.run(ctx, "2. after", func() error { ranAfter = true; return nil })
	err := d.finish(false)
	assert.False(t, ranAfter)
	require.Error(t, err)
	assert.Contains(t, out.String(), "demo: stopped after 1 step(s): 1. cancelled: context canceled")
}
