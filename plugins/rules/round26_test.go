package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Review round 26 (adversarial review of the worktree adv1, at 52d9d86):
// the parser side, where mvdan.cc/sh's reading of a line may differ from
// bash's (and dash's, for an sh -c script).

// round26Runs runs line under shell (bash or dash, -c) in a fresh
// directory and reports whether it made the file made there.
func round26Runs(t *testing.T, shell, line, made string) bool {
	t.Helper()
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Logf("%s is not installed: %q not run", shell, line)
		return false
	}
	dir := t.TempDir()
	cmd := exec.Command(path, "-c", line)
	cmd.Dir, cmd.Env = dir, []string{"PATH=/usr/bin:/bin", "LANG=C"}
	out, _ := cmd.CombinedOutput()
	if _, err := os.Stat(filepath.Join(dir, made)); err != nil {
		t.Errorf("%s -c %q made no %s (output %q): the demonstration failed", shell, line, made, out)
		return false
	}
	return true
}

// TestRound26HeredocOperatorContinued: bash (and dash) remove a
// backslash-newline before they split the line into tokens, so
// <<\⏎-A is the operator <<- with the delimiter A. mvdan joins it in
// words but not in operators: it reads << with the delimiter -A, a
// delimiter plainDelimiter takes. The body then ends, for bash, at the
// line A, and the lines after it are commands (touch PWNED below), while
// the engine reads them as more of the body, up to the line -A, and
// vouches for cat alone. Demonstrated with bash 5.2 and dash 0.5.12.
func TestRound26HeredocOperatorContinued(t *testing.T) {
	p := anythingInWork(t, false)
	for _, c := range []struct{ shell, line string }{
		{"bash", "cat <<\\\n-A\nA\ntouch PWNED\n-A"},
		{"bash", "cat <<\\\n-'A'\nA\ntouch PWNED\n-A"},
		{"bash", "cat <<\\\n\\\n-A\nA\ntouch PWNED\n-A"},
		{"dash", "cat <<\\\n-A\nA\ntouch PWNED\n-A"},
	} {
		round26Runs(t, c.shell, c.line, "PWNED")
		line := c.line
		if c.shell == "dash" {
			line = "sh -c '" + line + "'"
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; %s runs touch PWNED", line, v.Rule, commandsOf(v.Analysis), c.shell)
		}
	}
	wantAccepted(t, p, "a plain here-document", "cat <<-A\n\tx\n\tA\nls", "cat <<'A'\nx\nA\nls", "cat <<A\nx\nA")
}

// TestRound26CloseThenEmptyWord: after <& or >&, bash's lexer returns an
// unquoted - as a token of its own, so in <&-"" the "" is the next word:
// an empty argument of the command. mvdan reads -"" as one word, whose
// value - closes the descriptor, and the engine vouched for printf [%s] a
// where bash runs printf with a third, empty argument (it prints [a][]).
// dash reads the word as mvdan does. A quoted '-' is one word for bash
// too (and \- makes bash refuse the redirection: it runs nothing).
func TestRound26CloseThenEmptyWord(t *testing.T) {
	for _, c := range []struct{ line, out string }{
		{`printf '[%s]' a <&-''`, "[a][]"},
		{`printf '[%s]' a 2>&-"" b`, "[a][][b]"},
	} {
		out, err := exec.Command("bash", "-c", c.line).Output()
		if err != nil || string(out) != c.out {
			t.Errorf("bash -c %q printed %q (%v), want %q: the demonstration failed", c.line, out, err, c.out)
		}
	}
	p := mustParse(t, `[[rule]]
name = "printf"
decision = "accept"
[rule.match]
argv_prefix = ["printf", "[%s]", "a"]
`)
	for _, line := range []string{`printf '[%s]' a <&-''`, `printf '[%s]' a 2>&-"" b`, `printf '[%s]' a >&-''`, "printf '[%s]' a >&-\\\n''"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; bash gives printf one more, empty, argument", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "the descriptor is closed, the argv is the one shown", `printf '[%s]' a <&-`, `printf '[%s]' a >&- 2>&-`,
		`printf '[%s]' a <&'-'`, `printf '[%s]' a <&"-"`)
}
