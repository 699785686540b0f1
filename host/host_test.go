package host_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/internal/codexbin"
	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/rpc"
)

// startFake starts the test binary as a fake app-server playing scenario.
func startFake(t *testing.T, scenario string, deltas int, opts *host.Options) *host.Client {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	o := host.Options{}
	if opts != nil {
		o = *opts
	}
	o.Codex = exe
	o.StopGrace = time.Second
	o.Env = append(o.Env, "GORACE=atexit_sleep_ms=0", "FAKE_APPSERVER="+scenario, fmt.Sprintf("FAKE_DELTAS=%d", deltas))
	c, err := host.Start(t.Context(), &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
	})
	return c
}

func TestFakeDeltasArriveInOrder(t *testing.T) {
	const n = 10000
	c := startFake(t, "text", n, nil)
	i := 0
	var last *host.Event
	for ev, err := range c.Events(t.Context(), "hi", nil) {
		require.NoError(t, err)
		if ev.Kind == abi.EventAgentMessageDelta {
			require.Equal(t, fmt.Sprintf("d%d ", i), ev.Delta, "delta %d out of order", i)
			i++
		}
		if last != nil {
			require.Greater(t, ev.Seq, last.Seq)
		}
		last = ev
	}
	require.Equal(t, n, i)
	require.Equal(t, abi.EventTurnCompleted, last.Kind)
}

// A slow consumer gets every event: delivery blocks rather than drops.
// Every 500 deltas the consumer stops reading until the observer has seen
// more events than the turn's buffer holds: delivery is then blocked on the
// full buffer (the observer runs before the event is queued).
func TestFakeSlowConsumerLosesNothing(t *testing.T) {
	const n, buffer = 3000, 4
	seen := &seqWatcher{}
	c := startFake(t, "text", n, &host.Options{EventBuffer: buffer, Observers: []host.EventObserver{seen}})
	i := 0
	for ev, err := range c.Events(t.Context(), "hi", nil) {
		require.NoError(t, err)
		if ev.Kind == abi.EventAgentMessageDelta {
			if i%500 == 0 {
				require.NoError(t, seen.wait(t.Context(), ev.Seq+buffer+1), "delivery did not go on to fill the buffer")
			}
			require.Equal(t, fmt.Sprintf("d%d ", i), ev.Delta)
			i++
		}
	}
	require.Equal(t, n, i)
}

// seqWatcher is an EventObserver that lets a test wait for an event to
// have been observed.
type seqWatcher struct {
	mu     sync.Mutex
	events []*host.Event
	next   chan struct{} // closed by the next event; nil: none waits
}

func (w *seqWatcher) ObserveEvent(ev *host.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.events = append(w.events, ev)
	if w.next != nil {
		close(w.next)
		w.next = nil
	}
}

// wait waits until the event with Seq seq (or a later one) was observed.
func (w *seqWatcher) wait(ctx context.Context, seq uint64) error {
	return w.waitFor(ctx, func(ev *host.Event) bool { return ev.Seq >= seq })
}

// waitFor waits until an event for which match holds was observed.
func (w *seqWatcher) waitFor(ctx context.Context, match func(*host.Event) bool) error {
	checked := 0
	for {
		w.mu.Lock()
		evs := w.events[checked:]
		checked = len(w.events)
		if w.next == nil {
			w.next = make(chan struct{})
		}
		next := w.next
		w.mu.Unlock()
		for _, ev := range evs {
			if match(ev) {
				return nil
			}
		}
		select {
		case <-next:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func answerOf(t *testing.T, res *host.Result, events []*host.Event) map[string]json.RawMessage {
	t.Helper()
	for _, ev := range events {
		if ev.Method == "codexhost/test/answer" {
			var m map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(ev.Params, &m))
			return m
		}
	}
	t.Fatalf("no answer event in turn %v", res)
	return nil
}

func collect(t *testing.T, c *host.Client) []*host.Event {
	t.Helper()
	var evs []*host.Event
	for ev, err := range c.Events(t.Context(), "go", nil) {
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	return evs
}

func TestFakeSafeDefaultDeclines(t *testing.T) {
	c := startFake(t, "approval", 0, nil)
	a := answerOf(t, nil, collect(t, c))
	require.JSONEq(t, `{"decision":"decline"}`, string(a["result"]))
}

func TestFakeSafeDefaultFailsToolCall(t *testing.T) {
	c := startFake(t, "tool", 0, nil)
	a := answerOf(t, nil, collect(t, c))
	var r struct {
		Success      bool `json:"success"`
		ContentItems []struct {
			Type, Text string
		} `json:"contentItems"`
	}
	require.NoError(t, json.Unmarshal(a["result"], &r))
	assert.False(t, r.Success)
	assert.Equal(t, "inputText", r.ContentItems[0].Type)
	assert.Contains(t, r.ContentItems[0].Text, `"lookup"`)
}

// approvalHandler answers approvals with a function and everything else
// safely.
type approvalHandler struct {
	host.SafeHandler
	f func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error)
}

func (h approvalHandler) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	return h.f(ctx, req)
}

func TestFakeHandlerErrorFailsClosed(t *testing.T) {
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return nil, errors.New("plugin crashed")
	}}
	c := startFake(t, "approval", 0, &host.Options{Handler: h})
	a := answerOf(t, nil, collect(t, c))
	require.JSONEq(t, `{"decision":"decline"}`, string(a["result"]))
}

func TestFakeHandlerPanicFailsClosed(t *testing.T) {
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		panic("boom")
	}}
	c := startFake(t, "approval", 0, &host.Options{Handler: h})
	a := answerOf(t, nil, collect(t, c))
	require.JSONEq(t, `{"decision":"decline"}`, string(a["result"]))
}

func TestFakeHandlerSeesTypedRequest(t *testing.T) {
	got := make(chan *host.ApprovalRequest, 1)
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		got <- req
		return &abi.ApprovalResponse{Decision: abi.Accept}, nil
	}}
	c := startFake(t, "approval", 0, &host.Options{Handler: h})
	a := answerOf(t, nil, collect(t, c))
	require.JSONEq(t, `{"decision":"accept"}`, string(a["result"]))
	req := <-got
	assert.Equal(t, "item/commandExecution/requestApproval", req.Method)
	assert.Equal(t, abi.ApprovalCommand, req.Kind)
	assert.Equal(t, "rm -rf /", req.Command)
	assert.Equal(t, "th1", req.ThreadID)
	assert.Equal(t, "tu1", req.TurnID)
	assert.Equal(t, "c1", req.ItemID)
}

func TestFakeUnknownRequestGetsMethodNotFound(t *testing.T) {
	called := false
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		called = true
		return &abi.ApprovalResponse{Decision: abi.Accept}, nil
	}}
	c := startFake(t, "unknown-request", 0, &host.Options{Handler: h})
	a := answerOf(t, nil, collect(t, c))
	var we rpc.WireError
	require.NoError(t, json.Unmarshal(a["error"], &we))
	assert.Equal(t, rpc.ErrMethodNotFound.Code, we.Code)
	assert.Contains(t, we.Message, "codexhost/notARealRequest")
	assert.False(t, called, "the handler must not see unknown requests")
}

func TestFakeDeathMidTurnIsReportedQuickly(t *testing.T) {
	c := startFake(t, "die", 100, nil)
	start := time.Now()
	deltas := 0
	var gotErr error
	for ev, err := range c.Events(t.Context(), "hi", nil) {
		if err != nil {
			gotErr = err
			break
		}
		if ev.Kind == abi.EventAgentMessageDelta {
			deltas++
		}
	}
	elapsed := time.Since(start)
	require.Error(t, gotErr)
	var ce *host.ConnError
	require.ErrorAs(t, gotErr, &ce)
	assert.Equal(t, 3, ce.ExitCode)
	assert.Contains(t, gotErr.Error(), "fake app-server dies mid-turn")
	assert.Equal(t, 100, deltas, "events sent before the death are delivered")
	// Reported, with the exit code and stderr, once the fake has died: a
	// bound that catches a report that waits for something that never
	// comes (the fake is gone), not a measure of speed, which a loaded
	// machine would fail.
	assert.Less(t, elapsed, 30*time.Second)
	require.ErrorAs(t, c.Wait(), &ce)
}

func TestFakeExitAtStartSaysWhy(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	_, err = host.Start(t.Context(), &host.Options{Codex: exe, Env: []string{"FAKE_APPSERVER=exit-at-start"}})
	require.Error(t, err)
	var ce *host.ConnError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "config.toml: invalid type")
}

func TestFakeRunCancelledReturnsPromptly(t *testing.T) {
	c := startFake(t, "hang", 5, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Run(ctx, "hi", nil)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The fake hangs for ever: Run returned because ctx ended. The bound
	// only catches a Run that waits for more than ctx; it is wide so that a
	// loaded machine, which can delay the return by seconds, does not fail it.
	assert.Less(t, time.Since(start), 30*time.Second)
}

// Close ends a turn in progress: once the turn's last event (its one
// delta; then the fake hangs) has been delivered, Close, while Wait waits.
func TestFakeCloseEndsStream(t *testing.T) {
	seen := &seqWatcher{}
	c := startFake(t, "hang", 1, &host.Options{Observers: []host.EventObserver{seen}})
	turn, err := c.StartTurn(t.Context(), "th1", []host.Input{host.TextInput("x")}, nil)
	require.NoError(t, err)
	closed := make(chan error, 1)
	go func() {
		closed <- seen.waitFor(t.Context(), func(ev *host.Event) bool { return ev.Kind == abi.EventAgentMessageDelta })
		_ = c.Close()
	}()
	_, err = turn.Wait(t.Context())
	require.ErrorIs(t, err, host.ErrClosed)
	require.NoError(t, <-closed, "closed before the delta was delivered")
	_, err = c.StartThread(t.Context(), nil)
	require.ErrorIs(t, err, host.ErrClosed)
}

func TestMissingBinary(t *testing.T) {
	_, err := host.Start(t.Context(), &host.Options{Codex: "/nonexistent/codex"})
	require.ErrorIs(t, err, host.ErrCodexNotFound)
	assert.Contains(t, err.Error(), "/nonexistent/codex")
}

func TestMissingBinaryFromEnv(t *testing.T) {
	t.Setenv(codexbin.Env, "/nonexistent/from-env")
	_, err := host.Start(t.Context(), nil)
	require.ErrorIs(t, err, host.ErrCodexNotFound)
	assert.Contains(t, err.Error(), "CODEX_BIN")
}

// thread/started announces a thread, not a turn: it never appears in a
// turn's Events, wherever it falls relative to the turn's subscription.
// "at-turn-start" makes the fake deliver it after the turn has subscribed,
// the interleaving that used to put it in the stream about one run in
// twelve; "after-response" is codex's own order. Each repeats StartThread
// then StartTurn many times on one Client, and an observer checks that the
// notification still reaches the Client, once per thread start.
func TestFakeThreadStartedIsNotATurnEvent(t *testing.T) {
	for _, placement := range []string{"at-turn-start", "after-response"} {
		t.Run(placement, func(t *testing.T) {
			const runs = 50
			obs := &methodCounter{method: "thread/started"}
			c := startFake(t, "text", 3, &host.Options{Env: []string{"FAKE_THREAD_STARTED=" + placement},
				Observers: []host.EventObserver{obs}})
			for i := range runs {
				th, err := c.StartThread(t.Context(), nil)
				require.NoError(t, err)
				turn, err := c.StartTurn(t.Context(), th.ID, []host.Input{host.TextInput("hi")}, nil)
				require.NoError(t, err)
				var kinds []string
				for ev, err := range turn.Events(t.Context()) {
					require.NoError(t, err)
					require.NotEqual(t, "thread/started", ev.Method, "run %d: thread/started in the turn's events", i)
					kinds = append(kinds, ev.Method)
				}
				require.Equal(t, "turn/started", kinds[0], "run %d", i)
				require.Equal(t, "turn/completed", kinds[len(kinds)-1], "run %d", i)
			}
			// Every thread/started was delivered to the Client before the
			// last turn's turn/completed (it precedes it on the wire).
			require.Equal(t, int64(runs), obs.n.Load())
		})
	}
}

type methodCounter struct {
	method string
	n      atomic.Int64
}

func (m *methodCounter) ObserveEvent(ev *host.Event) {
	if ev.Method == m.method {
		m.n.Add(1)
	}
}

// StartReview asks for the review inline, on the thread it names, and
// listens to that thread's events: a codex that ran the review on another
// thread (reviewThreadId), whose events and approvals the caller would not
// follow as the review's, gets an error naming both threads, and the
// review there is interrupted.
func TestStartReviewElsewhereFails(t *testing.T) {
	var rec bytes.Buffer
	c := startFake(t, "text", 0, &host.Options{Env: []string{"FAKE_REVIEW_THREAD=th9"},
		Transcript: transcript.NewWriter(&rec, transcript.Header{Codexhost: host.Version})})
	th, err := c.StartThread(t.Context(), nil)
	require.NoError(t, err)
	_, err = c.StartReview(t.Context(), th.ID, host.ReviewTarget{Type: "uncommittedChanges"})
	require.ErrorIs(t, err, host.ErrReviewElsewhere)
	assert.Contains(t, err.Error(), "th9")
	assert.Contains(t, err.Error(), th.ID)
	_ = c.Close()
	_ = c.Wait() // the transcript is complete
	assert.Regexp(t, `"method":"turn/interrupt","params":\{"threadId":"th9","turnId":"tu-r"\}`, rec.String(), "the review elsewhere is interrupted")

	c = startFake(t, "text", 0, nil)
	th, err = c.StartThread(t.Context(), nil)
	require.NoError(t, err)
	turn, err := c.StartReview(t.Context(), th.ID, host.ReviewTarget{Type: "uncommittedChanges"})
	require.NoError(t, err, "inline, as asked")
	assert.Equal(t, th.ID, turn.ThreadID)
	turn.Close()
}
