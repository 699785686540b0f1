package render

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// ExecJSON renders a turn as `codex exec --json` prints it: one JSON object
// per line, with the event types and item shapes of codex's exec JSONL
// schema (codex-rs/exec/src/exec_events.rs; checked event for event
// against the pinned codex 0.169.0 on the same turn, see
// TestExecJSONMatchesCodexExec):
//
//	{"type":"thread.started","thread_id":"…"}
//	{"type":"turn.started"}
//	{"type":"item.started","item":{"id":"item_0","type":"command_execution",…}}
//	{"type":"item.completed","item":{"id":"item_0",…}}
//	{"type":"turn.completed","usage":{"input_tokens":…}}
//
// Items get codex exec's own ids (item_0, item_1, … in the order they are
// first seen); agent messages and reasoning appear only when completed, as
// in codex exec. A failed turn is turn.failed with the error, and a
// stream error is an "error" event. Not rendered: the plan as a
// todo_list item (the ABI event carries no plan steps), web searches and
// collab tool calls.
//
// codexhost adds one event type of its own, written by [WriteExecDecision]:
// {"type":"codexhost.decision", …}. A `codex exec --json` consumer that
// switches on "type" ignores it.
//
// An ExecJSON keeps the state of one run (ids, usage, the plan), so one
// value must see every event of the run, in order; it is not safe for
// concurrent use.
type ExecJSON struct {
	started  bool              // thread.started written
	nextID   int               // the next item_N
	ids      map[string]string // codex item id → exec id, while started
	usage    *abi.TokenCounts  // the last total usage
	lastErr  string            // the last stream error, for a failed turn without one
	lastText string            // the last agent message, for -o/--output-last-message
}

var _ Renderer = (*ExecJSON)(nil)

// LastMessage is the text of the last agent message of the turn, as
// `codex exec --output-last-message` writes it.
func (r *ExecJSON) LastMessage() string { return r.lastText }

// Render implements [Renderer].
func (r *ExecJSON) Render(w io.Writer, ev *abi.Event) error {
	if r.ids == nil {
		r.ids = map[string]string{}
	}
	var out []any
	if !r.started && ev.ThreadID != "" {
		r.started = true
		out = append(out, execThreadStarted{Type: "thread.started", ThreadID: ev.ThreadID})
	}
	switch ev.Kind {
	case abi.EventTurnStarted:
		out = append(out, execType{Type: "turn.started"})
	case abi.EventItemStarted:
		if it := ev.Item; it != nil && it.Type != "agentMessage" && it.Type != "reasoning" && execItemType(it.Type) {
			out = append(out, execItemEvent{Type: "item.started", Item: r.item(it, r.startedID(it.ID))})
		}
	case abi.EventItemCompleted:
		if it := ev.Item; it != nil && execItemType(it.Type) {
			var id string
			if it.Type == "agentMessage" || it.Type == "reasoning" {
				if it.Type == "reasoning" && strings.TrimSpace(it.Text) == "" {
					break
				}
				id = r.newID()
			} else {
				id = r.completedID(it.ID)
			}
			if it.Type == "agentMessage" {
				r.lastText = it.Text
			}
			out = append(out, execItemEvent{Type: "item.completed", Item: r.item(it, id)})
		}
	case abi.EventTokenUsage:
		if ev.Usage != nil {
			u := ev.Usage.Total
			r.usage = &u
		}
	case abi.EventError:
		if ev.Error != nil && !ev.Error.WillRetry {
			// codex exec's message: the error category (Info) is not part
			// of it.
			msg := ev.Error.Message
			r.lastErr = msg
			out = append(out, execError{Type: "error", Message: msg})
		}
	case abi.EventTurnCompleted:
		state := ""
		if ev.Turn != nil {
			state = ev.Turn.State
		}
		switch state {
		case "failed":
			msg := ""
			if ev.Error != nil {
				msg = ev.Error.Message
			}
			if msg == "" {
				msg = r.lastErr
			}
			if msg == "" {
				msg = "turn failed"
			}
			out = append(out, execTurnFailed{Type: "turn.failed", Error: execErrorBody{Message: msg}})
		case "interrupted":
			// codex exec prints nothing for an interrupted turn.
		default:
			out = append(out, execTurnCompleted{Type: "turn.completed", Usage: r.usageOut()})
		}
	}
	return writeLines(w, out)
}

// WriteExecDecision writes a codexhost.decision event line: what the
// policy answered to one of codex's requests. Fields a decision lacks are
// omitted. It is safe for concurrent use if w is.
func WriteExecDecision(w io.Writer, d *ExecDecision) error {
	d.Type = "codexhost.decision"
	return writeLines(w, []any{d})
}

// An ExecDecision is the body of a codexhost.decision event.
type ExecDecision struct {
	Type     string `json:"type"`
	Hook     string `json:"hook"`
	Kind     string `json:"kind,omitempty"`
	ThreadID string `json:"thread_id,omitempty"`
	TurnID   string `json:"turn_id,omitempty"`
	// ItemID is codex's own item id (not exec's item_N): decisions can
	// come before codex announces the item.
	ItemID   string `json:"codex_item_id,omitempty"`
	Summary  string `json:"summary,omitempty"`
	Decision string `json:"decision,omitempty"`
	Plugin   string `json:"plugin,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Why      string `json:"why,omitempty"`
}

func writeLines(w io.Writer, events []any) error {
	if len(events) == 0 {
		return nil
	}
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		// termsafe.AppendJSON: the same value, but no C1 control
		// (encoding/json leaves them raw) nor a character that reorders
		// or hides text reaches a terminal that shows the stream.
		buf = append(termsafe.AppendJSON(buf, b), '\n')
	}
	_, err := w.Write(buf)
	return err
}

func (r *ExecJSON) newID() string {
	id := "item_" + strconv.Itoa(r.nextID)
	r.nextID++
	return id
}

func (r *ExecJSON) startedID(raw string) string {
	if id, ok := r.ids[raw]; ok {
		return id
	}
	id := r.newID()
	r.ids[raw] = id
	return id
}

func (r *ExecJSON) completedID(raw string) string {
	if id, ok := r.ids[raw]; ok {
		delete(r.ids, raw)
		return id
	}
	return r.newID()
}

func (r *ExecJSON) usageOut() execUsage {
	if r.usage == nil {
		return execUsage{}
	}
	return execUsage{Input: r.usage.Input, CachedInput: r.usage.CachedInput, CacheWriteInput: r.usage.CacheWriteInput,
		Output: r.usage.Output, ReasoningOutput: r.usage.ReasoningOutput}
}

// execItemType reports whether codex exec prints items of codex's type t;
// only those take an item_N id.
func execItemType(t string) bool {
	switch t {
	case "agentMessage", "reasoning", "commandExecution", "fileChange", "mcpToolCall":
		return true
	}
	return false
}

// item maps a codex item of an [execItemType] to its exec shape.
func (r *ExecJSON) item(it *abi.Item, id string) any {
	switch it.Type {
	case "agentMessage":
		return execAgentMessage{ID: id, Type: "agent_message", Text: it.Text}
	case "reasoning":
		return execAgentMessage{ID: id, Type: "reasoning", Text: it.Text}
	case "commandExecution":
		return execCommand{ID: id, Type: "command_execution", Command: it.Command, Output: it.Output,
			ExitCode: it.ExitCode, Status: execStatus(it.Status, true)}
	case "fileChange":
		changes := make([]execFileChange, 0, len(it.Changes))
		for _, c := range it.Changes {
			changes = append(changes, execFileChange{Path: c.Path, Kind: c.Kind})
		}
		return execFileChangeItem{ID: id, Type: "file_change", Changes: changes, Status: execStatus(it.Status, false)}
	case "mcpToolCall":
		args := json.RawMessage(it.Arguments)
		if len(args) == 0 {
			args = json.RawMessage("null")
		}
		return execMCPCall{ID: id, Type: "mcp_tool_call", Server: it.Server, Tool: it.Tool, Arguments: args,
			Status: execStatus(it.Status, false)}
	}
	panic("render: no exec item for " + it.Type) // unreachable: execItemType
}

// execStatus maps codex's camelCase item status to exec's snake_case;
// declined stays declined for commands and is failed for other items.
func execStatus(s string, declined bool) string {
	switch s {
	case "inProgress", "":
		return "in_progress"
	case "declined":
		if declined {
			return "declined"
		}
		return "failed"
	}
	return s
}

type execType struct {
	Type string `json:"type"`
}

type execThreadStarted struct {
	Type     string `json:"type"`
	ThreadID string `json:"thread_id"`
}

type execItemEvent struct {
	Type string `json:"type"`
	Item any    `json:"item"`
}

type execError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

type execErrorBody struct {
	Message string `json:"message"`
}

type execTurnFailed struct {
	Type  string        `json:"type"`
	Error execErrorBody `json:"error"`
}

type execUsage struct {
	Input           int `json:"input_tokens"`
	CachedInput     int `json:"cached_input_tokens"`
	CacheWriteInput int `json:"cache_write_input_tokens"`
	Output          int `json:"output_tokens"`
	ReasoningOutput int `json:"reasoning_output_tokens"`
}

type execTurnCompleted struct {
	Type  string    `json:"type"`
	Usage execUsage `json:"usage"`
}

type execAgentMessage struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Text string `json:"text"`
}

type execCommand struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Command  string `json:"command"`
	Output   string `json:"aggregated_output"`
	ExitCode *int   `json:"exit_code"`
	Status   string `json:"status"`
}

type execFileChange struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

type execFileChangeItem struct {
	ID      string           `json:"id"`
	Type    string           `json:"type"`
	Changes []execFileChange `json:"changes"`
	Status  string           `json:"status"`
}

type execMCPCall struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Server    string          `json:"server"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Status    string          `json:"status"`
}
