package main

// What an adversarial review of the subcommands found (empty flag values,
// keygen, exporters, colours, codex exec parity): each comment says what
// used to go wrong, and the test asserts it no longer does.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
)

// `plugin keygen ""` is bad input: it must not write the hidden files
// .key and .pub and exit 0.
func TestKeygenRefusesAnEmptyName(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	r := runCmd(t, "plugin", "keygen", "")
	assert.Equal(t, exitUsage, r.code, "an empty NAME is a usage error")
	assert.NoFileExists(t, filepath.Join(dir, ".key"), "no hidden key file")
	// NAME ending in a slash: DIR/.key
	sub := filepath.Join(dir, "keys")
	require.NoError(t, os.Mkdir(sub, 0o755))
	r = runCmd(t, "plugin", "keygen", sub+"/")
	assert.Equal(t, exitUsage, r.code, "a NAME that is a directory is a usage error")
	assert.NoFileExists(t, filepath.Join(sub, ".key"), "no hidden key file")
}

// keygen refuses an existing NAME.pub, but only after it wrote NAME.key:
// a fresh secret key is left beside someone else's public key.
func TestKeygenRefusalWritesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, os.WriteFile("release.pub", []byte("the old public key\n"), 0o644))
	r := runCmd(t, "plugin", "keygen", "release")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "release.pub exists")
	assert.NoFileExists(t, filepath.Join(dir, "release.key"), "a refused keygen must not leave a new private key behind")
}

// `audit verify --prev` with a value that is not a hash is bad input
// (exit 2, naming --prev); it is reported as a broken log (exit 1) that
// blames the records and names a library field.
func TestAuditVerifyBadPrev(t *testing.T) {
	t.Parallel()
	log := "../../plugins/chain/audit/testdata/decisions.jsonl"
	for _, prev := range []string{"zz", "991e9fc73b43a44872e590510398f3c953dd1eae8260e4b688543d1d5060574c"} {
		r := runCmd(t, "audit", "verify", "--prev", prev, log)
		assert.Equal(t, exitUsage, r.code, "--prev %q is not a sha256:HEX hash", prev)
		assert.Contains(t, r.stderr, "--prev", "the error names the flag")
		assert.NotContains(t, r.stderr, "VerifyOptions")
	}
}

// An empty value for a flag that turns on a policy, an audit log or the
// offline script is silently ignored: the run goes on without it.
// `--plugin ""` is refused (exit 2); `--policy ""` runs every command
// with no policy at all (exit 0), `--audit ""` writes no audit log.
func TestRunRefusesAnEmptyPolicy(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	script := filepath.Join(t.TempDir(), "agent.toml")
	require.NoError(t, os.WriteFile(script, []byte("[[turn]]\n[[turn.step]]\nrun = \"echo ran > ran.txt\"\n[[turn.step]]\nsay = \"done\"\n"), 0o644))
	work := t.TempDir()
	r := runCmd(t, "run", "--scripted", script, "--cwd", work, "--policy", "", "write a file")
	assert.Equal(t, exitUsage, r.code, "--policy \"\" must be refused like --plugin \"\"")
	assert.Contains(t, r.stderr, "--policy")
	assert.NoFileExists(t, filepath.Join(work, "ran.txt"), "the command ran with no policy")
}

func TestRunRefusesAnEmptyAudit(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Text("done"))
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--policy", writeRules(t, pushRules), "--audit", "", "hi")
	assert.Equal(t, exitUsage, r.code, "--audit \"\" must be refused, not run without an audit log")
	assert.Contains(t, r.stderr, "--audit")
}

func TestRunRefusesAnEmptyScript(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	home := t.TempDir() // a codex home with no login: the real model would be asked
	r := runCmd(t, "run", "--scripted", "", "--codex-home", home, "--cwd", t.TempDir(), "hi")
	assert.Equal(t, exitUsage, r.code, "--scripted \"\" must be refused, not run on the user's codex login")
	assert.Contains(t, r.stderr, "--scripted")
}

// The line after a run says how to continue the thread; after
// --ephemeral the thread was never stored, and the command it shows fails.
func TestRunContinueHintWorks(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Turns(hosttest.Text("first"), hosttest.Text("second")))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--ephemeral", "hi")
	require.Equal(t, exitOK, r.code)
	m := regexp.MustCompile(`continue it with codexhost run --thread (\S+) PROMPT`).FindStringSubmatch(r.stderr)
	if m == nil {
		return // no hint: fine
	}
	r2 := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--thread", m[1], "again")
	assert.Equal(t, exitOK, r2.code, "the printed command must work: %s", r2.stderr)
}

// A command's output can end with SGR 8 (conceal), which the render
// filter keeps: the renderer's own "failed (exit 1)" line that follows in
// the same write is then invisible on a terminal (and after `cat`), and
// the text the command printed before ("exit 0") is what the reader sees.
// --color never does not remove it either.
func TestRunCommandOutputCannotHideTheStatus(t *testing.T) {
	t.Parallel()
	r := escRun(t, hosttest.Turn(hosttest.ExecCommand("printf 'exit 0\\n\\033[8m'; exit 1"), hosttest.Text("done")), "--render", "exec", "--color", "never")
	assert.Contains(t, r.stdout, "failed (exit 1)")
	i := strings.Index(r.stdout, "failed (exit 1)")
	require.GreaterOrEqual(t, i, 0)
	assert.NotContains(t, r.stdout[:i], "\x1b[8m", "the status line is concealed by the command's output")
	assert.NotContains(t, r.stdout, "\x1b[", "--color never: no escape sequences on stdout")
}

// A collector that answers an export with an error body: the decision
// log exporter's error is escaped (codexhost: … \x1b]0;…), the trace
// exporter's reaches stderr raw through OpenTelemetry's default error
// handler (stdlib log, no "codexhost:" prefix): a title change, a screen
// clear and a bidi override from the collector's text.
func TestRunExporterErrorsAreEscaped(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	bin := codexhostBinary(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("collector says \x1b]0;PWNED-TITLE\x07 \x1b[2J \u202e evil"))
	}))
	defer srv.Close()
	cmd := exec.Command(bin, "run", "--scripted", "testdata/push.agent.toml", "--cwd", t.TempDir(),
		"--policy", "../../plugins/rules/testdata/example.toml", "--render", "none", "push my work")
	cmd.Env = append(os.Environ(), "OTEL_EXPORTER_OTLP_ENDPOINT="+srv.URL)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	t.Logf("stderr:\n%s", stderr.String())
	assert.Contains(t, stderr.String(), "PWNED-TITLE", "the exporters' errors are reported")
	assertNoRawControl(t, stderr.String())
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if strings.Contains(line, "traces export") {
			assert.True(t, strings.HasPrefix(line, "codexhost: "), "an error line starts with codexhost: %q", line)
		}
	}
}

// jsonMessages returns the "message" of every --json line of type typ
// (for turn.failed, the error's message).
func jsonMessages(t *testing.T, out, typ string) []string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Type    string
			Message string
			Error   struct{ Message string }
		}
		if json.Unmarshal([]byte(line), &ev) != nil || ev.Type != typ {
			continue
		}
		if typ == "turn.failed" {
			msgs = append(msgs, ev.Error.Message)
		} else {
			msgs = append(msgs, ev.Message)
		}
	}
	return msgs
}

// A failed turn with --json: codexhost's error and turn.failed messages
// must be codex exec's, for the same failure from the same model.
func TestRunJSONTurnFailedMatchesCodexExec(t *testing.T) {
	t.Parallel()
	script := hosttest.Failed("server_error", "the model broke")
	_, execHome := fakeCodexHome(t, script)
	work := t.TempDir()
	cmd := exec.Command(e2e.CodexBin(t), "exec", "--json", "--skip-git-repo-check", "-C", work, "go")
	cmd.Env = append(os.Environ(), "CODEX_HOME="+execHome)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	cmd.Stdin = strings.NewReader("")
	_ = cmd.Run()
	t.Logf("codex exec --json:\n%s", stdout.String())
	wantErr, wantFailed := jsonMessages(t, stdout.String(), "error"), jsonMessages(t, stdout.String(), "turn.failed")
	require.NotEmpty(t, wantFailed)

	_, home := fakeCodexHome(t, script)
	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--json", "go")
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Equal(t, wantErr, jsonMessages(t, r.stdout, "error"), "error events as codex exec --json writes them")
	assert.Equal(t, wantFailed, jsonMessages(t, r.stdout, "turn.failed"), "turn.failed as codex exec --json writes it")
}

// A process plugin named without a slash (--plugin myplug, as a file in
// the working directory): codexhost checks ./myplug (it must exist; its
// sha256 is compared with --sha256) but exec.Command looks the bare name
// up in $PATH, so another binary named myplug on PATH is what runs, pin
// or no pin.
func TestProcessPluginBareNameIsTheFile(t *testing.T) {
	_, home := fakeCodexHome(t, hosttest.Text("done"))
	t.Setenv("CODEX_BIN", e2e.CodexBin(t))
	dir := t.TempDir()
	t.Chdir(dir)
	bin := t.TempDir()
	marker := filepath.Join(t.TempDir(), "path-binary-ran")
	require.NoError(t, os.WriteFile("myplug", []byte("#!/bin/sh\nexit 1\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(bin, "myplug"), []byte("#!/bin/sh\necho ran > "+marker+"\nexit 1\n"), 0o755))
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	sum := digestOf(t, "myplug")

	r := runCmd(t, "plugin", "inspect", "--sha256", sum, "myplug")
	assert.Equal(t, exitUsage, r.code)
	assert.NoFileExists(t, marker, "plugin inspect --sha256 %s myplug ran %s/myplug, not the pinned ./myplug", sum, bin)

	require.NoError(t, os.RemoveAll(marker))
	r = runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "--plugin", "myplug", "--sha256", sum, "hi")
	assert.NoFileExists(t, marker, "run --plugin myplug --sha256 %s ran %s/myplug, not the pinned ./myplug", sum, bin)
}

// agent serve --codex-home DIR overwrites DIR/config.toml: pointed at a
// real CODEX_HOME (~/.codex) it silently replaces the user's codex
// configuration with the fake model's.
func TestAgentServeKeepsACodexConfig(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	mine := "model = \"gpt-5\"\n[mcp_servers.docs]\ncommand = \"docs-server\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(home, "config.toml"), []byte(mine), 0o600))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r := runCtx(ctx, t, "", "agent", "serve", "--codex-home", home, "testdata/push.agent.toml")
	b, err := os.ReadFile(filepath.Join(home, "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, mine, string(b), "an existing codex config.toml is kept (or the command refuses the directory), exit %d", r.code)
}

// A wrong $COSIGN_PASSWORD is reported as if none were set.
func TestSignWrongPasswordSaysSo(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("COSIGN_PASSWORD", "right")
	require.Equal(t, exitOK, runCmd(t, "plugin", "keygen", "k").code)
	require.NoError(t, os.WriteFile("p.wasm", []byte("\x00asm\x01\x00\x00\x00"), 0o644))
	t.Setenv("COSIGN_PASSWORD", "wrong")
	r := runCmd(t, "plugin", "sign", "--key", "k.key", "p.wasm")
	assert.Equal(t, exitUsage, r.code)
	assert.NotContains(t, r.stderr, "set $COSIGN_PASSWORD to its password", "it is set: the error must say the password is wrong")
	assert.Contains(t, strings.ToLower(r.stderr), "password")
}

// trust refresh with a --mirror that is not a URL is bad input (exit 2,
// naming --mirror), not a failed fetch (exit 1).
func TestTrustRefreshBadMirror(t *testing.T) {
	t.Setenv("HOME", t.TempDir()) // TUF caches in ~/.sigstore
	out := filepath.Join(t.TempDir(), "root.json")
	for _, m := range []string{"", "notaurl"} {
		r := runCmd(t, "trust", "refresh", "--out", out, "--mirror", m)
		assert.Equal(t, exitUsage, r.code, "--mirror %q", m)
		assert.Contains(t, r.stderr, "--mirror", "--mirror %q", m)
	}
}

// configuration.md: "Every problem is reported on one line that names the
// file, the line and the key". A [[plugin]]'s mode, sha256 and name, and
// an empty chain.fallback, are reported without the line (and the last
// as the flag --fallback, which was not given).
func TestRunConfigFileErrorsNameLineAndKey(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	wasm := policyPlugin(t)
	cases := []struct{ body, want string }{
		{"[[plugin]]\npath = \"" + wasm + "\"\nmode = \"bogus\"\n", ":3: plugin.mode"},
		{"[[plugin]]\npath = \"" + wasm + "\"\nsha256 = \"zz\"\n", ":3: plugin.sha256"},
		{"[[plugin]]\npath = \"" + wasm + "\"\nname = \"bad name!\"\n", ":3: plugin.name"},
		{"[chain]\nfallback = \"\"\n", ":2: chain.fallback"},
	}
	for _, tc := range cases {
		file := filepath.Join(t.TempDir(), "codexhost.toml")
		require.NoError(t, os.WriteFile(file, []byte(tc.body), 0o644))
		r := runCmd(t, "run", "--scripted", "testdata/push.agent.toml", "--cwd", t.TempDir(), "--config-file", file, "hi")
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, file+tc.want, "the file, the line and the key")
	}
}
