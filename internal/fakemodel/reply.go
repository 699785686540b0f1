package fakemodel

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Reply is the fake model's answer to one responses request: either a
// stream of server-sent events carrying output items (messages and tool
// calls), or a plain HTTP error. Replies are immutable values; the methods
// return modified copies. A Reply is also a [Script] that always answers
// with itself.
type Reply struct {
	status int // non-zero: HTTP error reply
	body   string
	items  []item
	delay  time.Duration
	end    endKind
	errMsg string
	errCod string
	hang   bool
	raw    []json.RawMessage
}

type endKind int

const (
	endCompleted endKind = iota
	endFailed
	endNone // stream ends without a terminal event
)

type itemKind int

const (
	kindMessage itemKind = iota
	kindFunctionCall
	kindCustomToolCall
	kindReasoning
)

type item struct {
	kind      itemKind
	pieces    []string // message deltas
	name      string
	arguments string // function_call
	input     string // custom_tool_call
	callID    string
	namespace string
}

// DefaultText is the text of the reply used when no Script is set, and by
// scripts that have run out of replies.
const DefaultText = "READY"

// Reasoning is a reasoning item whose summary is this text, streamed as
// one summary delta; codex shows it as a reasoning item
// (item/reasoning/summaryTextDelta, then item/completed). Follow it with
// And(Text(...)) for the answer.
func Reasoning(summary string) Reply {
	return Reply{items: []item{{kind: kindReasoning, pieces: []string{summary}}}}
}

// Text is an assistant message with this text, streamed as one delta.
func Text(text string) Reply {
	return Reply{items: []item{{kind: kindMessage, pieces: []string{text}}}}
}

// Deltas is an assistant message streamed as exactly these deltas, in order;
// its full text is their concatenation. app-server emits one
// item/agentMessage/delta notification per non-empty delta.
func Deltas(pieces ...string) Reply {
	return Reply{items: []item{{kind: kindMessage, pieces: append([]string(nil), pieces...)}}}
}

// TextDeltas is an assistant message streamed in n distinct deltas
// "d0 ", "d1 ", ..., "d<n-1> " (see [DeltaText]).
func TextDeltas(n int) Reply {
	pieces := make([]string, n)
	for i := range pieces {
		pieces[i] = fmt.Sprintf("d%d ", i)
	}
	return Deltas(pieces...)
}

// DeltaText is the full text of TextDeltas(n).
func DeltaText(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "d%d ", i)
	}
	return b.String()
}

// InDeltas splits the text of each message of r into n deltas of nearly
// equal length (never splitting a UTF-8 character). A text shorter than n
// characters is split into one delta per character, since empty deltas
// produce no notification.
func (r Reply) InDeltas(n int) Reply {
	r.items = append([]item(nil), r.items...)
	for i := range r.items {
		it := &r.items[i]
		if it.kind != kindMessage {
			continue
		}
		it.pieces = splitText(strings.Join(it.pieces, ""), n)
	}
	return r
}

func splitText(text string, n int) []string {
	runes := utf8.RuneCountInString(text)
	if n <= 1 || runes <= 1 {
		return []string{text}
	}
	if n > runes {
		n = runes
	}
	pieces := make([]string, 0, n)
	rest := text
	for i := 0; i < n; i++ {
		// Characters for this piece: spread the remainder over the first pieces.
		count := runes / n
		if i < runes%n {
			count++
		}
		end := 0
		for c := 0; c < count; c++ {
			_, size := utf8.DecodeRuneInString(rest[end:])
			end += size
		}
		pieces = append(pieces, rest[:end])
		rest = rest[end:]
	}
	return pieces
}

// WithDelay makes the stream pause for d before every event after the
// first one (response.created), which is sent at once. The stream stops as
// soon as the client disconnects or the server is closed. Use it for slow
// streams, e.g. TextDeltas(100).WithDelay(50*time.Millisecond) for
// interrupt tests.
func (r Reply) WithDelay(d time.Duration) Reply {
	r.delay = d
	return r
}

// And appends the output items of other (messages, tool calls) after those
// of r, in the same response. Stream options of other are ignored.
func (r Reply) And(other Reply) Reply {
	r.items = append(append([]item(nil), r.items...), other.items...)
	return r
}

// WithCallID sets the call_id of the last tool call of r (by default call
// ids are "call_<request seq>_<item index>").
func (r Reply) WithCallID(id string) Reply {
	r.items = append([]item(nil), r.items...)
	for i := len(r.items) - 1; i >= 0; i-- {
		if r.items[i].kind != kindMessage {
			r.items[i].callID = id
			break
		}
	}
	return r
}

// FunctionCall is a function_call output item calling tool name. args is
// marshalled to JSON, except that a string or json.RawMessage is used as the
// arguments text as is. This is how the model calls codex's function tools
// and the dynamic tools a client declared in thread/start.
func FunctionCall(name string, args any) Reply {
	return Reply{items: []item{{kind: kindFunctionCall, name: name, arguments: argsText(args)}}}
}

func argsText(args any) string {
	switch a := args.(type) {
	case nil:
		return "{}"
	case string:
		return a
	case json.RawMessage:
		return string(a)
	case []byte:
		return string(a)
	}
	b, err := json.Marshal(args)
	if err != nil {
		panic(fmt.Sprintf("hosttest: cannot marshal tool arguments: %v", err))
	}
	return string(b)
}

// InNamespace sets the namespace of the last function call of r (for tools
// declared inside a namespace).
func (r Reply) InNamespace(ns string) Reply {
	r.items = append([]item(nil), r.items...)
	for i := len(r.items) - 1; i >= 0; i-- {
		if r.items[i].kind == kindFunctionCall {
			r.items[i].namespace = ns
			break
		}
	}
	return r
}

// CustomToolCall is a custom_tool_call output item (a freeform tool such as
// apply_patch) with this raw input.
func CustomToolCall(name, input string) Reply {
	return Reply{items: []item{{kind: kindCustomToolCall, name: name, input: input}}}
}

// ExecArgs are the arguments of codex's exec_command tool.
type ExecArgs struct {
	Cmd string `json:"cmd"`
	// SandboxPermissions is "use_default" or "require_escalated".
	SandboxPermissions string   `json:"sandbox_permissions,omitempty"`
	Justification      string   `json:"justification,omitempty"`
	Workdir            string   `json:"workdir,omitempty"`
	YieldTimeMs        int      `json:"yield_time_ms,omitempty"`
	PrefixRule         []string `json:"prefix_rule,omitempty"`
}

// ExecCommandArgs is an exec_command call with these arguments.
func ExecCommandArgs(args ExecArgs) Reply { return FunctionCall("exec_command", args) }

// ExecCommand is an exec_command call of cmd asking to run outside the
// sandbox (sandbox_permissions "require_escalated"), so that with
// approval_policy "on-request" app-server asks the client with
// item/commandExecution/requestApproval before running it in the turn's cwd.
func ExecCommand(cmd string) Reply {
	return FunctionCall("exec_command", ExecArgs{
		Cmd:                cmd,
		SandboxPermissions: "require_escalated",
		Justification:      "run " + cmd,
	})
}

// ApplyPatch is a call of codex's freeform apply_patch tool (a
// custom_tool_call) with this patch text. Codex only offers the tool when the
// model's catalog entry has an apply_patch_tool_type, which WriteCodexHome
// sets up. In a read-only sandbox with approval_policy "on-request" app-server
// asks the client with item/fileChange/requestApproval before applying it.
func ApplyPatch(patch string) Reply { return CustomToolCall("apply_patch", patch) }

// AddFilePatch returns an apply_patch patch creating file path (relative to
// the turn's cwd) with this content.
func AddFilePatch(path, content string) string {
	var b strings.Builder
	b.WriteString("*** Begin Patch\n*** Add File: ")
	b.WriteString(path)
	b.WriteString("\n")
	for _, line := range strings.SplitAfter(content, "\n") {
		if line == "" {
			continue
		}
		b.WriteString("+")
		b.WriteString(strings.TrimSuffix(line, "\n"))
		b.WriteString("\n")
	}
	b.WriteString("*** End Patch\n")
	return b.String()
}

// Question is one question of a request_user_input call.
type Question struct {
	ID       string   `json:"id"`
	Header   string   `json:"header"`
	Question string   `json:"question"`
	Options  []Option `json:"options"`
}

// Option is a choice offered with a Question.
type Option struct {
	Label       string `json:"label"`
	Description string `json:"description"`
}

// RequestUserInput is a call of codex's request_user_input tool, which makes
// app-server send item/tool/requestUserInput to the client. Codex only runs it
// in plan collaboration mode (turn/start collaborationMode {"mode":"plan",...})
// or with the default_mode_request_user_input feature (see
// CodexHomeOptions.RequestUserInput); otherwise the tool output is
// "request_user_input is unavailable in Default mode".
func RequestUserInput(questions ...Question) Reply {
	if questions == nil {
		questions = []Question{}
	}
	return FunctionCall("request_user_input", map[string]any{"questions": questions})
}

// HTTPError answers the request with this HTTP status and body (sent as
// application/json when it looks like JSON, text/plain otherwise) instead of
// an event stream.
func HTTPError(status int, body string) Reply {
	return Reply{status: status, body: body}
}

// Failed is a stream that ends with a response.failed event carrying this
// error code and message, instead of response.completed. Output items of the
// reply (added with And) are streamed first.
func Failed(code, message string) Reply {
	return Reply{end: endFailed, errCod: code, errMsg: message}
}

// Hang is a stream that sends response.created and then nothing more until
// the client disconnects or the server is closed.
func Hang() Reply { return Reply{hang: true} }

// Truncated returns r streamed without its terminal event
// (response.completed or response.failed): the connection closes right after
// the last item, as if the stream had been cut.
func (r Reply) Truncated() Reply {
	r.end = endNone
	return r
}

// Events is a stream of exactly these events, each marshalled to JSON (a
// json.RawMessage or []byte is used as is) and sent with its "type" member as
// the SSE event name. Nothing else is sent.
func Events(events ...any) Reply {
	raw := make([]json.RawMessage, 0, len(events))
	for _, e := range events {
		switch v := e.(type) {
		case json.RawMessage:
			raw = append(raw, v)
		case []byte:
			raw = append(raw, json.RawMessage(v))
		default:
			b, err := json.Marshal(e)
			if err != nil {
				panic(fmt.Sprintf("hosttest: cannot marshal event: %v", err))
			}
			raw = append(raw, b)
		}
	}
	return Reply{raw: raw}
}

// Reply implements Script: a Reply always answers with itself.
func (r Reply) Reply(*ModelRequest) Reply { return r }

// IsHTTPError reports whether r is an HTTP error reply, and its status.
func (r Reply) IsHTTPError() (int, bool) { return r.status, r.status != 0 }

// Event is one server-sent event of a reply stream.
type Event struct {
	Name string          // the "event:" field, the payload's "type"
	Data json.RawMessage // the "data:" field
}

// String formats the event as it is sent on the wire.
func (e Event) String() string {
	return "event: " + e.Name + "\ndata: " + string(e.Data) + "\n\n"
}

// usage is sent with response.completed; codex reports it in
// thread/tokenUsage/updated.
var usage = map[string]any{
	"input_tokens":          1,
	"input_tokens_details":  nil,
	"output_tokens":         1,
	"output_tokens_details": nil,
	"total_tokens":          2,
}

// EventsFor returns the events r streams in answer to the request with
// sequence number seq (used to make response, message and call ids unique).
// It returns nil for an HTTP error reply.
func (r Reply) EventsFor(seq int) []Event {
	if r.status != 0 {
		return nil
	}
	var evs []Event
	add := func(v map[string]any) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		evs = append(evs, Event{Name: v["type"].(string), Data: b})
	}
	if r.raw != nil {
		for _, raw := range r.raw {
			var head struct {
				Type string `json:"type"`
			}
			_ = json.Unmarshal(raw, &head)
			evs = append(evs, Event{Name: head.Type, Data: raw})
		}
		return evs
	}
	respID := fmt.Sprintf("resp_%d", seq)
	add(map[string]any{"type": "response.created", "response": map[string]any{"id": respID}})
	if r.hang {
		return evs
	}
	for i, it := range r.items {
		switch it.kind {
		case kindMessage:
			id := fmt.Sprintf("msg_%d_%d", seq, i)
			add(map[string]any{
				"type": "response.output_item.added", "output_index": i,
				"item": map[string]any{"type": "message", "role": "assistant", "id": id, "content": []any{}},
			})
			for _, p := range it.pieces {
				add(map[string]any{
					"type": "response.output_text.delta", "item_id": id, "output_index": i,
					"content_index": 0, "delta": p,
				})
			}
			add(map[string]any{
				"type": "response.output_item.done", "output_index": i,
				"item": map[string]any{
					"type": "message", "role": "assistant", "id": id,
					"content": []any{map[string]any{"type": "output_text", "text": strings.Join(it.pieces, "")}},
				},
			})
		case kindFunctionCall:
			v := map[string]any{
				"type": "function_call", "id": fmt.Sprintf("fc_%d_%d", seq, i),
				"name": it.name, "arguments": it.arguments, "call_id": it.callIDFor(seq, i),
			}
			if it.namespace != "" {
				v["namespace"] = it.namespace
			}
			add(map[string]any{"type": "response.output_item.done", "output_index": i, "item": v})
		case kindReasoning:
			id := fmt.Sprintf("rs_%d_%d", seq, i)
			add(map[string]any{
				"type": "response.output_item.added", "output_index": i,
				"item": map[string]any{"type": "reasoning", "id": id, "summary": []any{}},
			})
			add(map[string]any{
				"type": "response.reasoning_summary_part.added", "item_id": id, "output_index": i,
				"summary_index": 0, "part": map[string]any{"type": "summary_text", "text": ""},
			})
			for _, p := range it.pieces {
				add(map[string]any{
					"type": "response.reasoning_summary_text.delta", "item_id": id, "output_index": i,
					"summary_index": 0, "delta": p,
				})
			}
			add(map[string]any{
				"type": "response.output_item.done", "output_index": i,
				"item": map[string]any{
					"type": "reasoning", "id": id,
					"summary": []any{map[string]any{"type": "summary_text", "text": strings.Join(it.pieces, "")}},
				},
			})
		case kindCustomToolCall:
			add(map[string]any{
				"type": "response.output_item.done", "output_index": i,
				"item": map[string]any{
					"type": "custom_tool_call", "id": fmt.Sprintf("ctc_%d_%d", seq, i),
					"name": it.name, "input": it.input, "call_id": it.callIDFor(seq, i),
				},
			})
		}
	}
	switch r.end {
	case endCompleted:
		add(map[string]any{"type": "response.completed", "response": map[string]any{"id": respID, "usage": usage}})
	case endFailed:
		add(map[string]any{"type": "response.failed", "response": map[string]any{
			"id": respID, "error": map[string]any{"code": r.errCod, "message": r.errMsg},
		}})
	}
	return evs
}

func (it item) callIDFor(seq, i int) string {
	if it.callID != "" {
		return it.callID
	}
	return fmt.Sprintf("call_%d_%d", seq, i)
}

// CallID returns the call_id that the i-th output item of r gets in answer
// to the request with sequence number seq ("" if it is not a tool call).
func (r Reply) CallID(seq, i int) string {
	if i < 0 || i >= len(r.items) || r.items[i].kind == kindMessage {
		return ""
	}
	return r.items[i].callIDFor(seq, i)
}
