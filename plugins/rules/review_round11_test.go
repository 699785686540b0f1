package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 11 (adversarial review of the worktree adv1). Each test
// below fails while the engine accepts its lines; each line runs here
// under real bash to show what it does. A demonstration whose tool is
// missing (or does not cooperate) is logged, and the engine's verdict is
// asserted either way.

const noRmThenAnything = "[[rule]]\nname = \"no-rm\"\ndecision = \"decline\"\n[rule.match]\nprogram = \"rm\"\n" + anyLineRule

// demoMarker runs demo under bash in a fresh directory holding x (a
// line of text) and pwn (an agent-written program that touches PWNED),
// and reports whether PWNED was made; a missing tool is logged.
func demoMarker(t *testing.T, demo string) bool {
	t.Helper()
	tool := strings.Fields(demo)[0]
	if _, err := exec.LookPath(tool); err != nil {
		t.Logf("%s is not installed: no demonstration of %q", tool, demo)
		return false
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "x"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "pwn"), []byte("#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if tool == "gpg-agent" {
		if err := os.Mkdir(filepath.Join(work, "gnupg"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	out := bashIn(t, demo, work, []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "GNUPGHOME=" + filepath.Join(work, "gnupg")})
	if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
		t.Logf("%q: made no PWNED here (output %q): the tool, not the engine, is at fault; no evidence this time", demo, out)
		return false
	}
	return true
}

// TestRound11MoreProgramsThatRunTheirArguments: otherWrappers misses
// more programs that run their arguments as a command: moreutils' lckdo
// (lckdo LOCKFILE PROGRAM ARGS, the sibling of chronic, pee and zrun),
// debconf (debconf PROGRAM ARGS runs PROGRAM under a debconf frontend),
// GnuPG's gpg-agent --daemon PROGRAM ARGS (starts the agent, runs PROGRAM
// with it, exits when it does) and gpg-connect-agent --exec PROGRAM ARGS
// (runs PROGRAM as the Assuan server to talk to). The loose reading does
// not look behind them, so an accept rule without command conditions
// accepts each past a rule declining rm.
func TestRound11MoreProgramsThatRunTheirArguments(t *testing.T) {
	p := mustParse(t, noRmThenAnything)
	if v, ok := acceptedBy(t, p, "chronic rm -rf victim"); ok || v.Decision != abi.Decline {
		t.Fatalf("chronic rm -rf victim: %s by %q: the rules are not what this test is about", v.Decision, v.Rule)
	}
	for _, tc := range []struct{ line, demo string }{
		{"lckdo lock rm -rf victim", "lckdo lock touch PWNED"},
		{"debconf rm -rf victim", "debconf touch PWNED"},
		{"gpg-agent --daemon rm -rf victim", "gpg-agent --homedir gnupg --daemon touch PWNED"},
		{"gpg-connect-agent --exec rm -rf victim", "gpg-connect-agent --exec ./pwn"},
	} {
		ran := demoMarker(t, tc.demo)
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm (under bash %q ran its program: %v)",
				tc.line, v.Rule, commandsOf(v.Analysis), tc.demo, ran)
		}
		if v, ok := acceptedBy(t, p, tc.demo); ok && ran {
			t.Errorf("%q: accepted by rule %q; under bash it made PWNED", tc.demo, v.Rule)
		}
	}
}

// TestRound11OptionsThatRunShellCommands: the engine knows tar
// --to-command, find -exec and rg --pre, but not the options of other
// common programs that hand a string to the shell or run a program:
// coreutils' split --filter=CMD (a shell command per chunk, abbreviable
// to --fil), zip -TT CMD (the archive tester, run by -T through the
// shell), sqlite3's dot commands .system and .shell, as an operand or
// behind -cmd, scp's and sftp's -o ProxyCommand=CMD (ssh, which the
// engine refuses as a wrapper, runs CMD with the shell; scp and sftp
// pass the option on) and -S PROGRAM (the program run as ssh), and
// wget --use-askpass=PROGRAM (run before any connection). Each line
// below is accepted past a rule declining rm, and runs rm.
func TestRound11OptionsThatRunShellCommands(t *testing.T) {
	p := mustParse(t, noRmThenAnything)
	for _, tc := range []struct{ line, demo string }{
		{"split -n 1 --filter='rm -rf victim' x", "split -n 1 --filter='touch PWNED' x"},
		{"split -n 1 --fil='rm -rf victim' x", "split -n 1 --fil='touch PWNED' x"},
		{"zip -T -TT 'rm -rf victim' o.zip x", "zip -T -TT 'touch PWNED' o.zip x"},
		{"sqlite3 :memory: '.system rm -rf victim'", "sqlite3 :memory: '.system touch PWNED'"},
		{"sqlite3 -cmd '.shell rm -rf victim' :memory: .quit", "sqlite3 -cmd '.shell touch PWNED' :memory: .quit"},
		{"scp -o ProxyCommand='rm -rf victim' x host:y", "scp -o ProxyCommand='touch PWNED' x host:y"},
		{"sftp -o ProxyCommand='rm -rf victim' host", "sftp -o ProxyCommand='touch PWNED' host"},
		{"scp -S rm x host:y", "scp -S ./pwn x host:y"},
		{"sftp -S rm host", "sftp -S ./pwn host"},
		{"wget --use-askpass=rm http://127.0.0.1:9/", "wget --use-askpass=./pwn http://127.0.0.1:9/"},
	} {
		ran := demoMarker(t, tc.demo)
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm (under bash %q ran its command: %v)",
				tc.line, v.Rule, commandsOf(v.Analysis), tc.demo, ran)
		}
		if v, ok := acceptedBy(t, p, tc.demo); ok && ran {
			t.Errorf("%q: accepted by rule %q; under bash it made PWNED", tc.demo, v.Rule)
		}
	}
}
