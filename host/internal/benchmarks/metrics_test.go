package benchmarks

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/metrics"
	"github.com/codexhost/codexhost/plugins/chain/tracing"
)

// nopPlugin answers every call at once: what is left of a call through it
// is the cost of the call itself.
type nopPlugin struct{ m abi.Manifest }

func (p *nopPlugin) Manifest() *abi.Manifest                                { return &p.m }
func (p *nopPlugin) Call(context.Context, abi.Hook, []byte) ([]byte, error) { return nil, nil }
func (p *nopPlugin) Close(context.Context) error                            { return nil }

// BenchmarkPluginCall is figure 6: what measuring a plugin call costs.
// raw is the floor (a call through the plugins.Plugin interface);
// instrumented is the same call through metrics.Host.Instrument (two
// clock reads, a counter and a histogram of client_golang, series bound
// once); traced is the call with a span (plugins/chain/tracing), which
// only a run with OTEL_* tracing on pays. Serial, so that the difference
// is the cost per call, not contention.
func BenchmarkPluginCall(b *testing.B) {
	newPlugin := func() plugins.Plugin {
		return &nopPlugin{m: abi.Manifest{Name: "nop", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}}
	}
	for _, c := range []struct {
		name string
		p    plugins.Plugin
	}{
		{"raw", newPlugin()},
		{"instrumented", metrics.NewHost(nil).Instrument(newPlugin())},
		// The same call with tracing on: a span per call, exported to
		// nowhere. Tracing off wraps nothing, so it costs nothing.
		{"traced", tracing.New(tracetest.NewNoopExporter(), nil).Instrument(chain.Member{Plugin: newPlugin(), Digest: "d"}, "wasm")},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				_, _ = c.p.Call(ctx, abi.HookApproval, nil)
			}
		})
	}
}
