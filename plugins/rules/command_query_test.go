package rules

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommandQueryRunsNothing: the builtin command with -v or -V says what
// a name is and runs nothing, so the engine vouches for it as the program
// command (a rule may allow it) instead of declining it as a wrapper with
// an unknown option; under real bash (strace) nothing but what the engine
// vouched runs. Any other option, a path or a program named command
// (after env or exec) is still not vouched, and command without -v still
// unwraps to the program it runs.
func TestCommandQueryRunsNothing(t *testing.T) {
	p := mustParse(t, `[[rule]]
name = "lookup"
decision = "accept"
[rule.match]
argv_prefix = ["command", "-v"]

[[rule]]
name = "lookup-verbose"
decision = "accept"
[rule.match]
argv_prefix = ["command", "-V"]

[[rule]]
name = "lookup-p"
decision = "accept"
[rule.match]
argv_prefix = ["command", "-pv"]
`)
	accepted := []string{
		"command -v git", "command -v git ls cat", "command -V git", "command -v -- git",
		"command -pv git", "command -v rm", "command -v git && command -V ls",
		"command -v command", "command -v nosuchprogram || command -v ls",
	}
	tr := newTracer(t)
	var js []judged
	for _, line := range accepted {
		v, ok := acceptedBy(t, p, line)
		if !assert.True(t, ok, "%q: %+v", line, v.Analysis) {
			continue
		}
		js = append(js, judged{corpusLine: corpusLine{file: "command-query", text: line, bytes: len(line)},
			rules: "lookup", accepted: true, verdict: v})
	}
	for _, res := range differential(t, tr, js) {
		require.NoError(t, res.err, res.j.text)
		assert.Empty(t, res.violations, "%q ran more than the engine vouched for", res.j.text)
	}

	for _, line := range []string{
		"command -vx git", "command -v -x git", "command -v git; rm -rf x", "command -v $(rm x)",
		"env command -v git", "exec command -v git", "/usr/bin/command -v git",
		"command git status", "command -p rm x", "command rm -v x",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q", line, v.Rule)
		}
	}
}
