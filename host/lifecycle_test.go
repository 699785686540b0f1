package host_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
)

// TestStartTurnAfterCloseFails: StartTurn on a closed Client returns an
// error matching ErrClosed, as StartThread does. It closed its event
// subscription twice and panicked ("close of closed channel"), taking
// the caller's process down.
func TestStartTurnAfterCloseFails(t *testing.T) {
	t.Parallel()
	c := startFake(t, "text", 0, nil)
	th, err := c.StartThread(t.Context(), nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_ = c.Wait()
	_, err = c.StartTurn(t.Context(), th.ID, []host.Input{host.TextInput("go")}, nil)
	require.ErrorIs(t, err, host.ErrClosed)
}
