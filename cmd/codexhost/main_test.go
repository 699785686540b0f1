package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins/judge"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// syncBuffer is safe for the renderer's goroutine.
type syncBuffer = e2e.Buffer

type result struct {
	code           int
	stdout, stderr string
}

func runCtx(ctx context.Context, t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr syncBuffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr)
	r := result{code, stdout.String(), stderr.String()}
	t.Logf("codexhost %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	assert.NotContains(t, r.stderr, "goroutine ", "no stack trace")
	return r
}

func runCmd(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	return runCtx(ctx, t, "", args...)
}

func requireCodex(t *testing.T) { e2e.RequireCodex(t) }

// wantCodexVersion is the version of the codex the tests start: the
// pinned one, or the one `make test-codex-newest` chose.
func wantCodexVersion() string {
	if v := os.Getenv("CODEXHOST_WANT_CODEX_VERSION"); v != "" {
		return v
	}
	return testedCodexVersion
}

// fakeCodexHome starts the fake model with script and returns it and a
// CODEX_HOME that points codex at it.
func fakeCodexHome(t *testing.T, script hosttest.Script) (*hosttest.Model, string) {
	t.Helper()
	requireCodex(t)
	m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	home := t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(home, m.URL(), nil))
	return m, home
}

var (
	policyOnce sync.Once
	policyWasm []byte
	policyErr  error
)

// policyPlugin builds examples/policy for Wasm and writes it to a file.
func policyPlugin(t *testing.T) string {
	t.Helper()
	policyOnce.Do(func() { policyWasm, policyErr = plugintest.GoGuest("../../examples/policy") })
	require.NoError(t, policyErr)
	path := filepath.Join(t.TempDir(), "policy.wasm")
	require.NoError(t, os.WriteFile(path, policyWasm, 0o644))
	return path
}

func digestOf(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	notPlugin := filepath.Join(t.TempDir(), "notaplugin")
	require.NoError(t, os.WriteFile(notPlugin, []byte("just text\n"), 0o755))
	badWasm := filepath.Join(t.TempDir(), "bad.wasm")
	require.NoError(t, os.WriteFile(badWasm, []byte("\x00asm\x01\x00\x00\x00garbage"), 0o644))
	audDir := t.TempDir() // a directory is not an audit file

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"no command", nil, exitUsage, []string{"no command given", "Usage: codexhost <command>"}},
		{"unknown command", []string{"frobnicate"}, exitUsage, []string{`unknown command "frobnicate"`}},
		{"run unknown flag", []string{"run", "--bogus", "hi"}, exitUsage, []string{"unknown flag: --bogus", "Usage: codexhost run", "Exit codes:"}},
		{"run no prompt", []string{"run"}, exitUsage, []string{"no prompt"}},
		{"run bad fallback", []string{"run", "--fallback", "maybe", "hi"}, exitUsage, []string{`--fallback "maybe"`}},
		{"run bad mode", []string{"run", "--mode", "vote", "hi"}, exitUsage, []string{`--mode "vote"`}},
		{"run bad render", []string{"run", "--render", "html", "hi"}, exitUsage, []string{`--render "html"`}},
		{"run bad timeout", []string{"run", "--timeout", "soon", "hi"}, exitUsage, []string{"--timeout"}},
		{"run bad -c", []string{"run", "-c", "novalue", "hi"}, exitUsage, []string{`-c "novalue"`}},
		{"run missing plugin", []string{"run", "--plugin", "/no/such/policy.wasm", "hi"}, exitUsage, []string{"/no/such/policy.wasm", "no such file"}},
		{"run sha256 without plugin", []string{"run", "--sha256", strings.Repeat("a", 64), "hi"}, exitUsage, []string{"--sha256"}},
		{"run bad sha256", []string{"run", "--plugin", badWasm, "--sha256", "xyz", "hi"}, exitUsage, []string{`"xyz" is not a hex sha256`}},
		{"run wasm that does not load", []string{"run", "--plugin", badWasm, "hi"}, exitUsage, []string{badWasm, "does not load"}},
		{"run file that is no plugin", []string{"run", "--plugin", notPlugin, "hi"}, exitUsage, []string{notPlugin, "does not load as a process plugin"}},
		{"run missing cwd", []string{"run", "--cwd", "/no/such/dir", "hi"}, exitUsage, []string{"--cwd /no/such/dir: not a directory"}},
		{"run missing codex home", []string{"run", "--codex-home", "/no/such/home", "hi"}, exitUsage, []string{"--codex-home /no/such/home: not a directory"}},
		{"run bad audit file", []string{"run", "--audit", audDir, "hi"}, exitUsage, []string{"--audit " + audDir}},
		{"run no codex", []string{"run", "--codex", "/nonexistent", "hi"}, exitConn, []string{"codex binary not found", "--codex=\"/nonexistent\"", "pass --codex PATH"}},
		{"version with argument", []string{"version", "extra"}, exitUsage, []string{"no arguments"}},
		{"plugin no subcommand", []string{"plugin"}, exitUsage, []string{"want inspect"}},
		{"plugin unknown subcommand", []string{"plugin", "list"}, exitUsage, []string{`unknown subcommand "list"`}},
		{"inspect no path", []string{"plugin", "inspect"}, exitUsage, []string{"exactly one PATH"}},
		{"inspect missing file", []string{"plugin", "inspect", "/no/such.wasm"}, exitUsage, []string{"/no/such.wasm", "no such file"}},
		{"inspect unknown flag", []string{"plugin", "inspect", "--yaml", "x"}, exitUsage, []string{"unknown flag: --yaml", "Usage: codexhost plugin inspect"}},
		{"demo bad mode", []string{"demo", "--mode", "party"}, exitUsage, []string{`--mode "party"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.args...)
			assert.Equal(t, tc.code, r.code)
			for _, s := range tc.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.True(t, strings.HasPrefix(r.stderr, "codexhost: ") || strings.HasPrefix(r.stderr, "Usage:"), "stderr starts with the error or the usage")
			assert.Empty(t, r.stdout)
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	r := runCmd(t, "run", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "--fallback")
	assert.Contains(t, r.stdout, "3  the policy declined")

	r = runCmd(t, "help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "plugin inspect")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	codexVersion := wantCodexVersion()
	r := runCmd(t, "version")
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "codexhost "+host.Version)
	assert.Contains(t, r.stdout, "go1.")
	assert.Contains(t, r.stdout, "codex     "+codexVersion)
	assert.Contains(t, r.stdout, "\n          binary: /")
	if bin := os.Getenv("CODEX_BIN"); bin != "" {
		// The binary test-codex-newest chose is the one run would start.
		abs, err := filepath.Abs(bin)
		require.NoError(t, err)
		assert.Contains(t, r.stdout, "\n          binary: "+abs+"\n")
	}
	assert.Contains(t, r.stdout, "abi       v1")

	r = runCmd(t, "version", "--json")
	require.Equal(t, exitOK, r.code)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v))
	assert.Equal(t, host.Version, v["codexhost"])
	assert.Equal(t, codexVersion, v["codex"])
	assert.EqualValues(t, abi.Version, v["abi"])
}

func TestPluginInspect(t *testing.T) {
	t.Parallel()
	path := policyPlugin(t)
	sum := digestOf(t, path)

	r := runCmd(t, "plugin", "inspect", path)
	require.Equal(t, exitOK, r.code)
	for _, s := range []string{"name:         deny-rm", "version:      1.0.0", "runtime:      wasm", "abi:          v1",
		"hooks:        approval", "tools:        none", "capabilities: none", "sha256:       " + sum} {
		assert.Contains(t, r.stdout, s)
	}

	r = runCmd(t, "plugin", "inspect", "--json", path)
	require.Equal(t, exitOK, r.code)
	var got struct {
		Path    string     `json:"path"`
		Runtime string     `json:"runtime"`
		SHA256  string     `json:"sha256"`
		Name    string     `json:"name"`
		ABI     uint32     `json:"abi"`
		Hooks   []abi.Hook `json:"hooks"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, path, got.Path)
	assert.Equal(t, "wasm", got.Runtime)
	assert.Equal(t, sum, got.SHA256)
	assert.Equal(t, "deny-rm", got.Name)
	assert.Equal(t, abi.Version, got.ABI)
	assert.Equal(t, []abi.Hook{abi.HookApproval}, got.Hooks)

	r = runCmd(t, "plugin", "inspect", "--sha256", "sha256:"+sum, path)
	assert.Equal(t, exitOK, r.code)
	r = runCmd(t, "plugin", "inspect", "--sha256", strings.Repeat("0", 64), path)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "sha256 is "+sum)
	assert.Contains(t, r.stderr, "refusing to load it")
}

const answer = "The answer streams from the fake model through the real codex."

func TestRunExec(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Text(answer).InDeltas(5))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--render", "exec", "say", "something")
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, answer)
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	assert.Regexp(t, `^thread [0-9a-f-]+: continue it with codexhost run --thread [0-9a-f-]+ PROMPT$`, last)
	assert.NotContains(t, last, "codexhost:", "the last line of a successful run does not read like an error")
	reqs := model.Requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "say something", reqs[0].LastUserText())
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Text(answer).InDeltas(5))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--render", "json", "hi")
	require.Equal(t, exitOK, r.code)
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	lines, deltas := 0, ""
	for sc.Scan() {
		lines++
		var ev struct {
			Kind  string `json:"kind"`
			Delta string `json:"delta"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), "line %d is JSON: %s", lines, sc.Text())
		deltas += ev.Delta
	}
	assert.Greater(t, lines, 3)
	assert.Contains(t, deltas, answer)
}

func TestRunStdinAndRenderNone(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Text(answer))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	r := runCtx(ctx, t, "a prompt\nfrom stdin\n", "run", "--codex-home", home, "--cwd", t.TempDir(), "--render", "none", "-")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, answer+"\n", r.stdout, "none prints the final answer only")
	require.NotEmpty(t, model.Requests())
	assert.Equal(t, "a prompt\nfrom stdin\n", model.Requests()[0].LastUserText(), "as codex exec sends it")
}

// The examples/policy Wasm plugin declines rm on the real codex: the run
// exits 3, the file survives, and the audit log has the decision.
func TestRunPolicyDeclines(t *testing.T) {
	t.Parallel()
	policy := policyPlugin(t)
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")))
	work := t.TempDir()
	victim := filepath.Join(work, "victim.txt")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")

	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--plugin", policy, "--sha256", digestOf(t, policy),
		"--audit", auditFile, "remove", "the", "victim")
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "decline")
	assert.Contains(t, r.stderr, "deny-rm: removing files is not allowed")
	assert.Contains(t, r.stderr, "declined 1 request(s)")
	_, err := os.Stat(victim)
	require.NoError(t, err, "the declined rm did not run")

	b, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	require.Len(t, lines, 1)
	var e struct {
		Hook     string `json:"hook"`
		Summary  string `json:"summary"`
		Decision string `json:"decision"`
		Answers  []struct {
			Plugin string `json:"plugin"`
			Reason string `json:"reason"`
		} `json:"answers"`
	}
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &e))
	assert.Equal(t, "decline", e.Decision)
	assert.Contains(t, e.Summary, "rm victim.txt")
	require.Len(t, e.Answers, 1)
	assert.Equal(t, "deny-rm", e.Answers[0].Plugin)
}

// An accepted command does not change the exit code.
func TestRunPolicyAccepts(t *testing.T) {
	t.Parallel()
	policy := policyPlugin(t)
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("echo hello > echoed.txt"), hosttest.Text("echoed")))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--plugin", policy, "write a file")
	require.Equal(t, exitOK, r.code)
	b, err := os.ReadFile(filepath.Join(work, "echoed.txt"))
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(b))
	assert.Contains(t, r.stdout, "echo hello")
}

func TestRunTurnFailed(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Failed("server_error", "the model broke"))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "hi")
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "turn failed")
}

func TestRunBadConfig(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, "config.toml"), []byte("model = [unterminated\n"), 0o644))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "hi")
	assert.Equal(t, exitConn, r.code)
	assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
}

// Cancelling the context (Ctrl-C) interrupts the turn.
func TestRunInterrupt(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Hang())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Interrupt once the turn reached the model (or the run ended).
		_, _ = model.WaitRequests(ctx, 1)
		cancel()
	}()
	start := time.Now()
	r := runCtx(ctx, t, "", "run", "--codex-home", home, "--cwd", t.TempDir(), "hang")
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "turn interrupted")
	assert.Less(t, time.Since(start), 30*time.Second)
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Hang())
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--timeout", "4s", "hang")
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "timed out after 4s")
}

func TestDemoSmoke(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	r := runCmd(t, "demo", "--mode", "smoke")
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, demoAnswer)
}

func TestDemo(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	// The demo builds two plugins and, on a machine whose compilation
	// cache is cold, compiles them under -race: give it time.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := runCtx(ctx, t, "", "demo")
	require.Equal(t, exitOK, r.code)
	for _, s := range []string{
		"loaded deny-rm", "loaded word-count",
		`policy: accept "/bin/bash -lc 'echo hello > echoed.txt'"`,
		"deny-rm: removing files is not allowed", "victim.txt is still there",
		`the model received the tool's answer: "4 words"`,
		"archived ", "demo: done",
	} {
		assert.Contains(t, r.stdout, s)
	}
}

// The same policy as a process plugin, pinned by digest.
func TestRunProcessPlugin(t *testing.T) {
	t.Parallel()
	bin, err := plugintest.ProcessGuest("../../examples/policy")
	require.NoError(t, err)
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")))
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "victim.txt"), []byte("keep me"), 0o644))

	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--plugin", bin, "--sha256", digestOf(t, bin), "remove it")
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "deny-rm: removing files is not allowed")

	r = runCmd(t, "run", "--codex-home", home, "--cwd", work, "--plugin", bin, "--sha256", strings.Repeat("1", 64), "remove it")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "refusing to load it")

	r = runCmd(t, "plugin", "inspect", bin)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "runtime:      process")
}

// judgedTouch is a turn whose agent runs `touch judged.txt` and whose
// judge (the same fake model, asked with judge.Marker) answers verdict.
func judgedTouch(verdict string) hosttest.Script {
	agent := hosttest.Turn(hosttest.ExecCommand("touch judged.txt"), hosttest.Text("done"))
	return hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		if strings.Contains(r.LastUserText(), judge.Marker) {
			return hosttest.Text(verdict)
		}
		return agent.Reply(r)
	})
}

// The --judge-* flags reach the judge's turn on the real codex: the
// rubric from the file, the verdict schema (the Responses request's
// text.format) and the reasoning effort, as the model receives them.
func TestRunJudgeFlags(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, judgedTouch(`{"decision":"accept","reason":"the house rubric allows touching files"}`))
	dir, work := t.TempDir(), t.TempDir()
	rubric := filepath.Join(dir, "rubric.md")
	require.NoError(t, os.WriteFile(rubric, []byte("HOUSE-RUBRIC-7f3a: accept touch, decline everything else.\n"), 0o644))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--judge", "--judge-rubric", rubric,
		"--judge-schema", "--judge-effort", "low", "--judge-timeout", "90s", "make judged.txt")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(work, "judged.txt"), "the judge accepted")
	var judged []hosttest.ModelRequest
	for _, q := range model.Requests() {
		if strings.Contains(q.LastUserText(), judge.Marker) {
			judged = append(judged, q)
		}
	}
	require.Len(t, judged, 1, "one judge turn")
	body := string(judged[0].Body)
	assert.Contains(t, body, "HOUSE-RUBRIC-7f3a", "the rubric file is the judge's instructions")
	assert.NotContains(t, body, "You are a security reviewer", "the default rubric is replaced")
	assert.Contains(t, body, `"json_schema"`, "the verdict schema is sent as the output format")
	assert.Contains(t, body, `"effort":"low"`, "the judge's reasoning effort")
}

// --judge asks the model (the fake one plays the judge) on the same codex;
// its decline makes the run exit 3, and its thread is not rendered.
func TestRunJudge(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, judgedTouch(`{"decision":"decline","reason":"not needed for the task"}`))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--judge", "make judged.txt")
	assert.Equal(t, exitDeclined, r.code)
	assert.Contains(t, r.stderr, "llm-judge: not needed for the task")
	assert.NotContains(t, r.stdout, `"decision"`, "the judge's own thread is not rendered")
	_, err := os.Stat(filepath.Join(work, "judged.txt"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A second run continues the first one's thread with --thread.
func TestRunContinueThread(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("first")), hosttest.Turn(hosttest.Text("second"))))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--render", "none", "one")
	require.Equal(t, exitOK, r.code)
	m := regexp.MustCompile(`--thread (\S+) PROMPT`).FindStringSubmatch(r.stderr)
	require.NotNil(t, m)

	r = runCmd(t, "run", "--codex-home", home, "--cwd", work, "--render", "none", "--thread", m[1], "two")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, "second\n", r.stdout)
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, []string{"one", "two"}, userTexts(reqs[1]), "the second turn saw the first")

	r = runCmd(t, "run", "--codex-home", home, "--cwd", work, "--thread", "01a21089-0000-7000-8000-000000000000", "three")
	assert.NotEqual(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "01a21089-0000-7000-8000-000000000000")
}

func userTexts(r hosttest.ModelRequest) []string {
	var out []string
	for _, s := range r.UserTexts() {
		if s == "one" || s == "two" {
			out = append(out, s)
		}
	}
	return out
}

// A provider that answers 401 means codex is not authenticated: exit 4.
func TestRunNotAuthenticated(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.HTTPError(401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "hi")
	assert.Equal(t, exitConn, r.code)
	assert.Contains(t, r.stderr, "codex is not authenticated: run `codex login`")
}
