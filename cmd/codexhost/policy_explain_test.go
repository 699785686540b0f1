package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const explainRules = `
[[rule]]
name = "no-rm"
decision = "decline"
message = "removing files is not allowed"
[rule.match]
program = ["rm"]

[[rule]]
name = "read-only"
decision = "accept"
[rule.match]
program = ["ls", "cat"]

[[rule]]
name = "git-status"
decision = "acceptForSession"
[rule.match]
argv_prefix = ["git", "status"]
`

// policy explain prints the parse verdict, each command's resolved argv
// and redirections, each rule tried, and the decision.
func TestPolicyExplain(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, explainRules)
	tests := []struct {
		line string
		want string
	}{
		{"/bin/bash -lc 'git -C sub status && timeout 5 ls 2>/dev/null'", `parse: vouched: bash will execute exactly these commands, with only these redirections
command 1: ["git" "-C" "sub" "status"]
command 2: ["timeout" "5" "ls"]
  runs: ["ls"]
  redirect: 2> "/dev/null"
rule no-rm: no: no command the line might run matches
rule read-only: no: "git -C sub status": program git is not ls, cat
rule git-status: no: "timeout 5 ls": program ls is not git
rules git-status+read-only: match, each covering some of the commands
decision: accept (rule git-status+read-only)
`},
		{"ls $((1+2)); rm x", `parse: not vouched: arithmetic expansion at column 4
rule no-rm: matches
decision: decline (rule no-rm: removing files is not allowed)
`},
		{"cat <<'EOF'\nhi\nEOF", `parse: vouched: bash will execute exactly these commands, with only these redirections
command 1: ["cat"]
  redirect: 0<<
rule no-rm: no: no command the line might run matches
rule read-only: matches
decision: accept (rule read-only)
`},
		{"ls \x1b[2J", `parse: not vouched: control character U+001B at column 4
rule no-rm: no: no command the line might run matches
rule read-only: no: not vouched: control character U+001B at column 4
rule git-status: no: not vouched: control character U+001B at column 4
decision: abstain (no rule matched (not vouched: control character U+001B at column 4))
`},
		{"ls 'a\u202eb' > out", `parse: vouched: bash will execute exactly these commands, with only these redirections
command 1: ["ls" "a\u202eb"]
  redirect: 1> "out"
rule no-rm: no: no command the line might run matches
rule read-only: no: "ls a\u202eb": redirection > out writes a file (the rule does not set allow_redirects)
rule git-status: no: "ls a\u202eb": redirection > out writes a file (the rule does not set allow_redirects)
decision: abstain (no rule matched)
`},
	}
	for _, tt := range tests {
		r := runCmd(t, "policy", "explain", "--cwd", "/work", rules, tt.line)
		assert.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, tt.want, r.stdout, tt.line)
	}

	r := runCmd(t, "policy", "explain", rules)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "want RULES_FILE and a command line, got 1 arguments")
	r = runCmd(t, "policy", "explain", rules+".missing", "ls")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "no such file")
	r = runCmd(t, "policy", "explain", writeRules(t, "[[rule]]\nname = \"x\"\ndecision = \"allow\"\n[rule.match]\nprogram = \"ls\"\n"), "ls")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `rule "x": unknown decision "allow"`)
	r = runCmd(t, "policy", "bogus")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `unknown subcommand "bogus"`)
}

// The explanation shown in plugins/rules/README.md is what the command
// prints.
func TestPolicyExplainREADME(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../plugins/rules/README.md")
	require.NoError(t, err)
	const intro = "`codexhost policy explain plugins/rules/testdata/example.toml 'ls *.go'`"
	_, rest, ok := strings.Cut(string(data), intro)
	require.True(t, ok, "the README shows an explanation")
	_, rest, _ = strings.Cut(rest, "```\n")
	want, _, _ := strings.Cut(rest, "```\n")
	r := runCmd(t, "policy", "explain", "--cwd", "/work/proj", "../../plugins/rules/testdata/example.toml", "ls *.go")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, want, r.stdout)
}
