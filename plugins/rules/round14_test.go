package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 14 (adversarial review of the worktree adv3, at 3bcfb72).
// The lines run under real bash with round13RemovesVictim (a fresh
// directory holding victim/); each test fails while the engine gets its
// lines wrong. The rules are round13Rules: rm declined, the usual
// read-only tools and make accepted.

// round14Decline evaluates line with round13Rules and reports a failure
// unless a rule declined it; ran is what bash did with it.
func round14Decline(t *testing.T, line string, ran bool) {
	t.Helper()
	p := mustParse(t, round13Rules)
	v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
	if v.Decision != abi.Decline {
		t.Errorf("%q: %s (%s; unread %q), past the rule declining rm; under bash it ran rm -rf victim: %v", line, v.Decision, reasonOf(v), v.Unread, ran)
	}
}

// TestRound14StdinShellNotRead: a shell that reads its script from stdin
// (or a process substitution) runs whatever the pipe carries. The loose
// reading then only tries each literal word of the line that holds a
// blank as a script (stdinShell): echo's separate words, a here-string
// or here-document on another command of the pipe, and any transformed
// text (base64 -d) are not read, and the reading is not unsure, so the
// unsure pass does not run either.
func TestRound14StdinShellNotRead(t *testing.T) {
	for _, line := range []string{
		"echo rm -rf victim | sh",
		"echo rm -rf victim | bash",
		"cat <<< 'rm -rf victim' | sh",
		"cat <<'EOF' | bash\nrm -rf victim\nEOF",
		"base64 -d <<< cm0gLXJmIHZpY3RpbQo= | sh",
		"echo rm -rf victim | xargs -0 sh -c",
		"sh -s < <(echo rm -rf victim)",
		"bash <(echo rm -rf victim)",
		"source <(echo rm -rf victim)",
		"source /dev/stdin <<< 'rm -rf victim'",
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound14ScriptWithExpansionNotRead: the script of sh -c, eval, or a
// here-string / here-document fed to a shell is read only when it is a
// literal. One expansion anywhere in it ("rm -rf $PWD/victim", an ordinary
// spelling) and the loose reading skips the whole script (shellArgs,
// evaluators and the here-document check all call literal), without
// marking itself unsure: the rule declining rm never sees rm.
func TestRound14ScriptWithExpansionNotRead(t *testing.T) {
	for _, line := range []string{
		`sh -c "rm -rf victim$x"`,
		`bash -c "rm -rf $PWD/victim"`,
		`timeout 5 sh -c "rm -rf victim$x"`,
		`eval "rm -rf victim$x"`,
		`x='rm -rf victim'; eval "$x"`,
		`eval "$(echo rm -rf victim)"`,
		`sh <<< "rm -rf victim$x"`,
		"bash <<EOF\nrm -rf victim$x\nEOF",
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound14AliasNotRead: with shopt -s expand_aliases, bash expands an
// alias defined on an earlier line of the same script. The loose reading
// treats alias like any command: the value 'rm' (or 'rm -rf victim') is
// never read as the command it becomes.
func TestRound14AliasNotRead(t *testing.T) {
	for _, line := range []string{
		"shopt -s expand_aliases\nalias ll=rm\nll -rf victim",
		"shopt -s expand_aliases; alias ll='rm -rf victim'\nll",
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound14HeredocInCommandSubstitution: in a command substitution bash
// 5.2 ends a here-document at a line "EOF)" (with a warning, "delimited
// by end-of-file") and closes the substitution there; mvdan/sh reads
// "EOF)" as body text and ends the body at the later "EOF". mvdan/sh
// parses the line without error, so the loose reading sees rm -rf victim
// as cat's input, and is not unsure; bash runs it (then stops at the
// stray ")").
func TestRound14HeredocInCommandSubstitution(t *testing.T) {
	for _, line := range []string{
		"echo $(cat <<EOF\nhi\nEOF)\nrm -rf victim\nEOF\n)",
		"echo \"$(cat <<EOF\nhi\nEOF)\"\nrm -rf victim\nEOF\n)\"",
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound14ArithmeticOnComputedValue: bash evaluates a variable's value
// in arithmetic as an expression, and an array subscript in it runs its
// command substitution. The loose reading queues quoted text holding "$("
// as a script, but a value built from two pieces ('a[$' and '(rm …)]')
// holds it in neither.
func TestRound14ArithmeticOnComputedValue(t *testing.T) {
	line := "x='a[$'; y='(rm -rf victim)]'; z=$x$y; echo $((z))"
	round14Decline(t, line, round13RemovesVictim(t, line))
}

// TestRound14MakeDirectoryThenStdinMakefile: stdinMakefile checks -f's
// path as written, but make applies -C DIR (--directory) first and opens
// a relative makefile there: -C /dev/fd -f 0 (or -C /dev -f fd/0, -C
// /proc/self/fd -f 0) is stdin, the line's here-document, whose recipe
// runs. The rule accepting make accepts it, past the rule declining rm.
func TestRound14MakeDirectoryThenStdinMakefile(t *testing.T) {
	p := mustParse(t, round13Rules)
	_, haveMake := exec.LookPath("make")
	for _, opts := range []string{
		"-C /dev/fd -f 0",
		"-C/dev/fd -f0",
		"--directory=/dev/fd --file=0",
		"-C /proc/self/fd -f 0",
		"-C /dev -f fd/0",
	} {
		line := "make " + opts + " <<'EOF'\nall:\n\trm -rf victim\nEOF"
		ran := false
		if haveMake == nil {
			dir := t.TempDir()
			marker := filepath.Join(dir, "PWNED")
			demo := "make " + opts + " <<'EOF'\nall:\n\ttouch " + marker + "\nEOF"
			out := bashIn(t, demo, dir, []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + dir})
			if _, err := os.Stat(marker); err == nil {
				ran = true
			} else {
				t.Logf("%q: no marker here (output %.200q): no evidence this time", demo, out)
			}
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q past the rule declining rm; under bash its recipe ran: %v", line, v.Rule, ran)
		}
	}
}

// TestRound14OrdinaryLinesNotDeclined (new in 3bcfb72): the loose reading
// parses every quoted word holding "$(" or a backquote as a script, in
// case bash evaluates it later; text that is not shell (a commit message
// or PR body in Markdown, an awk or JavaScript program) often does not
// parse, and that now makes the reading unsure, so the rule declining rm
// declines everyday lines, which run no rm and used to abstain (the user
// or the fallback decided). Under a rule set whose first restrictive rule
// cancels (no-force-push), they would cancel the turn.
func TestRound14OrdinaryLinesNotDeclined(t *testing.T) {
	p := mustParse(t, round13Rules)
	for _, line := range []string{
		"git commit -m 'Fix `Parse()` on empty input'",
		"git commit -m 'Use `go test ./...` in CI (faster)'",
		"git commit -m 'Add `--verbose` flag (#42)'",
		"git commit -m \"fix: don't panic in \\`Parse\\`\"",
		"gh pr create --title \"Fix parser\" --body 'Fixes `Parse()` on empty input.'",
		"gh issue comment 12 --body 'Run `make test` (it passes)'",
		"awk '{ print $(NF-1) }' data.txt",
		"rg -n '`' docs",
		"sed -n '/`/p' README.md",
		"git grep -n '`' -- '*.md'",
		"node -e 'console.log(`${1+1}`)'",
		"python3 -c 'print(\"`\")'",
		`bash -c 'printf "%s\n" "$@"' _ "don't"`,
	} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Decline || v.Decision == abi.Cancel {
			t.Errorf("%q: %s by rule %s (unread %q): an ordinary line that runs no rm", line, v.Decision, v.Rule, v.Unread)
		}
	}
}

// TestRound14OrdinaryLinesDeclinedByGuess (older than 3bcfb72, same
// cause): a quoted word with "$(" or a backquote is parsed as a script,
// and a word of it that is not a literal (awk's {print, Markdown's
// `[^`, a ${VAR} in a commit message) is read as "any program", which
// the rule declining rm matches in the normal pass. The grep line is
// vouched and covered by the rule accepting grep, yet declined.
func TestRound14OrdinaryLinesDeclinedByGuess(t *testing.T) {
	p := mustParse(t, round13Rules)
	for _, line := range []string{
		"grep -n '`[^`]*$' README.md",
		"awk '{print $(NF)}' data.txt",
		"git commit -m 'Support `${VAR}` expansion'",
	} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Decline || v.Decision == abi.Cancel {
			t.Errorf("%q: %s by rule %s: an ordinary line that runs no rm", line, v.Decision, v.Rule)
		}
	}
}
