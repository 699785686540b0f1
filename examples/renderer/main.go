// Command renderer is a codexhost event renderer: it prints a turn the way
// a person wants to read it: the agent's text as it streams, commands with
// their exit code, file changes, and the token count at the end.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o renderer.wasm ./examples/renderer
package main

import (
	"context"
	"fmt"
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
			fmt.Fprintf(b, "$ %s\n", it.Command)
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
				code = fmt.Sprint(*it.ExitCode)
			}
			fmt.Fprintf(b, "  [%s, exit %s]\n", it.Status, code)
		case "fileChange":
			for _, c := range it.Changes {
				fmt.Fprintf(b, "  %s %s [%s]\n", c.Kind, c.Path, it.Status)
			}
		}
	case abi.EventError:
		if ev.Error != nil {
			fmt.Fprintf(b, "error: %s\n", ev.Error.Message)
		}
	case abi.EventTurnCompleted:
		if ev.Turn != nil {
			fmt.Fprintf(b, "── turn %s\n", ev.Turn.State)
		}
	}
}

func main() { guest.Main() }
