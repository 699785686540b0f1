package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

// Bad input to the commands of issue 7's second part: one line that says
// what to do, a non-zero exit, never a stack trace (runCmd checks that).
func TestBadInputMore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		return path
	}
	okCase := "[[case]]\nname = \"x\"\n[case.approval]\nkind = \"command\"\ncommand = \"ls\"\n[case.expect]\ndecision = \"accept\"\n"
	badTOML := file("bad.toml", "[[case]]\nname = = 1\n")
	typo := file("typo.toml", strings.Replace(okCase, "decision =", "decison =", 1))
	noRequest := file("noreq.toml", "[[case]]\nname = \"x\"\n[case.expect]\ndecision = \"accept\"\n")
	noExpect := file("noexpect.toml", "[[case]]\nname = \"x\"\n[case.approval]\nkind = \"command\"\n")
	wrongHook := file("wronghook.toml", "[[case]]\nname = \"x\"\n[case.approval]\nkind = \"command\"\n[case.expect]\noutput = \"y\"\n")
	badField := file("badfield.toml", strings.Replace(okCase, "command = ", "comand = ", 1))
	badDecision := file("baddecision.toml", strings.Replace(okCase, `"accept"`, `"allow"`, 1))
	unknownMethod := file("method.toml", "[[case]]\nname = \"x\"\n[case.codex]\nmethod = \"thread/started\"\n[case.expect]\nerror = true\n")
	badJSON := file("bad.json", `{"case": [{"name": "x", "approve": {}}]}`)
	cases := file("cases.toml", okCase)
	notTranscript := file("turn.jsonl", `{"hello": 1}`+"\n")
	notPlugin := file("notaplugin", "text")
	full := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(full, 0o755))
	file("full/x", "")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"run record into a missing dir", []string{"run", "--record", "/no/such/dir/turn.jsonl", "hi"}, exitUsage, []string{"--record /no/such/dir/turn.jsonl: no such file or directory"}},
		{"run no-progress is a bool", []string{"run", "--no-progress=maybe", "hi"}, exitUsage, []string{"--no-progress"}},
		{"judge flag without judge", []string{"run", "--judge-effort", "low", "hi"}, exitUsage, []string{"--judge-effort needs --judge"}},
		{"judge summary unknown", []string{"run", "--judge", "--judge-summary", "concize", "hi"}, exitUsage, []string{`--judge-summary "concize": want one of auto, concise, detailed, none`, "concise"}},
		{"judge rubric missing", []string{"run", "--judge", "--judge-rubric", "/no/such/rubric.md", "hi"}, exitUsage, []string{"--judge-rubric: open /no/such/rubric.md: no such file or directory"}},
		{"judge rubric empty", []string{"run", "--judge", "--judge-rubric", file("empty-rubric.md", " \n"), "hi"}, exitUsage, []string{"the file is empty"}},
		{"judge timeout not positive", []string{"run", "--judge", "--judge-timeout", "-1s", "hi"}, exitUsage, []string{"--judge-timeout -1s: want a positive duration"}},
		{"judge max request bytes zero", []string{"run", "--judge", "--judge-max-request-bytes", "0", "hi"}, exitUsage, []string{"--judge-max-request-bytes 0"}},
		{"judge max request bytes negative", []string{"run", "--judge", "--judge-max-request-bytes", "-5", "hi"}, exitUsage, []string{"--judge-max-request-bytes -5: want a positive bound, or -1 for none"}},
		{"max reconnects negative", []string{"run", "--max-reconnects", "-1", "hi"}, exitUsage, []string{"--max-reconnects -1 is negative"}},

		{"test no path", []string{"plugin", "test", "--cases", cases}, exitUsage, []string{"want exactly one PATH"}},
		{"test nothing to test", []string{"plugin", "test", "p.wasm"}, exitUsage, []string{"nothing to test: give --cases FILE, --transcript FILE, or both"}},
		{"test unknown flag", []string{"plugin", "test", "--case", cases, "p.wasm"}, exitUsage, []string{"unknown flag: --case", "Usage: codexhost plugin test"}},
		{"test missing cases", []string{"plugin", "test", "p.wasm", "--cases", "/no/such/cases.toml"}, exitUsage, []string{"--cases /no/such/cases.toml: no such file"}},
		{"test bad toml", []string{"plugin", "test", "p.wasm", "--cases", badTOML}, exitUsage, []string{badTOML + ":2: "}},
		{"test typo in expect", []string{"plugin", "test", "p.wasm", "--cases", typo}, exitUsage, []string{"unknown key case.expect.decison", "a typo would silently skip a check"}},
		{"test case without request", []string{"plugin", "test", "p.wasm", "--cases", noRequest}, exitUsage, []string{`case 1 "x": no request: set one of approval`}},
		{"test case without expect", []string{"plugin", "test", "p.wasm", "--cases", noExpect}, exitUsage, []string{`case 1 "x": expect is empty`}},
		{"test expect for another hook", []string{"plugin", "test", "p.wasm", "--cases", wrongHook}, exitUsage, []string{"expect.output applies to event-render requests, not approval"}},
		{"test unknown request field", []string{"plugin", "test", "p.wasm", "--cases", badField}, exitUsage, []string{`approval: json: unknown field "comand"`}},
		{"test bad decision", []string{"plugin", "test", "p.wasm", "--cases", badDecision}, exitUsage, []string{`expect.decision "allow": want abstain, accept`}},
		{"test codex method no hook answers", []string{"plugin", "test", "p.wasm", "--cases", unknownMethod}, exitUsage, []string{`codex.method "thread/started" is not a request any plugin hook answers`}},
		{"test bad json cases", []string{"plugin", "test", "p.wasm", "--cases", badJSON}, exitUsage, []string{`unknown field "approve"`}},
		{"test missing transcript", []string{"plugin", "test", "p.wasm", "--transcript", "/no/such/turn.jsonl"}, exitUsage, []string{"--transcript /no/such/turn.jsonl: no such file (record one with codexhost run --record FILE)"}},
		{"test not a transcript", []string{"plugin", "test", "p.wasm", "--transcript", notTranscript}, exitUsage, []string{"not a codexhost transcript: line 1 is not a transcript header"}},
		{"test print without transcript", []string{"plugin", "test", "--print", "p.wasm", "--cases", cases}, exitUsage, []string{"--print goes with --transcript"}},
		{"test bad settings", []string{"plugin", "test", "p.wasm", "--cases", cases, "--settings", "{nope"}, exitUsage, []string{`--settings "{nope" is not JSON`}},
		{"test missing settings file", []string{"plugin", "test", "p.wasm", "--cases", cases, "--settings", "@/no/such.json"}, exitUsage, []string{"--settings @/no/such.json: no such file or directory"}},
		{"test bad run regexp", []string{"plugin", "test", "p.wasm", "--cases", cases, "--run", "("}, exitUsage, []string{`--run "("`}},
		{"test missing plugin", []string{"plugin", "test", "/no/such/p.wasm", "--cases", cases}, exitUsage, []string{"plugin /no/such/p.wasm: no such file"}},
		{"test plugin that does not load", []string{"plugin", "test", notPlugin, "--cases", cases}, exitUsage, []string{notPlugin, "does not load as a process plugin"}},

		{"build bad runtime", []string{"plugin", "build", "--runtime", "jvm", "."}, exitUsage, []string{`--runtime "jvm": want wasm or process`}},
		{"build missing dir", []string{"plugin", "build", "/no/such/dir"}, exitUsage, []string{"plugin build /no/such/dir: not a directory"}},
		{"build two dirs", []string{"plugin", "build", "a", "b"}, exitUsage, []string{"want one DIR, got 2 arguments"}},

		{"new no name", []string{"plugin", "new"}, exitUsage, []string{"want exactly one NAME"}},
		{"new bad name", []string{"plugin", "new", "Deny_Push"}, exitUsage, []string{`plugin new "Deny_Push": a name is lower-case letters`}},
		{"new into a full dir", []string{"plugin", "new", "--dir", full, "x"}, exitUsage, []string{full + " exists and is not empty"}},
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

func TestHelpMore(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"plugin", "test", "--help"}, {"plugin", "build", "--help"}, {"plugin", "new", "--help"},
	} {
		r := runCmd(t, args...)
		assert.Equal(t, exitOK, r.code)
		assert.Contains(t, r.stdout, "Usage: codexhost "+strings.Join(args[:2], " "), "help goes to stdout")
		assert.Empty(t, r.stderr)
	}
	r := runCmd(t, "run", "--help")
	assert.Contains(t, r.stdout, "--record FILE")
	assert.Contains(t, r.stdout, "--no-progress")
	r = runCmd(t, "help")
	for _, s := range []string{"plugin test", "plugin build", "plugin new", "--mode smoke|demo|full", "completion bash|zsh|fish"} {
		assert.Contains(t, r.stdout, s)
	}
}

// A -c override codex refuses at start kills app-server with codex's own
// "Error: …" line. With RUST_BACKTRACE=1 in the environment (common in CI
// images) a backtrace follows it; run names codex's error, not the
// backtrace's last frame.
func TestRunStartErrorNamesCodexsError(t *testing.T) {
	t.Setenv("RUST_BACKTRACE", "1")
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("done")))
	r := runCmd(t, "run", "--no-config", "--codex-home", home, "--cwd", t.TempDir(), "-c", `model_provider="nope"`, "hi")
	assert.Equal(t, exitConn, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Model provider `nope` not found", "codex's own error is shown")
	assert.NotContains(t, r.stderr, "<unknown>", "not a backtrace frame")
}

// docs/configuration.md: every problem of the file names the file, the
// line and the key. The [codex] and [metrics] values run checks were
// reported as flags nobody passed ("--approval-policy "bogus": …").
func TestRunConfigFileValuesNameTheKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ body, key, want string }{
		{"[codex]\napproval_policy = \"bogus\"\n", "codex.approval_policy", `"bogus": want untrusted, on-request, never`},
		{"[codex]\nsandbox = \"bogus\"\n", "codex.sandbox", `"bogus": want read-only, workspace-write, danger-full-access`},
		{"[codex]\ncwd = \"no-such-dir\"\n", "codex.cwd", "no-such-dir: not a directory"},
		{"[codex]\nhome = \"no-such-dir\"\n", "codex.home", "no-such-dir: not a directory"},
		{"[metrics]\naddr = \"bogus\"\n", "metrics.addr", `"bogus": want HOST:PORT`},
	} {
		t.Run(tc.key, func(t *testing.T) {
			t.Parallel()
			f := filepath.Join(t.TempDir(), "codexhost.toml")
			require.NoError(t, os.WriteFile(f, []byte(tc.body), 0o644))
			r := runCmd(t, "run", "--config-file", f, "--codex", "/nonexistent/codex", "hi")
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, f+":2: "+tc.key+": ")
			assert.Contains(t, r.stderr, tc.want)
		})
	}
}
