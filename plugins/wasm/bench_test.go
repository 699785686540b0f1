package wasm_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// approvalRequest is a ~1 KB command approval, like the one limits.md
// measured.
func approvalRequest(tb testing.TB) []byte {
	req := &abi.ApprovalRequest{
		Kind: abi.ApprovalCommand, ThreadID: "thr_0123456789abcdef", TurnID: "turn_0123456789abcdef", ItemID: "call_0123456789abcdef",
		Reason:  "The tests need to be run to check the change; this runs the package's unit tests with the race detector.",
		Cwd:     "/home/builder/src/github.com/example/project/services/api",
		Command: "/bin/bash -lc 'cd services/api && go test -race -count=1 ./internal/... 2>&1 | tail -50 && echo done'",
		Actions: []abi.CommandAction{
			{Type: "unknown", Command: "cd services/api"},
			{Type: "unknown", Command: "go test -race -count=1 ./internal/..."},
			{Type: "read", Command: "tail -50", Path: "-"},
		},
		ProposedAmendment: []string{"go", "test"},
	}
	b, err := json.Marshal(req)
	require.NoError(tb, err)
	return b
}

// BenchmarkCall measures a warm approval call. "wat" is the hand-written
// guest, whose work is nil: it measures the host's overhead plus wazero's.
// "ref" is a Go guest built with sdk-guest, which decodes and encodes
// JSON.
func BenchmarkCall(b *testing.B) {
	for _, guest := range []string{plugintest.GuestDeclineAllWAT, plugintest.GuestRef} {
		b.Run(guest, func(b *testing.B) {
			p, err := testRuntime.Load(b.Context(), plugintest.GuestWasm(b, guest), nil)
			require.NoError(b, err)
			defer p.Close(context.Background())
			req := approvalRequest(b)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetBytes(int64(len(req)))
			for b.Loop() {
				if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCallParallel measures calls from GOMAXPROCS goroutines into a
// pool of DefaultMaxInstances instances.
func BenchmarkCallParallel(b *testing.B) {
	p, err := testRuntime.Load(b.Context(), plugintest.GuestWasm(b, plugintest.GuestRef), nil)
	require.NoError(b, err)
	defer p.Close(context.Background())
	req := approvalRequest(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Call(context.Background(), abi.HookApproval, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkLoad measures loading the ref guest: "cold" compiles it (a
// fresh cache directory each time), "file-cache" reads it from a warm
// compilation cache in a new Runtime (a process restart).
func BenchmarkLoad(b *testing.B) {
	wasmBytes := plugintest.GuestWasm(b, plugintest.GuestRef)
	ctx := context.Background()
	warmDir := b.TempDir()
	for _, tc := range []struct {
		name string
		dir  func() string
	}{
		{"cold", func() string { return b.TempDir() }},
		{"file-cache", func() string { return warmDir }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.name == "file-cache" { // warm it
				rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: warmDir})
				require.NoError(b, err)
				_, err = rt.Load(ctx, wasmBytes, nil)
				require.NoError(b, err)
				require.NoError(b, rt.Close(ctx))
			}
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: tc.dir()})
				require.NoError(b, err)
				b.StartTimer()
				start := time.Now()
				_, err = rt.Load(ctx, wasmBytes, nil)
				total += time.Since(start)
				require.NoError(b, err)
				b.StopTimer()
				require.NoError(b, rt.Close(ctx))
				b.StartTimer()
			}
		})
	}
}

// BenchmarkNewInstance measures creating an instance of the ref guest
// (instantiate, _initialize, describe, configure): the cost a call pays
// after a failure discarded an instance. It forces one per call by
// failing each time on a plugin with one instance.
func BenchmarkNewInstance(b *testing.B) {
	p, err := testRuntime.Load(b.Context(), plugintest.GuestWasm(b, plugintest.GuestRef),
		&wasm.Options{MaxInstances: 1, Options: plugins.Options{MaxResultBytes: 1}})
	require.NoError(b, err)
	defer p.Close(context.Background())
	req := approvalRequest(b)
	ctx := context.Background()
	for b.Loop() {
		// The result is larger than 1 byte: FailTooLarge discards the
		// instance, so the next call creates one.
		if _, err := p.Call(ctx, abi.HookApproval, req); err == nil {
			b.Fatal("want an error")
		}
	}
}
