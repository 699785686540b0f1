package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// TestTestGlobMayBecomeItsV (review 12): bash's test and [ builtins do
// not end their options at "--", yet the engine let a glob pattern after
// a literal "--" expand to anything (operandAfterDashDash). A pattern
// such as -[v] then becomes test's -v operator, which evaluates the array
// subscript of the next word: the engine refused a literal -v but not a
// pattern that expands to one. With a file named -v in the cwd (the agent
// can create one), bash ran touch PWNED, which the accept did not vouch
// for. Each line runs under real bash here, to show it is hostile.
func TestTestGlobMayBecomeItsV(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	// The "anything-in-work" rule of TestReviewEvasions: a permissive rule
	// without command conditions, with allow_globs.
	anyLine := anythingInWork(t, true)
	// A rule that names the builtins.
	testRule := mustParse(t, `
[[rule]]
name = "test"
decision = "accept"
allow_globs = true
[rule.match]
program = ["test", "["]
`)
	for _, tc := range []struct {
		p    *Policy
		line string
	}{
		{anyLine, `test x = -- -o -[v] 'a[$(touch PWNED)]'`},
		{anyLine, `[ x = -- -o -[v] 'a[$(touch PWNED)]' ]`},
		{testRule, `test x = -- -o -[v] 'a[$(touch PWNED)]'`},
		{testRule, `[ x = -- -o -? 'a[$(touch PWNED)]' ]`},
		{anyLine, `test x = -- -o -[v] 'a[$(touch PWNED)]'; ls`},
	} {
		v := tc.p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.line, Cwd: "/work/proj"})
		accepted := v.Decision == abi.Accept || v.Decision == abi.AcceptForSession

		// What bash does with the line in a directory holding a file named -v.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "-v"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", tc.line)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "HOME=" + dir}
		_ = cmd.Run()
		_, err := os.Stat(filepath.Join(dir, "PWNED"))
		ranTouch := err == nil
		if !ranTouch {
			t.Errorf("%q: bash did not run touch PWNED here; the demonstration needs bash 5.x", tc.line)
			continue
		}
		if accepted {
			t.Errorf("%q: accepted by rule %q, vouching only %q; with a file named -v in the cwd, bash expands the pattern to test's -v and runs touch PWNED",
				tc.line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// TestUpperCaseProgramsAreNotVouched (review 12): on a case-insensitive
// file system (macOS's default) BASH runs bash, GIT git and Env env,
// which the engine knows only by their lower-case names: a permissive
// rule vouched for ["BASH" "-c" "touch PWNED"] and bash then ran touch.
// No program with an upper-case name is vouched.
func TestUpperCaseProgramsAreNotVouched(t *testing.T) {
	anyLine := anythingInWork(t, false)
	for _, line := range []string{
		`BASH -c 'touch PWNED'`,
		`/bin/Bash -c 'touch PWNED'`,
		`GIT -c core.pager='touch PWNED' log`,
		`Env touch PWNED`,
		`XARGS touch < list`,
		`ls && SUDO touch PWNED`,
		// Folding beyond ASCII: on macOS "ſ" (long s) is "s" and the
		// Kelvin sign "K" is "k"; and a lower-case name that is not ASCII
		// at all may be composed or decomposed.
		`ſh -c 'touch PWNED'`,
		"/bin/ba\u017Fh -c 'touch PWNED'",
		"\u212Aill -9 1",
		`énv touch PWNED`,
		`xargſ touch < list`,
	} {
		v := anyLine.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
			t.Errorf("%q: accepted by rule %q, vouching %q", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	v := anyLine.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "ls -la", Cwd: "/work/proj"})
	if v.Decision != abi.Accept {
		t.Errorf("ls -la: %s, want accept", v.Decision)
	}
}
