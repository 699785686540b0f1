// Command tool is a codexhost tool plugin: it serves a dynamic tool,
// "word_count", that the model can call. codexhost registers the tool with
// codex when it starts a thread, and the tool's answer reaches the model.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o tool.wasm ./examples/tool
package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("word-count", "1.0.0", "serves the word_count tool")
	guest.AddTool(abi.Tool{
		Name:        "word_count",
		Description: "Counts the words of a text.",
		InputSchema: abi.RawJSON(`{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}`),
	}, func(ctx context.Context, req *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
		// guest.DecodeObject rather than encoding/json: without reflection
		// (and fmt) the module is about a third smaller, and each host that
		// loads it compiles and keeps that much less.
		var text string
		if err := guest.DecodeObject(req.Arguments, guest.StringField("text", &text)); err != nil {
			return &abi.ToolCallResponse{Success: false, Content: []abi.Content{{Type: "text", Text: "arguments: " + err.Error()}}}, nil
		}
		n := len(strings.Fields(text))
		return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: strconv.Itoa(n) + " words"}}}, nil
	})
}

func main() { guest.Main() }
