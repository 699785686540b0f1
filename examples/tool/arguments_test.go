package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// Before 18f5044 the tool decoded its arguments with json.Unmarshal, so a
// call without arguments (codex omitted them; the ABI's omitempty drops
// them) failed the call with "arguments: unexpected end of JSON input".
// guest.DecodeObject takes empty data as "no object", and the tool now
// answers success with "0 words".
func TestMissingArgumentsFailTheCall(t *testing.T) {
	status, out := guest.Handle(t.Context(), abi.HookToolCall, []byte(`{"threadId":"t","callId":"c","tool":"word_count"}`))
	require.Equal(t, abi.StatusOK, status, "%s", out)
	var resp abi.ToolCallResponse
	require.NoError(t, json.Unmarshal(out, &resp))
	require.False(t, resp.Success, "missing arguments must fail the call as before; got %s", out)
}
