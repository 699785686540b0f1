package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/plugintest"
)

// guestFile builds the Go guest in dir for Wasm and writes it to a file.
func guestFile(t *testing.T, dir string) string {
	t.Helper()
	b, err := plugintest.GoGuest(dir)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), filepath.Base(dir)+".wasm")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// The cases file shipped with examples/policy passes; -v shows each case
// and the plugin's answer.
func TestPluginTestCases(t *testing.T) {
	t.Parallel()
	policy := policyPlugin(t)
	r := runCmd(t, "plugin", "test", policy, "--cases", "../../examples/policy/cases.toml")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, "ok  \t"+policy+"\t4 cases", regexp.MustCompile(` \(.*\)\n$`).ReplaceAllString(r.stdout, ""))
	assert.Empty(t, r.stderr)

	r = runCmd(t, "plugin", "test", "-v", policy, "--cases", "../../examples/policy/cases.toml")
	require.Equal(t, exitOK, r.code)
	for _, s := range []string{
		"--- PASS: echo is accepted (", "    plugin:  accept (echo is harmless)",
		"--- PASS: rm is declined (", "    plugin:  decline (removing files is not allowed)",
		"--- PASS: codex's request for git push gets the fallback: decline (", `    codex gets: {"decision":"decline"}`,
	} {
		assert.Contains(t, r.stdout, s)
	}

	// JSON cases, with --run.
	cases := filepath.Join(t.TempDir(), "cases.json")
	require.NoError(t, os.WriteFile(cases, []byte(`{"case": [
		{"name": "echo", "approval": {"kind": "command", "command": "echo hi"}, "expect": {"decision": "accept"}},
		{"name": "rm", "approval": {"kind": "command", "command": "rm x"}, "expect": {"decision": "decline"}}
	]}`), 0o644))
	r = runCmd(t, "plugin", "test", "-v", "--run", "^rm$", policy, "--cases", cases)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "--- PASS: rm (")
	assert.NotContains(t, r.stdout, "echo")
	assert.Contains(t, r.stdout, "1 cases")

	// The same source as a process plugin passes the same cases.
	bin, err := plugintest.ProcessGuest("../../examples/policy")
	require.NoError(t, err)
	r = runCmd(t, "plugin", "test", bin, "--cases", "../../examples/policy/cases.toml")
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "4 cases")
}

// Render cases: events in, output checked.
func TestPluginTestRender(t *testing.T) {
	t.Parallel()
	renderer := guestFile(t, "../../examples/renderer")
	cases := filepath.Join(t.TempDir(), "cases.toml")
	require.NoError(t, os.WriteFile(cases, []byte(`
[[case]]
name = "a turn"
[case.render]
events = [
  {kind = "turnStarted", method = "turn/started", seq = 1, threadId = "t", turnId = "u"},
  {kind = "agentMessageDelta", method = "item/agentMessage/delta", seq = 2, delta = "Hel"},
  {kind = "agentMessageDelta", method = "item/agentMessage/delta", seq = 3, delta = "lo"},
]
[case.expect]
output = "── turn started\nHello"

[[case]]
name = "wrong"
[case.render]
events = [{kind = "agentMessageDelta", seq = 1, delta = "Bye"}]
[case.expect]
output_contains = "Hello"
`), 0o644))
	r := runCmd(t, "plugin", "test", renderer, "--cases", cases)
	require.Equal(t, exitTurnFailed, r.code)
	assert.NotContains(t, r.stdout, "a turn")
	assert.Contains(t, r.stdout, "--- FAIL: wrong (")
	assert.Contains(t, r.stdout, `    output: want it to contain "Hello", got "Bye"`)
	assert.Contains(t, r.stdout, "2 cases, 1 failed")
}

// A failed case says what was expected and what the plugin answered, with a
// diff for structured answers, and the command exits 1.
func TestPluginTestFailureDiff(t *testing.T) {
	t.Parallel()
	policy := policyPlugin(t)
	tool := guestFile(t, "../../examples/tool")
	cases := filepath.Join(t.TempDir(), "cases.toml")
	require.NoError(t, os.WriteFile(cases, []byte(`
[[case]]
name = "rm must be accepted (wrong)"
[case.approval]
kind = "command"
command = "/bin/bash -lc 'rm -rf build'"
[case.expect]
decision = "accept"
reason_contains = "harmless"

[[case]]
name = "the answer to codex"
[case.codex]
method = "item/commandExecution/requestApproval"
params = {threadId = "t", turnId = "u", itemId = "i", command = "rm x"}
[case.expect]
answer = {decision = "accept"}

[[case]]
name = "echo passes"
[case.approval]
kind = "command"
command = "echo hi"
[case.expect]
decision = "accept"

[[case]]
name = "a tool the policy does not serve"
[case.tool_call]
threadId = "t"
callId = "c"
tool = "word_count"
arguments = {text = "one two"}
[case.expect]
content = "two words"
`), 0o644))
	r := runCmd(t, "plugin", "test", policy, "--cases", cases)
	require.Equal(t, exitTurnFailed, r.code)
	assert.Empty(t, r.stderr, "failures are the command's output, not errors")
	want := []string{
		"--- FAIL: rm must be accepted (wrong) (",
		`    decision: want "accept", got "decline"`,
		`    reason: want it to contain "harmless", got "removing files is not allowed"`,
		"--- FAIL: the answer to codex (",
		"    answer to codex differs (-want +got):\n        {\n      -   \"decision\": \"accept\"\n      +   \"decision\": \"decline\"\n        }",
		"--- FAIL: a tool the policy does not serve (",
		"    the plugin does not implement the tool-call hook (its hooks: approval)",
		"FAIL\t" + policy + "\t4 cases, 3 failed (",
	}
	for _, s := range want {
		assert.Contains(t, r.stdout, s)
	}
	assert.NotContains(t, r.stdout, "echo passes", "passing cases are quiet without -v")

	// The tool plugin, on its own tool: the content differs.
	r = runCmd(t, "plugin", "test", tool, "--cases", cases, "--run", "tool")
	require.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stdout, "    content differs (-want +got):\n      - two words\n      + 2 words")
}

// A transcript recorded with run --record replays against the plugin: the
// same policy gives the recorded answers; another gives a diff; --print
// shows the answers without comparing; a renderer renders the events.
func TestPluginTestTranscript(t *testing.T) {
	t.Parallel()
	turn := recordTurn(t)
	policy := policyPlugin(t)
	r := runCmd(t, "plugin", "test", "-v", policy, "--transcript", turn)
	require.Equal(t, exitOK, r.code)
	assert.Regexp(t, `--- PASS: turn.jsonl:\d+ commandApproval /bin/bash -lc 'rm victim.txt' \(`, r.stdout)
	assert.Contains(t, r.stdout, `    codex gets: {"decision":"decline"}`)

	src, err := plugintest.GuestSource(plugintest.GuestApproveAll)
	require.NoError(t, err)
	approveAll := guestFile(t, src)
	r = runCmd(t, "plugin", "test", approveAll, "--transcript", turn)
	require.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stdout, "    answer to codex, recorded differs (-want +got):\n        {\n      -   \"decision\": \"decline\"\n      +   \"decision\": \"accept\"\n        }")
	assert.Contains(t, r.stdout, "    plugin:  accept (approve-all)")
	assert.Contains(t, r.stdout, "1 cases, 1 failed")

	// --print labels what differs from the recording as such, never PASS.
	r = runCmd(t, "plugin", "test", "--print", approveAll, "--transcript", turn)
	require.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, `    codex gets: {"decision":"accept"}`)
	assert.Regexp(t, `--- DIFFERS: turn.jsonl:\d+ commandApproval`, r.stdout)
	assert.Contains(t, r.stdout, "    answer to codex, recorded differs (-want +got):")
	assert.NotContains(t, r.stdout, "PASS")
	assert.Contains(t, r.stdout, "1 cases, 1 differ from the recording")
	r = runCmd(t, "plugin", "test", "--print", policy, "--transcript", turn)
	require.Equal(t, exitOK, r.code)
	assert.Regexp(t, `--- SAME: turn.jsonl:\d+ commandApproval`, r.stdout)
	assert.Contains(t, r.stdout, "0 differ from the recording")

	renderer := guestFile(t, "../../examples/renderer")
	r = runCmd(t, "plugin", "test", "-v", renderer, "--transcript", turn)
	require.Equal(t, exitOK, r.code)
	assert.Regexp(t, `--- PASS: turn.jsonl render \d+ events`, r.stdout)
	assert.Contains(t, r.stdout, "  | ")
	assert.Contains(t, r.stdout, "tried", "the agent's text, rendered")
	assert.Contains(t, r.stdout, "1 requests skipped (not for this plugin)")
}

// plugin build builds a plugin for both runtimes, checks it loads, and
// prints its manifest and sha256; compiler errors are shown as they are.
//
// Not parallel, like TestPluginNew: go builds are heavy on a small machine,
// and the turns of the parallel tests have deadlines.
func TestPluginBuild(t *testing.T) {
	out := t.TempDir()
	wasmOut := filepath.Join(out, "tool.wasm")
	r := runCmdLong(t, "plugin", "build", "-o", wasmOut, "../../examples/tool")
	require.Equal(t, exitOK, r.code)
	assert.Equal(t, "built "+wasmOut+": word-count 1.0.0 (wasm, ", r.stdout[:strings.Index(r.stdout, ", ")+2])
	assert.Contains(t, r.stdout, "\nsha256 "+digestOf(t, wasmOut)+"\n")
	b, err := os.ReadFile(wasmOut)
	require.NoError(t, err)
	assert.Equal(t, "\x00asm", string(b[:4]))

	// -o naming a directory puts the plugin in it, as go build does: the
	// default output, from a source's parent, names the source directory
	// (plugin build --runtime process NAME), which the build wrote into
	// and then failed to load (review).
	binDir := filepath.Join(out, "bin")
	require.NoError(t, os.Mkdir(binDir, 0o755))
	procOut := filepath.Join(binDir, "tool")
	r = runCmdLong(t, "plugin", "build", "--runtime", "process", "-o", binDir, "../../examples/tool")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "built "+procOut+": word-count 1.0.0 (process, ")
	assert.Contains(t, r.stdout, "\nsha256 "+digestOf(t, procOut)+"\n")

	// A compile error: the compiler's output, then one line.
	broken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module broken\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(broken, "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644))
	r = runCmdLong(t, "plugin", "build", "-o", filepath.Join(out, "broken.wasm"), broken)
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "main.go:3:15: undefined: undefinedThing")
	assert.True(t, strings.HasSuffix(r.stderr, "codexhost: plugin build "+broken+": go build for wasm failed (the compiler's errors are above)\n"), r.stderr)

	// A program that is not a plugin.
	require.NoError(t, os.WriteFile(filepath.Join(broken, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644))
	r = runCmdLong(t, "plugin", "build", "-o", filepath.Join(out, "notplugin.wasm"), broken)
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "was built, but it is not a plugin")
	assert.Contains(t, r.stderr, "does main call guest.Main?")
}

func runCmdLong(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return runCtx(ctx, t, "", args...)
}

// plugin new scaffolds a plugin that builds, whose cases pass under plugin
// test and whose own test passes: inside the codexhost module, and outside
// any module (with a go.mod that replaces codexhost by this tree).
func TestPluginNew(t *testing.T) {
	require.NoError(t, os.MkdirAll("testdata", 0o755))
	inside, err := os.MkdirTemp("testdata", "new-")
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = os.RemoveAll(inside)
		_ = os.Remove("testdata") // if empty
	})
	for _, tc := range []struct {
		name, parent string
		gomod        bool
	}{
		{"inside the module", inside, false},
		{"outside any module", t.TempDir(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(tc.parent, "deny-push")
			r := runCmdLong(t, "plugin", "new", "--dir", dir, "deny-push")
			require.Equal(t, exitOK, r.code)
			assert.Contains(t, r.stdout, "created "+dir+": main.go, main_test.go, cases.toml, README.md, .gitignore")
			for _, f := range []string{"main.go", "main_test.go", "cases.toml", "README.md", ".gitignore"} {
				assert.FileExists(t, filepath.Join(dir, f))
			}
			if !tc.gomod {
				// The scaffold's .gitignore, read by the real git: a key that
				// plugin keygen writes there, and the build outputs, are never
				// committed; the sources are.
				repo := t.TempDir()
				b, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(repo, ".gitignore"), b, 0o644))
				out, err := exec.Command("git", "-C", repo, "init", "-q").CombinedOutput()
				require.NoError(t, err, "%s", out)
				for _, f := range []string{"release.key", "deny-push.wasm", "deny-push"} {
					assert.NoError(t, exec.Command("git", "-C", repo, "check-ignore", "-q", f).Run(), "%s is ignored", f)
				}
				for _, f := range []string{"main.go", "cases.toml", "release.pub", "sub/deny-push.wasm"} {
					assert.Error(t, exec.Command("git", "-C", repo, "check-ignore", "-q", f).Run(), "%s is not ignored", f)
				}
			}
			if tc.gomod {
				b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
				require.NoError(t, err)
				root, _ := filepath.Abs("../..")
				assert.Contains(t, string(b), "replace github.com/codexhost/codexhost => "+root)
				assert.Contains(t, string(b), "github.com/stretchr/testify", "go mod tidy ran")
			} else {
				assert.NoFileExists(t, filepath.Join(dir, "go.mod"))
			}

			wasmOut := filepath.Join(t.TempDir(), "deny-push.wasm")
			r = runCmdLong(t, "plugin", "build", "-o", wasmOut, dir)
			require.Equal(t, exitOK, r.code)
			assert.Contains(t, r.stdout, ": deny-push 0.1.0 (wasm, ")

			r = runCmd(t, "plugin", "test", wasmOut, "--cases", filepath.Join(dir, "cases.toml"))
			require.Equal(t, exitOK, r.code, "the scaffold's cases pass")
			assert.Contains(t, r.stdout, "5 cases")

			cmd := exec.Command("go", "test", "-count=1", ".")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "the scaffold's own test passes:\n%s", out)
			t.Logf("go test in the scaffold:\n%s", out)

			cmd = exec.Command("go", "vet", ".")
			cmd.Dir = dir
			out, err = cmd.CombinedOutput()
			require.NoError(t, err, "go vet:\n%s", out)
			cmd = exec.Command("gofmt", "-l", ".")
			cmd.Dir = dir
			out, err = cmd.CombinedOutput()
			require.NoError(t, err)
			assert.Empty(t, string(out), "the scaffold is gofmt'ed")
		})
	}
}
