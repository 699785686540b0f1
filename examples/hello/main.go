// Command hello runs one prompt through the real Codex CLI, offline: it
// starts the project's fake model server, points a fresh CODEX_HOME at it,
// drives `codex app-server` through host, and prints the model's answer.
//
//	make demo            # or: go run ./examples/hello [PROMPT]
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
)

// Answer is what the fake model says, streamed in several deltas.
const Answer = "Hello from codexhost: this answer came from the fake model through the real codex app-server."

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hello:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	prompt := "Say hello."
	if len(args) > 0 {
		prompt = strings.Join(args, " ")
	}
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: hosttest.Text(Answer).InDeltas(8)})
	if err != nil {
		return err
	}
	defer model.Close()

	home, err := os.MkdirTemp("", "codexhost-hello-home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	work, err := os.MkdirTemp("", "codexhost-hello-work-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := hosttest.WriteCodexHome(home, model.URL(), nil); err != nil {
		return err
	}

	client, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: work})
	if err != nil {
		return err
	}
	defer client.Close()

	// Stream the answer as it arrives.
	for delta, err := range client.Stream(ctx, prompt, &host.RunOptions{Thread: &host.ThreadOptions{Cwd: work}}) {
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, delta)
	}
	fmt.Fprintln(stdout)
	return nil
}
