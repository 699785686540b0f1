package rules

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const good = `[[rule]]
name = "allow-ls"
decision = "accept"
[rule.match]
program = "ls"
`

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // each must appear in the error
	}{
		{"unknown decision", `
[[rule]]
name = "allow-ls"
decision = "allow"
[rule.match]
program = "ls"
`, []string{`rules.toml:4: rule "allow-ls": unknown decision "allow" (want accept, acceptForSession, decline, cancel, ask or abstain)`}},
		{"invalid command regex", `
[[rule]]
name = "r"
decision = "decline"

[rule.match]
hook_kind = "command"
command_regex = "rm ("
`, []string{`rules.toml:8: rule "r": match.command_regex: invalid regex "rm (": missing closing )`}},
		{"invalid reason regex", good + `reason_regex = "[z-a]"
`, []string{`rules.toml:6: rule "allow-ls": match.reason_regex: invalid regex "[z-a]"`}},
		{"unknown match field", `[[rule]]
name = "x"
decision = "accept"
[rule.match]
progam = "ls"
`, []string{`rules.toml:5: rule "x": unknown field "progam" in match`}},
		{"unknown rule field", `[[rule]]
name = "x"
decison = "accept"
[rule.match]
program = "ls"
`, []string{`rules.toml:3: rule "x": unknown field "decison"`, `rules.toml:1: rule "x": decision: missing`}},
		{"unknown top-level field", "version = 2\n" + good, []string{`rules.toml:1: unknown field "version"`}},
		{"empty match", `[[rule]]
name = "x"
decision = "accept"
[rule.match]
`, []string{`rules.toml:4: rule "x": match: empty`}},
		{"inline empty match", `[[rule]]
name = "x"
decision = "decline"
match = {}
`, []string{`rules.toml:4: rule "x": match: empty`}},
		{"no match", `[[rule]]
name = "x"
decision = "decline"
`, []string{`rules.toml:1: rule "x": match: missing`}},
		{"no name", `[[rule]]
decision = "decline"
[rule.match]
program = "rm"
`, []string{`rules.toml:1: rule #1: name: missing`}},
		{"duplicate name", good + "\n" + good, []string{`rules.toml:8: rule "allow-ls": duplicate rule name "allow-ls"`}},
		{"second rule's line", good + `
[[rule]]
name = "second"
decision = "accept"
[rule.match]
argv_prefix = "git"
`, []string{`rules.toml:11: rule "second": match.argv_prefix: want a list of strings, got a string`}},
		{"wrong type", `[[rule]]
name = "x"
decision = "accept"
allow_redirects = "yes"
[rule.match]
program = "ls"
`, []string{`rules.toml:4: rule "x": allow_redirects: want true or false, got a string`}},
		{"bad hook kind", `[[rule]]
name = "x"
decision = "accept"
[rule.match]
hook_kind = "exec"
`, []string{`rules.toml:5: rule "x": match.hook_kind: unknown hook kind "exec" (want command, fileChange or permissions)`}},
		{"kind conflict", `[[rule]]
name = "x"
decision = "accept"
[rule.match]
hook_kind = "fileChange"
program = "ls"
`, []string{`rules.toml:6: rule "x": match.program: applies only to hook_kind command, not fileChange`}},
		{"mixed kinds", `[[rule]]
name = "x"
decision = "accept"
[rule.match]
program = "ls"
paths = ["src/**"]
`, []string{`rules.toml:4: rule "x": match: mixes conditions`}},
		{"relative cwd", `[[rule]]
name = "x"
decision = "accept"
[rule.match]
cwd_prefix = "work"
`, []string{`rules.toml:5: rule "x": match.cwd_prefix: "work" is not an absolute path`}},
		{"bad glob", `[[rule]]
name = "x"
decision = "decline"
[rule.match]
paths = ["src/[a"]
`, []string{`rules.toml:5: rule "x": match.paths: invalid glob "src/[a"`}},
		{"permissions field", `[[rule]]
name = "x"
decision = "decline"
[rule.match.permissions]
network = true
internet = true
`, []string{`rules.toml:6: rule "x": unknown field "internet" in match.permissions`}},
		{"permissions network type", `[[rule]]
name = "x"
decision = "decline"
[rule.match.permissions]
network = "yes"
`, []string{`rules.toml:5: rule "x": match.permissions.network: want true or false, got a string`}},
		{"dotted key", `[[rule]]
name = "x"
decision = "decline"
match.program = ["rm", 3]
`, []string{`rules.toml:4: rule "x": match.program[1]: want a string, got an integer`}},
		{"inline match field", `[[rule]]
name = "x"
decision = "decline"
match = { program = "rm", colour = "red" }
`, []string{`rules.toml:4: rule "x": unknown field "colour" in match`}},
		{"empty argv prefix", `[[rule]]
name = "x"
decision = "decline"
[rule.match]
argv_prefix = []
`, []string{`rules.toml:5: rule "x": match.argv_prefix: want a non-empty list`}},
		{"redirects without command", `[[rule]]
name = "x"
decision = "accept"
allow_redirects = true
[rule.match]
cwd_prefix = "/w"
`, []string{`rules.toml:4: rule "x": allow_redirects: only applies to command rules`}},
		{"TOML syntax", `[[rule]]
name = "x"
decision = accept
`, []string{`rules.toml:3: TOML: `}},
		{"no rules", `# nothing`, []string{`rules.toml: no rules`}},
		{"rule not a table array", `rule = "x"`, []string{`rules.toml:1: rule: want [[rule]] tables, got a string`}},
		{"several problems", `[[rule]]
name = "a"
decision = "allow"
[rule.match]
program = "ls"

[[rule]]
name = "b"
decision = "decline"
[rule.match]
command_regex = "("
`, []string{`rules.toml:3: rule "a": unknown decision "allow"`, `rules.toml:11: rule "b": match.command_regex: invalid regex`}},
		{"multi-line string does not confuse lines", `[[rule]]
name = "x"
message = """
decision = "fake"
"""
decision = "nope"
[rule.match]
program = "ls"
`, []string{`rules.toml:6: rule "x": unknown decision "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("rules.toml", []byte(tt.src))
			require.Error(t, err)
			assert.Nil(t, p)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			var e *Error
			assert.True(t, errors.As(err, &e))
		})
	}
}

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile("testdata/example.toml")
	require.NoError(t, err)
	p, err := Parse("example.toml", data)
	require.NoError(t, err)
	assert.Equal(t, 14, len(p.Rules()))
	assert.True(t, strings.HasPrefix(p.Rules()[0], "no-rm"))
}
