// Command renderer is a codexhost event renderer: it prints a turn the way
// a person wants to read it: the agent's text as it streams, commands with
// their exit code, file changes, and the token count at the end.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o renderer.wasm ./examples/renderer
package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("plain-renderer", "1.0.0", "renders a turn as plain text")
	guest.OnRender(func(ctx context.Context, req *abi.RenderRequest) (*abi.RenderResponse, error) {
		var b strings.Builder
		for i := range req.Events {
			render(&b, &req.Events[i])
		}
		return &abi.RenderResponse{Output: b.String()}, nil
	})
}

func render(b *strings.Builder, ev *abi.Event) {
	switch ev.Kind {
	case abi.EventTurnStarted:
		b.WriteString("── turn started\n")
	case abi.EventAgentMessageDelta:
		b.WriteString(ev.Delta)
	case abi.EventItemStarted:
		if it := ev.Item; it != nil && it.Type == "commandExecution" {
			b.WriteString("$ " + it.Command + "\n")
		}
	case abi.EventItemCompleted:
		it := ev.Item
		if it == nil {
			return
		}
		switch it.Type {
		case "agentMessage":
			b.WriteString("\n")
		case "commandExecution":
			code := "-"
			if it.ExitCode != nil {
				code = strconv.Itoa(*it.ExitCode)
			}
			b.WriteString("  [" + it.Status + ", exit " + code + "]\n")
		case "fileChange":
			for _, c := range it.Changes {
				b.WriteString("  " + c.Kind + " " + c.Path + " [" + it.Status + "]\n")
			}
		}
	case abi.EventError:
		if ev.Error != nil {
			b.WriteString("error: " + ev.Error.Message + "\n")
		}
	case abi.EventTurnCompleted:
		if ev.Turn != nil {
			b.WriteString("── turn " + ev.Turn.State + "\n")
		}
	}
}

func main() { guest.Main() }
