package host_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Run one turn with the user's own codex login and a handler that accepts
// read-only commands and declines everything else. (These examples start a
// real codex, so they are compiled but not run by go test; host/hosttest
// has a fake model to run them offline.)
func Example() {
	ctx := context.Background()
	handler := host.RequestHandlerFunc(func(ctx context.Context, req *host.Request) (any, error) {
		if req.Kind != host.RequestCommandApproval {
			return host.SafeHandler.HandleRequest(ctx, req) // fail closed
		}
		a, err := req.ApprovalRequest()
		if err != nil {
			return nil, err // an error declines
		}
		if strings.HasPrefix(a.Command, "ls ") || a.Command == "ls" {
			return host.Approve(), nil
		}
		return host.Decline(), nil
	})
	client, err := host.Start(ctx, &host.Options{Handler: handler})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	res, err := client.Run(ctx, "List the files here and summarize them.", &host.RunOptions{
		Thread: &host.ThreadOptions{Cwd: "/src/project", Sandbox: "workspace-write"},
	})
	if err != nil {
		log.Fatal(err) // *host.TurnError if the turn failed, *host.ConnError if codex died
	}
	fmt.Println(res.Status, res.Text)
}

// Stream the agent's text as it is written. The iterator blocks on a slow
// consumer instead of dropping deltas.
func ExampleClient_Stream() {
	ctx := context.Background()
	client, err := host.Start(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for delta, err := range client.Stream(ctx, "Write a haiku about Go.", nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Print(delta)
	}
}

// Every notification of a turn as a typed event, in order.
func ExampleClient_Events() {
	ctx := context.Background()
	client, err := host.Start(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for ev, err := range client.Events(ctx, "Run the tests.", nil) {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case host.EventItemCompleted:
			if ev.Item.Type == host.ItemCommandExecution {
				fmt.Printf("$ %s (exit %d in %s)\n", ev.Item.Command, *ev.Item.ExitCode, ev.Item.Duration)
			}
		case host.EventTurnCompleted:
			fmt.Println("turn", ev.Turn.State)
		}
	}
}

// A chain of sandboxed plugins answers codex's requests: here one Wasm
// policy, asked for every approval, with decline as the fallback when it
// abstains or fails.
func ExampleNewChain() {
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)
	policy, err := rt.LoadFile(ctx, "policy.wasm", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer policy.Close(ctx)

	chain, err := host.NewChain(&host.ChainOptions{
		Plugins: []plugins.Plugin{policy},
		OnDecision: func(r *host.DecisionRecord) {
			log.Printf("%s %s: %s (%s)", r.Hook, r.Summary, r.Decision, r.Why)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := host.Start(ctx, &host.Options{Handler: chain})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	if _, err := client.Run(ctx, "Clean up the build directory.", nil); err != nil {
		log.Fatal(err)
	}
}
