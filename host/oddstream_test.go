package host_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
)

// An app-server that sends what the real codex does not: the host stays
// up, and no event is lost (found by an adversarial review).

const (
	oddTurnStarted   = `{"method":"turn/started","params":{"threadId":"th1","turn":{"id":"tu1","items":[],"status":"inProgress"}}}`
	oddTurnCompleted = `{"method":"turn/completed","params":{"threadId":"th1","turn":{"id":"tu1","items":[],"status":"completed","durationMs":5}}}`
)

func startLines(t *testing.T, opts *host.Options, lines ...string) *host.Client {
	t.Helper()
	o := host.Options{}
	if opts != nil {
		o = *opts
	}
	o.Env = append(o.Env, "FAKE_LINES="+strings.Join(lines, "\n"))
	return startFake(t, "lines", 0, &o)
}

// An item/completed without its item is delivered (the raw params are
// there), and the turn's consumer survives it: it used to dereference the
// missing item and take the process down.
func TestItemCompletedWithoutItem(t *testing.T) {
	t.Parallel()
	c := startLines(t, nil, oddTurnStarted,
		`{"method":"item/completed","params":{"threadId":"th1","turnId":"tu1","completedAtMs":2}}`,
		oddTurnCompleted)
	res, err := c.Run(t.Context(), "go", nil)
	require.NoError(t, err)
	assert.Equal(t, host.TurnCompleted, res.Status)
	assert.Empty(t, res.Items)
}

// A turn/completed without its turn ends the turn as failed, saying why:
// how it ended is unknown.
func TestTurnCompletedWithoutTurn(t *testing.T) {
	t.Parallel()
	c := startLines(t, nil, oddTurnStarted, `{"method":"turn/completed","params":{"threadId":"th1","turnId":"tu1"}}`)
	_, err := c.Run(t.Context(), "go", nil)
	require.ErrorIs(t, err, host.ErrTurnFailed)
	assert.Contains(t, err.Error(), "turn/completed without the turn")
}

type panicObserver struct{ on string }

func (o panicObserver) ObserveEvent(ev *host.Event) {
	if ev.Delta == o.on {
		panic("observer bug")
	}
}

// An observer that panics on one event does not take it from the turn:
// the connection used to recover the panic and skip the event's delivery.
func TestObserverPanicKeepsTheEvent(t *testing.T) {
	t.Parallel()
	var seen []string
	c := startLines(t, &host.Options{Observers: []host.EventObserver{panicObserver{on: "b"}, host.EventObserverFunc(func(ev *host.Event) {
		if ev.Delta != "" {
			seen = append(seen, ev.Delta)
		}
	})}}, oddTurnStarted,
		`{"method":"item/agentMessage/delta","params":{"threadId":"th1","turnId":"tu1","itemId":"m1","delta":"a"}}`,
		`{"method":"item/agentMessage/delta","params":{"threadId":"th1","turnId":"tu1","itemId":"m1","delta":"b"}}`,
		`{"method":"item/agentMessage/delta","params":{"threadId":"th1","turnId":"tu1","itemId":"m1","delta":"c"}}`,
		oddTurnCompleted)
	var got string
	for ev, err := range c.Events(t.Context(), "go", nil) {
		require.NoError(t, err)
		got += ev.Delta
	}
	assert.Equal(t, "abc", got, "the turn's consumer got every delta")
	assert.Equal(t, []string{"a", "b", "c"}, seen, "the observer after the one that panicked got every delta")
}

// slowAfterBreak is an observer that, on the first delta, waits for the
// connection to break and then takes a second more: a render pipeline
// under backpressure, still delivering what app-server sent before it
// exited.
type slowAfterBreak struct {
	c    atomic.Pointer[host.Client]
	once sync.Once
}

func (o *slowAfterBreak) ObserveEvent(ev *host.Event) {
	if ev.Delta == "" {
		return
	}
	o.once.Do(func() {
		<-o.c.Load().Done()
		time.Sleep(time.Second) // the slow observer under test, past drainGrace
	})
}

// app-server sends a whole turn and exits while an observer holds the
// dispatcher: the turn's consumer still gets every event app-server sent
// (it used to give up 700 ms after the break, with most of the turn and
// its turn/completed lost), and then the turn's end, not the break.
func TestSlowObserverLosesNothingAfterExit(t *testing.T) {
	t.Parallel()
	obs := &slowAfterBreak{}
	var lines []string // after the fake's own turn/started
	for i := range 20 {
		lines = append(lines, fmt.Sprintf(`{"method":"item/agentMessage/delta","params":{"threadId":"th1","turnId":"tu1","itemId":"m1","delta":"d%d "}}`, i))
	}
	lines = append(lines, oddTurnCompleted)
	c := startLines(t, &host.Options{Observers: []host.EventObserver{obs}, Env: []string{"FAKE_LINES_THEN=exit"}}, lines...)
	obs.c.Store(c)
	var got []string
	for ev, err := range c.Events(t.Context(), "go", nil) {
		require.NoError(t, err, "after %d events", len(got))
		got = append(got, ev.Method)
	}
	assert.Len(t, got, 22, "turn/started, 20 deltas, turn/completed")
}
