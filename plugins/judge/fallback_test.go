package judge

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

func TestNewRejectsBadFallbacks(t *testing.T) {
	_, err := New(&Options{Client: &host.Client{}, Fallback: "maybe"})
	assert.ErrorContains(t, err, `fallback "maybe" is not a decision`)
	_, err = New(&Options{Client: &host.Client{}, FallbackFor: map[abi.ApprovalKind]abi.Decision{abi.ApprovalFileChange: "perhaps"}})
	assert.ErrorContains(t, err, `fallback "perhaps" for fileChange approvals is not a decision`)
	j, err := New(&Options{Client: &host.Client{}, FallbackFor: map[abi.ApprovalKind]abi.Decision{abi.ApprovalPermissions: abi.Cancel}})
	require.NoError(t, err)
	assert.Equal(t, abi.Cancel, j.fallback(abi.ApprovalPermissions))
	assert.Equal(t, abi.Decline, j.fallback(abi.ApprovalCommand))
}

func TestNewChecksOptions(t *testing.T) {
	_, err := New(&Options{Client: &host.Client{}, Summary: "verbose"})
	assert.ErrorContains(t, err, `summary "verbose" is not one of auto, concise, detailed, none`)
	_, err = New(&Options{Client: &host.Client{}, OutputSchema: []byte(`{"type":`)})
	assert.ErrorContains(t, err, "OutputSchema is not valid JSON")
	j, err := New(&Options{Client: &host.Client{}})
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxRequestBytes, j.opts.MaxRequestBytes)
	assert.Equal(t, []abi.Hook{abi.HookApproval}, j.Manifest().Hooks)
}

// The prompt shows the request whole up to MaxRequestBytes, and beyond it
// cut on a UTF-8 boundary with a note of the full length; a negative bound
// shows everything.
func TestPromptTruncation(t *testing.T) {
	req := &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "th", Command: "echo " + strings.Repeat("é", 100)}
	whole, err := New(&Options{Client: &host.Client{}})
	require.NoError(t, err)
	p := whole.prompt("Decide this request.", req)
	assert.Contains(t, p, strings.Repeat("é", 100))
	assert.NotContains(t, p, "[truncated")
	assert.True(t, strings.HasPrefix(p, Marker+" Decide this request. Answer with exactly one JSON object.\n{"))

	cut, err := New(&Options{Client: &host.Client{}, MaxRequestBytes: 64})
	require.NoError(t, err)
	p = cut.prompt("Decide this request.", req)
	body := p[strings.Index(p, "\n")+1:]
	shown, note, ok := strings.Cut(body, "\n[truncated: ")
	require.True(t, ok, p)
	assert.LessOrEqual(t, len(shown), 64)
	assert.True(t, utf8.ValidString(shown), "cut on a rune boundary: %q", shown)
	full, _ := json.MarshalIndent(req, "", "  ")
	assert.Equal(t, fmt.Sprintf("the request is %d bytes; the first %d are shown]", len(full), len(shown)), note)

	unbounded, err := New(&Options{Client: &host.Client{}, MaxRequestBytes: -1})
	require.NoError(t, err)
	long := &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: strings.Repeat("x", DefaultMaxRequestBytes*2)}
	assert.NotContains(t, unbounded.prompt("Decide this request.", long), "[truncated")
	assert.Contains(t, whole.prompt("Decide this request.", long), "[truncated")
}
