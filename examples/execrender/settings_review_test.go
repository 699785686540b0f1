package main

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// Settings that are only whitespace are not JSON: json.Unmarshal refused
// them before 18f5044 ("unexpected end of JSON input"); DecodeObject takes
// them as no settings. (The runtimes do not validate Settings themselves.)
func TestWhitespaceSettingsRefused(t *testing.T) {
	status, out := guest.Configure([]byte(" \n"))
	require.Equal(t, abi.StatusError, status, "%s", out)
}
