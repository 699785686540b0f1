package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
)

// codex exec's JSONL schema (codex-rs/exec/src/exec_events.rs), strictly:
// a line of a known type must decode into its shape with no unknown field.
type execEvent struct {
	Type     string          `json:"type"`
	ThreadID string          `json:"thread_id,omitempty"`
	Item     *execItem       `json:"item,omitempty"`
	Usage    *execUsageShape `json:"usage,omitempty"`
	Error    *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
	Message string `json:"message,omitempty"`
}

type execItem struct {
	ID               string          `json:"id"`
	Type             string          `json:"type"`
	Text             string          `json:"text,omitempty"`
	Command          string          `json:"command,omitempty"`
	AggregatedOutput *string         `json:"aggregated_output,omitempty"`
	ExitCode         *int            `json:"exit_code,omitempty"`
	Status           string          `json:"status,omitempty"`
	Changes          []execChange    `json:"changes,omitempty"`
	Server           string          `json:"server,omitempty"`
	Tool             string          `json:"tool,omitempty"`
	Arguments        json.RawMessage `json:"arguments,omitempty"`
}

type execChange struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

type execUsageShape struct {
	InputTokens           int `json:"input_tokens"`
	CachedInputTokens     int `json:"cached_input_tokens"`
	CacheWriteInputTokens int `json:"cache_write_input_tokens"`
	OutputTokens          int `json:"output_tokens"`
	ReasoningOutputTokens int `json:"reasoning_output_tokens"`
}

// run --json on a real turn prints codex exec's event schema, with the
// policy's decisions as codexhost.decision events a codex exec consumer
// skips; -o writes the last message.
func TestRunJSONIsCodexExecSchema(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	work := t.TempDir()
	last := filepath.Join(t.TempDir(), "last.txt")
	r := runCmd(t, "run", "--json", "-o", last, "--scripted", "testdata/push.agent.toml", "-C", work,
		"-s", "workspace-write", "--policy", writeRules(t, scriptRules), "push my work")
	require.Equal(t, exitDeclined, r.code, r.stderr)

	var types []string
	var decisions []map[string]any
	asked := 0 // command_execution and file_change items started so far
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var probe struct{ Type string }
		require.NoError(t, json.Unmarshal([]byte(line), &probe), line)
		types = append(types, probe.Type)
		if probe.Type == "codexhost.decision" {
			var d map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &d))
			decisions = append(decisions, d)
			// codex announces a command or a file change (item/started)
			// before it asks about it: the decision line comes after its
			// item.
			assert.Greater(t, asked, len(decisions)-1, "decision %d before its item.started: %s", len(decisions), r.stdout)
			continue
		}
		if strings.HasPrefix(line, `{"type":"item.started","item":{"id":"item_`) &&
			(strings.Contains(line, `"type":"command_execution"`) || strings.Contains(line, `"type":"file_change"`)) {
			asked++
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(line)))
		dec.DisallowUnknownFields()
		var ev execEvent
		require.NoError(t, dec.Decode(&ev), "not codex exec's schema: %s", line)
		switch ev.Type {
		case "thread.started":
			assert.NotEmpty(t, ev.ThreadID)
		case "item.started", "item.completed", "item.updated":
			require.NotNil(t, ev.Item, line)
			assert.Regexp(t, `^item_\d+$`, ev.Item.ID)
			assert.Contains(t, []string{"command_execution", "file_change", "agent_message", "reasoning", "mcp_tool_call"}, ev.Item.Type)
		case "turn.completed":
			require.NotNil(t, ev.Usage, line)
		case "turn.started":
		default:
			t.Errorf("unexpected event type %q", ev.Type)
		}
	}
	assert.Equal(t, "thread.started", types[0])
	assert.Equal(t, "turn.started", types[1])
	assert.Equal(t, "turn.completed", types[len(types)-1])
	require.Len(t, decisions, 3)
	assert.Equal(t, "decline", decisions[2]["decision"])
	assert.Contains(t, decisions[2]["summary"], "git push origin main")
	assert.Equal(t, "rules: rule no-push: pushing is not allowed", decisions[2]["reason"])

	b, err := os.ReadFile(last)
	require.NoError(t, err)
	assert.Equal(t, "I tried to push the branch.", string(b))

	r = runCmd(t, "run", "--json", "--render", "exec", "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--json and --render exec: choose one")
}

// The prompt as codex exec reads it: piped stdin is appended to a prompt
// as a <stdin> block, or is the prompt with none or "-"; images and
// features reach codex.
func TestRunPromptFromStdinAndImages(t *testing.T) {
	t.Parallel()
	img := filepath.Join(t.TempDir(), "pixel.png")
	require.NoError(t, os.WriteFile(img, pngPixel, 0o644))
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"appended", "line one\nline two", []string{"summarise this"}, "summarise this\n\n<stdin>\nline one\nline two\n</stdin>"},
		{"only stdin", "the whole prompt\n", nil, "the whole prompt\n"},
		{"dash", "dash prompt\n", []string{"-"}, "dash prompt\n"},
		{"empty stdin", "", []string{"just args"}, "just args"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			model, home := fakeCodexHome(t, hosttest.Text("ok"))
			ctx := t.Context()
			args := append([]string{"run", "--codex-home", home, "-C", t.TempDir(), "--render", "none"}, tc.args...)
			r := runCtx(ctx, t, tc.stdin, args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			reqs := model.Requests()
			require.NotEmpty(t, reqs)
			assert.Equal(t, tc.want, reqs[0].LastUserText())
		})
	}

	model, home := fakeCodexHome(t, hosttest.Text("ok"))
	img2 := filepath.Join(t.TempDir(), "pixel2.png")
	require.NoError(t, os.WriteFile(img2, pngPixel, 0o644))
	// -i FILE,FILE is a list, as in codex exec.
	r := runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "-i", img+","+img2, "--enable", "shell_snapshot", "--ephemeral", "look")
	require.Equal(t, exitOK, r.code, r.stderr)
	reqs := model.Requests()
	require.NotEmpty(t, reqs)
	// The fake model's catalog entry takes no images, so codex sends the
	// image's tag with its path instead of its pixels.
	assert.True(t, strings.Contains(string(reqs[0].Body), `<image name=[Image #1] path=\"`+img+`\">`), "the image reached codex")
	assert.True(t, strings.Contains(string(reqs[0].Body), `<image name=[Image #2] path=\"`+img2+`\">`), "the second image reached codex")

	// A feature codex does not know stops app-server at start, as in
	// codex exec (a -c features.NAME override only made codex warn).
	_, home = fakeCodexHome(t, hosttest.Text("ok"))
	r = runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--enable", "no_such_feature", "look")
	assert.Equal(t, exitConn, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Unknown feature flag: no_such_feature")
}

func TestExecFlagsBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--color", "sometimes", "hi"}, `--color "sometimes": want always, never or auto`},
		{[]string{"run", "-i", "/no/such.png", "hi"}, "--image /no/such.png: not a readable file"},
		{[]string{"run", "--add-dir", "/no/such/dir", "hi"}, "--add-dir /no/such/dir: not a directory"},
		{[]string{"run", "--enable", "a.b", "hi"}, `--enable/--disable "a.b": want a feature name`},
		{[]string{"run", "--enable", "x", "--disable", "x", "hi"}, "--enable x and --disable x: choose one"},
		{[]string{"run", "-p", "work", "hi"}, "-p/--profile work: codex app-server takes no config profile"},
		{[]string{"run"}, "no prompt"},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want)
	}
}

// A 1x1 PNG.
var pngPixel = []byte{0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
	0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00,
	0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82}

// run resume --last continues the working directory's most recent
// thread, and run resume ID a named one, as codex exec resume does.
func TestRunResume(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("first answer")),
		hosttest.Turn(hosttest.Text("second answer")), hosttest.Turn(hosttest.Text("third answer"))))
	work, other := t.TempDir(), t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "-C", work, "first prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	id := strings.Fields(strings.TrimPrefix(strings.TrimSpace(r.stderr[strings.LastIndex(r.stderr, "thread "):]), "thread "))[0]
	id = strings.TrimSuffix(id, ":")

	r = runCmd(t, "run", "resume", "--last", "--codex-home", home, "-C", other, "elsewhere")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "run resume --last: no thread in "+other)

	r = runCmd(t, "run", "resume", "--last", "--codex-home", home, "-C", work, "second prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "thread "+id+":", "the same thread")
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "second prompt", reqs[1].LastUserText())
	assert.True(t, strings.Contains(string(reqs[1].Body), "first answer"), "the resumed turn carries the thread's history")

	r = runCmd(t, "run", "resume", "--codex-home", home, "-C", work, id, "third prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "thread "+id+":")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "resume", "hi"}[:2], "give a THREAD_ID or --last"},
		{[]string{"run", "resume", "--all", id, "x"}, "--all goes with --last"},
		{[]string{"run", "resume", "--thread", id, "x"}, "not --thread"},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, tc.want)
	}
}

// codex's configuration warnings and deprecation notices reach stderr,
// one escaped line each, and stdout stays the renderer's.
func TestRunShowsConfigNotices(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Text("ok"))
	r := runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--render", "none",
		"-c", "features.web_search_request=true", "-c", "experimental_use_freeform_apply_patch=true", "hi")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codex deprecated: `[features].web_search_request` is deprecated")
	assert.Contains(t, r.stderr, "codex warning: Codex is ignoring 1 unrecognized configuration setting. Check for typos or deprecated settings.\\n  session-flags: `experimental_use_freeform_apply_patch` is ignored.")
	assert.Equal(t, "ok\n", r.stdout)
}

// A model provider that cannot be reached ends the run with exit 4 after
// --max-reconnects retries in a row, instead of codex's endless "waiting
// for network"; the retry notices go to stderr, not stdout.
func TestRunUnreachableProviderExits4(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	addr := refusingAddr(t) // nothing listens there, nor can until the test ends
	home := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(home, "config.toml"), []byte(`model = "mock-model"
model_provider = "mock"
check_for_update_on_startup = false
[model_providers.mock]
name = "mock"
base_url = "http://`+addr+`/v1"
wire_api = "responses"
[features]
plugins = false
`), 0o644))
	r := runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--max-reconnects", "1", "hi")
	assert.Equal(t, exitConn, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codex: Reconnecting")
	assert.Contains(t, r.stderr, "codexhost: the model provider cannot be reached: Reconnecting")
	assert.NotContains(t, r.stdout, "Reconnecting", "retries are diagnostics, on stderr")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	assert.True(t, strings.HasPrefix(lines[len(lines)-1], "codexhost: the model provider cannot be reached"), "the error is the last line")
}

// --json promises codex exec --json's JSON lines on stdout. A render
// plugin would write its text among them (it used to replace them,
// silently): run refuses the two together, before codex starts, and says
// which plugin.
func TestRunJSONRefusesARenderPlugin(t *testing.T) {
	t.Parallel()
	renderer := guestFile(t, "../../examples/renderer")
	m, home := fakeCodexHome(t, hosttest.Text("hello there"))
	r := runCmd(t, "run", "--no-config", "--codex-home", home, "--cwd", t.TempDir(), "--fallback", "accept",
		"--plugin", renderer, "--json", "say hi")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--json prints JSON lines on stdout, and the plugin")
	assert.Contains(t, r.stderr, "drop --json or the plugin")
	assert.Empty(t, r.stdout)
	assert.Empty(t, m.Requests(), "no turn ran")
}

// -o FILE in a directory that does not exist is refused before the turn,
// as codex exec does; a write that fails at the end (here /dev/full) still
// prints the answer first: nothing is lost.
func TestRunLastMessageFileFails(t *testing.T) {
	t.Parallel()
	m, home := fakeCodexHome(t, hosttest.Text("the precious answer"))
	out := filepath.Join(t.TempDir(), "missing", "last.txt")
	r := runCmd(t, "run", "--no-config", "--codex-home", home, "--cwd", t.TempDir(), "--render", "none", "-o", out, "say hi")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--output-last-message "+out+": the directory "+filepath.Dir(out)+" does not exist")
	assert.Empty(t, m.Requests(), "refused before the turn")

	r = runCmd(t, "run", "--no-config", "--codex-home", home, "--cwd", t.TempDir(), "--render", "none", "-o", t.TempDir(), "say hi")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "a directory, not a file")

	r = runCmd(t, "run", "--no-config", "--codex-home", home, "--cwd", t.TempDir(), "--render", "none", "-o", "/dev/full", "say hi")
	assert.Equal(t, exitTurnFailed, r.code, r.stderr)
	assert.Equal(t, "the precious answer\n", r.stdout)
	assert.Contains(t, r.stderr, "--output-last-message /dev/full: no space left on device")
}

// codex exec takes its flags before the resume subcommand too (codex exec
// --json resume --last PROMPT): run does the same, and continues the thread
// instead of starting a new one whose prompt would be "resume --last …".
// After "--", resume is the prompt.
func TestRunFlagsBeforeResume(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("first answer")),
		hosttest.Turn(hosttest.Text("second answer")), hosttest.Turn(hosttest.Text("third answer"))))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "first prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	id := regexp.MustCompile(`thread (\S+): continue`).FindStringSubmatch(r.stderr)
	require.NotNil(t, id, r.stderr)

	r = runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "resume", "--last", "second prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "thread "+id[1]+":", "the same thread")
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "second prompt", reqs[1].LastUserText())
	assert.Contains(t, string(reqs[1].Body), "first answer", "the resumed turn carries the thread's history")

	r = runCmd(t, "run", "--render", "none", "resume")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "run resume: give a THREAD_ID or --last")

	r = runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "--", "resume")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "thread "+id[1]+":", "a new thread")
	reqs = model.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, "resume", reqs[2].LastUserText())
}

// --output-schema FILE, as codex exec's: the JSON Schema the final answer
// must match reaches the model as the turn's output format (the Responses
// request's text.format), on a new thread and on a resumed one; a missing
// file or one that is not JSON is refused before the turn, naming it.
func TestRunOutputSchema(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Text(`{"verdict_7c1e":"ok"}`))
	dir, work := t.TempDir(), t.TempDir()
	schema := filepath.Join(dir, "schema.json")
	require.NoError(t, os.WriteFile(schema, []byte(`{"type":"object","properties":{"verdict_7c1e":{"type":"string"}},"required":["verdict_7c1e"],"additionalProperties":false}`), 0o644))
	r := runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "--output-schema", schema, "judge it")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "{\"verdict_7c1e\":\"ok\"}\n", r.stdout)
	reqs := model.Requests()
	require.Len(t, reqs, 1)
	assert.Contains(t, string(reqs[0].Body), `"json_schema"`, "the schema is sent as the output format")
	assert.Contains(t, string(reqs[0].Body), "verdict_7c1e", "the file's schema")

	r = runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "--output-schema", schema, "resume", "--last", "again")
	require.Equal(t, exitOK, r.code, r.stderr)
	reqs = model.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, string(reqs[1].Body), `"json_schema"`, "a resumed thread's turn has it too")

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("not json"), 0o644))
	for _, tc := range []struct{ file, want string }{
		{filepath.Join(dir, "missing.json"), "--output-schema " + filepath.Join(dir, "missing.json") + ": "},
		{bad, "--output-schema " + bad + ": not JSON"},
	} {
		r := runCmd(t, "run", "--codex-home", home, "-C", work, "--output-schema", tc.file, "hi")
		assert.Equal(t, exitUsage, r.code, r.stderr)
		assert.Contains(t, r.stderr, tc.want)
	}
	assert.Len(t, model.Requests(), 2, "refused before the turn")
}

// --add-dir adds a writable root beside the ones codex's configuration
// already has, as codex exec's does: the configured roots stay writable.
// (/tmp is left out of the sandbox's writable places, so that only the
// roots make the temporary directories writable.)
func TestRunAddDirKeepsConfiguredRoots(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	configured, added, work := t.TempDir(), t.TempDir(), t.TempDir()
	m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch " + filepath.Join(configured, "x") + " " + filepath.Join(added, "y"),
			SandboxPermissions: "use_default"}), hosttest.Text("done"))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	home := t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(home, m.URL(), &hosttest.CodexHomeOptions{ApprovalPolicy: "never", SandboxMode: "workspace-write"}))
	f, err := os.OpenFile(filepath.Join(home, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "\n[sandbox_workspace_write]\nwritable_roots = [%q]\nexclude_slash_tmp = true\nexclude_tmpdir_env_var = true\n", configured)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r := runCmd(t, "run", "--codex-home", home, "-C", work, "--json", "--add-dir", added, "touch both")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.FileExists(t, filepath.Join(added, "y"), "the --add-dir directory is writable: %s", r.stdout)
	assert.FileExists(t, filepath.Join(configured, "x"), "the configured root stays writable: %s", r.stdout)
}

// A codex exec flag that run does not take is named as codex exec's, with
// what to do instead, rather than refused as a typo with a near flag of
// run's that means something else (--trust is not --trust-policy).
func TestRunNamesCodexExecFlagsItLacks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--trust", "hi"}, "unknown flag: --trust: codex exec's --trust, which trusts the project, has no counterpart in codexhost run"},
		{[]string{"run", "--oss", "hi"}, "codex exec's --oss has no counterpart in codexhost run; choose the provider with -c model_provider="},
		{[]string{"run", "--dangerously-bypass-approvals-and-sandbox", "hi"}, "codex exec's --dangerously-bypass-approvals-and-sandbox has no counterpart in codexhost run"},
		{[]string{"run", "resume", "--last", "--ignore-user-config", "hi"}, "codex exec's --ignore-user-config has no counterpart in codexhost run"},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		last := lines[len(lines)-1]
		assert.Contains(t, last, tc.want, tc.args)
		assert.NotContains(t, last, "did you mean", tc.args)
	}
}

// --strict-config, as codex exec's: codex refuses a config.toml with a key
// it does not know, and the run stops at start (exit 4) naming it; without
// the flag codex ignores the key.
func TestRunStrictConfig(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Text("ok"))
	cfg := filepath.Join(home, "config.toml")
	b, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, append([]byte("no_such_key_7 = 1\n"), b...), 0o644))

	r := runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--render", "none", "--strict-config", "hi")
	assert.Equal(t, exitConn, r.code, r.stderr)
	assert.Contains(t, r.stderr, "no_such_key_7")
	assert.Empty(t, model.Requests(), "stopped at start")

	r = runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--render", "none", "hi")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "ok\n", r.stdout)
}

// run resume --last continues the last thread of the directory whichever
// ran it: one that codex exec started too, as codex exec resume --last
// does (app-server's thread/list leaves codex exec's threads out unless
// asked for them).
func TestRunResumeLastFindsCodexExecThreads(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("exec answer")), hosttest.Turn(hosttest.Text("resumed answer"))))
	work := t.TempDir()
	cmd := exec.Command(e2e.CodexBin(t), "exec", "--json", "--skip-git-repo-check", "-C", work, "first prompt")
	cmd.Env = append(os.Environ(), "CODEX_HOME="+home)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.Output()
	require.NoError(t, err, "codex exec: %s", out)
	m := regexp.MustCompile(`"thread_id":"([^"]+)"`).FindSubmatch(out)
	require.NotNil(t, m, "codex exec --json: %s", out)

	r := runCmd(t, "run", "resume", "--last", "--codex-home", home, "-C", work, "--render", "none", "second prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "thread "+string(m[1])+":", "codex exec's thread")
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, string(reqs[1].Body), "exec answer", "the resumed turn carries codex exec's history")
}

// codex exec's -i takes several files after one flag, ended by "--"
// before the prompt (codex exec -i a.png b.png -- PROMPT): run attaches
// both, and the prompt is what follows "--", not "b.png PROMPT".
func TestRunImagesAfterOneFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	img, img2 := filepath.Join(dir, "pixel.png"), filepath.Join(dir, "pixel2.png")
	require.NoError(t, os.WriteFile(img, pngPixel, 0o644))
	require.NoError(t, os.WriteFile(img2, pngPixel, 0o644))
	model, home := fakeCodexHome(t, hosttest.Text("ok"))
	r := runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--render", "none", "-i", img, img2, "--", "describe them")
	require.Equal(t, exitOK, r.code, r.stderr)
	reqs := model.Requests()
	require.Len(t, reqs, 1)
	assert.Contains(t, reqs[0].UserTexts(), "describe them", "the prompt is what follows --")
	assert.True(t, strings.Contains(string(reqs[0].Body), `<image name=[Image #1] path=\"`+img+`\">`), "the first image reached codex")
	assert.True(t, strings.Contains(string(reqs[0].Body), `<image name=[Image #2] path=\"`+img2+`\">`), "the second image reached codex")

	// Without "--", the words after the file are the prompt, as before.
	r = runCmd(t, "run", "--codex-home", home, "-C", t.TempDir(), "--render", "none", "--image", img, "describe", "it")
	require.Equal(t, exitOK, r.code, r.stderr)
	reqs = model.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, reqs[1].UserTexts(), "describe it")
}
