package host_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// fakeCodex returns options that run this test binary as a fake
// app-server playing scenario (see fake_appserver_test.go), so that the
// examples run offline. A real program leaves Codex empty: the Client
// finds the pinned or installed codex.
func fakeCodex(scenario string, deltas int) *host.Options {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	return &host.Options{Codex: exe, Env: []string{"GORACE=atexit_sleep_ms=0",
		"FAKE_APPSERVER=" + scenario, fmt.Sprintf("FAKE_DELTAS=%d", deltas)}}
}

// readOnly accepts `ls` and declines every other command; it answers the
// other requests safely (the embedded SafeHandler).
type readOnly struct{ host.SafeHandler }

func (readOnly) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	fmt.Printf("codex asks to run %q\n", req.Command)
	if req.Kind == abi.ApprovalCommand && (req.Command == "ls" || strings.HasPrefix(req.Command, "ls ")) {
		return &abi.ApprovalResponse{Decision: abi.Accept}, nil
	}
	return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "only ls may run"}, nil
}

// Run one turn with a handler that accepts read-only commands and declines
// everything else.
func Example() {
	ctx := context.Background()
	opts := fakeCodex("approval", 0) // a real program: &host.Options{}
	opts.Handler = readOnly{}
	client, err := host.Start(ctx, opts)
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
	// Output:
	// codex asks to run "rm -rf /"
	// completed done
}

// Stream the agent's text as it is written. The iterator blocks on a slow
// consumer instead of dropping deltas.
func ExampleClient_Stream() {
	ctx := context.Background()
	client, err := host.Start(ctx, fakeCodex("text", 3))
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
	fmt.Println()
	// Output: d0 d1 d2
}

// Every notification of a turn as a typed event, in order.
func ExampleClient_Events() {
	ctx := context.Background()
	client, err := host.Start(ctx, fakeCodex("text", 2))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	for ev, err := range client.Events(ctx, "Run the tests.", nil) {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case abi.EventAgentMessageDelta:
			fmt.Printf("delta %q\n", ev.Delta)
		case abi.EventItemCompleted:
			fmt.Printf("%s: %s\n", ev.Item.Type, ev.Item.Text)
		case abi.EventTurnCompleted:
			fmt.Println("turn", ev.Turn.State)
		}
	}
	// Output:
	// delta "d0 "
	// delta "d1 "
	// agentMessage: done
	// turn completed
}
