package abi

// An EventKind classifies a turn Event. The names match host.EventKind's.
type EventKind string

const (
	EventOther                 EventKind = "other"
	EventTurnStarted           EventKind = "turnStarted"
	EventTurnCompleted         EventKind = "turnCompleted"
	EventItemStarted           EventKind = "itemStarted"
	EventItemCompleted         EventKind = "itemCompleted"
	EventAgentMessageDelta     EventKind = "agentMessageDelta"
	EventReasoningSummaryDelta EventKind = "reasoningSummaryDelta"
	EventReasoningDelta        EventKind = "reasoningDelta"
	EventCommandOutputDelta    EventKind = "commandOutputDelta"
	EventFileChangeDelta       EventKind = "fileChangeDelta"
	EventPlanUpdated           EventKind = "planUpdated"
	EventDiffUpdated           EventKind = "diffUpdated"
	EventTokenUsage            EventKind = "tokenUsage"
	EventError                 EventKind = "error"
	EventRequestResolved       EventKind = "requestResolved"
	EventThreadStatus          EventKind = "threadStatus"
)

// An Event is one normalized turn event.
type Event struct {
	Kind EventKind `json:"kind"`
	// Method is the app-server notification it came from.
	Method string `json:"method"`
	// Seq numbers the events of one host connection, in order, from 1.
	Seq uint64 `json:"seq"`

	ThreadID string `json:"threadId,omitempty"`
	TurnID   string `json:"turnId,omitempty"`
	ItemID   string `json:"itemId,omitempty"`

	Delta string       `json:"delta,omitempty"`
	Item  *Item        `json:"item,omitempty"`
	Turn  *TurnStatus  `json:"turn,omitempty"`
	Usage *TokenUsage  `json:"usage,omitempty"`
	Error *TurnFailure `json:"error,omitempty"`
}

// An Item is a thread item (message, command, file change, tool call, ...).
type Item struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Status string `json:"status,omitempty"`
	Text   string `json:"text,omitempty"`

	Command  string `json:"command,omitempty"`
	Cwd      string `json:"cwd,omitempty"`
	ExitCode *int   `json:"exitCode,omitempty"`
	// DurationMs is how long a command ran, when codex measured it.
	DurationMs int    `json:"durationMs,omitempty"`
	Output     string `json:"output,omitempty"`

	Changes []FileChange `json:"changes,omitempty"`

	Server    string  `json:"server,omitempty"`
	Tool      string  `json:"tool,omitempty"`
	Arguments RawJSON `json:"arguments,omitempty"`
	Success   *bool   `json:"success,omitempty"`
}

// TurnStatus is a turn's state at turn/started or turn/completed.
type TurnStatus struct {
	ID string `json:"id"`
	// State is "inProgress", "completed", "interrupted" or "failed".
	State      string `json:"state"`
	DurationMs int    `json:"durationMs,omitempty"`
}

// TokenUsage counts tokens.
type TokenUsage struct {
	Last          TokenCounts `json:"last"`
	Total         TokenCounts `json:"total"`
	ContextWindow int         `json:"contextWindow,omitempty"`
}

// TokenCounts is one token-usage breakdown.
type TokenCounts struct {
	Input       int `json:"input"`
	CachedInput int `json:"cachedInput,omitempty"`
	// CacheWriteInput counts input tokens written to the prompt cache.
	CacheWriteInput int `json:"cacheWriteInput,omitempty"`
	Output          int `json:"output"`
	ReasoningOutput int `json:"reasoningOutput,omitempty"`
	Total           int `json:"total"`
}

// A TurnFailure describes an error codex reported.
type TurnFailure struct {
	Message   string `json:"message"`
	Info      string `json:"info,omitempty"`
	WillRetry bool   `json:"willRetry,omitempty"`
}
