package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// otelcolBin is the OpenTelemetry Collector `make otelcol` builds
// (tools/otelcol: the OTLP receiver and the file exporter), relative to
// this package's directory.
const otelcolBin = "../../.cache/bin/otelcol"

// The OTLP/JSON the collector's file exporter writes, one export per
// line: what the test reads of it.
type otlpKV struct {
	Key   string       `json:"key"`
	Value otlpAnyValue `json:"value"`
}

type otlpAnyValue struct {
	StringValue *string  `json:"stringValue"`
	DoubleValue *float64 `json:"doubleValue"`
	ArrayValue  *struct {
		Values []otlpAnyValue `json:"values"`
	} `json:"arrayValue"`
	KvlistValue *struct {
		Values []otlpKV `json:"values"`
	} `json:"kvlistValue"`
}

type otlpResource struct {
	Attributes []otlpKV `json:"attributes"`
}

type otlpFileLine struct {
	ResourceSpans []struct {
		Resource   otlpResource `json:"resource"`
		ScopeSpans []struct {
			Spans []otlpSpan `json:"spans"`
		} `json:"scopeSpans"`
	} `json:"resourceSpans"`
	ResourceLogs []struct {
		Resource  otlpResource `json:"resource"`
		ScopeLogs []struct {
			LogRecords []otlpLog `json:"logRecords"`
		} `json:"scopeLogs"`
	} `json:"resourceLogs"`
}

type otlpSpan struct {
	TraceID      string   `json:"traceId"`
	SpanID       string   `json:"spanId"`
	ParentSpanID string   `json:"parentSpanId"`
	Name         string   `json:"name"`
	Attributes   []otlpKV `json:"attributes"`
}

type otlpLog struct {
	EventName    string   `json:"eventName"`
	SeverityText string   `json:"severityText"`
	TraceID      string   `json:"traceId"`
	SpanID       string   `json:"spanId"`
	Attributes   []otlpKV `json:"attributes"`
}

// strs are the string attributes of kvs.
func strs(kvs []otlpKV) map[string]string {
	out := map[string]string{}
	for _, kv := range kvs {
		if kv.Value.StringValue != nil {
			out[kv.Key] = *kv.Value.StringValue
		}
	}
	return out
}

func attr(kvs []otlpKV, key string) *otlpAnyValue {
	for i := range kvs {
		if kvs[i].Key == key {
			return &kvs[i].Value
		}
	}
	return nil
}

// collector is a running OpenTelemetry Collector.
type collector struct {
	endpoint string // http://127.0.0.1:PORT, its OTLP/HTTP receiver
	out      string // the file exporter's file
	cmd      *exec.Cmd
	exited   chan error
	log      *syncBuffer
}

// startCollector starts the collector with an OTLP/HTTP receiver on a free
// loopback port and a file exporter for traces and logs, and returns once
// it says it is ready (it reads the collector's log line by line: no
// polling). Under `make test-otel` (CODEXHOST_REQUIRE_OTELCOL=1) a missing
// collector fails the test; elsewhere it skips it: `make test` does not
// build it (a cold build is ~4 CPU-minutes, over CI's budget).
func startCollector(t *testing.T) *collector {
	t.Helper()
	bin, err := filepath.Abs(otelcolBin)
	require.NoError(t, err)
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CODEXHOST_REQUIRE_OTELCOL") != "" {
			t.Fatalf("%s: %v: this test needs the collector (make otelcol builds it)", bin, err)
		}
		t.Skipf("%s is missing (make test-otel builds it and runs this test): skipping the test against a real OTLP receiver", bin)
	}
	dir := t.TempDir()
	// The collector takes no listener, and with port 0 it would not say
	// which port it bound: it gets a port that was free a moment ago, and
	// another one if something took it first.
	for attempt := 1; ; attempt++ {
		c, err := launchCollector(t, bin, filepath.Join(dir, fmt.Sprint(attempt)), freeLoopbackAddr(t))
		if err == nil {
			return c
		}
		if attempt < portAttempts && addrInUse(c.log.String()) {
			t.Logf("%v; again on another port", err)
			continue
		}
		t.Fatal(err)
	}
}

// launchCollector starts the collector with its OTLP/HTTP receiver on addr,
// its files in dir, and waits until it is ready. It is stopped when the
// test ends. If it exits first or is not ready within a minute, it returns
// an error and the collector, for its log.
func launchCollector(t *testing.T, bin, dir, addr string) (*collector, error) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	c := &collector{endpoint: "http://" + addr, out: filepath.Join(dir, "out.json"), log: &syncBuffer{}, exited: make(chan error, 1)}
	cfg := filepath.Join(dir, "otelcol.yaml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `receivers:
  otlp:
    protocols:
      http:
        endpoint: %q
exporters:
  file:
    path: %q
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
    logs:
      receivers: [otlp]
      exporters: [file]
`, addr, c.out), 0o644))
	c.cmd = exec.Command(bin, "--config", cfg)
	stderr, err := c.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Start())
	ready := make(chan struct{})
	go func() {
		// The log, line by line: ready at "Everything is ready", then kept
		// for the failure message.
		sc := bufio.NewScanner(stderr)
		signal := ready
		for sc.Scan() {
			c.log.Write(append(sc.Bytes(), '\n'))
			if signal != nil && strings.Contains(sc.Text(), "Everything is ready") {
				close(signal)
				signal = nil
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		c.exited <- c.cmd.Wait()
	}()
	t.Cleanup(func() {
		select {
		case err := <-c.exited:
			c.exited <- err // stopped already
		default:
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
		if t.Failed() {
			t.Logf("collector log (%s):\n%s", addr, c.log.String())
		}
	})
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case <-ready:
		return c, nil
	case err := <-c.exited:
		c.exited <- err
		return c, fmt.Errorf("the collector exited before it was ready on %s: %v\n%s", addr, err, c.log.String())
	case <-timer.C:
		return c, fmt.Errorf("the collector was not ready on %s after a minute:\n%s", addr, c.log.String())
	}
}

// stop stops the collector with SIGTERM (it flushes its exporters) and
// returns what the file exporter wrote.
func (c *collector) stop(t *testing.T) []otlpFileLine {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case err := <-c.exited:
		c.exited <- err
		require.NoError(t, err, "collector log:\n%s", c.log.String())
	case <-timer.C:
		t.Fatalf("the collector did not stop a minute after SIGTERM:\n%s", c.log.String())
	}
	b, err := os.ReadFile(c.out)
	require.NoError(t, err)
	var lines []otlpFileLine
	for line := range strings.Lines(string(b)) {
		var l otlpFileLine
		require.NoError(t, json.Unmarshal([]byte(line), &l), "%s", line)
		lines = append(lines, l)
	}
	return lines
}

// A real OpenTelemetry Collector receives a real-codex run over OTLP/HTTP:
// one trace with the run, its turn, a span per approval and the rules
// policy's call in each; and a decision log record per approval, on the
// approval's span, masked as --audit-mask says, with the hash of its
// line in the (unmasked) local audit log. codexhost flushes at exit; the
// collector flushes its file at SIGTERM.
func TestOTLPCollectorReceivesRun(t *testing.T) {
	col := startCollector(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.endpoint)
	t.Setenv("OTEL_SERVICE_NAME", "codexhost-otelcol-test")
	for _, k := range []string{"OTEL_SDK_DISABLED", "OTEL_TRACES_EXPORTER", "OTEL_LOGS_EXPORTER", "OTEL_EXPORTER_OTLP_PROTOCOL",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL"} {
		t.Setenv(k, "")
	}
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("echo one > one.txt"), hosttest.ExecCommand("git push origin main"), hosttest.Text("done")))
	dropApprovalPolicy(t, home)
	rules := writeRules(t, testRules+pushRules)
	work := t.TempDir()
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "--render", "none",
		"--audit", auditFile, "--audit-mask", "summary,answers.reason", "go")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "not exported")
	lines := col.stop(t)

	var spans []otlpSpan
	var logs []otlpLog
	for _, l := range lines {
		for _, rs := range l.ResourceSpans {
			assert.Equal(t, "codexhost-otelcol-test", strs(rs.Resource.Attributes)["service.name"])
			for _, ss := range rs.ScopeSpans {
				spans = append(spans, ss.Spans...)
			}
		}
		for _, rl := range l.ResourceLogs {
			assert.Equal(t, "codexhost-otelcol-test", strs(rl.Resource.Attributes)["service.name"])
			for _, sl := range rl.ScopeLogs {
				logs = append(logs, sl.LogRecords...)
			}
		}
	}

	// One trace: run → turn → approval → plugin approval.
	byName := map[string][]otlpSpan{}
	traces := map[string]bool{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
		traces[s.TraceID] = true
	}
	require.Len(t, traces, 1, "one trace per run")
	require.Len(t, byName["codexhost run"], 1)
	require.Len(t, byName["turn"], 1)
	require.Len(t, byName["approval"], 2)
	require.Len(t, byName["plugin approval"], 2)
	run, turn := byName["codexhost run"][0], byName["turn"][0]
	assert.Empty(t, run.ParentSpanID)
	assert.Equal(t, run.SpanID, turn.ParentSpanID)
	approvals := map[string]otlpSpan{} // by span id
	for _, req := range byName["approval"] {
		assert.Equal(t, turn.SpanID, req.ParentSpanID)
		approvals[req.SpanID] = req
	}
	for _, call := range byName["plugin approval"] {
		req, ok := approvals[call.ParentSpanID]
		require.True(t, ok, "the plugin call is a child of an approval")
		assert.Equal(t, strs(req.Attributes)["codexhost.decision"], strs(call.Attributes)["codexhost.decision"])
		assert.Equal(t, "rules", strs(call.Attributes)["codexhost.plugin.name"])
	}

	// The decision log: a record per approval, on its span, masked; the
	// local log has the same records, unmasked, with the same hashes.
	local := readAuditEntries(t, auditFile)
	require.Len(t, local, 2)
	require.Len(t, logs, 2)
	decisions := map[string]string{}
	for i, l := range logs {
		a := strs(l.Attributes)
		assert.Equal(t, audit.EventName, l.EventName)
		assert.Equal(t, run.TraceID, l.TraceID, "the record is in the run's trace")
		req, ok := approvals[l.SpanID]
		require.True(t, ok, "the record is on its approval's span")
		assert.Equal(t, strs(req.Attributes)["codexhost.decision"], a["decision"])
		assert.Equal(t, strs(req.Attributes)["codexhost.item_id"], a["itemId"])
		decisions[a["decision"]] = l.SeverityText
		assert.Equal(t, audit.Masked, a["summary"])
		assert.Equal(t, local[i].Hash, a["hash"], "sent in the order of the local log, with its hash")
		assert.Equal(t, local[i].Prev, a["prev"])
		assert.Equal(t, local[i].ItemID, a["itemId"])
		assert.NotEqual(t, audit.Masked, local[i].Summary, "the local log is not masked")
		assert.NotEmpty(t, a["answer"])
		answers := attr(l.Attributes, "answers")
		require.NotNil(t, answers)
		require.NotNil(t, answers.ArrayValue)
		require.Len(t, answers.ArrayValue.Values, 1)
		sub := strs(answers.ArrayValue.Values[0].KvlistValue.Values)
		assert.Equal(t, "rules", sub["plugin"])
		assert.Equal(t, audit.Masked, sub["reason"])
		assert.NotEmpty(t, local[i].Answers[0].Reason)
	}
	assert.Equal(t, map[string]string{"accept": "INFO", "decline": "INFO"}, decisions)
	assert.Contains(t, local[1].Summary, "git push origin main")
}

func readAuditEntries(t *testing.T, path string) []audit.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []audit.Entry
	for line := range strings.Lines(string(b)) {
		var e audit.Entry
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		out = append(out, e)
	}
	return out
}

// An unknown field in --audit-mask is a usage error that names it, before
// codex starts.
func TestAuditMaskUnknownField(t *testing.T) {
	r := runCmd(t, "run", "--codex", "/nonexistent/codex", "--audit-mask", "summary,comand", "go")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `--audit-mask: audit: unknown field "comand" in the mask`)
}
