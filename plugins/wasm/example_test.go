package wasm_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// approveAllWasm is the path of sdk-guest/internal/testguests/approveall
// built as a Wasm plugin:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o approveall.wasm .
var approveAllWasm string

// setupExample builds approveAllWasm (TestMain runs it).
func setupExample() error {
	src, err := plugintest.GuestSource(plugintest.GuestApproveAll)
	if err != nil {
		return err
	}
	b, err := plugintest.GoGuest(src)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "codexhost-example-")
	if err != nil {
		return err
	}
	approveAllWasm = filepath.Join(dir, "approveall.wasm")
	return os.WriteFile(approveAllWasm, b, 0o600)
}

func cleanupExample() {
	if approveAllWasm != "" {
		_ = os.RemoveAll(filepath.Dir(approveAllWasm))
	}
}

// Load a plugin built with sdk-guest and ask it to approve a command.
func Example() {
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil) // one per process
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close(ctx)

	p, err := rt.LoadFile(ctx, approveAllWasm, &wasm.Options{
		Options: plugins.Options{Timeout: time.Second},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(ctx)
	m := p.Manifest()
	fmt.Println(m.Name, m.Version, m.Hooks)

	resp, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, &abi.ApprovalRequest{
		Kind:     abi.ApprovalCommand,
		ThreadID: "thr_1",
		Command:  "/bin/bash -lc 'go test ./...'",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Decision, resp.Reason)
	// Output:
	// approveall 1.0.0 [approval]
	// accept approve-all
}
