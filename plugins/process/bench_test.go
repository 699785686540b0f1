package process_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
)

func benchRef(b *testing.B) string {
	b.Helper()
	src, err := plugintest.GuestSource(plugintest.GuestRef)
	if err != nil {
		b.Fatal(err)
	}
	return plugintest.BuildProcessGuest(b, src)
}

func echoRequest(b *testing.B) []byte {
	b.Helper()
	req, err := json.Marshal(&abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "thr-1", Command: "echo hi"})
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// BenchmarkCall measures one approval call on a warm plugin: the request
// and the response cross gRPC over a Unix socket with mutual TLS.
func BenchmarkCall(b *testing.B) {
	bin := benchRef(b)
	ctx := context.Background()
	p, err := process.Load(ctx, bin, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	req := echoRequest(b)
	for b.Loop() {
		if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallParallel is BenchmarkCall from GOMAXPROCS goroutines at
// once, on one plugin process.
func BenchmarkCallParallel(b *testing.B) {
	bin := benchRef(b)
	ctx := context.Background()
	p, err := process.Load(ctx, bin, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close(ctx)
	req := echoRequest(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkStart measures a plugin's start to its first answer: Load (spawn,
// handshake, describe, configure) and one approval call. Close is not
// timed.
func BenchmarkStart(b *testing.B) {
	bin := benchRef(b)
	ctx := context.Background()
	req := echoRequest(b)
	for b.Loop() {
		p, err := process.Load(ctx, bin, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = p.Close(ctx)
		b.StartTimer()
	}
}
