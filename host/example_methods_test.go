package host_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/protocol"
)

// fakeClient starts the test binary's fake app-server (see TestMain), so
// that these examples run offline; with a real codex, use
// host.Start(ctx, nil).
func fakeClient(ctx context.Context) *host.Client {
	exe, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	client, err := host.Start(ctx, &host.Options{Codex: exe, Env: []string{"FAKE_APPSERVER=methods", "GORACE=atexit_sleep_ms=0"}})
	if err != nil {
		log.Fatal(err)
	}
	return client
}

// Call any app-server method codexhost does not wrap, with typed params and
// result.
func ExampleClient_Call() {
	ctx := context.Background()
	client := fakeClient(ctx)
	defer client.Close()

	var modes struct {
		Data []struct{ Name, Mode string }
	}
	if err := client.Call(ctx, "collaborationMode/list", map[string]any{}, &modes); err != nil {
		log.Fatal(err)
	}
	for _, m := range modes.Data {
		fmt.Println(m.Mode, m.Name)
	}
	// Output:
	// plan Plan
	// default Default
}

// The generated wire types of package protocol type Call's params and
// result.
func ExampleClient_Call_wireTypes() {
	ctx := context.Background()
	client := fakeClient(ctx)
	defer client.Close()

	var loaded protocol.ThreadLoadedListResponse
	err := client.Call(ctx, string(protocol.ClientThreadLoadedList), protocol.ThreadLoadedListParams{Limit: ptrTo(10)}, &loaded)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loaded.Data)
	// Output:
	// [th1 th2]
}

func ptrTo[T any](v T) *T { return &v }

// Fuzzy-search the files under a directory, best match first.
func ExampleClient_SearchFiles() {
	ctx := context.Background()
	client := fakeClient(ctx)
	defer client.Close()

	files, err := client.SearchFiles(ctx, "main", []string{"/src"})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range files {
		fmt.Println(f.Root, f.Path, f.Score)
	}
	// Output:
	// /src cmd/main.go 90
}

// The threads app-server holds in memory.
func ExampleClient_LoadedThreads() {
	ctx := context.Background()
	client := fakeClient(ctx)
	defer client.Close()

	for id, err := range client.LoadedThreads(ctx) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(id)
	}
	// Output:
	// th1
	// th2
}

// Continue a stored thread (Run resumes it first) and keep the turn, to
// interrupt it after a minute from another goroutine.
func ExampleRunOptions_OnTurn() {
	ctx := context.Background()
	client := fakeClient(ctx) // a real program: host.Start(ctx, nil)
	defer client.Close()

	res, err := client.Run(ctx, "Now fix the failing test.", &host.RunOptions{
		ThreadID: "th1", // e.g. "0199a213-81c0-7800-8aa1-bbab2a035a53"
		OnTurn: func(turn *host.Turn) {
			time.AfterFunc(time.Minute, func() { _ = turn.Interrupt(context.Background()) })
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)
	// Output:
	// completed
}

// A thread's history, newest turn first, page by page as the loop advances.
func ExampleClient_ThreadTurns() {
	ctx := context.Background()
	client := fakeClient(ctx) // a real program: host.Start(ctx, nil)
	defer client.Close()

	for turn, err := range client.ThreadTurns(ctx, "th1", &host.HistoryOptions{NewestFirst: true}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(turn.ID, turn.Status, len(turn.Items))
	}
	// Output:
	// tu-b interrupted 0
	// tu-a completed 1
}
