package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/chain"
)

// TestDeclineNoticeIsBounded: the decline notice codexhost run writes
// to stderr for every refused approval quotes the deciding plugin's name
// and reason, which are the plugin's text, up to its 16 MiB result limit.
// Every other line that quotes a plugin is cut (the run's log handler at
// 1 KiB a value, TestCrashBudgetLogLineIsEscaped: "a long error is cut");
// this one writes the whole reason, escaped (a reason of control bytes
// grows four times), on every declined command.
func TestDeclineNoticeIsBounded(t *testing.T) {
	var stderr bytes.Buffer
	d := &decisions{stderr: &stderr}
	d.record(&chain.DecisionRecord{Hook: abi.HookApproval, Decision: abi.Decline, Summary: "ls",
		Answers: []chain.PluginAnswer{{Plugin: strings.Repeat("n", 64<<10), Decision: abi.Decline,
			Reason: strings.Repeat("\x1b", 1<<20)}}})
	out := stderr.String()
	assert.Equal(t, 1, strings.Count(out, "\n"))
	assert.Less(t, len(out), 8<<10, "a decline notice of %d bytes for one command", len(out))
}

// TestBuildCompilerOutputIsEscaped: codexhost plugin build prints
// the Go compiler's errors raw. They quote the plugin's source: its file
// names and the text of the expressions in error. A plugin's source (one
// being reviewed before it is built) with a terminal escape in a file name
// or a string literal then drives the terminal of whoever builds it.
func TestBuildCompilerOutputIsEscaped(t *testing.T) {
	broken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module broken\n\ngo 1.26\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(broken, "main\x1b]0;pwned\x07.go"),
		[]byte("package main\n\nfunc main() { var n int = \"\x1b[2J\x1b]8;;https://evil.example/\x07click\"; _ = n }\n"), 0o644))
	r := runCmdLong(t, "plugin", "build", "-o", filepath.Join(t.TempDir(), "broken.wasm"), broken)
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "main", "the compiler's errors are shown")
	for _, c := range []string{"\x1b", "\x07"} {
		assert.NotContains(t, r.stderr, c, "raw control byte %q on the terminal", c)
	}
}
