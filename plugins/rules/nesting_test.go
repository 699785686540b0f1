package rules

import (
	"runtime"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// TestDeepNestingIsNotParsed: mvdan.cc/sh's parser recurses once per
// level of ( or {, and a 64 KiB line of nested parentheses (the agent
// chooses the line) grew its stack to ~250 MB per analysis, ~0.3 s of CPU
// (review, adversarial agent round). Lines nested deeper than maxNesting
// are not parsed: never vouched, and the decline rules still find their
// commands through the quick lexer. A line nested as deeply as real
// commands are is read as before.
func TestDeepNestingIsNotParsed(t *testing.T) {
	p := anythingInWork(t, false)
	deep := strings.Repeat("(", 32000) + "ls" + strings.Repeat(")", 32000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	v, ok := acceptedBy(t, p, deep)
	runtime.ReadMemStats(&after)
	if ok {
		t.Errorf("32000 nested parentheses: accepted by rule %q", v.Rule)
	}
	if !strings.Contains(v.Analysis.Reason, "nest deeper than") {
		t.Errorf("reason %q does not say the line nests too deeply", v.Analysis.Reason)
	}
	if grew := after.StackSys - before.StackSys; grew > 64<<20 {
		t.Errorf("the analysis grew the stacks by %d MiB", grew>>20)
	}
	for _, line := range []string{
		strings.Repeat("{ ", maxNesting+1) + "ls" + strings.Repeat("; }", maxNesting+1),
		"bash -c '" + strings.Repeat("(", maxNesting+1) + "ls" + strings.Repeat(")", maxNesting+1) + "'",
		"echo " + strings.Repeat("$(", maxNesting+1) + "ls" + strings.Repeat(")", maxNesting+1),
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%.40q…: accepted by rule %q", line, v.Rule)
		}
	}
	// The decline rules still see rm in a line they cannot parse.
	noRm := mustParse(t, `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "any"
decision = "accept"
[rule.match]
program = ["ls", "echo"]
`)
	line := strings.Repeat("(", maxNesting+1) + "rm -rf x" + strings.Repeat(")", maxNesting+1)
	if v := noRm.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"}); v.Rule != "no-rm" || v.Decision != abi.Decline {
		t.Errorf("deeply nested rm: %s by %q (%s), want decline by no-rm", v.Decision, v.Rule, v.Analysis.Reason)
	}
	// Nesting as deep as real commands is parsed as before.
	for _, line := range []string{strings.Repeat("(", 20) + "ls" + strings.Repeat(")", 20), "echo $(echo $(echo $(ls)))", "{ ls; }",
		strings.Repeat("(", maxNesting) + "ls" + strings.Repeat(")", maxNesting)} {
		if a := Analyze(t.Context(), line); strings.Contains(a.Reason, "nest deeper") {
			t.Errorf("%.40q…: %s", line, a.Reason)
		}
	}
	wantAccepted(t, p, "plain commands", "ls", "ls; ls && echo ok")
}
