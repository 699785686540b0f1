package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins/chain"
)

// escPlugin answers every call with an internal error whose message, the
// plugin's own text, holds terminal escape sequences and newlines.
type escPlugin struct{ msg string }

func (escPlugin) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "evil\x1b[2J\nname", Version: "1", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}
}
func (p escPlugin) Call(context.Context, abi.Hook, []byte) ([]byte, error) {
	return nil, &abi.Error{Code: abi.CodeInternal, Message: p.msg}
}
func (escPlugin) Close(context.Context) error { return nil }

// The chain logs a plugin its crash budget disables, with the plugin's
// name and last error, through the run's line handler to stderr: that
// text is escaped, kept on one line and bounded.
func TestCrashBudgetLogLineIsEscaped(t *testing.T) {
	for _, msg := range []string{
		"\x1b]0;pwned\x07\x1b[2J\x1b[31mred\rcodexhost: accepted",
		"first\nsecond line\u202eevil",
		strings.Repeat("\x1b[31mx", 10000),
	} {
		var stderr bytes.Buffer
		ch, err := chain.New(&chain.Options{
			Members:     []chain.Member{{Plugin: escPlugin{msg}}},
			Fallback:    abi.Decline,
			CrashBudget: chain.CrashBudget{Failures: 1, Window: time.Minute},
			Logger:      newLineLogger(&stderr, slog.LevelError),
		})
		require.NoError(t, err)
		p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": "ls", "cwd": "/w", "startedAtMs": 1})
		_, err = host.NewRequest("item/commandExecution/requestApproval", p).Serve(t.Context(), ch)
		require.NoError(t, err)
		require.NoError(t, ch.Close())
		out := stderr.String()
		require.NotEmpty(t, out, "the crash budget logs the disabled plugin")
		assert.NotContains(t, out, "\x1b")
		assert.NotContains(t, out, "\r")
		assert.NotContains(t, out, "\u202e")
		assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
		assert.Contains(t, out, `\x1b`, "the escape is shown, not dropped")
		assert.Less(t, len(out), 8<<10, "a long error is cut")
	}
}

// An error message reaches stderr escaped: here a file name with an
// escape sequence and a carriage return, from the command line.
func TestErrorMessageIsEscaped(t *testing.T) {
	r := runCmd(t, "policy", "explain", "/nonexistent/\x1b]0;pwned\x07\rrules.toml", "ls")
	require.NotEqual(t, 0, r.code)
	assert.NotContains(t, r.stderr, "\x1b")
	assert.NotContains(t, r.stderr, "\r")
	assert.Contains(t, r.stderr, `\x1b`)
}
