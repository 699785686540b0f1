package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

// The README's main command runs this program; prove it prints the fake
// model's answer through the real codex.
func TestHelloPrintsTheModelsAnswer(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), nil, &out))
	require.Equal(t, Answer+"\n", out.String())
}
