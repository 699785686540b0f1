package chain

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

func TestRenderEventsMergesRunsOfDeltas(t *testing.T) {
	delta := func(seq uint64, item, text string) *host.Event {
		return &host.Event{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: seq,
			ThreadID: "th", TurnID: "tu", ItemID: item, Delta: text}
	}
	batch := []*host.Event{
		{Kind: abi.EventItemStarted, Seq: 1, ThreadID: "th", TurnID: "tu", ItemID: "a", Item: &host.Item{ID: "a", Type: host.ItemAgentMessage}},
		delta(2, "a", "Hel"), delta(3, "a", "lo"), delta(4, "a", ", "),
		delta(5, "b", "other item"),
		{Kind: abi.EventReasoningDelta, Method: "item/reasoning/textDelta", Seq: 6, ThreadID: "th", TurnID: "tu", ItemID: "b", Delta: "kind"},
		delta(7, "a", "wor"), delta(8, "a", "ld"),
		{Kind: abi.EventTurnCompleted, Seq: 9, ThreadID: "th", Turn: &abi.TurnStatus{ID: "tu", State: "completed"}},
	}
	type got struct {
		kind  abi.EventKind
		seq   uint64
		item  string
		delta string
	}
	summarize := func(evs []abi.Event) (out []got) {
		for _, e := range evs {
			out = append(out, got{e.Kind, e.Seq, e.ItemID, e.Delta})
		}
		return out
	}
	assert.Equal(t, []got{
		{abi.EventItemStarted, 1, "a", ""},
		{abi.EventAgentMessageDelta, 4, "a", "Hello, "},
		{abi.EventAgentMessageDelta, 5, "b", "other item"},
		{abi.EventReasoningDelta, 6, "b", "kind"},
		{abi.EventAgentMessageDelta, 8, "a", "world"},
		{abi.EventTurnCompleted, 9, "", ""},
	}, summarize(abiEvents(batch, true)))
	assert.Len(t, abiEvents(batch, false), len(batch), "without the feature every event goes as is")
	one := abiEvents(batch[1:2], true)
	assert.Equal(t, []got{{abi.EventAgentMessageDelta, 2, "a", "Hel"}}, summarize(one))
}
