package host_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// failClosedGuard bounds a wait that only a bug makes long: the tests below
// finish in milliseconds when the promise holds.
const failClosedGuard = 15 * time.Second

// TestHandlerGoexitIsAnswered: "every server request answered
// exactly once ... with a decline when the handler cannot decide". A
// Handler that leaves through runtime.Goexit (t.FailNow or
// require.* from a test's handler, a helper that calls Goexit) neither
// returns nor panics: callHandler's recover sees nil, rpc's too, and the
// goroutine ends without writing a response. The approval is never
// answered; codex waits on it forever, and so does the turn.
func TestHandlerGoexitIsAnswered(t *testing.T) {
	t.Parallel()
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		runtime.Goexit()
		return nil, nil
	}}
	c := startFake(t, "approval", 0, &host.Options{Handler: h})
	ctx, cancel := context.WithTimeout(t.Context(), failClosedGuard)
	defer cancel()
	var evs []*host.Event
	var err error
	for ev, e := range c.Events(ctx, "go", nil) {
		if e != nil {
			err = e
			break
		}
		evs = append(evs, ev)
	}
	require.NoError(t, err, "the approval was never answered: the fake app-server still waits for it")
	a := answerOf(t, nil, evs)
	assert.JSONEq(t, `{"decision":"decline"}`, string(a["result"]))
}

// TestCompletedTurnReleasesItsSubscription: Turn's doc says Close
// "is called automatically when the turn completes". It is called only
// when a consumer reads turn/completed: a turn that completed in codex
// but whose events nobody read (a caller that gave up on Wait, or only
// wanted Interrupt) keeps subscribing to its whole thread, buffering
// every later turn's events too. Once its buffer is full, delivery
// blocks on it for good: the next turn on the thread never completes, and
// with the dispatcher stuck no server request of any thread reaches its
// handler (nothing is answered) until Client.Close.
func TestCompletedTurnReleasesItsSubscription(t *testing.T) {
	t.Parallel()
	seen := &seqWatcher{}
	// A's three events (turn/started, item/completed, turn/completed) fit
	// its buffer: turn A completes without backpressure.
	c := startFake(t, "text", 0, &host.Options{EventBuffer: 3, Observers: []host.EventObserver{seen}})
	th, err := c.StartThread(t.Context(), nil)
	require.NoError(t, err)
	a, err := c.StartTurn(t.Context(), th.ID, []host.Input{host.TextInput("first")}, nil)
	require.NoError(t, err)
	// Turn A has completed: its turn/completed was delivered.
	require.NoError(t, seen.waitFor(t.Context(), func(ev *host.Event) bool {
		return ev.Kind == abi.EventTurnCompleted && ev.Seq > 0
	}))
	_ = a // completed; never read, never closed by hand

	ctx, cancel := context.WithTimeout(t.Context(), failClosedGuard)
	defer cancel()
	res, err := c.Run(ctx, "second", &host.RunOptions{ThreadID: th.ID})
	require.NoError(t, err, "the next turn on the thread never completed: delivery is blocked on the completed turn's full buffer")
	assert.Equal(t, host.TurnCompleted, res.Status)
}
