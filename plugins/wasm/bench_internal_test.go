package wasm

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero/api"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// BenchmarkHostOverhead compares a Call on the WAT guest (whose work is a
// few instructions) with the bare wazero calls it makes: the difference
// is what the pool, the deadline, the buffer reuse, the result checks and
// the copy out cost.
func BenchmarkHostOverhead(b *testing.B) {
	ctx := context.Background()
	rt, err := NewRuntime(ctx, &RuntimeOptions{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, plugintest.GuestWasm(b, plugintest.GuestDeclineAllWAT), nil)
	if err != nil {
		b.Fatal(err)
	}
	req := make([]byte, 1000)
	for i := range req {
		req[i] = 'x'
	}
	b.Run("Plugin.Call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Plugin.Call-cancelable-ctx", func(b *testing.B) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare-wazero", func(b *testing.B) {
		in, err := p.newConfiguredInstance(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer in.close()
		ptr := uint32(1 << 16)
		stack := make([]uint64, 3)
		var handle api.Function = in.handleFn
		b.ReportAllocs()
		for b.Loop() {
			in.mem.Write(ptr, req)
			stack[0], stack[1], stack[2] = uint64(abi.HookApproval), uint64(ptr), uint64(len(req))
			if err := handle.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
		}
	})
}
