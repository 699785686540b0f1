package benchmarks

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// approvalRequest is a ~0.9 KB command approval as codex 0.169.0 sends it
// (item/commandExecution/requestApproval), like the one limits.md measured.
func approvalRequest(tb testing.TB) *host.Request {
	tb.Helper()
	return host.NewRequest("item/commandExecution/requestApproval", bytes.TrimSpace(readTestdata(tb, "command-approval.json")))
}

// approvalPlugins are the ways figure 1 answers an approval: the floor
// first.
var approvalPlugins = []struct {
	name string
	load func(b *testing.B) plugins.Plugin
}{
	// The floor: an in-process Go handler (encoding/json, as a Go host
	// would write it).
	{"inproc", func(*testing.B) plugins.Plugin { return newInprocPlugin() }},
	// The guest's own code compiled natively (sdk-guest's codec).
	{"inproc-sdk", func(*testing.B) plugins.Plugin { return newSDKPlugin() }},
	// A warm pooled Wasm plugin as shipped: deadline enforced.
	{"wasm", func(b *testing.B) plugins.Plugin { return loadWasm(b, policyGuest, nil) }},
	// A go-plugin process plugin (gRPC over a Unix socket, mTLS).
	{"process", func(b *testing.B) plugins.Plugin { return loadProcess(b, policyGuest) }},
}

// BenchmarkApproval is figure 1: one approval round trip through the host's
// dispatch (host.Request.Serve with a chain.Chain): the typed request is
// translated to the ABI request and encoded, the plugin decides, its answer
// is decoded, checked and derived into the bytes sent to codex. One op is one approval.
// B/op and allocs/op count the host process only.
func BenchmarkApproval(b *testing.B) {
	req := approvalRequest(b)
	for _, ap := range approvalPlugins {
		b.Run(ap.name, func(b *testing.B) {
			ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{ap.load(b)}})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for range 100 { // warm up (and check the answer once)
				ans, err := req.Serve(ctx, ch)
				if err != nil {
					b.Fatal(err)
				}
				if !bytes.HasPrefix(ans, []byte(`{"decision":{"acceptWithExecpolicyAmendment"`)) && string(ans) != `{"decision":"accept"}` {
					b.Fatalf("answer %s, want accept", ans)
				}
			}
			var h hist
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				_, err := req.Serve(ctx, ch)
				h.record(time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			h.report(b)
		})
	}
}
