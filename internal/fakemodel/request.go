package fakemodel

import (
	"encoding/json"
	"net/http"
	"strings"
)

// ModelRequest is one request to the responses endpoint, as received.
type ModelRequest struct {
	// Seq numbers the responses requests from 0 in arrival order.
	Seq int
	// Path is the URL path, e.g. "/v1/responses".
	Path string
	// Header holds the request headers.
	Header http.Header
	// Body is the raw (decompressed) request body.
	Body []byte
	// Model is the body's "model" member.
	Model string
	// Input holds the body's "input" items, in order.
	Input []json.RawMessage
	// Tools holds the name of each entry of the body's "tools" array, in
	// order: function and custom tools by name, namespaces by namespace name
	// (not the names of the tools inside), entries without a name (for
	// example "web_search") by their type.
	Tools []string
	// ParseError is set when Body is not a JSON object of the expected
	// shape; the other parsed fields are then empty.
	ParseError error
	// Closed is closed when the model server starts to close
	// (Model.Close). Close waits for every Script call to return, so a
	// script that blocks (to gate a turn on a test's progress) must also
	// return when Closed is: otherwise a test that fails before it opens
	// its gate hangs in its cleanup.
	Closed <-chan struct{}
}

// InputItem is the common part of a Responses API input item.
type InputItem struct {
	Type   string `json:"type"`
	Role   string `json:"role,omitempty"`
	Name   string `json:"name,omitempty"`
	CallID string `json:"call_id,omitempty"`
}

// ToolOutput is a function_call_output or custom_tool_call_output input item.
type ToolOutput struct {
	// Type is "function_call_output" or "custom_tool_call_output".
	Type   string
	CallID string
	// Output is the item's "output" member: a JSON string, or an array of
	// content items.
	Output json.RawMessage
}

// Text returns the output as text: the string itself, or the text of all
// text content items joined with newlines.
func (o ToolOutput) Text() string {
	var s string
	if json.Unmarshal(o.Output, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	if json.Unmarshal(o.Output, &parts) != nil {
		return string(o.Output)
	}
	texts := make([]string, 0, len(parts))
	for _, p := range parts {
		if p.Text != "" {
			texts = append(texts, p.Text)
		}
	}
	return strings.Join(texts, "\n")
}

type requestBody struct {
	Model string            `json:"model"`
	Input []json.RawMessage `json:"input"`
	Tools []struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"tools"`
}

func parseModelRequest(seq int, r *http.Request, body []byte, closed <-chan struct{}) *ModelRequest {
	req := &ModelRequest{Seq: seq, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Closed: closed}
	var b requestBody
	if err := json.Unmarshal(body, &b); err != nil {
		req.ParseError = err
		return req
	}
	req.Model = b.Model
	req.Input = b.Input
	for _, t := range b.Tools {
		if t.Name != "" {
			req.Tools = append(req.Tools, t.Name)
		} else {
			req.Tools = append(req.Tools, t.Type)
		}
	}
	return req
}

// Item decodes the common part of input item i; a zero InputItem if i is
// out of range or the item is malformed.
func (r *ModelRequest) Item(i int) InputItem {
	var it InputItem
	if i >= 0 && i < len(r.Input) {
		_ = json.Unmarshal(r.Input[i], &it)
	}
	return it
}

// LastInput decodes the common part of the last input item.
func (r *ModelRequest) LastInput() InputItem { return r.Item(len(r.Input) - 1) }

// IsToolFollowUp reports whether the last input item is a tool output
// (function_call_output or custom_tool_call_output): the request codex sends
// after running a tool call, as opposed to the first request of a turn.
func (r *ModelRequest) IsToolFollowUp() bool {
	return isToolOutputType(r.LastInput().Type)
}

func isToolOutputType(t string) bool {
	return t == "function_call_output" || t == "custom_tool_call_output"
}

// HasTool reports whether the request offers a tool with this name (or
// type, for unnamed tools).
func (r *ModelRequest) HasTool(name string) bool {
	for _, t := range r.Tools {
		if t == name {
			return true
		}
	}
	return false
}

// ToolOutputs returns every tool output item of the input, in order.
func (r *ModelRequest) ToolOutputs() []ToolOutput {
	var outs []ToolOutput
	for _, raw := range r.Input {
		var it struct {
			Type   string          `json:"type"`
			CallID string          `json:"call_id"`
			Output json.RawMessage `json:"output"`
		}
		if json.Unmarshal(raw, &it) != nil || !isToolOutputType(it.Type) {
			continue
		}
		outs = append(outs, ToolOutput{Type: it.Type, CallID: it.CallID, Output: it.Output})
	}
	return outs
}

// ToolOutput returns the tool output item for callID.
func (r *ModelRequest) ToolOutput(callID string) (ToolOutput, bool) {
	for _, o := range r.ToolOutputs() {
		if o.CallID == callID {
			return o, true
		}
	}
	return ToolOutput{}, false
}

// UserTexts returns the input_text parts of every user message, in order.
// Codex also sends context (environment, instructions) as user messages, so
// the text the client passed to turn/start is usually the last entry; see
// [ModelRequest.LastUserText].
func (r *ModelRequest) UserTexts() []string {
	var texts []string
	for _, raw := range r.Input {
		var it struct {
			Type    string `json:"type"`
			Role    string `json:"role"`
			Content []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			} `json:"content"`
		}
		if json.Unmarshal(raw, &it) != nil || it.Type != "message" || it.Role != "user" {
			continue
		}
		for _, c := range it.Content {
			if c.Type == "input_text" {
				texts = append(texts, c.Text)
			}
		}
	}
	return texts
}

// LastUserText returns the last input_text of the last user message, or "".
func (r *ModelRequest) LastUserText() string {
	texts := r.UserTexts()
	if len(texts) == 0 {
		return ""
	}
	return texts[len(texts)-1]
}

func (r *ModelRequest) clone() ModelRequest {
	c := *r
	c.Header = r.Header.Clone()
	c.Body = append([]byte(nil), r.Body...)
	c.Input = append([]json.RawMessage(nil), r.Input...)
	c.Tools = append([]string(nil), r.Tools...)
	return c
}
