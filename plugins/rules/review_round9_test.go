package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 9 (adversarial review of the worktree adv1). Each test
// below fails while the engine accepts its lines; each line runs here
// under real bash (and the real make, git, go or npm) to show what it
// does.

// makeWorkspace is globWorkspace with a Makefile whose deploy target
// prints DEPLOYED, and a file named deploy (which any accepted write
// makes); the real make runs.
func makeWorkspace(t *testing.T, files ...string) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	work, env := globWorkspace(t, files, nil)
	mk := "all:\n\t@echo all\ndeploy:\n\t@echo DEPLOYED\n.PHONY: all deploy\n"
	if err := os.WriteFile(filepath.Join(work, "Makefile"), []byte(mk), 0o644); err != nil {
		t.Fatal(err)
	}
	return work, env
}

const noDeployRules = `
[[rule]]
name = "no-deploy"
decision = "decline"
[rule.match]
command_regex = '\bdeploy\b'

[[rule]]
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["make"]
`

// TestRound9CommandRegexMatchStartsInAPattern: mayMatchGlobbed lets a
// match of a decline rule's command_regex start only at a character the
// line spells out ("ls *.go is no git push -f"). But a program may read
// a name a pattern expands to as the very thing the regex is about: make
// -- * is make Makefile deploy with a file named deploy, and make ./* is
// make ./Makefile ./deploy, which GNU make reads as the target deploy
// (it drops the ./). The regex \bdeploy\b matches both commands' text
// at the d, inside the pattern's expansion, so the engine accepts both
// lines past a rule that declines make deploy, and make deploys.
func TestRound9CommandRegexMatchStartsInAPattern(t *testing.T) {
	p := mustParse(t, noDeployRules)
	for _, line := range []string{"make deploy", "make ./deploy", "make -- deploy", "make dep*"} {
		if v, ok := acceptedBy(t, p, line); ok || v.Decision != abi.Decline {
			t.Fatalf("%q: %s by %q, want decline", line, v.Decision, v.Rule)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	for _, line := range []string{"make -- *", "make ./*"} {
		work, env := makeWorkspace(t, "deploy")
		out := bashIn(t, line, work, env)
		if !strings.Contains(out, "DEPLOYED") {
			t.Errorf("%q: make did not run the deploy target here (output %q): the line is no evidence", line, out)
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q past command_regex \\bdeploy\\b; under bash make ran the target deploy (output %q)",
				line, v.Rule, commandsOf(v.Analysis), out)
		}
	}
}

// TestRound9CommandRegexUnreadPatternLosesItsLetters: globTokens reads a
// pattern it cannot follow (a bracket class [[:alpha:]], a bracket
// starting with ] that path.Match rejects) as "any runes" for the whole
// word, dropping the letters the line spells out before it. A match can
// start only at a spelled-out letter, so no match can start in the word
// at all: make deplo[[:alpha:]] is "make " then any text, where
// \bdeploy\b finds no d to start at. bash expands deplo[[:alpha:]],
// deplo[]y] and de[[:alpha:]]loy to deploy (a file of that name), and
// make deploys; the engine accepts the lines past the rule declining
// make deploy, though it declines make deplo[y].
func TestRound9CommandRegexUnreadPatternLosesItsLetters(t *testing.T) {
	p := mustParse(t, noDeployRules)
	for _, line := range []string{"make deploy", "make deplo[y]", "make deplo?"} {
		if v, ok := acceptedBy(t, p, line); ok || v.Decision != abi.Decline {
			t.Fatalf("%q: %s by %q, want decline", line, v.Decision, v.Rule)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	for _, line := range []string{"make deplo[[:alpha:]]", "make deplo[]y]", "make de[[:alpha:]]loy", "timeout 5 make deplo[[:alpha:]]"} {
		work, env := makeWorkspace(t, "deploy")
		out := bashIn(t, line, work, env)
		if out != "DEPLOYED" {
			t.Errorf("%q: make did not run the deploy target here (output %q): the line is no evidence", line, out)
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q past command_regex \\bdeploy\\b; under bash make ran %q",
				line, v.Rule, commandsOf(v.Analysis), out)
		}
	}
}

// TestRound9AcceptShortOptionNegatedByItsLongName: negated refuses a
// --no-LONG only for the long options the rule lists. git's -n is
// --dry-run (OPT__DRY_RUN), and parse-options takes the last of -n and
// --no-dry-run: git clean -n --no-dry-run -f deletes the untracked files.
// A rule for dry runs that names the short option only (options =
// ["-n"]) accepts it.
func TestRound9AcceptShortOptionNegatedByItsLongName(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "git-clean-dry-run"
decision = "accept"
[rule.match]
argv_prefix = ["git", "clean"]
options = ["-n"]

[[rule]]
name = "git-push-dry-run"
decision = "accept"
[rule.match]
argv_prefix = ["git", "push"]
options = ["-n"]
`)
	for _, line := range []string{"git clean -f", "git push -f"} {
		if _, ok := acceptedBy(t, p, line); ok {
			t.Fatalf("%q accepted: the rules are not what this test is about", line)
		}
	}
	if _, ok := acceptedBy(t, p, "git clean -n -d"); !ok {
		t.Fatal("git clean -n -d is not accepted: the rules are not what this test is about")
	}
	ran := "(not run: git is not installed)"
	if _, err := exec.LookPath("git"); err == nil {
		work := t.TempDir()
		env := []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1"}
		cmd := exec.Command("git", "init", "-q", ".")
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v %s", err, out)
		}
		marker := filepath.Join(work, "untracked.txt")
		if err := os.WriteFile(marker, []byte("keep me\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := bashIn(t, "git clean -n --no-dry-run -f", work, env)
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("git clean -n --no-dry-run -f deleted nothing here (output %q): the line is no evidence", out)
			ran = "nothing here"
		} else {
			ran = "git clean deleted untracked.txt"
		}
	}
	for _, line := range []string{"git clean -n --no-dry-run -f", "git clean -n -f --no-dry", "git push -n --no-dry-run origin main"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q, a dry run by its options; --no-dry-run turns -n off (git clean: %s)",
				line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// TestRound9AcceptOptionAfterAnOperand: requiredOption counts -n
// wherever it stands before "--". The go command parses its flags with
// Go's flag package, which stops at the first argument that is not a
// flag: in go run . -n, the -n is the program's argument, not go's dry
// run ("print the commands but do not run them"). A rule for go's dry
// runs accepts go run . -n, which builds and runs the package.
func TestRound9AcceptOptionAfterAnOperand(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "go-dry-run"
decision = "accept"
[rule.match]
argv_prefix = ["go", "run"]
options = ["-n"]
`)
	if _, ok := acceptedBy(t, p, "go run ."); ok {
		t.Fatal("go run . accepted: the rule is not what this test is about")
	}
	if _, ok := acceptedBy(t, p, "go run -n ."); !ok {
		t.Fatal("go run -n . is not accepted: the rule is not what this test is about")
	}
	line := "go run . -n"
	ran := "(not run: go is not installed)"
	if goBin, err := exec.LookPath("go"); err == nil {
		dir := t.TempDir()
		work := filepath.Join(dir, "work")
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{
			"go.mod":  "module x\n\ngo 1.20\n",
			"main.go": "package main\n\nimport \"os\"\n\nfunc main() { os.WriteFile(\"PWNED\", nil, 0o644) }\n",
		} {
			if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		env := []string{"PATH=" + filepath.Dir(goBin) + ":/usr/bin:/bin", "HOME=" + dir, "GOCACHE=" + sharedGoCache(t),
			"GOPATH=" + filepath.Join(dir, "gopath"), "GOTOOLCHAIN=local", "GOFLAGS=", "GOPROXY=off"}
		out := bashIn(t, line, work, env)
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: go ran nothing here (output %q): the line is no evidence", line, out)
			ran = "nothing here"
		} else {
			ran = "go built and ran the program, which wrote PWNED"
		}
	}
	if v, ok := acceptedBy(t, p, line); ok {
		t.Errorf("%q: accepted by rule %q as %q, a dry run by its options; the -n after the operand is the program's, and %s",
			line, v.Rule, commandsOf(v.Analysis), ran)
	}
}

// TestRound9GitCommitFixupAmendAsItsOwnWord: gitEditor knows that
// --fixup=amend:C and --fixup=reword:C edit the message, but reads the
// value only after an "=". git's --fixup takes its value as the next
// word too: git commit --fixup amend:HEAD (and --fix reword:HEAD) opens
// the editor, and the engine takes it for a plain --fixup, which needs
// no message. A rule accepting git commit accepts it.
func TestRound9GitCommitFixupAmendAsItsOwnWord(t *testing.T) {
	p := mustParse(t, prefixRule("git", "commit"))
	for _, line := range []string{"git commit --fixup=amend:HEAD", "git commit --fixup=reword:HEAD"} {
		if _, ok := acceptedBy(t, p, line); ok {
			t.Fatalf("%q accepted: the rule is not what this test is about", line)
		}
	}
	for _, line := range []string{"git commit --fixup amend:HEAD", "git commit --fixup reword:HEAD", "git commit --fix amend:HEAD"} {
		work, env, marker := gitRepoWithStandIns(t, "editor")
		out := bashIn(t, line+" </dev/null", work, env)
		ran := "ran the editor"
		if got, err := os.ReadFile(marker); err != nil || !strings.Contains(string(got), "editor") {
			t.Errorf("%q: git ran no editor here (output %q): the line is no evidence", line, out)
			ran = "nothing here"
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash git %s", line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// TestRound9MakeAssignmentOperandRunsShell: GNU make reads an operand
// NAME:=VALUE as a variable assignment, and := expands VALUE at once,
// $(shell …) included, under -n too. make -n 'X:=$(shell touch PWNED)'
// runs touch PWNED; so does make -n m* with a file of that name in the
// cwd (a name may hold $, parentheses and blanks), which globDanger
// does not know for make. (The assignment is read before make's own
// SHELL default: the shell is $SHELL of the environment, which codex's
// has.) A rule for make's dry runs accepts both.
func TestRound9MakeAssignmentOperandRunsShell(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "make-dry-run"
decision = "accept"
allow_globs = true
[rule.match]
program = "make"
options = ["-n", "--dry-run"]
`)
	if _, ok := acceptedBy(t, p, "make deploy"); ok {
		t.Fatal("make deploy accepted: the rule is not what this test is about")
	}
	const file = "mX:=$(shell touch PWNED)"
	for _, line := range []string{"make -n 'X:=$(shell touch PWNED)'", "make -n m*", "make -n ./*"} {
		ran := "(not run: bash or make is not installed)"
		if _, err := exec.LookPath("bash"); err == nil {
			if _, err := exec.LookPath("make"); err == nil {
				work, env := makeWorkspace(t, file)
				// make's $(shell) in a command-line assignment runs
				// $SHELL from the environment (codex's has one).
				out := bashIn(t, line, work, append(env, "SHELL=/bin/sh"))
				if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
					t.Errorf("%q: make ran nothing here (output %q): the line is no evidence", line, out)
					ran = "nothing here"
				} else {
					ran = "make ran touch PWNED"
				}
			}
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q, a dry run by its options; under bash %s",
				line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// TestRound9NpmExecRunsItsArguments: npm exec (and npx) runs its
// arguments as a program, or with -c as a shell command, like dotenv run
// (round 8); neither is in otherWrappers, nor does the loose reading
// look behind them. Under a rule naming npm (as round 8's dev-tools
// does), npx -c 'rm -rf victim' and npm exec -- rm -rf victim are
// accepted past a rule declining rm.
func TestRound9NpmExecRunsItsArguments(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "dev-tools"
decision = "accept"
[rule.match]
program = ["npm", "npx"]
`)
	if v, ok := acceptedBy(t, p, "rm -rf victim"); ok || v.Decision != abi.Decline {
		t.Fatalf("rm -rf victim: %s by %q, want decline", v.Decision, v.Rule)
	}
	for _, tc := range []struct{ line, demo string }{
		{"npx -c 'rm -rf victim'", "npx -c 'touch PWNED'"},
		{"npm exec -c 'rm -rf victim'", "npm exec -c 'touch PWNED'"},
		{"npm exec -- rm -rf victim", "npm exec -- touch PWNED"},
		{"npx rm -rf victim", "npx touch PWNED"},
	} {
		ran := "(not run: npm is not installed)"
		if _, err := exec.LookPath("npm"); err == nil && tc.demo != "" {
			work := t.TempDir()
			env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=" + work,
				"npm_config_cache=" + filepath.Join(work, ".npm"), "npm_config_offline=true", "npm_config_update_notifier=false"}
			out := bashIn(t, tc.demo, work, env)
			if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
				t.Logf("%q: npm ran nothing here (output %q): npm, not the engine, is at fault (it may want the network); the line is no evidence this time", tc.demo, out)
				ran = "nothing here"
			} else {
				ran = tc.demo + " ran touch PWNED"
			}
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm; under bash %s",
				tc.line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// sharedGoCache is the go command's build cache, so that go run here
// builds the test's program without building the standard library again.
func sharedGoCache(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return filepath.Join(t.TempDir(), "cache")
	}
	return strings.TrimSpace(string(out))
}
