package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// TestShIsBashAssignments (review 16): the
// engine reads the script of sh -c and dash -c in the POSIX dialect, where
// NAME+=VALUE is no assignment, so it vouches for a program named
// "NAME+=VALUE" (its base name is lower case once VALUE has a slash in
// it). But where /bin/sh is bash (Fedora, RHEL, Arch, openSUSE; macOS's
// bash 3.2 too), bash in POSIX mode still reads NAME+=VALUE as an
// assignment prefix: it runs the next word as the program with that
// variable in its environment. The README weighs both readings of sh
// already (it refuses `12<x` because dash and bash differ on it).
//
//   - BASH_ENV+=/dev/stdin bash -c true, fed a here-document: the inner
//     bash sources its stdin at startup and runs `touch PWNED`;
//   - x+='a[$(touch pwned)]'; a[x ]=1: the first sets x, the second (one
//     word to bash, "a[x" and "]=1" to the engine) is an array assignment
//     whose subscript evaluates x's value and runs its substitution.
//
// Each line runs here under real bash with a PATH whose sh is bash, as on
// those systems.
func TestShIsBashAssignments(t *testing.T) {
	anyLine := anythingInWork(t, false)
	for _, tc := range []struct{ line, marker string }{
		{"sh -c 'BASH_ENV+=/dev/stdin bash -c true <<EOF\ntouch PWNED\nEOF'", "PWNED"},
		{"/bin/sh -c 'BASH_ENV+=/dev/stdin bash -c true <<EOF\ntouch PWNED\nEOF'", "PWNED"},
		{"sh -c 'x+='\\''a[$(touch pwned)]'\\''; a[x ]=1'", "pwned"},
	} {
		// Real bash, on a system whose sh is bash: the line is hostile.
		work, out := runShIsBash(t, tc.line, nil)
		if _, err := os.Stat(filepath.Join(work, tc.marker)); err != nil {
			t.Errorf("%q: bash-as-sh did not run the payload here (output %q): the line is no evidence", tc.line, out)
		}
		v := anyLine.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.line, Cwd: "/work/proj"})
		if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
			t.Errorf("%q: accepted by rule %q as %q; with sh = bash the line runs `touch %s`",
				tc.line, v.Rule, commandsOf(v.Analysis), tc.marker)
		}
	}
}
