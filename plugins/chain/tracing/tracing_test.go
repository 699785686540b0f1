package tracing_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/tracing"
)

type approver struct {
	m   abi.Manifest
	dec abi.Decision
	err error
}

func (p *approver) Manifest() *abi.Manifest     { return &p.m }
func (p *approver) Close(context.Context) error { return nil }
func (p *approver) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if p.err != nil {
		return nil, p.err
	}
	return json.Marshal(&abi.ApprovalResponse{Decision: p.dec})
}

func newApprover(name string, d abi.Decision, err error) *approver {
	return &approver{m: abi.Manifest{Name: name, Version: "1.0.0", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}, dec: d, err: err}
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

// One trace: run > turn > approval > a span per plugin call, with the
// plugin's name, digest, runtime, mode, decision or failure kind.
func TestSpans(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr := tracing.New(exp, &tracing.Options{Sync: true})
	allow := tr.Instrument(chain.Member{Plugin: newApprover("allow", abi.Accept, nil), Digest: "d1"}, "wasm")
	crashy := tr.Instrument(chain.Member{Plugin: newApprover("crashy", "", &plugins.CallError{Plugin: "crashy", Kind: plugins.FailTrap, Err: errors.New("unreachable")}),
		Digest: "d2", Monitor: true}, "process")
	ch, err := chain.New(&chain.Options{Members: []chain.Member{{Plugin: allow}, {Plugin: crashy, Monitor: true}}})
	require.NoError(t, err)
	h := tr.Handler(ch)

	ctx, endRun := tr.StartRun(context.Background(), "codexhost run")
	_, endTurn := tr.StartTurn(ctx)
	// The request arrives with a context of its own, as from host.
	resp, err := h.Approval(context.Background(), &host.ApprovalRequest{Method: "item/commandExecution/requestApproval",
		ApprovalRequest: &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "th", TurnID: "tu", ItemID: "it", Command: "ls"}})
	require.NoError(t, err)
	assert.Equal(t, abi.Accept, resp.Decision)
	endTurn("th", nil)
	endRun(nil)
	spans := exp.GetSpans().Snapshots() // exported as each ended (Sync)
	require.NoError(t, tr.Shutdown(context.Background()))

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		byName[s.Name()] = append(byName[s.Name()], s)
	}
	require.Len(t, byName["codexhost run"], 1)
	require.Len(t, byName["turn"], 1)
	require.Len(t, byName["approval"], 1)
	require.Len(t, byName["plugin approval"], 2)
	run, turn, req := byName["codexhost run"][0], byName["turn"][0], byName["approval"][0]
	for _, s := range spans {
		assert.Equal(t, run.SpanContext().TraceID(), s.SpanContext().TraceID(), "one trace: %s", s.Name())
	}
	assert.False(t, run.Parent().IsValid(), "the run is the root")
	assert.Equal(t, run.SpanContext().SpanID(), turn.Parent().SpanID())
	assert.Equal(t, turn.SpanContext().SpanID(), req.Parent().SpanID())
	assert.Equal(t, "th", attrs(turn)["codexhost.thread_id"])
	ra := attrs(req)
	assert.Equal(t, "accept", ra["codexhost.decision"])
	assert.Equal(t, "item/commandExecution/requestApproval", ra["rpc.method"])
	assert.Equal(t, "it", ra["codexhost.item_id"])
	assert.Equal(t, "command", ra["codexhost.approval.kind"])
	got := map[string]map[attribute.Key]string{}
	for _, s := range byName["plugin approval"] {
		assert.Equal(t, req.SpanContext().SpanID(), s.Parent().SpanID(), "plugin calls are children of the request")
		a := attrs(s)
		got[a["codexhost.plugin.name"]] = a
	}
	assert.Equal(t, map[attribute.Key]string{"codexhost.plugin.name": "allow", "codexhost.plugin.version": "1.0.0", "codexhost.plugin.digest": "d1",
		"codexhost.plugin.runtime": "wasm", "codexhost.plugin.mode": "enforce", "codexhost.hook": "approval", "codexhost.decision": "accept"}, got["allow"])
	assert.Equal(t, map[attribute.Key]string{"codexhost.plugin.name": "crashy", "codexhost.plugin.version": "1.0.0", "codexhost.plugin.digest": "d2",
		"codexhost.plugin.runtime": "process", "codexhost.plugin.mode": "monitor", "codexhost.hook": "approval", "codexhost.failure": "trap"}, got["crashy"])
	for _, s := range byName["plugin approval"] {
		if attrs(s)["codexhost.plugin.name"] == "crashy" {
			assert.Equal(t, "Error", s.Status().Code.String())
		}
	}
}

type toolPlugin struct{ approver }

// A chain's dynamic tools stay visible through the traced handler, which
// host looks for.
func TestHandlerKeepsTools(t *testing.T) {
	tr := tracing.New(tracetest.NewInMemoryExporter(), nil)
	defer tr.Shutdown(context.Background())
	p := &toolPlugin{approver{m: abi.Manifest{Name: "tools", ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall},
		Tools: []abi.Tool{{Name: "lookup", Description: "d", InputSchema: abi.RawJSON(`{"type":"object"}`)}}}}}
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}})
	require.NoError(t, err)
	h := tr.Handler(ch)
	tp, ok := h.(interface{ Tools() []host.ToolSpec })
	require.True(t, ok)
	assert.Equal(t, ch.Tools(), tp.Tools())
	require.NotEmpty(t, tp.Tools())

	nt, err := chain.New(nil)
	require.NoError(t, err)
	_, ok = tr.Handler(struct{ host.Handler }{nt}).(interface{ Tools() []host.ToolSpec })
	assert.False(t, ok, "no Tools method where the handler has none")
}

// Tracing off is no wrapper at all: FromEnv returns nil without an OTLP
// endpoint, and with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none.
func TestFromEnv(t *testing.T) {
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		t.Setenv(k, "")
	}
	tr, err := tracing.FromEnv(t.Context())
	require.NoError(t, err)
	assert.Nil(t, tr)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	assert.True(t, tracing.Enabled())
	t.Setenv("OTEL_SDK_DISABLED", "true")
	assert.False(t, tracing.Enabled())
	t.Setenv("OTEL_SDK_DISABLED", "")
	t.Setenv("OTEL_TRACES_EXPORTER", "none")
	assert.False(t, tracing.Enabled())
	t.Setenv("OTEL_TRACES_EXPORTER", "")
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	_, err = tracing.FromEnv(t.Context())
	require.ErrorIs(t, err, tracing.ErrProtocol)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
	tr, err = tracing.FromEnv(t.Context())
	require.NoError(t, err)
	require.NotNil(t, tr)
	require.NoError(t, tr.Shutdown(t.Context()))
}
