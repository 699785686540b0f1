package rules

import (
	"testing"
)

// Review round 27 (adversarial review of the worktree adv1, at cce256e):
// programs whose commands fall back to running a program the line names,
// and the options of known programs that name a program or a file.

// TestRound27PnpmFallbackExec: pnpm NAME, where NAME is none of pnpm's
// commands, runs the package's script NAME, and when the package has no
// such script it runs NAME itself, as pnpm exec would (pnpm's run
// handler, fallbackCommandUsed): "pnpm touch PWNED" runs touch, "pnpm
// ./pwn" runs ./pwn. The engine refused the word exec but vouched for
// the same program under the fallback. pnpm reads its options before the
// command, and one that takes a value takes the next word, which the
// fallback then runs: "pnpm --loglevel install touch x" runs
// /usr/bin/install (pnpm sees the command touch, and exec's arguments
// start at the first word that is no option). pnpm run NAME and a
// recursive run (-r, --filter) run scripts only ("None of the selected
// packages has a touch script"). Demonstrated with pnpm 9.15.9 (not
// installed here: the runs below are logged as missing where it is not).
func TestRound27PnpmFallbackExec(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "pnpm touch ../PWNED", files: round18With(map[string]string{"m/package.json": `{"name":"m","version":"1.0.0"}`}), made: "PWNED"},
		{line: "pnpm ../pwn", files: round18With(map[string]string{"m/package.json": `{"name":"m","version":"1.0.0"}`}), made: "PWNED"},
	})
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{
		"pnpm touch PWNED", "pnpm ./pwn", "pnpm --silent touch PWNED", "pnpm -- touch PWNED",
		"pnpm --loglevel install touch PWNED", "pnpm --reporter silent rm -rf x", "pnpm -w touch PWNED",
		"pnpm -r --no-recursive touch PWNED", "pnpm --recursive=false touch PWNED", "pnpm --color ./pwn",
		"pnpm stop", "pnpm -C . touch PWNED", "pnpm --foo install touch PWNED",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; pnpm runs the program the line names when the package has no such script", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "pnpm's own commands, and scripts through run or a recursive run",
		"pnpm install --frozen-lockfile", "pnpm -r build", "pnpm test --filter web", "pnpm run lint", "pnpm --filter web build",
		"pnpm -C packages/a run build", "pnpm --loglevel warn install", "pnpm start", "pnpm ls --depth 0", "pnpm why react",
		"pnpm recursive run build", "pnpm add -D typescript", "pnpm view react version", "pnpm --filter=web test")
}

// TestRound27UmaskChangesLaterWrites: umask is a builtin that changes the
// shell, as ulimit (which shellStateBuiltins refuses) does: after umask 0
// every file a later command of the line makes, a vouched redirection
// included, is writable by any user on the machine (mode 666, a
// directory 777), where the user's umask (022) would keep it theirs. The
// engine vouched for ["umask" "0"] as a command like any other. umask
// alone, -p and -S print the mask and change nothing. Demonstrated with
// bash 5.2.
func TestRound27UmaskChangesLaterWrites(t *testing.T) {
	work := t.TempDir()
	out := bashIn(t, "umask 022; umask 0 && echo hi > notes.txt && mkdir d && stat -c %a notes.txt d", work, []string{"PATH=/usr/bin:/bin", "LANG=C"})
	if out != "666\n777" {
		t.Errorf("under bash, umask 0 made files of modes %q, want 666 and 777: the demonstration failed", out)
	}
	p := mustParse(t, `
[[rule]]
name = "anything-in-work"
decision = "accept"
allow_redirects = true
[rule.match]
hook_kind = "command"
cwd_prefix = "/work"
`)
	for _, line := range []string{"umask 0 && echo hi > notes.txt", "umask 000; mkdir d", "umask -- 0", "umask -S 0", "umask a+w",
		"sh -c 'umask 0; touch x'", "command umask 0"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; umask sets the mode of the files later commands make", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	wantAccepted(t, p, "umask alone, -p and -S print the mask", "umask", "umask -p", "umask -S", "echo hi > notes.txt")
}
