package judge

import (
	"testing"

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
