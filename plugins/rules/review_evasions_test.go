package rules

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

// Evasions found by an adversarial review (bash 5.2, dash 0.5.12, GNU sed
// 4.9): each line makes bash run or write something its accept would not
// vouch for, under the rules file named.
func TestReviewEvasions(t *testing.T) {
	anyLine := mustParse(t, `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "anything-in-work"
decision = "accept"
allow_globs = true
[rule.match]
hook_kind = "command"
cwd_prefix = "/work"
`)
	catOnly := mustParse(t, `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "cat"
decision = "accept"
[rule.match]
program = "cat"
`)
	perm := diffPolicy(t, "rules-permissive.toml")
	touch := [][]string{{"touch", "PWNED"}}
	for _, c := range []struct {
		p    *Policy
		line string
		// vouched is what an accept must vouch for; nil: no accept.
		vouched [][]string
	}{
		// A. A backslash-newline inside an unquoted here-document body.
		{catOnly, "cat <<EOF\nEO\\\nF\nrm victim\nEOF", nil},
		{catOnly, "cat <<EOF\nEO\\\nF\ntouch PWNED\nEOF", nil},
		{catOnly, "cat <<-EOF\n\tEO\\\nF\ntouch PWNED\nEOF", nil},
		{anyLine, "cat <<EOF\nEO\\\nF\nrm victim\nEOF", nil},
		{catOnly, "cat <<EOF\n\\\nEOF\ntouch PWNED\nEOF", nil},
		{catOnly, "cat <<EOF\nEOF\\\n\ntouch PWNED\nEOF", nil},
		{catOnly, "/bin/bash -lc 'cat <<EOF\nEO\\\nF\ntouch PWNED\nEOF'", nil},
		// B. GNU sed: a label ends at ';' or a blank, so do b, t, T and v's arguments.
		{perm, "sed -n ':a;e touch PWNED' a.txt", nil},
		{perm, "sed -n ':a w PWNED' a.txt", nil},
		{perm, "sed -n 'b a w PWNED\n:a' a.txt", nil},
		{perm, "sed -n 't a;w PWNED\n:a' a.txt", nil},
		{perm, "sed -n 'T a;e id\n:a' a.txt", nil},
		{perm, "sed -n 'v 4.2 w PWNED' a.txt", nil},
		{perm, "sed -n 'v;w PWNED' a.txt", nil},
		{perm, "sed -n ':a\tw PWNED' a.txt", nil},
		{perm, "sed -n -e ':a' -e 'b a;e id' a.txt", nil},
		// C. getopt_long takes any unambiguous prefix of a long option.
		{perm, "sort --o=PWNED a.txt", nil},
		{perm, "sort --ou=PWNED a.txt", nil},
		{perm, "sort --o PWNED a.txt", nil},
		{perm, "sed --in=.bak s/a/b/ a.txt", nil},
		{perm, "sed --in s/a/b/ a.txt", nil},
		// D. Globs expand to names that a program reads as options, outputs or scripts.
		{perm, "uniq src/*.txt", nil},
		{perm, "uniq -- *.txt", nil},
		{perm, "find -- *", nil},
		{perm, "find . -name x -- *", nil},
		{perm, "sed -n s*x*y* a.txt", nil},
		{perm, "sed -n -- s*x*y* a.txt", nil},
		{perm, "sed -s s*x*y* a.txt", nil},
		{perm, "git -C s* status", nil},
		// Globs that stay operands are still accepted.
		{perm, "sort -- *", [][]string{{"sort", "--", "*"}}},
		{perm, "cat -- *", [][]string{{"cat", "--", "*"}}},
		{perm, "sed -n -e p src/*.txt", [][]string{{"sed", "-n", "-e", "p", "src/*.txt"}}},
		{perm, "sed -ne p src/*.txt", [][]string{{"sed", "-ne", "p", "src/*.txt"}}},
		{perm, "sed -n p src/*.txt", [][]string{{"sed", "-n", "p", "src/*.txt"}}},
		{perm, "find src/* -name x", [][]string{{"find", "src/*", "-name", "x"}}},
		{perm, "uniq a.txt", [][]string{{"uniq", "a.txt"}}},
		// E. Builtins and shells that run their operands.
		{anyLine, "jobs -x rm -rf x", nil},
		{anyLine, "jobs -x touch PWNED", nil},
		{anyLine, "bash -c + 'touch PWNED'", touch},
		{anyLine, "sh -c + 'touch PWNED'", touch},
		{anyLine, "sh -c - 'touch PWNED'", touch},
		{anyLine, "bash -c - 'touch PWNED'", touch},
		{anyLine, "dash -c + -- 'touch PWNED'", touch},
		{anyLine, "sh -c 'jobs -x touch PWNED'", nil},
		{anyLine, "bash -lc 'chdir /dev; cat < sda'", nil},
		{anyLine, "sh -c 'chdir /dev && cat < sda'", nil},
		{anyLine, "sh -c 'chdir / && rm -rf x'", nil},
	} {
		v := c.p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: c.line, Cwd: "/work/proj"})
		if v.Decision != abi.Accept && v.Decision != abi.AcceptForSession {
			if c.vouched != nil {
				t.Errorf("declined %q (%s), want an accept of %q", c.line, reasonOf(v), c.vouched)
			}
			continue
		}
		if got := commandsOf(v.Analysis); c.vouched == nil || !reflect.DeepEqual(got, c.vouched) {
			t.Errorf("accepted %q: rule %q, commands %q, want %q", c.line, v.Rule, got, c.vouched)
		}
	}
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("review.toml", []byte(src))
	require.NoError(t, err)
	return p
}
