package host

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/abi"
)

func TestRenderEventsMergesRunsOfDeltas(t *testing.T) {
	delta := func(seq uint64, item, text string) *Event {
		return &Event{Kind: EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: seq,
			ThreadID: "th", TurnID: "tu", ItemID: item, Delta: text}
	}
	batch := []*Event{
		{Kind: EventItemStarted, Seq: 1, ThreadID: "th", TurnID: "tu", ItemID: "a", Item: &Item{ID: "a", Type: ItemAgentMessage}},
		delta(2, "a", "Hel"), delta(3, "a", "lo"), delta(4, "a", ", "),
		delta(5, "b", "other item"),
		{Kind: EventReasoningDelta, Method: "item/reasoning/textDelta", Seq: 6, ThreadID: "th", TurnID: "tu", ItemID: "b", Delta: "kind"},
		delta(7, "a", "wor"), delta(8, "a", "ld"),
		{Kind: EventTurnCompleted, Seq: 9, ThreadID: "th", Turn: &TurnStatus{ID: "tu", State: TurnCompleted}},
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
	}, summarize(renderEvents(nil, batch, true)))
	assert.Len(t, renderEvents(nil, batch, false), len(batch), "without the feature every event goes as is")
	one := renderEvents(nil, batch[1:2], true)
	assert.Equal(t, []got{{abi.EventAgentMessageDelta, 2, "a", "Hel"}}, summarize(one))
}
