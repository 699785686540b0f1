package host_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// waitingHandler says when it starts on an approval (started, by item
// id), waits until its context ends, and reports the cause by item id.
type waitingHandler struct {
	host.SafeHandler
	started map[string]chan struct{}
	causes  chan [2]string
}

func (h waitingHandler) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	close(h.started[req.ItemID])
	<-ctx.Done()
	cause := context.Cause(ctx)
	msg := cause.Error()
	if cause == host.ErrRequestResolved {
		msg = "resolved"
	}
	h.causes <- [2]string{req.ItemID, msg}
	return nil, ctx.Err()
}

// TestHandlerContextEndsWhenCodexNoLongerWaits: a handler waiting on its
// context (a person, a slow plugin) stops when codex says the request is
// resolved, and when the request's turn completes, with the cause
// ErrRequestResolved; the client keeps running.
func TestHandlerContextEndsWhenCodexNoLongerWaits(t *testing.T) {
	t.Parallel()
	h := waitingHandler{causes: make(chan [2]string, 2),
		started: map[string]chan struct{}{"i41": make(chan struct{}), "i42": make(chan struct{})}}
	// The deltas hold the dispatcher until the request before them has
	// reached its handler: the end comes while the handler waits (an end
	// that comes first is tested below).
	gate := gateOnDelta{h.started}
	c := startLines(t, &host.Options{Handler: h, Observers: []host.EventObserver{gate}}, oddTurnStarted,
		`{"id":41,"method":"item/commandExecution/requestApproval","params":{"threadId":"th1","turnId":"tu1","itemId":"i41","command":"ls","cwd":"/"}}`,
		`{"method":"item/agentMessage/delta","params":{"threadId":"th1","turnId":"tu1","itemId":"i41","delta":"."}}`,
		`{"method":"serverRequest/resolved","params":{"threadId":"th1","requestId":41}}`,
		`{"id":42,"method":"item/commandExecution/requestApproval","params":{"threadId":"th1","turnId":"tu1","itemId":"i42","command":"ls","cwd":"/"}}`,
		`{"method":"item/agentMessage/delta","params":{"threadId":"th1","turnId":"tu1","itemId":"i42","delta":"."}}`,
		oddTurnCompleted)
	res, err := c.Run(t.Context(), "go", nil)
	assert.NoError(t, err)
	assert.Equal(t, host.TurnCompleted, res.Status)
	got := map[string]string{}
	for range 2 {
		c := <-h.causes
		got[c[0]] = c[1]
	}
	assert.Equal(t, map[string]string{"i41": "resolved", "i42": "resolved"}, got)
}

// gateOnDelta holds each delta until the approval of its item id has
// reached the handler.
type gateOnDelta struct{ started map[string]chan struct{} }

func (g gateOnDelta) ObserveEvent(ev *host.Event) {
	if ev.Kind == abi.EventAgentMessageDelta {
		<-g.started[ev.ItemID]
	}
}
