package main

import (
	"encoding/json"
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

// run finds codex exec's subcommand words after its flags, as codex exec
// does (codex exec --json review --uncommitted), and a flag's value or a
// word after "--" is not one.
func TestRunSplitsSubcommands(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		sub  string // "" for none
		rest []string
	}{
		{[]string{"--json", "review", "--uncommitted"}, "run review", []string{"--json", "--uncommitted"}},
		{[]string{"-C", "review", "fork", "ID", "go on"}, "run fork", []string{"-C", "review", "ID", "go on"}},
		{[]string{"resume", "--last"}, "run resume", []string{"--last"}},
		{[]string{"--json", "--", "review"}, "", nil},
		{[]string{"--", "fork", "ID"}, "", nil},
		{[]string{"review this code"}, "", nil},
	} {
		sub, rest, ok := splitRunSub(tc.args)
		if tc.sub == "" {
			assert.False(t, ok, tc.args)
			continue
		}
		require.True(t, ok, tc.args)
		assert.Equal(t, tc.sub, sub.path, tc.args)
		assert.Equal(t, tc.rest, rest, tc.args)
	}
}

// gitRepo makes a git repository with one commit and an uncommitted file.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "init"}} {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello\n"), 0o644))
	return dir
}

// jsonTypes are the "type" of each JSON line of out, with an item's type.
func jsonTypes(t *testing.T, out string) []string {
	t.Helper()
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var ev struct {
			Type string
			Item *struct{ Type string }
		}
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		if ev.Item != nil {
			ev.Type += " " + ev.Item.Type
		}
		types = append(types, ev.Type)
	}
	return types
}

// run review reviews the repository's changes as codex exec review does:
// the same JSON events with --json, the review's text in -o FILE, with
// run's flags before the word or after it; a PROMPT is the review's
// instructions.
func TestRunReview(t *testing.T) {
	t.Parallel()
	// The reviewer answers with codex's review output JSON, which codex
	// turns into the review's text.
	const findings = `{"findings":[{"title":"[P1] Off by one","body":"The loop skips the last item.","confidence_score":0.8,"priority":1,` +
		`"code_location":{"absolute_file_path":"/repo/a.txt","line_range":{"start":1,"end":1}}}],` +
		`"overall_correctness":"patch is incorrect","overall_explanation":"One bug.","overall_confidence_score":0.7}`
	model, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "git diff"}), hosttest.Text(findings)))
	repo := gitRepo(t)
	dir := t.TempDir()
	const review = "One bug.\n\nReview comment:\n\n- [P1] Off by one — /repo/a.txt:1-1\n  The loop skips the last item."

	codexLast := filepath.Join(dir, "codex.txt")
	cmd := exec.Command(e2e.CodexBin(t), "exec", "--json", "-o", codexLast, "-C", repo, "review", "--uncommitted")
	cmd.Env = append(os.Environ(), "CODEX_HOME="+home)
	cmd.Stdin = strings.NewReader("")
	codexOut, err := cmd.Output()
	require.NoError(t, err, "codex exec review: %s", codexOut)

	last := filepath.Join(dir, "last.txt")
	r := runCmd(t, "run", "--codex-home", home, "-C", repo, "--json", "-o", last, "review", "--uncommitted")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, jsonTypes(t, string(codexOut)), jsonTypes(t, r.stdout), "codex exec review's events")
	_, codexRest, _ := strings.Cut(string(codexOut), "\n") // after thread.started, whose id differs
	_, rest, _ := strings.Cut(r.stdout, "\n")
	assert.Equal(t, codexRest, rest, "codex exec review --json's lines")
	want, err := os.ReadFile(codexLast)
	require.NoError(t, err)
	got, err := os.ReadFile(last)
	require.NoError(t, err)
	assert.Equal(t, review, string(want), "codex exec review -o")
	assert.Equal(t, string(want), string(got), "-o as codex exec review's")
	reqs := model.Requests()
	require.Len(t, reqs, 4, "two requests (the command, its output) per review")
	assert.Equal(t, reqs[0].LastUserText(), reqs[2].LastUserText(), "the uncommitted changes' review, as codex exec asks for it")

	r = runCmd(t, "run", "review", "--codex-home", home, "-C", repo, "--color", "never", "look for races_9f")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "$ /bin/bash -lc 'git diff'", "rendered like a turn")
	assert.Contains(t, r.stdout, review)
	reqs = model.Requests()
	require.Len(t, reqs, 6)
	assert.Contains(t, reqs[4].LastUserText(), "look for races_9f", "the PROMPT is the review's instructions")
}

// run review takes one target, as codex exec review does: a target flag
// or instructions, not both, nor two flags; --title goes with --commit.
// run's flags a review has no place for (-i, --output-schema) are
// refused, not dropped.
func TestRunReviewUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "review"}, "run review: give --uncommitted, --base BRANCH, --commit SHA, or the review's instructions"},
		{[]string{"run", "review", "--uncommitted", "focus"}, "run review: --uncommitted and a PROMPT: choose one"},
		{[]string{"run", "--json", "review", "--base", "main", "--commit", "abc"}, "run review: --base and --commit: choose one"},
		{[]string{"run", "review", "--title", "t", "--uncommitted"}, "run review: --title goes with --commit"},
		{[]string{"run", "review", "--base", "", "x"}, `run review: --base "": want a value`},
		{[]string{"run", "review", "-i", "x.png", "--uncommitted"}, "run review: -i/--image: a review takes no images"},
		{[]string{"run", "--output-schema", "s.json", "review", "--uncommitted"}, "run review: --output-schema: a review answers in codex's review format"},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
}

// codex reviews with a sub-agent whose approval policy is "never"
// (codex-rs core/src/tasks/review.rs): nothing it runs is asked about.
// With a policy loaded, run review therefore refuses before codex starts,
// as run does with approval policy never; --allow-unasked-policy runs it
// with a warning, and the review's command then runs unasked (if codex
// ever asks, this test says so, and the refusal can go).
func TestRunReviewRefusesAPolicyCodexWouldNotAsk(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch reviewed.txt"}), hosttest.Text("No issues found.")))
	repo := gitRepo(t)
	rules := writeRules(t, "[[rule]]\nname = \"no-touch\"\ndecision = \"decline\"\n[rule.match]\nargv_prefix = [\"touch\"]\n")

	r := runCmd(t, "run", "--codex-home", home, "-C", repo, "--policy", rules, "review", "--uncommitted")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, `codex runs a review's commands without asking anyone (its reviewer's approval policy is "never"`)
	assert.Empty(t, model.Requests(), "refused before the review")

	r = runCmd(t, "run", "--codex-home", home, "-C", repo, "--policy", rules, "--allow-unasked-policy", "--json",
		"-s", "workspace-write", "--approval-policy", "untrusted", "review", "--uncommitted")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codexhost: warning: codex runs a review's commands without asking anyone")
	assert.NotContains(t, r.stdout, "codexhost.decision", "codex asked nothing, though the thread's approval policy is untrusted")
	assert.FileExists(t, filepath.Join(repo, "reviewed.txt"), "the review's command ran unasked")
}

// run fork copies a stored thread and runs the prompt on the copy, as
// codex exec fork does, leaving the stored thread as it was; without a
// prompt it only copies it (codex exec fork --json prints thread.started).
func TestRunFork(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("first answer")),
		hosttest.Turn(hosttest.Text("fork answer")), hosttest.Turn(hosttest.Text("third answer"))))
	work := t.TempDir()
	threadOf := func(r result) string {
		t.Helper()
		m := regexp.MustCompile(`thread (\S+): continue`).FindStringSubmatch(r.stderr)
		require.NotNil(t, m, r.stderr)
		return m[1]
	}
	r := runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "first prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	id := threadOf(r)

	r = runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "fork", id, "second prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "fork answer\n", r.stdout)
	fork := threadOf(r)
	assert.NotEqual(t, id, fork, "a new thread")
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "second prompt", reqs[1].LastUserText())
	assert.Contains(t, string(reqs[1].Body), "first answer", "the fork carries the thread's history")

	r = runCmd(t, "run", "fork", "--codex-home", home, "-C", work, "--json", id)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^\{"type":"thread.started","thread_id":"[^"]+"\}\n$`, r.stdout, "codex exec fork --json's line")
	assert.NotContains(t, r.stdout, id)
	assert.Len(t, model.Requests(), 2, "no turn without a prompt")

	r = runCmd(t, "run", "resume", "--codex-home", home, "-C", work, "--render", "none", id, "third prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	reqs = model.Requests()
	require.Len(t, reqs, 3)
	assert.NotContains(t, string(reqs[2].Body), "second prompt", "the stored thread is left as it was")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "fork"}, "run fork: give the THREAD_ID of the thread to copy"},
		{[]string{"run", "fork", "--thread", id, "x"}, "not --thread"},
		{[]string{"run", "fork", "--codex-home", home, "-C", work, "01a253e4-dde3-79a3-8e48-395d04521c99", "x"}, "run fork 01a253e4-dde3-79a3-8e48-395d04521c99: no such thread in this CODEX_HOME"},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		assert.Contains(t, r.stderr, tc.want, tc.args)
	}
}

// The fork's turn is guarded as a run's: its approval requests reach the
// policy, whose decision names the fork's thread (the one --json started
// and rendered), and a declined command does not run.
func TestRunForkAsksThePolicy(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("first answer")),
		hosttest.Turn(hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch forked.txt"}), hosttest.Text("done"))))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "-C", work, "--render", "none", "first prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	m := regexp.MustCompile(`thread (\S+): continue`).FindStringSubmatch(r.stderr)
	require.NotNil(t, m, r.stderr)

	rules := writeRules(t, "[[rule]]\nname = \"no-touch\"\ndecision = \"decline\"\n[rule.match]\nargv_prefix = [\"touch\"]\n")
	r = runCmd(t, "run", "--codex-home", home, "-C", work, "--json", "--policy", rules, "--approval-policy", "untrusted", "fork", m[1], "touch it")
	require.Equal(t, exitDeclined, r.code, r.stderr)
	started := regexp.MustCompile(`\{"type":"thread.started","thread_id":"([^"]+)"\}`).FindStringSubmatch(r.stdout)
	require.NotNil(t, started, r.stdout)
	assert.NotEqual(t, m[1], started[1], "the fork is rendered, not the stored thread")
	dec := regexp.MustCompile(`\{"type":"codexhost.decision"[^\n]*`).FindString(r.stdout)
	require.NotEmpty(t, dec, r.stdout)
	assert.Contains(t, dec, `"thread_id":"`+started[1]+`"`, "the decision is about the fork's request")
	assert.Contains(t, dec, `"decision":"decline"`)
	assert.NoFileExists(t, filepath.Join(work, "forked.txt"))
}
