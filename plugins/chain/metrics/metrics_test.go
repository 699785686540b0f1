package metrics_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
	"github.com/codexhost/codexhost/plugins/chain/metrics"
)

// fakePlugin answers approvals with a fixed decision, or fails, after
// sleep: call it in a synctest bubble, whose fake clock makes the latency
// exact and costs no time.
type fakePlugin struct {
	m     abi.Manifest
	dec   abi.Decision
	err   error
	sleep time.Duration
}

func (p *fakePlugin) Manifest() *abi.Manifest     { return &p.m }
func (p *fakePlugin) Close(context.Context) error { return nil }
func (p *fakePlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if p.sleep > 0 {
		time.Sleep(p.sleep)
	}
	if p.err != nil {
		return nil, p.err
	}
	return json.Marshal(&abi.ApprovalResponse{Decision: p.dec, Reason: p.m.Name})
}

func approver(name string, d abi.Decision) *fakePlugin {
	return &fakePlugin{m: abi.Manifest{Name: name, Version: "1.2.3", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}, dec: d}
}

func commandRequest(cmd string) *host.Request {
	p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": cmd, "cwd": "/w", "startedAtMs": 1})
	return host.NewRequest("item/commandExecution/requestApproval", p)
}

// sample is one parsed sample line.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	helpRE   = regexp.MustCompile(`^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$`)
	typeRE   = regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$`)
	sampleRE = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$`)
	labelRE  = regexp.MustCompile(`^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)`)
)

// parseText parses the Prometheus text format strictly, line by line: every
// sample belongs to the family of the last TYPE line, which comes after its
// HELP line; label values are properly escaped.
func parseText(t *testing.T, r io.Reader) []sample {
	t.Helper()
	var out []sample
	sc := bufio.NewScanner(r)
	family, typ, lineNo := "", "", 0
	helped := map[string]bool{}
	typed := map[string]bool{}
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if m := helpRE.FindStringSubmatch(line); m != nil {
			require.False(t, helped[m[1]], "line %d: second HELP for %s", lineNo, m[1])
			helped[m[1]] = true
			continue
		}
		if m := typeRE.FindStringSubmatch(line); m != nil {
			require.True(t, helped[m[1]], "line %d: TYPE before HELP", lineNo)
			require.False(t, typed[m[1]], "line %d: second TYPE for %s", lineNo, m[1])
			typed[m[1]] = true
			family, typ = m[1], m[2]
			continue
		}
		m := sampleRE.FindStringSubmatch(line)
		require.NotNil(t, m, "line %d is not a sample: %q", lineNo, line)
		name := m[1]
		switch typ {
		case "summary":
			require.Contains(t, []string{family, family + "_sum", family + "_count"}, name, "line %d", lineNo)
		case "histogram":
			require.Contains(t, []string{family + "_bucket", family + "_sum", family + "_count"}, name, "line %d", lineNo)
		default:
			require.Equal(t, family, name, "line %d: sample outside its family", lineNo)
		}
		labels := map[string]string{}
		rest := m[3]
		for rest != "" {
			lm := labelRE.FindStringSubmatch(rest)
			require.NotNil(t, lm, "line %d: bad labels %q", lineNo, m[3])
			v := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n").Replace(lm[2])
			labels[lm[1]] = v
			rest = rest[len(lm[0]):]
		}
		v, err := strconv.ParseFloat(m[4], 64)
		require.NoError(t, err, "line %d: value", lineNo)
		out = append(out, sample{name, labels, v})
	}
	require.NoError(t, sc.Err())
	return out
}

// value returns the value of the one sample with name and (at least)
// these labels ("k=v" pairs).
func value(t *testing.T, samples []sample, name string, labels ...string) float64 {
	t.Helper()
	var found []sample
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for _, kv := range labels {
			k, v, _ := strings.Cut(kv, "=")
			if s.labels[k] != v {
				continue next
			}
		}
		found = append(found, s)
	}
	require.Len(t, found, 1, "%s%v", name, labels)
	return found[0].value
}

// The endpoint scraped over HTTP after known calls: the counts, the
// histograms and the status are exactly what happened.
func TestScrapeOverHTTP(t *testing.T) {
	m := metrics.NewHost(nil)
	accept := m.Instrument(approver("allow", abi.Accept))
	strict := m.Instrument(approver("strict", abi.Decline))
	crashy := m.Instrument(&fakePlugin{m: abi.Manifest{Name: "crashy", Version: "0.1.0", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		err: &plugins.CallError{Plugin: "crashy", Kind: plugins.FailTrap, Err: errors.New("unreachable")}})
	slow := m.Instrument(&fakePlugin{m: abi.Manifest{Name: "slow", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		err: &plugins.CallError{Plugin: "slow", Kind: plugins.FailTimeout, Err: context.DeadlineExceeded}, sleep: 3 * time.Millisecond})

	ch, err := chain.New(&chain.Options{
		Members: []chain.Member{
			{Plugin: accept, Digest: "d1g35t", Source: `/plugins/allow "v1".wasm`},
			{Plugin: strict, Monitor: true},
			{Plugin: crashy, CrashBudget: chain.CrashBudget{Failures: 2, Window: time.Minute}},
		},
		OnDecision: m.ObserveDecision,
	})
	require.NoError(t, err)
	m.SetStatus(ch.Status)
	for range 3 {
		_, err := commandRequest("touch x").Serve(t.Context(), ch)
		require.NoError(t, err)
	}
	// A direct call of a plugin that times out, after exactly 3ms on the
	// fake clock of a synctest bubble.
	synctest.Test(t, func(t *testing.T) {
		_, err := slow.Call(t.Context(), abi.HookApproval, []byte(`{}`))
		require.Error(t, err)
	})

	srv, err := metrics.Listen("127.0.0.1:0", m, nil)
	require.NoError(t, err)
	defer srv.Close()
	resp, err := http.Get("http://" + srv.Addr().String() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8"), resp.Header.Get("Content-Type"))
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	t.Logf("scrape:\n%s", body)
	s := parseText(t, strings.NewReader(string(body)))

	// Calls, by outcome.
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_calls_total", "plugin=allow", "hook=approval", "outcome=ok"))
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_calls_total", "plugin=strict", "hook=approval", "outcome=ok"), "monitors are called")
	assert.Equal(t, 2.0, value(t, s, "codexhost_plugin_calls_total", "plugin=crashy", "hook=approval", "outcome=error"), "disabled after 2: the third call was not made")
	assert.Equal(t, 0.0, value(t, s, "codexhost_plugin_calls_total", "plugin=crashy", "hook=approval", "outcome=ok"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_calls_total", "plugin=slow", "hook=approval", "outcome=timeout"))
	// Errors, by kind.
	assert.Equal(t, 2.0, value(t, s, "codexhost_plugin_errors_total", "plugin=crashy", "kind=trap"))
	assert.Equal(t, 0.0, value(t, s, "codexhost_plugin_errors_total", "plugin=crashy", "kind=timeout"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_errors_total", "plugin=slow", "kind=timeout"))
	// Latency histograms: cumulative buckets, _count = +Inf = calls.
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_call_duration_seconds_count", "plugin=allow"))
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_call_duration_seconds_bucket", "plugin=allow", "le=+Inf"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_call_duration_seconds_count", "plugin=slow"))
	assert.Equal(t, 0.0, value(t, s, "codexhost_plugin_call_duration_seconds_bucket", "plugin=slow", "le=0.001"), "the slow call took 3ms")
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_call_duration_seconds_bucket", "plugin=slow", "le=10"))
	assert.InDelta(t, 0.003, value(t, s, "codexhost_plugin_call_duration_seconds_sum", "plugin=slow"), 1e-12)
	for _, p := range []string{"allow", "strict", "crashy", "slow"} {
		last := -1.0
		for _, x := range s {
			if x.name == "codexhost_plugin_call_duration_seconds_bucket" && x.labels["plugin"] == p {
				assert.GreaterOrEqual(t, x.value, last, "buckets of %s are cumulative", p)
				last = x.value
			}
		}
	}
	// Decisions: the trap made the chain fall back (decline) each time.
	assert.Equal(t, 3.0, value(t, s, "codexhost_decisions_total", "hook=approval", "decision=decline", "source=fallback"))
	assert.Equal(t, 3.0, value(t, s, "codexhost_decision_duration_seconds_count", "hook=approval"))
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_answers_total", "plugin=allow", "answer=accept", "mode=enforce"))
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_answers_total", "plugin=strict", "answer=decline", "mode=monitor"))
	assert.Equal(t, 2.0, value(t, s, "codexhost_plugin_answers_total", "plugin=crashy", "answer=failed"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_answers_total", "plugin=crashy", "answer=disabled"))
	// Status.
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_info", "plugin=allow", "version=1.2.3", "digest=d1g35t",
		`source=/plugins/allow "v1".wasm`, "mode=enforce", "state=enabled"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_info", "plugin=strict", "mode=monitor", "state=enabled"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_info", "plugin=crashy", "state=disabled"))
	assert.Equal(t, 0.0, value(t, s, "codexhost_plugin_enabled", "plugin=crashy"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_enabled", "plugin=allow"))
	assert.Equal(t, 2.0, value(t, s, "codexhost_plugin_failures", "plugin=crashy"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_set_generation"))
	// The monitor declined while the chain ... declined too (fallback):
	// no disagreement; nothing exported yet.
	assert.NotContains(t, string(body), "codexhost_monitor_disagreements_total{")

	// A POST is refused; other paths are not found.
	r2, err := http.Post("http://"+srv.Addr().String()+"/metrics", "text/plain", nil)
	require.NoError(t, err)
	r2.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, r2.StatusCode)
	r3, err := http.Get("http://" + srv.Addr().String() + "/")
	require.NoError(t, err)
	r3.Body.Close()
	assert.Equal(t, http.StatusNotFound, r3.StatusCode)
}

func TestMonitorDisagreements(t *testing.T) {
	m := metrics.NewHost(nil)
	ch, err := chain.New(&chain.Options{
		Members:    []chain.Member{{Plugin: approver("allow", abi.Accept)}, {Plugin: approver("strict", abi.Decline), Monitor: true}},
		OnDecision: m.ObserveDecision,
	})
	require.NoError(t, err)
	for range 4 {
		_, err := commandRequest("touch x").Serve(t.Context(), ch)
		require.NoError(t, err)
	}
	var b strings.Builder
	b.WriteString(scrape(t, m))
	s := parseText(t, strings.NewReader(b.String()))
	assert.Equal(t, 4.0, value(t, s, "codexhost_monitor_disagreements_total", "plugin=strict"))
	assert.Equal(t, 4.0, value(t, s, "codexhost_decisions_total", "decision=accept", "source=plugin"))
}

func TestDecisionLogCounts(t *testing.T) {
	m := metrics.NewHost(&metrics.HostOptions{NoRuntimeMetrics: true})
	m.SetDecisionLog(func() audit.StreamStats {
		return audit.StreamStats{Exported: 7, QueueFull: 3, ExportFailed: 2, Unsent: 1}
	})
	s := parseText(t, strings.NewReader(scrape(t, m)))
	assert.Equal(t, 7.0, value(t, s, "codexhost_decision_log_exported_total"))
	assert.Equal(t, 3.0, value(t, s, "codexhost_decision_log_dropped_total", "reason=queue_full"))
	assert.Equal(t, 2.0, value(t, s, "codexhost_decision_log_dropped_total", "reason=export_failed"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_decision_log_dropped_total", "reason=unsent"))
}

func TestListenLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		assert.NoError(t, metrics.CheckLoopback(addr), addr)
	}
	for _, addr := range []string{":9464", "0.0.0.0:9464", "10.1.2.3:9464", "example.com:80"} {
		err := metrics.CheckLoopback(addr)
		assert.ErrorIs(t, err, metrics.ErrNotLoopback, addr)
	}
	assert.ErrorContains(t, metrics.CheckLoopback("127.0.0.1"), "want host:port")

	_, err := metrics.Listen(":0", metrics.NewHost(nil), nil)
	require.ErrorIs(t, err, metrics.ErrNotLoopback)
	srv, err := metrics.Listen(":0", metrics.NewHost(nil), &metrics.ListenOptions{AllowRemote: true})
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close(), "idempotent")
}

// Instrumenting a call allocates nothing.
func TestInstrumentDoesNotAllocate(t *testing.T) {
	m := metrics.NewHost(nil)
	p := m.Instrument(&nopPlugin{})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() { _, _ = p.Call(ctx, abi.HookApproval, nil) })
	assert.Zero(t, allocs)
	fail := m.Instrument(&nopPlugin{err: &plugins.CallError{Kind: plugins.FailTrap}})
	_, _ = fail.Call(ctx, abi.HookApproval, nil)
	allocs = testing.AllocsPerRun(1000, func() { _, _ = fail.Call(ctx, abi.HookApproval, nil) })
	assert.Zero(t, allocs)
}

type nopPlugin struct{ err error }

var nopManifest = abi.Manifest{Name: "nop", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}

func (p *nopPlugin) Manifest() *abi.Manifest     { return &nopManifest }
func (p *nopPlugin) Close(context.Context) error { return nil }
func (p *nopPlugin) Call(context.Context, abi.Hook, []byte) ([]byte, error) {
	return nil, p.err
}

// The cost of measuring a call: compare with BenchmarkCallRaw.
func BenchmarkCallInstrumented(b *testing.B) {
	p := metrics.NewHost(nil).Instrument(&nopPlugin{})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = p.Call(ctx, abi.HookApproval, nil)
		}
	})
}

func BenchmarkCallRaw(b *testing.B) {
	var p plugins.Plugin = &nopPlugin{}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = p.Call(ctx, abi.HookApproval, nil)
		}
	})
}

func BenchmarkObserveDecision(b *testing.B) {
	m := metrics.NewHost(nil)
	rec := &chain.DecisionRecord{Hook: abi.HookApproval, Decision: abi.Accept, Why: chain.Why{Kind: chain.WhyAnswer, Plugin: "allow"}, Latency: time.Millisecond,
		Answers: []chain.PluginAnswer{{Plugin: "a", Decision: abi.Accept}, {Plugin: "m", Decision: abi.Decline, Monitor: true}}}
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveDecision(rec)
	}
}

func BenchmarkScrape(b *testing.B) {
	m := metrics.NewHost(nil)
	for i := range 20 {
		p := m.Instrument(approver(fmt.Sprintf("p%d", i), abi.Accept))
		_, _ = p.Call(context.Background(), abi.HookApproval, nil)
	}
	for b.Loop() {
		_ = scrape(b, m)
	}
}

func Example() {
	m := metrics.NewHost(nil)
	policy := m.Instrument(approver("deny-rm", abi.Decline))
	ch, _ := chain.New(&chain.Options{Plugins: []plugins.Plugin{policy}, OnDecision: m.ObserveDecision})
	m.SetStatus(ch.Status)
	_, _ = commandRequest("rm -rf /").Serve(context.Background(), ch)

	var b strings.Builder
	b.WriteString(scrape(nil, m))
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "codexhost_decisions_total") || strings.HasPrefix(line, "codexhost_plugin_info") {
			fmt.Println(line)
		}
	}
	// Output:
	// codexhost_decisions_total{decision="decline",hook="approval",source="plugin"} 1
	// codexhost_plugin_info{digest="",mode="enforce",plugin="deny-rm",source="",state="enabled",version="1.2.3"} 1
}

func BenchmarkCallInstrumentedSerial(b *testing.B) {
	p := metrics.NewHost(nil).Instrument(&nopPlugin{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Call(ctx, abi.HookApproval, nil)
	}
}

// renderer renders event deltas, or traps.
type renderer struct {
	name string
	trap bool
	mu   sync.Mutex
	n    int
}

func (p *renderer) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: p.name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookEventRender}, Features: abi.FeatureRenderBatch}
}
func (p *renderer) Close(context.Context) error { return nil }
func (p *renderer) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if p.trap {
		return nil, &plugins.CallError{Plugin: p.name, Hook: hook, Kind: plugins.FailTrap}
	}
	var r abi.RenderRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.n += len(r.Events)
	p.mu.Unlock()
	return json.Marshal(abi.RenderResponse{Output: strings.Repeat(".", len(r.Events))})
}

// Render hooks fail open: an instrumented renderer that traps is measured
// and disabled by its crash budget in the chain, and the events keep flowing to the
// others.
func TestRenderFailsOpen(t *testing.T) {
	m := metrics.NewHost(nil)
	good, bad := &renderer{name: "good"}, &renderer{name: "bad", trap: true}
	var out strings.Builder
	var outMu sync.Mutex
	r, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{m.Instrument(bad), m.Instrument(good)}, CrashBudget: chain.CrashBudget{Failures: 3},
		Render: chain.RenderOptions{Output: writerFunc(func(b []byte) (int, error) { outMu.Lock(); defer outMu.Unlock(); return out.Write(b) })}})
	require.NoError(t, err)
	defer r.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for i := range 100 {
		r.ObserveEvent(&host.Event{Kind: abi.EventAgentMessageDelta, Seq: uint64(i + 1), Delta: "x"})
		if i < 5 {
			require.NoError(t, r.Flush(ctx)) // one event per call at first
		}
	}
	require.NoError(t, r.Flush(ctx))
	good.mu.Lock()
	assert.Equal(t, 100, good.n, "every event reached the working renderer")
	good.mu.Unlock()
	outMu.Lock()
	assert.Equal(t, 100, len(out.String()))
	outMu.Unlock()

	var b strings.Builder
	b.WriteString(scrape(t, m))
	s := parseText(t, strings.NewReader(b.String()))
	assert.Equal(t, 3.0, value(t, s, "codexhost_plugin_errors_total", "plugin=bad", "hook=event-render", "kind=trap"), "disabled after 3 failures")
	assert.Positive(t, value(t, s, "codexhost_plugin_calls_total", "plugin=good", "hook=event-render", "outcome=ok"))
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// scrape returns what a Prometheus scrape of h reads.
func scrape(t testing.TB, h http.Handler) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if t != nil && rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d", rec.Code)
	}
	return rec.Body.String()
}

// A scraper that asks for OpenMetrics (as Prometheus does) gets it, with
// the same series; the process and Go runtime collectors are there.
func TestOpenMetricsNegotiation(t *testing.T) {
	m := metrics.NewHost(nil)
	p := m.Instrument(approver("allow", abi.Accept))
	for range 2 {
		_, err := p.Call(t.Context(), abi.HookApproval, nil)
		require.NoError(t, err)
	}
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.1")
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "application/openmetrics-text; version=1.0.0"), rec.Header().Get("Content-Type"))
	body := rec.Body.String()
	assert.True(t, strings.HasSuffix(body, "# EOF\n"), "an OpenMetrics exposition ends with # EOF")
	// OpenMetrics names the counter family without _total, its sample with it.
	assert.Contains(t, body, "# TYPE codexhost_plugin_calls counter\n")
	assert.Contains(t, body, `codexhost_plugin_calls_total{hook="approval",outcome="ok",plugin="allow"} 2.0`+"\n")
	assert.Contains(t, body, `codexhost_plugin_call_duration_seconds_count{hook="approval",plugin="allow"} 2`+"\n")

	// Without an Accept header: the Prometheus text format, with the
	// runtime collectors.
	s := parseText(t, strings.NewReader(scrape(t, m)))
	assert.Equal(t, 2.0, value(t, s, "codexhost_plugin_calls_total", "plugin=allow", "outcome=ok"))
	assert.Positive(t, value(t, s, "go_goroutines"))
	assert.Positive(t, value(t, s, "process_resident_memory_bytes"))
	assert.Positive(t, value(t, s, "process_start_time_seconds"))

	// Without them, on request.
	bare := scrape(t, metrics.NewHost(&metrics.HostOptions{NoRuntimeMetrics: true}))
	assert.NotContains(t, bare, "go_goroutines")
	assert.NotContains(t, bare, "process_")
}

// Two plugins of one name make one series of each status metric, and
// the scrape succeeds.
func TestSameNameTwice(t *testing.T) {
	m := metrics.NewHost(nil)
	ch, err := chain.New(&chain.Options{Members: []chain.Member{
		{Plugin: m.Instrument(approver("twin", abi.Accept)), Digest: "d"},
		{Plugin: m.Instrument(approver("twin", abi.Accept)), Digest: "d"},
	}, OnDecision: m.ObserveDecision})
	require.NoError(t, err)
	m.SetStatus(ch.Status)
	_, err = commandRequest("ls").Serve(t.Context(), ch)
	require.NoError(t, err)
	s := parseText(t, strings.NewReader(scrape(t, m)))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_info", "plugin=twin"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_enabled", "plugin=twin"))
	assert.Equal(t, 2.0, value(t, s, "codexhost_plugin_calls_total", "plugin=twin", "outcome=ok"))
	// A failed gathering is counted; the second scrape shows the first.
	s = parseText(t, strings.NewReader(scrape(t, m)))
	assert.Equal(t, 0.0, value(t, s, "promhttp_metric_handler_errors_total", "cause=gathering"))
}

// A plugin that a reload removed left its series in every scrape for the
// life of the process. They go when the last open plugin of the name is
// closed: a reload that keeps the name (the new set is instrumented
// before the old one is closed) keeps them.
func TestClosedPluginsSeriesGo(t *testing.T) {
	m := metrics.NewHost(&metrics.HostOptions{NoRuntimeMetrics: true})
	old := m.Instrument(approver("gone", abi.Accept))
	kept := m.Instrument(approver("kept", abi.Decline))
	ch, err := chain.New(&chain.Options{Members: []chain.Member{{Plugin: old}, {Plugin: kept}}, OnDecision: m.ObserveDecision})
	require.NoError(t, err)
	_, err = commandRequest("ls").Serve(t.Context(), ch)
	require.NoError(t, err)
	require.Contains(t, scrape(t, m), `plugin="gone"`)

	// A reload that keeps "gone": its new instance, then the old closed.
	again := m.Instrument(approver("gone", abi.Accept))
	require.NoError(t, old.Close(t.Context()))
	require.NoError(t, old.Close(t.Context()), "Close is idempotent")
	s := parseText(t, strings.NewReader(scrape(t, m)))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_calls_total", "plugin=gone", "outcome=ok"), "kept across a reload")

	// A reload that removes it.
	require.NoError(t, again.Close(t.Context()))
	body := scrape(t, m)
	assert.NotContains(t, body, `plugin="gone"`)
	s = parseText(t, strings.NewReader(body))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_calls_total", "plugin=kept", "outcome=ok"))
	assert.Equal(t, 1.0, value(t, s, "codexhost_plugin_answers_total", "plugin=kept"))
}
