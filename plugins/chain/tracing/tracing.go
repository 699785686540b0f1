// Package tracing traces a codexhost run with OpenTelemetry: one trace per
// run, a span per turn, per server request codex sends (approval, user
// input, tool call, elicitation) and per plugin call, exported over OTLP.
//
//	tr, err := tracing.FromEnv(ctx) // nil unless OTEL_* asks for traces
//	if tr != nil {
//		defer tr.Shutdown(ctx)
//		ctx, endRun := tr.StartRun(ctx, "codexhost run")
//		ctx, endTurn := tr.StartTurn(ctx) // around each turn
//		defer endRun(nil)
//		p = tr.Instrument(member, "wasm") // each plugin
//		handler = tr.Handler(ch)          // the chain, as host.Options.Handler
//	}
//
// Tracing off is a nil *Tracer and nothing wrapped: it costs nothing.
// The span names and attributes are listed in docs/operations.md. Event
// deltas get no spans.
package tracing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/metrics"
)

// ErrProtocol is returned by [FromEnv] for an OTLP protocol other than
// http/protobuf.
var ErrProtocol = errors.New("tracing: unsupported OTLP protocol")

// Enabled reports whether the OTEL_* environment asks for traces: an OTLP
// endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER is "otlp",
// and neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none.
func Enabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.TrimSpace(os.Getenv("OTEL_TRACES_EXPORTER")) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// FromEnv returns a Tracer that exports over OTLP/HTTP as the standard
// OTEL_* variables configure it (endpoint, headers, timeout, TLS;
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES for the resource), or nil
// if they do not ask for traces ([Enabled]).
func FromEnv(ctx context.Context) (*Tracer, error) {
	if !Enabled() {
		return nil, nil
	}
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return nil, fmt.Errorf("%w %q: codexhost exports traces over http/protobuf; set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and the collector's OTLP/HTTP endpoint (port 4318)", ErrProtocol, proto)
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	return New(exp, nil), nil
}

// Options configure [New]. A nil *Options means defaults.
type Options struct {
	// Sync exports each span as it ends instead of in batches (tests).
	Sync bool
}

// New returns a Tracer exporting to exp. Its resource is
// service.name=codexhost unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES say otherwise.
func New(exp sdktrace.SpanExporter, opts *Options) *Tracer {
	var o Options
	if opts != nil {
		o = *opts
	}
	res, err := resource.Merge(resource.NewSchemaless(attribute.String("service.name", "codexhost")), resource.Environment())
	if err != nil {
		res = resource.NewSchemaless(attribute.String("service.name", "codexhost"))
	}
	proc := sdktrace.NewBatchSpanProcessor(exp)
	if o.Sync {
		proc = sdktrace.NewSimpleSpanProcessor(exp)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(proc), sdktrace.WithResource(res))
	return &Tracer{tp: tp, tr: tp.Tracer("github.com/codexhost/codexhost/plugins/chain/tracing")}
}

// A Tracer makes codexhost's spans. Its methods are safe for concurrent
// use. Shutdown flushes and stops it.
type Tracer struct {
	tp *sdktrace.TracerProvider
	tr trace.Tracer
	// turn is the span of the turn in progress: the parent of the
	// requests codex sends, which arrive with a context of their own.
	turn atomic.Pointer[trace.SpanContext]
}

// Shutdown exports the spans not yet exported and stops the Tracer; it
// waits until ctx ends at most.
func (t *Tracer) Shutdown(ctx context.Context) error { return t.tp.Shutdown(ctx) }

// StartRun starts the root span of a run: the trace. end ends it, with
// err as its status.
func (t *Tracer) StartRun(ctx context.Context, name string) (context.Context, func(err error)) {
	ctx, span := t.tr.Start(ctx, name, trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindClient))
	return ctx, func(err error) { endSpan(span, err) }
}

// StartTurn starts the span of a turn, a child of ctx's span; until end,
// the requests codex sends are its children. end records the thread's id
// and err as the span's status.
func (t *Tracer) StartTurn(ctx context.Context) (context.Context, func(threadID string, err error)) {
	ctx, span := t.tr.Start(ctx, "turn")
	sc := span.SpanContext()
	t.turn.Store(&sc)
	return ctx, func(threadID string, err error) {
		t.turn.CompareAndSwap(&sc, nil)
		if threadID != "" {
			span.SetAttributes(attribute.String("codexhost.thread_id", threadID))
		}
		endSpan(span, err)
	}
}

func endSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// parent returns ctx with the turn in progress as its span, unless ctx
// has a span already.
func (t *Tracer) parent(ctx context.Context) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	if sc := t.turn.Load(); sc != nil {
		return trace.ContextWithSpanContext(ctx, *sc)
	}
	return ctx
}

// Handler returns h traced: a span per request, named by its hook
// ("approval", "tool-input", "tool-call", "elicitation"), with the
// method, the thread, turn and item ids, and the decision. The plugin
// calls it makes are its children. If h has a Tools method (a chain's
// dynamic tools), so does the result.
func (t *Tracer) Handler(h host.Handler) host.Handler {
	th := &handler{t: t, h: h}
	if tp, ok := h.(interface{ Tools() []host.ToolSpec }); ok {
		return &toolsHandler{handler: th, tools: tp}
	}
	return th
}

type handler struct {
	t *Tracer
	h host.Handler
}

type toolsHandler struct {
	*handler
	tools interface{ Tools() []host.ToolSpec }
}

func (h *toolsHandler) Tools() []host.ToolSpec { return h.tools.Tools() }

func (h *handler) start(ctx context.Context, name, method string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return h.t.tr.Start(h.t.parent(ctx), name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(append(attrs, attribute.String("rpc.method", method))...))
}

func ids(thread, turn, item string) []attribute.KeyValue {
	return []attribute.KeyValue{attribute.String("codexhost.thread_id", thread), attribute.String("codexhost.turn_id", turn), attribute.String("codexhost.item_id", item)}
}

func (h *handler) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	ctx, span := h.start(ctx, "approval", req.Method, append(ids(req.ThreadID, req.TurnID, req.ItemID),
		attribute.String("codexhost.approval.kind", string(req.Kind)))...)
	resp, err := h.h.Approval(ctx, req)
	if resp != nil {
		span.SetAttributes(attribute.String("codexhost.decision", string(resp.Decision)))
	}
	endSpan(span, err)
	return resp, err
}

func (h *handler) UserInput(ctx context.Context, req *host.UserInputRequest) (*abi.ToolInputResponse, error) {
	ctx, span := h.start(ctx, "tool-input", req.Method, ids(req.ThreadID, req.TurnID, req.ItemID)...)
	resp, err := h.h.UserInput(ctx, req)
	endSpan(span, err)
	return resp, err
}

func (h *handler) ToolCall(ctx context.Context, req *host.ToolCallRequest) (*abi.ToolCallResponse, error) {
	ctx, span := h.start(ctx, "tool-call", req.Method, append(ids(req.ThreadID, req.TurnID, req.CallID),
		attribute.String("codexhost.tool", req.Tool))...)
	resp, err := h.h.ToolCall(ctx, req)
	endSpan(span, err)
	return resp, err
}

func (h *handler) Elicitation(ctx context.Context, req *host.ElicitationRequest) (*host.ElicitationResponse, error) {
	ctx, span := h.start(ctx, "elicitation", req.Method)
	resp, err := h.h.Elicitation(ctx, req)
	endSpan(span, err)
	return resp, err
}

// Instrument returns m's plugin traced: a span per call ("plugin <hook>"),
// a child of the request's, with the plugin's name, version, digest and
// runtime, monitor mode, the hook, and for a failed call its failure kind.
// Closing the result closes the plugin.
func (t *Tracer) Instrument(m chain.Member, runtime string) plugins.Plugin {
	man := m.Plugin.Manifest()
	mode := "enforce"
	if m.Monitor {
		mode = "monitor"
	}
	return &plugin{Plugin: m.Plugin, t: t, attrs: []attribute.KeyValue{
		attribute.String("codexhost.plugin.name", man.Name), attribute.String("codexhost.plugin.version", man.Version),
		attribute.String("codexhost.plugin.digest", m.Digest), attribute.String("codexhost.plugin.runtime", runtime),
		attribute.String("codexhost.plugin.mode", mode)}}
}

type plugin struct {
	plugins.Plugin
	t     *Tracer
	attrs []attribute.KeyValue
}

// Ready is plugins.Ready of the plugin: a lazy Wasm plugin loads then.
func (p *plugin) Ready(ctx context.Context) error {
	return plugins.Ready(ctx, p.Plugin)
}

func (p *plugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if hook == abi.HookEventRender {
		// Rendering is the event pipeline: no span per batch of deltas.
		return p.Plugin.Call(ctx, hook, req)
	}
	ctx, span := p.t.tr.Start(p.t.parent(ctx), "plugin "+hook.String(), trace.WithAttributes(p.attrs...),
		trace.WithAttributes(attribute.String("codexhost.hook", hook.String())))
	out, err := p.Plugin.Call(ctx, hook, req)
	spanErr := err
	if err == nil && hook == abi.HookApproval {
		// The decision as the chain will take it, or the refusal it will
		// count as the plugin's failure: never the plugin's own text.
		var areq abi.ApprovalRequest
		if jerr := json.Unmarshal(req, &areq); jerr == nil {
			resp, verr := chain.ApprovalAnswer(&host.ApprovalRequest{ApprovalRequest: &areq}, out)
			if verr != nil {
				// Not verr: its text quotes the plugin's.
				spanErr = &plugins.CallError{Plugin: p.Manifest().Name, Hook: hook, Kind: plugins.FailBadOutput,
					Err: errors.New("the chain refuses the answer")}
			} else {
				span.SetAttributes(attribute.String("codexhost.decision", string(resp.Decision)))
			}
		}
	}
	if spanErr != nil {
		span.SetAttributes(attribute.String("codexhost.failure", metrics.ErrorKind(spanErr)))
	}
	endSpan(span, spanErr)
	return out, err
}
