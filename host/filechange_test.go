package host_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/rules"
)

// fileChangeStarted is an item/started of a file change in thread th,
// item id, adding path.
func fileChangeStarted(th, id, path string) string {
	b, _ := json.Marshal(map[string]any{"method": "item/started", "params": map[string]any{
		"threadId": th, "turnId": "tu-" + th, "startedAtMs": 1,
		"item": map[string]any{"type": "fileChange", "id": id, "status": "inProgress",
			"changes": []any{map[string]any{"path": path, "kind": map[string]any{"type": "add"}, "diff": "x\n"}}}}})
	return string(b)
}

const dupApproval = `{"id":41,"method":"item/fileChange/requestApproval","params":{"threadId":"th1","turnId":"tu1","itemId":"call_dup","startedAtMs":1}}`

// spyHandler records each approval it is asked, after waiting for wait
// (if not nil), and answers with its Handler.
type spyHandler struct {
	host.Handler
	wait <-chan struct{}
	seen chan *host.ApprovalRequest
}

func (s *spyHandler) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	if s.wait != nil {
		<-s.wait
	}
	s.seen <- req
	return s.Handler.Approval(ctx, req)
}

// seeEvent closes seen on the first event that match reports.
type seeEvent struct {
	match func(*host.Event) bool
	once  sync.Once
	seen  chan struct{}
}

func (o *seeEvent) ObserveEvent(ev *host.Event) {
	if o.match(ev) {
		o.once.Do(func() { close(o.seen) })
	}
}

func exampleRules(t *testing.T) plugins.Plugin {
	data, err := os.ReadFile(filepath.Join("..", "plugins", "rules", "testdata", "example.toml"))
	require.NoError(t, err)
	pol, err := rules.Parse("example.toml", data)
	require.NoError(t, err)
	return rules.NewPlugin(pol)
}

// TestFileChangeApprovalSeesItsThreadsItem: a file change's item id is
// the model's call id, which two threads of one client can share. The
// approval in th1 is judged on th1's patch, not on th2's item of the same
// id (the cache was keyed by item id alone: the example rules saw th2's
// edit under src/ and accepted th1's /etc/cron.d/evil).
func TestFileChangeApprovalSeesItsThreadsItem(t *testing.T) {
	t.Parallel()
	recs := make(chan *chain.DecisionRecord, 1)
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{exampleRules(t)},
		OnDecision: func(r *chain.DecisionRecord) { recs <- r }})
	require.NoError(t, err)
	defer ch.Close()
	h := &spyHandler{Handler: ch, seen: make(chan *host.ApprovalRequest, 1)}
	c := startLines(t, &host.Options{Handler: h}, oddTurnStarted,
		fileChangeStarted("th1", "call_dup", "/etc/cron.d/evil"),
		fileChangeStarted("th2", "call_dup", "/tmp/src/ok.go"),
		dupApproval)
	go func() {
		for range c.Events(t.Context(), "go", nil) {
		}
	}()
	req := <-h.seen
	require.Len(t, req.Changes, 1)
	assert.Equal(t, "/etc/cron.d/evil", req.Changes[0].Path)
	assert.JSONEq(t, `{"decision":"decline"}`, string((<-recs).Answer))
}

// TestFileChangeApprovalSeesChangesAsOfArrival: the changes an approval
// shows are those the events before it told, taken as it arrives; what
// comes after it (here the same item started again with other changes)
// does not reach its handler, which runs later on its own goroutine.
func TestFileChangeApprovalSeesChangesAsOfArrival(t *testing.T) {
	t.Parallel()
	later := &seeEvent{seen: make(chan struct{}), match: func(ev *host.Event) bool {
		return ev.Item != nil && len(ev.Item.Changes) == 1 && ev.Item.Changes[0].Path == "/tmp/src/ok.go"
	}}
	h := &spyHandler{Handler: host.SafeHandler{}, wait: later.seen, seen: make(chan *host.ApprovalRequest, 1)}
	c := startLines(t, &host.Options{Handler: h, Observers: []host.EventObserver{later}}, oddTurnStarted,
		fileChangeStarted("th1", "call_dup", "/etc/cron.d/evil"),
		dupApproval,
		fileChangeStarted("th1", "call_dup", "/tmp/src/ok.go"))
	go func() {
		for range c.Events(t.Context(), "go", nil) {
		}
	}()
	req := <-h.seen // asked once the later item/started has been delivered
	require.Len(t, req.Changes, 1)
	assert.Equal(t, "/etc/cron.d/evil", req.Changes[0].Path)
}

// TestFileChangeApprovalOfUnknownItemIsDeclined: an approval of a file
// change no item/started told is declined whatever the handler answers: a
// policy shown no changes could accept them all ("every change is under
// src/" holds of none). The handler is told (Unreadable), so that it can
// record the decline, and its accept changes nothing.
func TestFileChangeApprovalOfUnknownItemIsDeclined(t *testing.T) {
	t.Parallel()
	asked := make(chan *host.ApprovalRequest, 1)
	h := &spyHandler{Handler: acceptAll{}, seen: asked}
	tap := &answerTap{answers: make(chan string, 1)}
	c := startLines(t, &host.Options{Handler: h, Transcript: transcript.NewWriter(tap, transcript.Header{})}, oddTurnStarted,
		fileChangeStarted("th2", "call_dup", "/tmp/src/ok.go"), // another thread's
		dupApproval)
	go func() {
		for range c.Events(t.Context(), "go", nil) {
		}
	}()
	assert.JSONEq(t, `{"decision":"decline"}`, <-tap.answers)
	require.Len(t, asked, 1, "the handler is told of the request it cannot judge")
	req := <-asked
	require.Error(t, req.Unreadable)
	assert.Contains(t, req.Unreadable.Error(), "no item/started told its changes")
	assert.Equal(t, abi.ApprovalFileChange, req.Kind)
	assert.Equal(t, "call_dup", req.ItemID)
	assert.Equal(t, "th1", req.ThreadID)
	assert.Empty(t, req.Changes, "not th2's changes")
}

type acceptAll struct{ host.SafeHandler }

func (acceptAll) Approval(context.Context, *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	return &abi.ApprovalResponse{Decision: abi.Accept}, nil
}

// answerTap, under a transcript.Writer, passes on the result the client
// sends for request 41.
type answerTap struct {
	mu      sync.Mutex
	buf     []byte
	answers chan string
}

func (a *answerTap) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.buf = append(a.buf, p...)
	for {
		i := strings.IndexByte(string(a.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := a.buf[:i]
		a.buf = a.buf[i+1:]
		var rec struct {
			Dir string `json:"dir"`
			Msg struct {
				ID     json.RawMessage `json:"id"`
				Result json.RawMessage `json:"result"`
			} `json:"msg"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Dir == "out" && rec.Msg.Result != nil && string(rec.Msg.ID) == "41" {
			a.answers <- string(rec.Msg.Result)
		}
	}
}

// TestRealFileChangesOfTwoThreadsWithOneCallID: on the real codex, two
// threads of one client whose model gives both patches the same call id.
// Each approval is judged on its own thread's patch, whatever the order in
// which the threads' events arrive around it: thread A's (evil.txt, no
// rule accepts it) is declined and not written, thread B's (under src/)
// is accepted and written.
func TestRealFileChangesOfTwoThreadsWithOneCallID(t *testing.T) {
	script := hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		switch {
		case r.IsToolFollowUp():
			return hosttest.Text("done")
		case strings.Contains(r.LastUserText(), "evil"):
			return hosttest.ApplyPatch(hosttest.AddFilePatch("evil.txt", "x\n")).WithCallID("call_dup")
		default:
			return hosttest.ApplyPatch(hosttest.AddFilePatch("src/ok.go", "x\n")).WithCallID("call_dup")
		}
	})
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{exampleRules(t)}})
	require.NoError(t, err)
	defer ch.Close()
	var threadB string
	var bMu sync.Mutex
	bStarted := &seeEvent{seen: make(chan struct{}), match: func(ev *host.Event) bool {
		bMu.Lock()
		defer bMu.Unlock()
		return ev.Kind == abi.EventItemStarted && ev.ThreadID == threadB && ev.Item != nil && ev.Item.Type == host.ItemFileChange
	}}
	var mu sync.Mutex
	shown := map[string][]abi.FileChange{}
	h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
		mu.Lock()
		shown[req.ThreadID] = req.Changes
		mu.Unlock()
		bMu.Lock()
		isA := req.ThreadID != threadB
		bMu.Unlock()
		if isA {
			<-bStarted.seen // A is judged once B's item of the same id has arrived
		}
		return ch.Approval(ctx, req)
	}}
	e := startReal(t, script, &host.Options{Handler: h, Observers: []host.EventObserver{bStarted}}, nil)
	require.NoError(t, os.Mkdir(filepath.Join(e.work, "src"), 0o755)) // codex's patch makes no directory here
	ctx := ctxFor(t, 90*time.Second)
	a, err := e.client.StartThread(ctx, &host.ThreadOptions{Cwd: e.work})
	require.NoError(t, err)
	b, err := e.client.StartThread(ctx, &host.ThreadOptions{Cwd: e.work})
	require.NoError(t, err)
	bMu.Lock()
	threadB = b.ID
	bMu.Unlock()
	ta, err := e.client.StartTurn(ctx, a.ID, []host.Input{host.TextInput("evil")}, nil)
	require.NoError(t, err)
	tb, err := e.client.StartTurn(ctx, b.ID, []host.Input{host.TextInput("decoy")}, nil)
	require.NoError(t, err)
	_, err = ta.Wait(ctx)
	require.NoError(t, err)
	_, err = tb.Wait(ctx)
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, shown[a.ID], 1)
	assert.Contains(t, shown[a.ID][0].Path, "evil.txt")
	require.Len(t, shown[b.ID], 1)
	assert.Contains(t, shown[b.ID][0].Path, filepath.Join("src", "ok.go"))
	assert.NoFileExists(t, filepath.Join(e.work, "evil.txt"), "codex applied thread A's patch, which no rule accepts")
	assert.FileExists(t, filepath.Join(e.work, "src", "ok.go"))
}
