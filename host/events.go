package host

import (
	"encoding/json"
	"fmt"

	"github.com/codexhost/codexhost/abi"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

var kindByMethod = map[protocol.NotificationMethod]abi.EventKind{
	protocol.NotifTurnStarted:                     abi.EventTurnStarted,
	protocol.NotifTurnCompleted:                   abi.EventTurnCompleted,
	protocol.NotifItemStarted:                     abi.EventItemStarted,
	protocol.NotifItemCompleted:                   abi.EventItemCompleted,
	protocol.NotifItemAgentMessageDelta:           abi.EventAgentMessageDelta,
	protocol.NotifItemReasoningSummaryTextDelta:   abi.EventReasoningSummaryDelta,
	protocol.NotifItemReasoningTextDelta:          abi.EventReasoningDelta,
	protocol.NotifItemCommandExecutionOutputDelta: abi.EventCommandOutputDelta,
	protocol.NotifItemFileChangeOutputDelta:       abi.EventFileChangeDelta,
	protocol.NotifTurnPlanUpdated:                 abi.EventPlanUpdated,
	protocol.NotifTurnDiffUpdated:                 abi.EventDiffUpdated,
	protocol.NotifThreadTokenUsageUpdated:         abi.EventTokenUsage,
	protocol.NotifError:                           abi.EventError,
	protocol.NotifServerRequestResolved:           abi.EventRequestResolved,
	protocol.NotifThreadStatusChanged:             abi.EventThreadStatus,
}

// An Event is one notification of a turn, normalized.
//
// Every event carries its Method and raw Params; the typed fields are filled
// for the kinds that have them. Events are values owned by the receiver:
// the host does not touch an Event after delivering it.
type Event struct {
	Kind   abi.EventKind
	Method string // the app-server notification method
	// Seq numbers the events of one Client in arrival order, from 1.
	Seq uint64

	ThreadID, TurnID, ItemID string

	// Delta is the text of a delta event.
	Delta string
	// Item is set for abi.EventItemStarted and abi.EventItemCompleted.
	Item *Item
	// Turn is set for abi.EventTurnStarted and abi.EventTurnCompleted.
	Turn *abi.TurnStatus
	// Usage is set for abi.EventTokenUsage.
	Usage *abi.TokenUsage
	// Error is set for abi.EventError and for a failed abi.EventTurnCompleted.
	Error *TurnError
	// WillRetry is set on abi.EventError when codex will retry by itself.
	WillRetry bool

	// Params are the notification's params exactly as app-server sent them.
	Params json.RawMessage
}

// envelope decodes, in one pass, the fields codexhost needs from any
// notification. Nested objects stay raw until a kind needs them.
type envelope struct {
	ThreadID   string          `json:"threadId"`
	TurnID     string          `json:"turnId"`
	ItemID     string          `json:"itemId"`
	Delta      string          `json:"delta"`
	Item       json.RawMessage `json:"item"`
	Turn       json.RawMessage `json:"turn"`
	TokenUsage json.RawMessage `json:"tokenUsage"`
	Error      json.RawMessage `json:"error"`
	WillRetry  bool            `json:"willRetry"`
	// thread/started carries the thread object.
	Thread *struct {
		ID string `json:"id"`
	} `json:"thread"`
}

// decodeEvent normalizes one notification.
func decodeEvent(method string, params json.RawMessage) (*Event, error) {
	ev := &Event{Method: method, Params: params, Kind: kindByMethod[protocol.NotificationMethod(method)]}
	if len(params) == 0 {
		return ev, nil
	}
	var env envelope
	if err := json.Unmarshal(params, &env); err != nil {
		return ev, fmt.Errorf("host: decode %s params: %w", method, err)
	}
	ev.ThreadID, ev.TurnID, ev.ItemID, ev.Delta, ev.WillRetry = env.ThreadID, env.TurnID, env.ItemID, env.Delta, env.WillRetry
	if ev.ThreadID == "" && env.Thread != nil {
		ev.ThreadID = env.Thread.ID
	}
	switch ev.Kind {
	case abi.EventItemStarted, abi.EventItemCompleted:
		var it protocol.ThreadItem
		if err := json.Unmarshal(env.Item, &it); err != nil {
			return ev, fmt.Errorf("host: decode %s item: %w", method, err)
		}
		ev.Item = itemFromWire(&it, env.Item)
		ev.ItemID = ev.Item.ID
	case abi.EventTurnStarted, abi.EventTurnCompleted:
		var t protocol.Turn
		if err := json.Unmarshal(env.Turn, &t); err != nil {
			return ev, fmt.Errorf("host: decode %s turn: %w", method, err)
		}
		ev.Turn = turnStatusFromWire(&t)
		ev.TurnID = t.ID
		if t.Error != nil {
			ev.Error = turnErrorFromWire(t.Error, ev.ThreadID, t.ID)
		}
	case abi.EventTokenUsage:
		var u protocol.ThreadTokenUsage
		if err := json.Unmarshal(env.TokenUsage, &u); err != nil {
			return ev, fmt.Errorf("host: decode %s: %w", method, err)
		}
		ev.Usage = usageFromWire(&u)
	case abi.EventError:
		var te protocol.TurnError
		if err := json.Unmarshal(env.Error, &te); err != nil {
			return ev, fmt.Errorf("host: decode %s: %w", method, err)
		}
		ev.Error = turnErrorFromWire(&te, ev.ThreadID, ev.TurnID)
	}
	return ev, nil
}

// TurnState is the status of a turn.
type TurnState string

const (
	TurnCompleted   TurnState = "completed"
	TurnInterrupted TurnState = "interrupted"
	TurnFailed      TurnState = "failed"
	TurnInProgress  TurnState = "inProgress"
)

func turnStatusFromWire(t *protocol.Turn) *abi.TurnStatus {
	ts := &abi.TurnStatus{ID: t.ID, State: string(t.Status)}
	if t.DurationMs != nil {
		ts.DurationMs = *t.DurationMs
	}
	return ts
}

func turnErrorFromWire(e *protocol.TurnError, threadID, turnID string) *TurnError {
	te := &TurnError{ThreadID: threadID, TurnID: turnID, Message: e.Message}
	if e.CodexErrorInfo != nil {
		var s string
		if json.Unmarshal(*e.CodexErrorInfo, &s) == nil {
			te.Info = s
		} else {
			te.Info = string(*e.CodexErrorInfo)
		}
	}
	if e.AdditionalDetails != nil {
		te.Details = *e.AdditionalDetails
	}
	return te
}

func usageFromWire(u *protocol.ThreadTokenUsage) *abi.TokenUsage {
	conv := func(b protocol.TokenUsageBreakdown) abi.TokenCounts {
		return abi.TokenCounts{Input: b.InputTokens, CachedInput: b.CachedInputTokens, CacheWriteInput: b.CacheWriteInputTokens, Output: b.OutputTokens,
			ReasoningOutput: b.ReasoningOutputTokens, Total: b.TotalTokens}
	}
	tu := &abi.TokenUsage{Last: conv(u.Last), Total: conv(u.Total)}
	if u.ModelContextWindow != nil {
		tu.ContextWindow = *u.ModelContextWindow
	}
	return tu
}
