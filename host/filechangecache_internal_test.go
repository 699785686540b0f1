package host

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/abi"
)

// An item id is the model's call id: the agent can give two calls the
// same one. Two file-change items with that id in flight at once (two
// exec_command calls that each run apply_patch, in parallel) made the
// approval of the first be shown the changes of the second: the policy
// accepted src/ok.txt, and codex wrote secrets/bad.txt. Such an id is
// ambiguous until every item of it has completed: its approvals are
// shown no changes, and declined.
func TestFileChangeCacheSameIDInFlightIsAmbiguous(t *testing.T) {
	ev := func(kind abi.EventKind, path string) *Event {
		return &Event{Kind: kind, ThreadID: "th", Item: &Item{ID: "same", Type: ItemFileChange,
			Changes: []abi.FileChange{{Path: path, Kind: "add", Diff: "x\n"}}}}
	}
	var c fileChangeCache
	c.observe(ev(abi.EventItemStarted, "/w/secrets/bad.txt"))
	got, ok := c.get("th", "same")
	assert.True(t, ok)
	assert.Equal(t, "/w/secrets/bad.txt", got[0].Path)

	c.observe(ev(abi.EventItemStarted, "/w/src/ok.txt"))
	_, ok = c.get("th", "same")
	assert.False(t, ok, "two items with one id in flight: which changes an approval is about is not known")

	c.observe(ev(abi.EventItemCompleted, "/w/secrets/bad.txt"))
	_, ok = c.get("th", "same")
	assert.False(t, ok, "one of them is still in flight")
	c.observe(ev(abi.EventItemStarted, "/w/src/other.txt"))
	_, ok = c.get("th", "same")
	assert.False(t, ok, "still ambiguous")

	c.observe(ev(abi.EventItemCompleted, "/w/src/ok.txt"))
	c.observe(ev(abi.EventItemCompleted, "/w/src/other.txt"))
	_, ok = c.get("th", "same")
	assert.False(t, ok, "all completed: forgotten")

	// One after the other (the id reused once the first completed) is
	// not ambiguous, nor is the same item told twice.
	c.observe(ev(abi.EventItemStarted, "/w/src/a.txt"))
	c.observe(ev(abi.EventItemStarted, "/w/src/a.txt"))
	got, ok = c.get("th", "same")
	assert.True(t, ok)
	assert.Equal(t, "/w/src/a.txt", got[0].Path)
}
