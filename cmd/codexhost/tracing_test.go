package main

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/codexhost/codexhost/host/hosttest"
)

// otlpReceiver is an OTLP/HTTP trace endpoint (POST /v1/traces,
// protobuf) that keeps what it receives.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
	attrs map[string]string // the resource's
}

func (r *otlpReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		http.NotFound(w, req)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var m collectortrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	for _, rs := range m.ResourceSpans {
		if r.attrs == nil {
			r.attrs = map[string]string{}
		}
		for _, kv := range rs.GetResource().GetAttributes() {
			r.attrs[kv.Key] = kv.GetValue().GetStringValue()
		}
		for _, ss := range rs.ScopeSpans {
			r.spans = append(r.spans, ss.Spans...)
		}
	}
	r.mu.Unlock()
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func spanAttrs(s *tracepb.Span) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes {
		out[kv.Key] = kv.GetValue().GetStringValue()
	}
	return out
}

// With OTEL_EXPORTER_OTLP_ENDPOINT set, a real-codex run exports one
// trace over OTLP/HTTP: the run, its turn, a span per approval and, in
// each, the rules policy's call, with the decision.
func TestRunExportsTrace(t *testing.T) {
	recv := &otlpReceiver{}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	t.Setenv("OTEL_SERVICE_NAME", "codexhost-test")
	t.Setenv("OTEL_LOGS_EXPORTER", "none") // this receiver takes traces only; see otelcol_test.go
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		t.Setenv(k, "")
	}
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("echo one > one.txt"), hosttest.ExecCommand("git push origin main"), hosttest.Text("done")))
	dropApprovalPolicy(t, home)
	rules := writeRules(t, testRules+pushRules)
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "--render", "none", "go")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(work, "one.txt"))

	// run returned after the tracer's shutdown: everything was exported.
	recv.mu.Lock()
	defer recv.mu.Unlock()
	assert.Equal(t, "codexhost-test", recv.attrs["service.name"])
	byName := map[string][]*tracepb.Span{}
	traces := map[string]bool{}
	for _, s := range recv.spans {
		byName[s.Name] = append(byName[s.Name], s)
		traces[hex.EncodeToString(s.TraceId)] = true
	}
	assert.Len(t, traces, 1, "one trace per run")
	require.Len(t, byName["codexhost run"], 1)
	require.Len(t, byName["turn"], 1)
	require.Len(t, byName["approval"], 2)
	require.Len(t, byName["plugin approval"], 2)
	run, turn := byName["codexhost run"][0], byName["turn"][0]
	assert.Empty(t, run.ParentSpanId)
	assert.Equal(t, run.SpanId, turn.ParentSpanId)
	assert.NotEmpty(t, spanAttrs(turn)["codexhost.thread_id"])
	decisions := map[string]string{}
	for _, req := range byName["approval"] {
		assert.Equal(t, turn.SpanId, req.ParentSpanId)
		var calls []*tracepb.Span
		for _, c := range byName["plugin approval"] {
			if string(c.ParentSpanId) == string(req.SpanId) {
				calls = append(calls, c)
			}
		}
		require.Len(t, calls, 1, "the policy's call is a child of its request")
		ca, ra := spanAttrs(calls[0]), spanAttrs(req)
		assert.Equal(t, "rules", ca["codexhost.plugin.name"])
		assert.Equal(t, "builtin", ca["codexhost.plugin.runtime"])
		assert.Len(t, ca["codexhost.plugin.digest"], 64)
		assert.Equal(t, ra["codexhost.decision"], ca["codexhost.decision"])
		assert.NotEmpty(t, ra["codexhost.item_id"])
		decisions[ra["codexhost.decision"]] = ra["codexhost.approval.kind"]
		assert.GreaterOrEqual(t, calls[0].EndTimeUnixNano, calls[0].StartTimeUnixNano)
		assert.GreaterOrEqual(t, calls[0].StartTimeUnixNano, req.StartTimeUnixNano)
		assert.LessOrEqual(t, calls[0].EndTimeUnixNano, req.EndTimeUnixNano)
	}
	assert.Equal(t, map[string]string{"accept": "command", "decline": "command"}, decisions)
}
