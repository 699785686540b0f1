package chain_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// A request's summary is built in time linear in the request: the agent
// chooses how many files a patch changes and how many questions it asks,
// and the summary is built before any plugin is asked, outside every
// deadline. Appending to a string per change made it quadratic: 10000
// changes took 3.5 s, 40000 took 36 s, 160000 six minutes. The bound
// only catches the quadratic build, with room for a loaded machine.
func TestSummaryIsLinear(t *testing.T) {
	const n = 80000
	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Decline)},
		OnDecision: func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)

	changes := make([]abi.FileChange, n)
	for i := range changes {
		changes[i] = abi.FileChange{Kind: "add", Path: fmt.Sprintf("/w/dir/file%06d.txt", i)}
	}
	changes[1].MovePath = "/w/moved.txt"
	req := &host.ApprovalRequest{Method: "item/fileChange/requestApproval", ApprovalRequest: &abi.ApprovalRequest{
		Kind: abi.ApprovalFileChange, ThreadID: "th", TurnID: "tu", ItemID: "it", Changes: changes, GrantRoot: "/w"}}
	within(t, 20*time.Second, func() { _, err = ch.Approval(t.Context(), req) })
	require.NoError(t, err)
	require.NotNil(t, rec)
	assert.True(t, strings.HasPrefix(rec.Summary, "add:/w/dir/file000000.txt add:/w/dir/file000001.txt -> /w/moved.txt add:/w/dir/file000002.txt "), rec.Summary[:120])
	assert.True(t, strings.HasSuffix(rec.Summary, " add:/w/dir/file079999.txt grantRoot:/w"))

	qs := make([]abi.Question, n)
	for i := range qs {
		qs[i] = abi.Question{ID: fmt.Sprint("q", i), Question: fmt.Sprintf("question %d?", i)}
	}
	in := &host.UserInputRequest{Method: "item/tool/requestUserInput", ToolInputRequest: &abi.ToolInputRequest{ThreadID: "th", TurnID: "tu", ItemID: "it", Questions: qs}}
	within(t, 20*time.Second, func() { _, err = ch.UserInput(t.Context(), in) })
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(rec.Summary, "question 0? question 1? "), rec.Summary[:40])
	assert.True(t, strings.HasSuffix(rec.Summary, "question 79999? "))
}

// within runs f and fails the test if it does not return within d (f
// must not call t's Fatal methods: it runs on a goroutine of its own).
func within(t *testing.T, d time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("did not return within %v", d)
	}
}
