package host_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/transcript"
)

// spawnCompleted is the item/completed of a spawn_agent call in thread
// th that started the sub-agent thread sub.
func spawnCompleted(th, sub string) string {
	b, _ := json.Marshal(map[string]any{"method": "item/completed", "params": map[string]any{
		"threadId": th, "turnId": "tu-" + th, "completedAtMs": 1,
		"item": map[string]any{"type": "collabAgentToolCall", "id": "spawn", "tool": "spawnAgent", "status": "completed",
			"senderThreadId": th, "receiverThreadIds": []string{sub}}}})
	return string(b)
}

// subApproval is a file-change approval of item call_sub in thread sub.
const subApproval = `{"id":41,"method":"item/fileChange/requestApproval","params":{"threadId":"sub","turnId":"tu-sub","itemId":"call_sub","startedAtMs":1}}`

// A sub-agent's thread is started by codex, not the client: the
// client learns its cwd (its parent's) from the spawn item, and shows it
// with the sub-agent's file-change approvals, against which a policy
// reads relative paths.
func TestSubAgentFileChangeApprovalHasItsParentsCwd(t *testing.T) {
	t.Parallel()
	h := &spyHandler{Handler: host.SafeHandler{}, seen: make(chan *host.ApprovalRequest, 1)}
	c := startLines(t, &host.Options{Handler: h}, oddTurnStarted,
		spawnCompleted("th1", "sub"),
		fileChangeStarted("sub", "call_sub", "/tmp/.github/workflows/ci.yml"),
		subApproval)
	go func() {
		for range c.Events(t.Context(), "go", nil) {
		}
	}()
	req := <-h.seen
	require.NoError(t, req.Unreadable)
	assert.Equal(t, "/tmp", req.Cwd, "the cwd of th1, the thread that spawned it")
	require.Len(t, req.Changes, 1)
}

// A file-change approval of a thread whose cwd the client does not know
// (a sub-agent whose spawn it did not see) is declined, whatever the
// handler answers: a policy shown no cwd does not match a rule on a path
// relative to the workspace.
func TestFileChangeApprovalOfThreadWithUnknownCwdIsDeclined(t *testing.T) {
	t.Parallel()
	asked := make(chan *host.ApprovalRequest, 1)
	h := &spyHandler{Handler: acceptAll{}, seen: asked}
	tap := &answerTap{answers: make(chan string, 1)}
	c := startLines(t, &host.Options{Handler: h, Transcript: transcript.NewWriter(tap, transcript.Header{})}, oddTurnStarted,
		fileChangeStarted("sub", "call_sub", "/tmp/.github/workflows/ci.yml"),
		subApproval)
	go func() {
		for range c.Events(t.Context(), "go", nil) {
		}
	}()
	assert.JSONEq(t, `{"decision":"decline"}`, <-tap.answers)
	req := <-asked
	require.Error(t, req.Unreadable)
	assert.Contains(t, req.Unreadable.Error(), "does not know the thread's cwd")
	assert.Equal(t, abi.ApprovalFileChange, req.Kind)
}
