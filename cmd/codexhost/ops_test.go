package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// The tests never read the developer's own configuration file.
func init() { os.Setenv("XDG_CONFIG_HOME", "/nonexistent/codexhost-test-config") }

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

var (
	rulesOnce sync.Once
	rulesWasm []byte
	rulesErr  error
)

// rulesPlugin builds the shipped rules plugin for Wasm into dir.
func rulesPlugin(t *testing.T, dir string) string {
	t.Helper()
	rulesOnce.Do(func() { rulesWasm, rulesErr = plugintest.GoGuest("../../plugins/rules/cmd/rules-policy") })
	require.NoError(t, rulesErr)
	return writeFile(t, dir, "rules-policy.wasm", string(rulesWasm))
}

func TestConfigBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badWasm := writeFile(t, dir, "bad.wasm", "\x00asm\x01\x00\x00\x00garbage")
	unknownKey := writeFile(t, dir, "unknown.toml", "render = \"exec\"\n\n[[plugin]]\npath = \"p.wasm\"\ntiemout = \"1s\"\n")
	wrongType := writeFile(t, dir, "type.toml", "[chain]\nfallback = 1\n")
	badPlugin := writeFile(t, dir, "badplugin.toml", "[[plugin]]\npath = \"bad.wasm\"\n")
	missingPlugin := writeFile(t, dir, "missing.toml", "[[plugin]]\npath = \"nowhere.wasm\"\n")
	badRender := writeFile(t, dir, "render.toml", "render = \"html\"\n")
	metricsRemote := writeFile(t, dir, "metrics.toml", "[metrics]\naddr = \"0.0.0.0:0\"\n")

	for _, tc := range []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"missing config file", []string{"--config-file", "/no/such/codexhost.toml"}, []string{"--config-file /no/such/codexhost.toml: no such file"}},
		{"config file is a directory", []string{"--config-file", dir}, []string{dir}},
		{"unknown key", []string{"--config-file", unknownKey}, []string{unknownKey + `:5: unknown key "plugin.tiemout"`, "docs/configuration.md"}},
		{"wrong type", []string{"--config-file", wrongType}, []string{wrongType + ":2: chain.fallback: wrong type"}},
		{"bad value", []string{"--config-file", badRender}, []string{badRender + `:1: render: "html"`}},
		{"plugin that does not load", []string{"--config-file", badPlugin}, []string{badWasm, "does not load"}},
		{"missing plugin", []string{"--config-file", missingPlugin}, []string{filepath.Join(dir, "nowhere.wasm"), "no such file"}},
		{"grant for an unknown plugin", []string{"--plugin", badWasm, "--grant", "policy:env=HOME"}, []string{`--grant policy:env=HOME: no plugin named "policy" (the plugins are bad`}},
		{"grant without plugins", []string{"--grant", "policy:network"}, []string{`no plugin named "policy" (there are no plugins`}},
		{"bad grant", []string{"--plugin", badWasm, "--grant", "bad:files=/"}, []string{`--grant "bad:files=/": unknown capability "files=/"`}},
		{"grant without capability", []string{"--plugin", badWasm, "--grant", "bad"}, []string{`--grant "bad": want PLUGIN:CAPABILITY`}},
		{"monitor unknown plugin", []string{"--plugin", badWasm, "--monitor", "nope"}, []string{`--monitor nope: no plugin named "nope"`}},
		{"bad crash budget", []string{"--crash-budget", "many"}, []string{`--crash-budget "many": want N/WINDOW`}},
		{"bad crash budget window", []string{"--crash-budget", "3/soon"}, []string{`"soon" is not a positive duration`}},
		{"metrics not loopback", []string{"--metrics-addr", "0.0.0.0:9464"}, []string{"--metrics-addr 0.0.0.0:9464 is not a loopback address", "--metrics-allow-remote"}},
		{"metrics not loopback from the file", []string{"--config-file", metricsRemote}, []string{"--metrics-addr 0.0.0.0:0 is not a loopback address"}},
		{"metrics bad address", []string{"--metrics-addr", "9464"}, []string{"--metrics-addr 9464:", "want host:port"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, append(append([]string{"run"}, tc.args...), "hi")...)
			assert.Equal(t, exitUsage, r.code)
			require.True(t, strings.HasPrefix(r.stderr, "codexhost: "), "one line that starts with codexhost:")
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line")
			for _, s := range tc.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.Empty(t, r.stdout)
		})
	}
}

// A plugin that asks for a capability loads only when it is granted; the
// refusal says how to grant it. --grant adds to the file's grants.
func TestRunGrant(t *testing.T) {
	t.Parallel()
	bin, err := plugintest.ProcessGuest("../../examples/allowlist")
	require.NoError(t, err)
	var asked atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		fmt.Fprint(w, `{"allow": true, "why": "on the list"}`)
	})}
	ln := listenLoopback(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("echo listed > listed.txt"), hosttest.Text("done")))
	dir := t.TempDir()
	cfg := writeFile(t, dir, "codexhost.toml", fmt.Sprintf(`[[plugin]]
path = %q
settings = { url = "http://%s/allow" }
`, bin, ln.Addr()))

	r := runCmd(t, "run", "--config-file", cfg, "--codex-home", home, "--cwd", t.TempDir(), "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "asks for network access")
	assert.Contains(t, r.stderr, "grant it with --grant allowlist:CAP")

	work := t.TempDir()
	r = runCmd(t, "run", "--config-file", cfg, "--grant", "allowlist:network", "--codex-home", home, "--cwd", work, "write it")
	require.Equal(t, exitOK, r.code)
	assert.FileExists(t, filepath.Join(work, "listed.txt"))
	assert.Equal(t, int32(1), asked.Load(), "the granted plugin reached the service")
}

// The file configures the chain; flags override it.
func TestRunConfigFile(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")))
	dir := t.TempDir()
	policy := policyPlugin(t)
	work := t.TempDir()
	victim := writeFile(t, work, "victim.txt", "keep me")
	cfg := writeFile(t, dir, "codexhost.toml", fmt.Sprintf(`render = "json"
audit = "decisions.jsonl"

[chain]
fallback = "decline"

[[plugin]]
path = %q
sha256 = %q

[codex]
home = %q
cwd = %q
`, policy, digestOf(t, policy), home, work))

	// --render none overrides the file's json: the output is the answer only.
	r := runCmd(t, "run", "--config-file", cfg, "--render", "none", "remove", "it")
	assert.Equal(t, exitDeclined, r.code)
	assert.Equal(t, "tried\n", r.stdout)
	assert.Contains(t, r.stderr, "deny-rm: removing files is not allowed")
	assert.FileExists(t, victim)
	b, err := os.ReadFile(filepath.Join(dir, "decisions.jsonl"))
	require.NoError(t, err, "the audit path is relative to the file")
	assert.Contains(t, string(b), `"decision":"decline"`)
	assert.Contains(t, string(b), `"generation":1`)

	// A pinned digest that does not match refuses the plugin.
	bad := writeFile(t, dir, "bad.toml", fmt.Sprintf("[[plugin]]\npath = %q\nsha256 = %q\n", policy, strings.Repeat("0", 64)))
	r = runCmd(t, "run", "--config-file", bad, "--codex-home", home, "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "refusing to load it")
}

// Monitor mode from the command line: the policy declines the rm, but as
// a monitor it does not decide; the fallback (accept, here) does. The
// audit log shows the monitor's answer.
func TestRunMonitorMode(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("removed")))
	policy := policyPlugin(t)
	work := t.TempDir()
	victim := writeFile(t, work, "victim.txt", "remove me")
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--plugin", policy, "--monitor", "policy",
		"--fallback", "accept", "--audit", auditFile, "remove it")
	require.Equal(t, exitOK, r.code, "nothing was declined")
	assert.NoFileExists(t, victim, "the command ran")
	b, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	var e struct {
		Decision string `json:"decision"`
		Why      string `json:"why"`
		Answers  []struct {
			Plugin   string `json:"plugin"`
			Decision string `json:"decision"`
			Reason   string `json:"reason"`
			Monitor  bool   `json:"monitor"`
		} `json:"answers"`
	}
	require.NoError(t, json.Unmarshal(b, &e))
	assert.Equal(t, "accept", e.Decision)
	assert.Equal(t, "fallback: all abstained", e.Why)
	require.Len(t, e.Answers, 1)
	assert.Equal(t, "deny-rm", e.Answers[0].Plugin)
	assert.Equal(t, "decline", e.Answers[0].Decision)
	assert.Equal(t, "removing files is not allowed", e.Answers[0].Reason)
	assert.True(t, e.Answers[0].Monitor)
}

// asyncRun runs codexhost on a goroutine.
type asyncRun struct {
	stdout, stderr syncBuffer
	done           chan int
}

func startRun(t *testing.T, args ...string) *asyncRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	a := &asyncRun{done: make(chan int, 1)}
	go func() {
		defer cancel()
		a.done <- run(ctx, args, strings.NewReader(""), &a.stdout, &a.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-a.done:
		case <-time.After(30 * time.Second):
		}
	})
	return a
}

// waitStderr waits until stderr matches re and returns the match. It
// checks on each write to stderr, and when codexhost exits.
func (a *asyncRun) waitStderr(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	limit := time.NewTimer(2 * time.Minute)
	defer limit.Stop()
	for {
		changed := a.stderr.Changed()
		if m := rx.FindStringSubmatch(a.stderr.String()); m != nil {
			return m
		}
		select {
		case <-changed:
		case code := <-a.done:
			a.done <- code
			if m := rx.FindStringSubmatch(a.stderr.String()); m != nil {
				return m
			}
			t.Fatalf("codexhost exited %d before stderr matched %q:\n%s", code, re, a.stderr.String())
		case <-limit.C:
			t.Fatalf("stderr never matched %q:\n%s", re, a.stderr.String())
		}
	}
}

// waitFor waits until ch is closed (the gate of gatedTurn: the model was
// asked for the second command), failing the test if codexhost exits
// first or it takes minutes.
func (a *asyncRun) waitFor(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case code := <-a.done:
		a.done <- code
		t.Fatalf("codexhost exited %d before the model was asked for the second command:\n%s", code, a.stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("the model was never asked for the second command:\n%s", a.stderr.String())
	}
}

func (a *asyncRun) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-a.done:
		a.done <- code
		t.Logf("stdout:\n%s\nstderr:\n%s", a.stdout.String(), a.stderr.String())
		return code
	case <-time.After(3 * time.Minute):
		t.Fatalf("codexhost did not exit:\n%s", a.stderr.String())
	}
	return 0
}

// gatedTurn is a turn of two commands whose second model request waits
// for open, so that a test can act between the two approvals.
func gatedTurn(first, second string) (script hosttest.Script, secondAsked, open chan struct{}) {
	steps := hosttest.Turn(hosttest.ExecCommand(first), hosttest.ExecCommand(second), hosttest.Text("done"))
	var n atomic.Int32
	secondAsked, open = make(chan struct{}), make(chan struct{})
	return hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		if n.Add(1) == 2 {
			close(secondAsked)
			select {
			case <-open:
			case <-r.Closed: // the test failed before it opened the gate
			}
		}
		return steps.Reply(r)
	}), secondAsked, open
}

func echoRulesFile(decision, message string) string {
	return fmt.Sprintf(`[[rule]]
name = "echo"
decision = %q
message = %q
allow_redirects = true
[rule.match]
program = "echo"
`, decision, message)
}

// Hot reload end to end: codexhost run with a configuration file, the
// real codex and the shipped rules plugin. Between the turn's two echo
// approvals the rules file is edited: first into rules that do not
// validate (the reload fails, the old rules stay and the failure is
// reported on one line), then into rules that decline echo (the reload
// succeeds). The first echo ran, the second was declined, and the audit
// log shows which plugin set decided each.
func TestRunHotReload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// config returns the plugin part of the configuration, given
		// its directory.
		config  func(t *testing.T, dir string) string
		invalid string // how the failed reload's reason starts
	}{
		{"wasm plugin with a settings file", func(t *testing.T, dir string) string {
			return fmt.Sprintf(`[[plugin]]
name = "rules"
path = %q
settings = { name = "rules.toml" }
settings_files = { rules = "rules.toml" }
`, rulesPlugin(t, dir))
		}, "plugin "},
		{"in-process policy", func(t *testing.T, dir string) string { return `policy = "rules.toml"` + "\n" }, "--policy: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testHotReload(t, tc.config, tc.invalid)
		})
	}
}

func testHotReload(t *testing.T, plugin func(t *testing.T, dir string) string, invalid string) {
	script, secondAsked, open := gatedTurn("echo one > one.txt", "echo two > two.txt")
	_, home := fakeCodexHome(t, script)
	dir := t.TempDir()
	rulesPath := writeFile(t, dir, "rules.toml", echoRulesFile("accept", "echo is fine"))
	cfg := writeFile(t, dir, "codexhost.toml", `audit = "audit.jsonl"
render = "none"
`+plugin(t, dir)+`
[reload]
interval = "50ms"
`)
	work := t.TempDir()
	a := startRun(t, "run", "--config-file", cfg, "--codex-home", home, "--cwd", work, "write two files")

	a.waitFor(t, secondAsked)
	assert.FileExists(t, filepath.Join(work, "one.txt"), "the first echo ran under the first rules")

	// Invalid rules: the reload fails, the old set stays.
	require.NoError(t, os.WriteFile(rulesPath, []byte("[[rule]]\nname = \"x\"\ndecision = \"allow\"\n"), 0o644))
	m := a.waitStderr(t, `codexhost: reload of \S+ \(file changed\) failed; still using plugin set 1: (.*)\n`)
	assert.True(t, strings.HasPrefix(m[1], invalid), m[1])
	assert.Contains(t, m[1], `unknown decision "allow"`)

	// Valid new rules: swapped in.
	require.NoError(t, os.WriteFile(rulesPath, []byte(echoRulesFile("decline", "echo is forbidden now")), 0o644))
	a.waitStderr(t, `codexhost: reloaded \S+ \(file changed\): plugin set 2: rules@`)

	// An emptied configuration file (a write caught half way, or a
	// mistake) would mean no plugins: it is refused, and set 2 stays to
	// decline the second echo.
	require.NoError(t, os.WriteFile(cfg, nil, 0o644))
	m = a.waitStderr(t, `codexhost: reload of \S+ \(file changed\) failed; still using plugin set 2: (.*)\n`)
	assert.True(t, strings.HasPrefix(m[1], "the file is empty"), m[1])
	close(open)

	assert.Equal(t, exitDeclined, a.wait(t))
	assert.NoFileExists(t, filepath.Join(work, "two.txt"), "the second echo was declined by the new rules")
	assert.Contains(t, a.stderr.String(), "rules: rule echo: echo is forbidden now")

	b, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 2)
	for i, want := range []struct {
		decision   string
		generation int
	}{{"accept", 1}, {"decline", 2}} {
		var e struct {
			Decision   string `json:"decision"`
			Generation int    `json:"generation"`
		}
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &e))
		assert.Equal(t, want.decision, e.Decision, "decision %d", i)
		assert.Equal(t, want.generation, e.Generation, "decision %d", i)
	}
}

// SIGHUP reloads even when nothing changed (e.g. to enable a plugin its
// crash budget disabled), and the metrics endpoint reports the reload and
// the plugins, scraped while the turn is in progress. Not parallel: the
// signal goes to the whole test process.
func TestRunSIGHUPAndMetrics(t *testing.T) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP) // the test process must survive a stray SIGHUP
	defer signal.Stop(hup)

	script, secondAsked, open := gatedTurn("echo one > one.txt", "echo two > two.txt")
	_, home := fakeCodexHome(t, script)
	dir := t.TempDir()
	policy := policyPlugin(t)
	cfg := writeFile(t, dir, "codexhost.toml", fmt.Sprintf(`render = "none"
[[plugin]]
path = %q
[metrics]
addr = "127.0.0.1:0"
[reload]
watch = false
`, policy))
	work := t.TempDir()
	a := startRun(t, "run", "--config-file", cfg, "--codex-home", home, "--cwd", work, "write two files")
	addr := a.waitStderr(t, `codexhost: metrics at (http://\S+/metrics)\n`)[1]
	a.waitFor(t, secondAsked)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	a.waitStderr(t, `codexhost: reloaded \S+ \(SIGHUP\): plugin set 2: deny-rm@1.0.0 \(loaded in \S+\)\n`)

	s := scrape(t, addr)
	assert.Equal(t, "1", s[`codexhost_plugin_calls_total{hook="approval",outcome="ok",plugin="deny-rm"}`])
	assert.Equal(t, "1", s[`codexhost_decisions_total{decision="accept",hook="approval",source="plugin"}`])
	assert.Equal(t, "1", s[`codexhost_plugin_call_duration_seconds_count{hook="approval",plugin="deny-rm"}`])
	assert.Equal(t, "1", s[`codexhost_config_reloads_total{result="success"}`])
	assert.Equal(t, "0", s[`codexhost_config_reloads_total{result="failure"}`])
	assert.Equal(t, "1", s[`codexhost_config_last_reload_successful`])
	assert.Equal(t, "2", s[`codexhost_plugin_set_generation`])
	info := fmt.Sprintf(`codexhost_plugin_info{digest="%s",mode="enforce",plugin="deny-rm",source="%s",state="enabled",version="1.0.0"}`, digestOf(t, policy), policy)
	assert.Equal(t, "1", s[info], "status of the reloaded plugin")
	ts, err := strconv.ParseFloat(s["codexhost_config_last_reload_success_timestamp_seconds"], 64)
	require.NoError(t, err)
	assert.InDelta(t, float64(time.Now().Unix()), ts, 120)

	close(open)
	assert.Equal(t, exitOK, a.wait(t))
	assert.FileExists(t, filepath.Join(work, "two.txt"), "the reloaded policy accepted the second echo")
}

// scrape fetches the metrics (the Prometheus text format, labels in
// name order as client_golang writes them) as a map from the series to
// its value.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		require.Positive(t, i, "sample line %q", line)
		out[line[:i]] = line[i+1:]
	}
	require.NoError(t, sc.Err())
	return out
}

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return ln
}

// The crash budget end to end: the reference guest traps on "exit-now";
// with a budget of one failure it is disabled at once: reported on
// stderr and in the metrics, and the next command, which it would have
// accepted, falls back to decline.
func TestRunCrashBudget(t *testing.T) {
	t.Parallel()
	src, err := plugintest.GuestSource(plugintest.GuestRef)
	require.NoError(t, err)
	wasmBin, err := plugintest.GoGuest(src)
	require.NoError(t, err)
	dir := t.TempDir()
	ref := writeFile(t, dir, "ref.wasm", string(wasmBin))
	script, secondAsked, open := gatedTurn("exit-now", "echo ok > ok.txt")
	_, home := fakeCodexHome(t, script)
	work := t.TempDir()
	a := startRun(t, "run", "--plugin", ref, "--crash-budget", "1/1m", "--metrics-addr", "127.0.0.1:0", "--render", "none",
		"--codex-home", home, "--cwd", work, "go")
	addr := a.waitStderr(t, `codexhost: metrics at (http://\S+/metrics)\n`)[1]
	a.waitFor(t, secondAsked)
	a.waitStderr(t, `codexhost: plugin disabled by its crash budget; its part falls back until the plugin set is reloaded \(plugin=ref failures=1 .*: trap: `)
	s := scrape(t, addr)
	assert.Equal(t, "0", s[`codexhost_plugin_enabled{plugin="ref"}`])
	assert.Equal(t, "1", s[`codexhost_plugin_failures{plugin="ref"}`])
	assert.Equal(t, "1", s[`codexhost_plugin_errors_total{hook="approval",kind="trap",plugin="ref"}`])
	assert.Equal(t, "1", s[`codexhost_decisions_total{decision="decline",hook="approval",source="fallback"}`])
	assert.Equal(t, "1", s[fmt.Sprintf(`codexhost_plugin_info{digest="%s",mode="enforce",plugin="ref",source="%s",state="disabled",version="1.0.0"}`, digestOf(t, ref), ref)])

	close(open)
	assert.Equal(t, exitDeclined, a.wait(t))
	assert.NoFileExists(t, filepath.Join(work, "ok.txt"), "the disabled plugin's accept never happened: fail closed")
	assert.Contains(t, a.stderr.String(), "(fallback: plugin ref disabled (crash budget))")
	assert.Contains(t, a.stderr.String(), "declined 2 request(s)")
}

// A reload goes through the same trust policy as the start: a config that
// now names an unsigned plugin is refused (the signed one stays), one that
// names another signed plugin is swapped in. Not parallel, like the other
// registry tests.
func TestReloadFromRegistryKeepsTrust(t *testing.T) {
	e := newDistEnv(t)
	policy := policyPlugin(t)
	signed := e.ref("policies/deny-rm:1.0.0")
	e.push(t, policy, signed, e.keyA)
	signed2 := e.ref("policies/deny-rm:1.0.1")
	e.push(t, policy, signed2, e.keyA)
	unsigned := e.ref("policies/unsigned:1.0.0")
	e.push(t, policy, unsigned, "")

	script, secondAsked, open := gatedTurn("echo one > one.txt", "echo two > two.txt")
	_, home := fakeCodexHome(t, script)
	dir := t.TempDir()
	config := func(ref string) string {
		return fmt.Sprintf("render = \"none\"\n[[plugin]]\npath = %q\n[reload]\ninterval = \"50ms\"\n", ref)
	}
	cfg := writeFile(t, dir, "codexhost.toml", config(signed))
	work := t.TempDir()
	a := startRun(t, "run", "--config-file", cfg, "--trust-policy", e.policy, "--plugin-cache", filepath.Join(e.dir, "run-cache"),
		"--codex-home", home, "--cwd", work, "write two files")
	a.waitFor(t, secondAsked)
	require.NoError(t, os.WriteFile(cfg, []byte(config(unsigned)), 0o644))
	m := a.waitStderr(t, `codexhost: reload of \S+ \(file changed\) failed; still using plugin set 1: (.*)\n`)
	assert.Contains(t, m[1], "is not signed")
	require.NoError(t, os.WriteFile(cfg, []byte(config(signed2)), 0o644))
	a.waitStderr(t, `codexhost: reloaded \S+ \(file changed\): plugin set 2: deny-rm@1.0.0`)
	close(open)
	assert.Equal(t, exitOK, a.wait(t))
	assert.FileExists(t, filepath.Join(work, "two.txt"))
}
