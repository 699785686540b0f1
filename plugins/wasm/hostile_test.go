package wasm_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A module that loops forever in _initialize is stopped at the load's
// deadline (the caller's ctx here; at most the start timeout otherwise)
// and refused: loading never hangs the host.
func TestLoadHangingModule(t *testing.T) {
	bin := testdataWAT(t, "hang")
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	p, err := testRuntime.Load(ctx, bin, nil)
	if p != nil {
		_ = p.Close(context.Background())
	}
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second, "stopped near the deadline")
	assert.Contains(t, err.Error(), "deadline")
	assert.Contains(t, err.Error(), "failed to start")
}
