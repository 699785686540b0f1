package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Review round 24 (adversarial review of the worktree adv1, at 90ebb34):
// pagers and viewers that a read-only rule set names (round18ReadOnly has
// less, more and man) and whose options run a program or write a file.

// TestRound24LessLesskeyRunsLessopen: a lesskey file's #env section sets
// less's variables, LESSOPEN among them; an input preprocessor "|CMD %s"
// runs CMD through the shell for each file, also when the output is no
// terminal (less then copies like cat). --lesskey-src reads the source
// form, -k/--lesskey-file the compiled one (which has the same variable
// section), --lesskey-content (less 643) the text itself; -o/-O (and
// --log-file, --LOG-FILE) copy a piped input into a file. known.go knew
// no option of less. more is less on macOS.
func TestRound24LessLesskeyRunsLessopen(t *testing.T) {
	p := mustParse(t, round18ReadOnly)
	// lk.bin is lk compiled by lesskey (less 590).
	files := round18With(map[string]string{
		"lk":     "#env\nLESSOPEN=|../pwn %s\n",
		"lk.bin": "\x00M+Gc\x00\x00e\x00\x00v\x15\x00LESSOPEN\x00\x81|../pwn %s\x00xEnd",
	})
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "less --lesskey-src=../lk x", files: files, made: "PWNED"},
		{line: "less --lesskey-src ../lk x", files: files, made: "PWNED"},
		{line: "less --lesskey-s=../lk x", files: files, made: "PWNED"},
		{line: "less -k ../lk.bin x", files: files, made: "PWNED"},
		{line: "less -Sk../lk.bin x", files: files, made: "PWNED"},
		{line: "less --lesskey-file=../lk.bin x", files: files, made: "PWNED"},
	})
	// -o copies a piped input into the file when less has a terminal,
	// as codex's commands have one: script(1) gives it a pty here.
	if _, err := exec.LookPath("script"); err == nil {
		work := t.TempDir()
		out := bashIn(t, "timeout 20 script -qec 'echo hi | less -FX -o OUT' /dev/null", work, os.Environ())
		if !exists(filepath.Join(work, "OUT")) {
			t.Logf("less -o wrote no file here (%.100q)", out)
		}
	}
	for _, line := range []string{
		"less '--lesskey-content=#env\nLESSOPEN=|../pwn %s' x",
		"less -o ../OUT x", "less -O../OUT x", "less --log-file=../OUT x", "less --LOG-FILE=../OUT x", "less --log=../OUT x",
		"less -SNo ../OUT x",
		"less '+!../pwn' x", "less '+|../pwn' x", "less '++s ../OUT' x", "less '+v' x",
		"more --lesskey-src=../lk x",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; less runs a program or writes a file", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it runs no program and writes no file", "less x", "less -R x", "less -SN x", "less +G x", "less +100 x", "less -- x", "more x", "less -p main x")
}

// TestRound24ManPagerAndBrowser: man-db runs the pager -P/--pager names
// (through the shell, when its output is a terminal, as codex's commands
// have one: script(1) gives it one here), the browser of -H/--html (with
// no value: $BROWSER), gxditview for -X, and reads a man_db.conf naming
// its programs with -C; -r/--prompt's text goes into $LESS, whose options
// the pager reads. Short options group (-aP CMD, -aPCMD), long ones
// abbreviate (--pag).
func TestRound24ManPagerAndBrowser(t *testing.T) {
	p := mustParse(t, round18ReadOnly)
	if _, err := exec.LookPath("script"); err == nil {
		if _, err := exec.LookPath("man"); err == nil {
			work := t.TempDir()
			if err := os.WriteFile(filepath.Join(work, "pwn"), []byte("#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\ncat >/dev/null\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			out := bashIn(t, "timeout 20 script -qec 'man -P ./pwn ls' /dev/null", work, append(os.Environ(), "MANPAGER=", "PAGER="))
			if !exists(filepath.Join(work, "PWNED")) {
				t.Logf("man -P ran no pager here (%.100q)", out)
			}
		}
	}
	for _, line := range []string{
		"man -P ./pwn ls", "man -P./pwn ls", "man -aP ./pwn ls", "man --pager=./pwn ls", "man --pag ./pwn ls",
		"man -H ls", "man -H./pwn ls", "man --html=./pwn ls", "man -X ls", "man --gxditview ls",
		"man -C ./conf ls", "man --config-file=./conf ls", "man -r x ls", "man --prompt=x ls",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; man runs the program it names", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it runs no program of the line's choosing", "man ls", "man 1 ls", "man -k printf", "man -f ls", "man -w ls", "man -a printf", "man -S 3 printf")
}

// TestRound24PnpmYarnExec: known.go refuses npm exec, x, create and
// init, which run a program the line names (or a package's bin), but not
// the same commands of npm's siblings, which round18ReadOnly names too:
// pnpm exec and dlx, yarn exec and dlx (berry), bun x, and their create
// (a create-NAME package's bin). Neither tool is installed here: the
// runs below are logged as missing, and the verdict is asserted from
// their documentation.
func TestRound24PnpmYarnExec(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "pnpm exec ../pwn", files: round18Module, made: "PWNED"},
		{line: "yarn exec ../pwn", files: round18Module, made: "PWNED"},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"pnpm exec rm -rf x", "pnpm --filter web exec rm -rf x", "pnpm -r exec rm", "pnpm dlx cowsay", "pnpm create vite",
		"yarn exec rm -rf x", "yarn dlx cowsay", "yarn create vite", "yarn workspaces foreach exec rm",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; it runs a program the line names", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it runs the project's own scripts, as npm run does", "pnpm install --frozen-lockfile", "pnpm -r build", "pnpm test --filter web", "yarn install", "yarn build", "yarn jest src/foo.test.ts")
}

// TestRound24GitCherryPickContinueEditor: after a conflict, git
// cherry-pick --continue commits the picked change and, when its stdin
// and stdout are a terminal (as for a command codex runs on a pty), asks
// the editor for the message, as rebase and merge --continue do, which
// gitEditor refuses; it knew cherry-pick's -e and --edit only. --no-edit
// keeps the message (script(1) gives the line a pty here).
func TestRound24GitCherryPickContinueEditor(t *testing.T) {
	p := mustParse(t, prefixRule("git", "cherry-pick"))
	_, err := exec.LookPath("script")
	for _, line := range []string{"git cherry-pick --continue", "git cherry-pick --cont"} {
		ran := false
		if err == nil {
			repo, env := round20Repo(t)
			out := bashIn(t, "git commit -q -m x && echo 1 > c && git add c && git commit -q -m c1 && git checkout -q -b side HEAD~1 && "+
				"echo 2 > c && git add c && git commit -q -m c2 && git checkout -q main && { git cherry-pick side >/dev/null 2>&1; "+
				"echo 3 > c && git add c && timeout 20 script -qec '"+line+"' /dev/null; }", repo, env)
			ran = round20Edited(repo)
			if !ran {
				t.Logf("%q: no editor under script here (%.100q)", line, out)
			}
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; on a terminal git ran the editor: %v", line, v.Rule, ran)
		}
	}
	wantAccepted(t, p, "it opens no editor", "git cherry-pick side", "git cherry-pick --no-edit --continue", "git cherry-pick --abort",
		"git cherry-pick --skip", "git cherry-pick -x side")
}

// TestRound24XxdWritesSecondOperand: xxd [options] [infile [outfile]]
// writes its second operand, as uniq does (known.go refuses uniq's);
// options end at the first operand (xxd in -c x: -c is the outfile), and
// -c, -g, -l, -n, -o, -s (or -cols, -len, …) take the next word when
// nothing is attached.
func TestRound24XxdWritesSecondOperand(t *testing.T) {
	rules := `
[[rule]]
name = "hex"
decision = "accept"
[rule.match]
program = ["xxd", "od", "hexdump"]
`
	round18Check(t, rules, []round18Case{
		{line: "xxd x ../OUT", files: round18Module, made: "OUT"},
		{line: "xxd -c 8 x ../OUT", files: round18Module, made: "OUT"},
		{line: "xxd -r -p x ../OUT", files: round18Module, made: "OUT"},
		{line: "xxd -- x ../OUT", files: round18Module, made: "OUT"},
		{line: "xxd -cols 8 x ../OUT", files: round18Module, made: "OUT"},
	})
	p := mustParse(t, rules)
	for _, line := range []string{"xxd x -c", "xxd -c8 x y", "xxd - out", "xxd -ps x y"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; xxd writes its second operand", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it writes no file", "xxd x", "xxd -c 8 x", "xxd -c8 -g 1 x", "xxd -l 64 -s 16 x", "xxd -p x", "xxd -i x", "od -c x", "hexdump -C x")
}

// TestRound24GitRebaseAutosquashEditor: since git 2.44, --autosquash also
// works without -i, and a "squash! …" commit (the agent's to make) is a
// squash, whose combined message git asks the editor for (sequencer.c,
// EDIT_MSG for the final squash). The git here (2.39) ignores
// --autosquash without -i: no demonstration, the verdict is asserted
// from git's release notes and code.
func TestRound24GitRebaseAutosquashEditor(t *testing.T) {
	p := mustParse(t, prefixRule("git", "rebase"))
	for _, line := range []string{"git rebase --autosquash main", "git rebase --autosq main", "git rebase --root --autosquash"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; a squash! commit makes git ask the editor for the message", line, v.Rule)
		}
	}
	wantAccepted(t, p, "it squashes nothing", "git rebase main", "git rebase --no-autosquash main", "git rebase --root", "git rebase --abort")
}
