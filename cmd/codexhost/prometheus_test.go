package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// prometheusBin is Debian's Prometheus server (make prometheus).
const prometheusBin = "/usr/bin/prometheus"

// A real Prometheus scrapes a codexhost run on the real codex: three
// commands, two accepted and one declined by the rules policy. The turn's
// last model request waits until Prometheus has scraped the endpoint after
// the third decision; then the counts are read back through Prometheus's
// query API.
func TestPrometheusScrapesRealRun(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(prometheusBin); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v: this test needs Debian's prometheus under CI (make prometheus installs it)", prometheusBin, err)
		}
		t.Skipf("%s is not installed (make prometheus installs it): skipping the scrape by a real Prometheus", prometheusBin)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// The turn: echo (accept), git push (decline), echo (accept), then a
	// last model request that waits for open.
	steps := hosttest.Turn(hosttest.ExecCommand("echo one > one.txt"), hosttest.ExecCommand("git push origin main"),
		hosttest.ExecCommand("echo two > two.txt"), hosttest.Text("done"))
	var n atomic.Int32
	lastAsked, open := make(chan struct{}), make(chan struct{})
	script := hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		if n.Add(1) == 4 { // every command has been decided
			close(lastAsked)
			select {
			case <-open:
			case <-r.Closed: // the test failed before it opened the gate
			}
		}
		return steps.Reply(r)
	})
	_, home := fakeCodexHome(t, script)
	dropApprovalPolicy(t, home)
	rules := writeRules(t, testRules+pushRules)
	work := t.TempDir()
	a := startRun(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "--render", "none",
		"--metrics-addr", "127.0.0.1:0", "do three things")
	defer func() {
		select {
		case <-open:
		default:
			close(open)
		}
	}()
	target := a.waitStderr(t, `codexhost: metrics at http://(\S+)/metrics\n`)[1]

	prom := startPrometheus(ctx, t, target)
	select {
	case <-lastAsked:
	case <-ctx.Done():
		t.Fatalf("the model was never asked after the third command:\n%s", a.stderr.String())
	}
	decided := time.Now()
	// Wait (until ctx's deadline) until Prometheus holds the samples of a
	// scrape that began after the last decision: its counts are final.
	prom.waitScrape(ctx, t, decided)

	v := prom.query(ctx, t, `codexhost_decisions_total{hook="approval"}`)
	assert.Equal(t, map[string]float64{
		`decision="accept",hook="approval",instance="` + target + `",job="codexhost",source="plugin"`:  2,
		`decision="decline",hook="approval",instance="` + target + `",job="codexhost",source="plugin"`: 1,
	}, v)
	v = prom.query(ctx, t, `sum by (outcome) (codexhost_plugin_calls_total{hook="approval"})`)
	assert.Equal(t, map[string]float64{`outcome="error"`: 0, `outcome="ok"`: 3, `outcome="timeout"`: 0}, v)
	v = prom.query(ctx, t, `sum(codexhost_decision_duration_seconds_count)`)
	assert.Equal(t, map[string]float64{``: 3}, v)
	v = prom.query(ctx, t, `count(go_goroutines) + count(process_start_time_seconds)`)
	assert.Equal(t, map[string]float64{``: 2}, v, "the Go and process collectors")

	close(open)
	assert.Equal(t, exitDeclined, a.wait(t))
	assert.FileExists(t, filepath.Join(work, "two.txt"))
}

// promServer is a Prometheus server started by a test.
type promServer struct {
	base string // http://127.0.0.1:PORT
}

// startPrometheus starts Prometheus on a free loopback port with a
// configuration that scrapes target (host:port) every 500ms, and waits
// until it is ready. It is stopped when the test ends.
func startPrometheus(ctx context.Context, t *testing.T, target string) *promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	require.NoError(t, os.WriteFile(cfg, fmt.Appendf(nil, `global:
  scrape_interval: 500ms
  scrape_timeout: 400ms
scrape_configs:
  - job_name: codexhost
    static_configs:
      - targets: [%q]
`, target), 0o644))
	// Prometheus has no port 0 and takes no listener: it gets a port that
	// was free a moment ago, and another one if something took it first.
	for attempt := 1; ; attempt++ {
		p, log, err := launchPrometheus(ctx, t, cfg, filepath.Join(dir, fmt.Sprint("data", attempt)), freeLoopbackAddr(t))
		if err == nil {
			return p
		}
		if attempt < portAttempts && addrInUse(log) {
			t.Logf("prometheus: %v; again on another port", err)
			continue
		}
		t.Fatalf("prometheus: %v", err)
	}
}

// launchPrometheus starts Prometheus on addr and waits until it is ready;
// it is stopped when the test ends. If it exits first, the error says so
// and log is its log.
func launchPrometheus(ctx context.Context, t *testing.T, cfg, data, addr string) (p *promServer, log string, err error) {
	t.Helper()
	pctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(pctx, prometheusBin, "--config.file="+cfg, "--storage.tsdb.path="+data,
		"--web.listen-address="+addr, "--log.level=warn")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, "", err
	}
	exited := make(chan error, 1)
	// A readiness probe ends when Prometheus exits: whatever else took
	// the port may accept it and never answer.
	probeCtx, endProbes := context.WithCancel(ctx)
	defer endProbes()
	go func() {
		exited <- cmd.Wait()
		endProbes()
	}()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			t.Logf("prometheus log (%s):\n%s", addr, out.String())
		}
	})
	p = &promServer{base: "http://" + addr}
	err = p.until(probeCtx, func() (bool, error) {
		select {
		case err := <-exited:
			exited <- err
			return false, fmt.Errorf("exited: %v:\n%s", err, out.String())
		default:
		}
		req, err := http.NewRequestWithContext(probeCtx, http.MethodGet, p.base+"/-/ready", nil)
		if err != nil {
			return false, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, nil // not listening yet, or it exited (seen next)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		select {
		case xerr := <-exited: // it ended the probes
			exited <- xerr
			err = fmt.Errorf("exited: %v:\n%s", xerr, out.String())
		default:
		}
		return nil, out.String(), fmt.Errorf("ready on %s: %w", addr, err)
	}
	return p, "", nil
}

// poll calls cond every 50ms until it is true, fails, or ctx ends.
func (p *promServer) poll(ctx context.Context, t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	require.NoError(t, p.until(ctx, cond), "prometheus: %s", what)
}

// until calls cond every 50ms until it is true (nil), fails (its error),
// or ctx ends (ctx's error).
func (p *promServer) until(ctx context.Context, cond func() (bool, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (p *promServer) get(ctx context.Context, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", path, resp.Status, b)
	}
	return json.Unmarshal(b, out)
}

// waitScrape waits until Prometheus holds, for every series of the one
// target, a sample of a scrape that began after since. Not until the
// targets API reports such a scrape: Prometheus sets a target's health and
// lastScrape (scrapeLoop.report) before it commits the scrape's samples
// (both are deferred in scrapeAndReport, the commit runs last), so a query
// right after could still read the scrape before.
func (p *promServer) waitScrape(ctx context.Context, t *testing.T, since time.Time) {
	t.Helper()
	// A sample's timestamp is its scrape's start cut to the millisecond,
	// moved by up to 2 ms to align it with the scrape interval
	// (scrape.ScrapeTimestampTolerance): one 3 ms after since is of a
	// scrape that began after since.
	after := float64(since.UnixMilli()+3) / 1000
	p.poll(ctx, t, "a scrape after the last decision", func() (bool, error) {
		var tg struct {
			Data struct {
				ActiveTargets []struct {
					Health    string `json:"health"`
					LastError string `json:"lastError"`
				} `json:"activeTargets"`
			} `json:"data"`
		}
		if err := p.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}}, &tg); err != nil {
			return false, err
		}
		if len(tg.Data.ActiveTargets) == 1 && tg.Data.ActiveTargets[0].Health == "down" {
			return false, fmt.Errorf("the target is down: %s", tg.Data.ActiveTargets[0].LastError)
		}
		var r struct {
			Data struct {
				Result []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		// timestamp drops the metric name: label_replace keeps the
		// series apart.
		q := `min(timestamp(label_replace({job="codexhost"}, "name", "$1", "__name__", "(.+)")))`
		if err := p.get(ctx, "/api/v1/query", url.Values{"query": {q}}, &r); err != nil {
			return false, err
		}
		if len(r.Data.Result) != 1 {
			return false, nil // not scraped yet
		}
		str, ok := r.Data.Result[0].Value[1].(string)
		if !ok {
			return false, fmt.Errorf("timestamp query: value %v", r.Data.Result[0].Value)
		}
		ts, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return false, err
		}
		return ts >= after, nil
	})
}

var labelPairRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// query runs an instant PromQL query and returns its vector as a map
// from the sorted label pairs ("k=\"v\",...", without __name__) to the
// value.
func (p *promServer) query(ctx context.Context, t *testing.T, q string) map[string]float64 {
	t.Helper()
	var r struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, p.get(ctx, "/api/v1/query", url.Values{"query": {q}}, &r), q)
	require.Equal(t, "success", r.Status, q)
	require.Equal(t, "vector", r.Data.ResultType, q)
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		delete(s.Metric, "__name__")
		keys := make([]string, 0, len(s.Metric))
		for k := range s.Metric {
			require.Regexp(t, labelPairRE, k)
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var key string
		for i, k := range keys {
			if i > 0 {
				key += ","
			}
			key += k + "=" + strconv.Quote(s.Metric[k])
		}
		str, ok := s.Value[1].(string)
		require.True(t, ok, "value %v", s.Value)
		v, err := strconv.ParseFloat(str, 64)
		require.NoError(t, err)
		out[key] = v
	}
	t.Logf("%s => %v", q, out)
	return out
}

// The alert rules and the PromQL queries of docs/operations.md are valid:
// promtool (from the same Debian package) checks the rule file, and every
// query as the expression of a recording rule.
func TestOperationsDocPromQL(t *testing.T) {
	t.Parallel()
	promtool := filepath.Join(filepath.Dir(prometheusBin), "promtool")
	if _, err := os.Stat(promtool); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s: %v: needed under CI (make prometheus installs it)", promtool, err)
		}
		t.Skipf("%s is not installed (make prometheus installs it)", promtool)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "operations.md"))
	require.NoError(t, err)
	blocks := func(lang string) []string {
		re := regexp.MustCompile("(?ms)^```" + lang + "\n(.*?)^```\n")
		var out []string
		for _, m := range re.FindAllStringSubmatch(string(doc), -1) {
			out = append(out, m[1])
		}
		return out
	}
	var alerts string
	for _, b := range blocks("yaml") {
		if strings.HasPrefix(b, "groups:") {
			alerts = b
		}
	}
	require.NotEmpty(t, alerts, "docs/operations.md has no ```yaml block of alert rules")
	var queries []string
	for _, b := range blocks("promql") {
		for _, line := range strings.Split(b, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				queries = append(queries, line)
			}
		}
	}
	require.GreaterOrEqual(t, len(queries), 5)
	rec := "groups:\n  - name: docs-queries\n    rules:\n"
	for i, q := range queries {
		rec += fmt.Sprintf("      - record: docs:query%d\n        expr: %s\n", i, strconv.Quote(q))
	}
	dir := t.TempDir()
	alertFile, recFile := filepath.Join(dir, "alerts.yml"), filepath.Join(dir, "queries.yml")
	require.NoError(t, os.WriteFile(alertFile, []byte(alerts), 0o644))
	require.NoError(t, os.WriteFile(recFile, []byte(rec), 0o644))
	out, err := exec.Command(promtool, "check", "rules", alertFile, recFile).CombinedOutput()
	require.NoError(t, err, "promtool check rules:\n%s", out)
	assert.Contains(t, string(out), "SUCCESS: 5 rules found")
	assert.Contains(t, string(out), fmt.Sprintf("SUCCESS: %d rules found", len(queries)))
}
