package host_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/transcript"
)

// A turn recorded with Options.Transcript replays to the same ABI requests
// the handler saw live (including a file change's paths, which codex sends
// in an event, and the thread's cwd), the answers the host sent, and the
// same events.
func TestTranscriptRecordAndReplay(t *testing.T) {
	var mu sync.Mutex
	var live []*abi.ApprovalRequest
	var liveEvents []abi.Event
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		mu.Lock()
		live = append(live, req.ApprovalRequest)
		mu.Unlock()
		if req.Kind == abi.ApprovalFileChange {
			return &abi.ApprovalResponse{Decision: abi.Accept}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Decline}, nil
	}}
	var buf bytes.Buffer
	tw := transcript.NewWriter(&buf, transcript.Header{Codexhost: host.Version})
	script := hosttest.Turn(
		hosttest.ApplyPatch(hosttest.AddFilePatch("hello.txt", "hi\n")),
		hosttest.ExecCommand("rm hello.txt"),
		hosttest.Text("done"),
	)
	obs := observerFunc(func(ev *host.Event) {
		mu.Lock()
		liveEvents = append(liveEvents, ev.ABIEvent())
		mu.Unlock()
	})
	e := startReal(t, script, &host.Options{Handler: h, Transcript: tw, Observers: []host.EventObserver{obs}}, nil)
	_, err := e.client.Run(ctxFor(t, 60*time.Second), "patch, then remove", e.thread())
	require.NoError(t, err)
	require.NoError(t, e.client.Close())
	require.NoError(t, e.client.Wait())
	require.NoError(t, tw.Err())

	tr, err := transcript.Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, transcript.Format, tr.Header.Format)
	assert.Equal(t, host.Version, tr.Header.Codexhost)
	require.NotEmpty(t, tr.Records)
	first := tr.Records[0]
	assert.Equal(t, transcript.Out, first.Dir)
	assert.Contains(t, string(first.Msg), `"method":"initialize"`)

	var replayed []*abi.ApprovalRequest
	var answers []string
	var events []abi.Event
	for r, err := range host.Replay(tr) {
		require.NoError(t, err)
		if r.Event != nil {
			events = append(events, r.Event.ABIEvent())
			continue
		}
		if hook, _ := r.Request.Hook(); hook != abi.HookApproval {
			continue
		}
		a, err := r.Request.Approval()
		require.NoError(t, err)
		replayed = append(replayed, a.ApprovalRequest)
		answers = append(answers, string(r.Answer))
	}
	require.Len(t, live, 2)
	assert.Equal(t, live, replayed, "the replayed ABI requests are the live ones")
	assert.Equal(t, abi.ApprovalFileChange, replayed[0].Kind)
	require.Len(t, replayed[0].Changes, 1)
	assert.Contains(t, replayed[0].Changes[0].Path, "hello.txt")
	assert.NotEmpty(t, replayed[0].Cwd)
	assert.Equal(t, []string{`{"decision":"accept"}`, `{"decision":"decline"}`}, answers)
	assert.Equal(t, liveEvents, events, "the replayed events are the live ones, in order")
}

type observerFunc func(ev *host.Event)

func (f observerFunc) ObserveEvent(ev *host.Event) { f(ev) }
