package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/transcript"
)

const scriptRules = `
[[rule]]
name = "no-push"
decision = "decline"
message = "pushing is not allowed"
[rule.match]
argv_prefix = ["git", "push"]

[[rule]]
name = "read-git"
decision = "accept"
[rule.match]
argv_prefix = ["git", "status"]

[[rule]]
name = "notes"
decision = "accept"
[rule.match]
hook_kind = "fileChange"
paths = ["**/NOTES.md"]
`

// The must-show, on the real codex with a scripted agent and the
// default flags: the policy is asked about git push, the audit log records
// it, and the push does not run; the other steps are asked and accepted.
func TestRunScriptedPolicyAskedAboutPush(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	work := t.TempDir()
	auditFile := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runCmd(t, "run", "--scripted", "testdata/push.agent.toml", "--cwd", work,
		"--policy", writeRules(t, scriptRules), "--audit", auditFile, "push my work")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.Contains(t, r.stderr, "rule no-push: pushing is not allowed")
	assert.Contains(t, r.stdout, "I tried to push the branch.")
	assert.FileExists(t, filepath.Join(work, "NOTES.md"), "the accepted write was applied")

	recs := readAudit(t, auditFile)
	var got []string
	for _, rec := range recs {
		got = append(got, rec["decision"].(string)+" "+rec["summary"].(string))
	}
	require.Len(t, recs, 3, "%v", got)
	assert.Equal(t, "accept", recs[0]["decision"])
	assert.Contains(t, got[0], "git status")
	assert.Equal(t, "accept", recs[1]["decision"])
	assert.Contains(t, got[1], "NOTES.md")
	assert.Equal(t, "decline", recs[2]["decision"])
	assert.Contains(t, got[2], "git push origin main")
}

func TestAgentScriptBadInput(t *testing.T) {
	t.Parallel()
	write := func(text string) string {
		p := filepath.Join(t.TempDir(), "script.toml")
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	for _, tc := range []struct {
		name, script, want string
	}{
		{"no turn", "", "no [[turn]]"},
		{"no step", "[[turn]]\n", "turn 1 has no [[turn.step]]"},
		{"unknown key", "[[turn]]\n[[turn.step]]\nshout = \"x\"\n", `unknown key "turn.step.shout"`},
		{"two actions", "[[turn]]\n[[turn.step]]\nrun = \"ls\"\npatch = \"x\"\n", "turn 1, step 1: more than one action"},
		{"say not last", "[[turn]]\n[[turn.step]]\nsay = \"a\"\n[[turn.step]]\nsay = \"b\"\n", "turn 1, step 1: a step with only say ends the turn"},
		{"escalate alone", "[[turn]]\n[[turn.step]]\nsay = \"x\"\nescalate = true\n", "escalate and workdir go with run"},
		{"empty step", "[[turn]]\n[[turn.step]]\n", "empty step"},
		{"not TOML", "[[turn]\n", "not a valid script"},
		{"bad question", "[[turn]]\n[[turn.step]]\nask = [{ id = \"q\" }]\n", "question 1 needs an id and a question"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, "run", "--scripted", write(tc.script), "hi")
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tc.want)
			assert.Equal(t, 1, countLines(r.stderr), "one line: %q", r.stderr)
		})
	}
	r := runCmd(t, "run", "--scripted", "/no/such/script.toml", "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "/no/such/script.toml: no such script file")
	r = runCmd(t, "run", "--scripted", "testdata/push.agent.toml", "--codex-home", t.TempDir(), "hi")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "leave out --codex-home")
}

// agent serve writes a CODEX_HOME and serves the script until its context
// ends; a run against that CODEX_HOME follows the script.
func TestAgentServe(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	home := filepath.Join(t.TempDir(), "agent-home")
	script := filepath.Join(t.TempDir(), "hello.toml")
	require.NoError(t, os.WriteFile(script, []byte("[[turn]]\n[[turn.step]]\nsay = \"hello from the script\"\n"), 0o644))

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- run(ctx, []string{"agent", "serve", "--codex-home", home, script}, strings.NewReader(""), pw, &stderr)
		_ = pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	require.True(t, sc.Scan(), "serving line")
	assert.Contains(t, sc.Text(), "serving "+script+" at http://127.0.0.1:")
	require.True(t, sc.Scan(), "CODEX_HOME line")
	assert.Equal(t, "CODEX_HOME="+home, sc.Text())
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	r := runCmd(t, "run", "--codex-home", home, "--cwd", t.TempDir(), "say hello")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "hello from the script")

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(30 * time.Second):
		t.Fatal("agent serve did not stop with its context")
	}
}

// A step's think is the model's reasoning: the real codex streams it as a
// reasoning item, and --render exec shows it as codex exec does, unless
// --hide-reasoning; --no-turn-summary leaves out the token counts that end
// the turn. Each run is compared with the plain one line by line.
func TestRunHideReasoningAndTurnSummary(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	script := filepath.Join(t.TempDir(), "think.toml")
	require.NoError(t, os.WriteFile(script, []byte(
		"[[turn]]\n[[turn.step]]\nthink = \"The user wants a greeting.\"\nsay = \"hello after thinking\"\n"), 0o644))
	runWith := func(flags ...string) string {
		t.Helper()
		args := append([]string{"run", "--scripted", script, "--cwd", t.TempDir(), "--color", "never"}, flags...)
		r := runCmd(t, append(args, "say hello")...)
		require.Equal(t, exitOK, r.code, r.stderr)
		return r.stdout
	}
	plain := runWith()
	assert.Contains(t, plain, "thinking\nThe user wants a greeting.\n")
	assert.Contains(t, plain, "hello after thinking\n")
	assert.Regexp(t, `(?m)^tokens: in \d+ \(cached \d+\) out \d+$`, plain)

	hidden := runWith("--hide-reasoning")
	assert.NotRegexp(t, `(?m)^thinking$`, hidden)
	assert.NotContains(t, hidden, "The user wants a greeting.")
	assert.Contains(t, hidden, "hello after thinking\n")
	assert.Regexp(t, `(?m)^tokens: in \d+ \(cached \d+\) out \d+$`, hidden)

	bare := runWith("--no-turn-summary")
	assert.Contains(t, bare, "thinking\nThe user wants a greeting.\n")
	assert.Contains(t, bare, "hello after thinking\n")
	assert.NotContains(t, bare, "tokens: ")

	both := runWith("--hide-reasoning", "--no-turn-summary")
	assert.NotContains(t, both, "The user wants a greeting.")
	assert.NotContains(t, both, "tokens: ")
	assert.Contains(t, both, "hello after thinking\n")
}

// --hide-tool-output leaves out what a command printed (the command and
// its exit status stay), and --hide-system-messages codex's notices on
// stderr (here a deprecation notice a -c override draws), on the real
// codex.
func TestRunHideToolOutputAndSystemMessages(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	script := filepath.Join(t.TempDir(), "echo.toml")
	require.NoError(t, os.WriteFile(script, []byte(
		"[[turn]]\n[[turn.step]]\nrun = \"echo tool-output-line\"\n[[turn.step]]\nsay = \"echoed\"\n"), 0o644))
	runWith := func(flags ...string) result {
		t.Helper()
		args := append([]string{"run", "--scripted", script, "--cwd", t.TempDir(), "--color", "never",
			"-c", "features.web_search_request=true"}, flags...)
		r := runCmd(t, append(args, "echo something")...)
		require.Equal(t, exitOK, r.code, r.stderr)
		return r
	}
	plain := runWith()
	assert.Regexp(t, `(?m)^tool-output-line$`, plain.stdout)
	assert.Regexp(t, `(?m)^exit 0`, plain.stdout)
	assert.Contains(t, plain.stderr, "codex deprecated: `[features].web_search_request` is deprecated")

	quiet := runWith("--hide-tool-output", "--hide-system-messages")
	assert.Regexp(t, `(?m)^\$ .*echo tool-output-line'?\nexit 0`, quiet.stdout)
	assert.NotRegexp(t, `(?m)^tool-output-line$`, quiet.stdout)
	assert.Contains(t, quiet.stdout, "echoed\n")
	assert.NotContains(t, quiet.stderr, "codex deprecated: ")
	assert.NotContains(t, quiet.stderr, "codex warning: ")
}

// The rules file's [[answer]] tables answer the agent's questions (the
// tool-input hook) on the real codex: codex gets the answer of the rule
// whose question_id_regex matches, and a question no rule covers gets the
// empty answer.
func TestRunPolicyAnswersQuestions(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	dir := t.TempDir()
	script := filepath.Join(dir, "ask.toml")
	require.NoError(t, os.WriteFile(script, []byte(`[[turn]]
[[turn.step]]
ask = [{ id = "color", question = "Which colour should the banner be?", options = ["Blue", "Red"] }]

[[turn.step]]
say = "Noted."
`), 0o644))
	for _, tc := range []struct {
		name, regex, want string
	}{
		{"answered", "^colou?r$", `{"answers":{"color":{"answers":["Red"]}}}`},
		{"not covered", "^size$", `{"answers":{"color":{"answers":[]}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := filepath.Join(t.TempDir(), "rules.toml")
			require.NoError(t, os.WriteFile(policy, []byte(`[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[answer]]
name = "banner"
question_id_regex = '`+tc.regex+`'
answers = ["Red"]
`), 0o644))
			rec := filepath.Join(t.TempDir(), "turn.jsonl")
			r := runCmd(t, "run", "--scripted", script, "--policy", policy, "--cwd", t.TempDir(), "--record", rec, "pick a colour")
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "Noted.")
			f, err := os.Open(rec)
			require.NoError(t, err)
			defer f.Close()
			tr, err := transcript.Read(f)
			require.NoError(t, err)
			asked := ""
			for _, rec := range tr.Records {
				var msg struct {
					ID     *json.RawMessage `json:"id"`
					Method string           `json:"method"`
					Result json.RawMessage  `json:"result"`
				}
				require.NoError(t, json.Unmarshal(rec.Msg, &msg))
				if rec.Dir == transcript.In && msg.Method == "item/tool/requestUserInput" {
					asked = string(*msg.ID)
				}
				if rec.Dir == transcript.Out && asked != "" && msg.ID != nil && string(*msg.ID) == asked && msg.Result != nil {
					assert.JSONEq(t, tc.want, string(msg.Result), "codex's answer")
					return
				}
			}
			t.Fatalf("no answer to item/tool/requestUserInput in the transcript (asked: %q)", asked)
		})
	}
}
