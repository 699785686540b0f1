package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Bad input to the commands of issue 7's second part: one line that says
// what to do, a non-zero exit, never a stack trace (runCmd checks that).
func TestBadInputMore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr []string
	}{
		{"run record into a missing dir", []string{"run", "--record", "/no/such/dir/turn.jsonl", "hi"}, exitUsage, []string{"--record /no/such/dir/turn.jsonl: no such file or directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCmd(t, tc.args...)
			assert.Equal(t, tc.code, r.code)
			for _, s := range tc.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.True(t, strings.HasPrefix(r.stderr, "codexhost: ") || strings.HasPrefix(r.stderr, "Usage:"), "stderr starts with the error or the usage")
			assert.Empty(t, r.stdout)
		})
	}
}
