package rules

import (
	"errors"
	"os/exec"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// TestWrapperValuesCoreutilsRefuses (review 12): README.md promises that
// the values of a transparent wrapper's options are ones the wrapper
// takes. The checks let through values GNU coreutils refuses: "-+5" for
// nice (and --+5 as the obsolete -ADJ form), any upper-case word or
// number for timeout -s, a bare B, Q and R and sizes that overflow for
// stdbuf. The wrapper then exits 125 and runs nothing, yet the line was
// accepted as running echo. The forms coreutils takes are in
// testdata/corpus/allowed/edge.txt, run under bash.
func TestWrapperValuesCoreutilsRefuses(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	echoOnly := mustParse(t, "[[rule]]\nname = \"echo\"\ndecision = \"accept\"\n[rule.match]\nprogram = \"echo\"\n")
	for _, line := range []string{
		"nice --+5 echo vouched",
		"nice -n -+5 echo vouched",
		"nice --adjustment=-+5 echo vouched",
		"timeout -s FOO 5 echo vouched",
		"timeout -s 65 5 echo vouched",
		"timeout -sSIG 5 echo vouched",
		"stdbuf -o1B echo vouched",
		"stdbuf -o1Q echo vouched",
		"stdbuf -o99999999999999999999999 echo vouched",
	} {
		v := echoOnly.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		accepted := v.Decision == abi.Accept || v.Decision == abi.AcceptForSession
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
		cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C"}
		out, err := cmd.Output()
		var ee *exec.ExitError
		ranNothing := string(out) == "" && errors.As(err, &ee) && ee.ExitCode() == 125
		if !ranNothing {
			t.Logf("%q: the wrapper ran echo here (output %q, %v): not a demonstration on this system", line, out, err)
			continue
		}
		if accepted {
			t.Errorf("%q: accepted by rule %q as %q, but the wrapper refuses its option value, exits 125 and runs nothing", line, v.Rule, commandsOf(v.Analysis))
		}
	}
}
