package process

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRestartPolicy checks the restart budget and backoff on a fake clock.
func TestRestartPolicy(t *testing.T) {
	const window = time.Minute
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	ms := time.Millisecond

	// The first restart: at once.
	kept, err := admitRestart(nil, t0, 2, window)
	require.NoError(t, err)
	assert.Empty(t, kept)

	// The second: not within 100ms of the first.
	restarts := []time.Time{t0}
	_, err = admitRestart(restarts, at(99*ms), 2, window)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "next try in 1ms")
	_, err = admitRestart(restarts, at(1*ms), 2, window)
	assert.ErrorContains(t, err, "next try in 99ms")
	_, err = admitRestart(restarts, at(100*ms), 2, window)
	require.NoError(t, err)

	// The third, with a budget of 2: refused until the first leaves the
	// window, whatever the backoff.
	restarts = []time.Time{t0, at(100 * ms)}
	for _, d := range []time.Duration{100 * ms, time.Second, 59 * time.Second} {
		_, err = admitRestart(restarts, at(d), 2, window)
		require.Error(t, err, "at %v", d)
		assert.Contains(t, err.Error(), "restarted 2 times in 1m0s; waiting")
	}
	_, err = admitRestart(restarts, at(59*time.Second), 2, window)
	assert.ErrorContains(t, err, "waiting 1s before the next restart")
	kept, err = admitRestart(restarts, at(window), 2, window)
	require.NoError(t, err)
	assert.Equal(t, []time.Time{at(100 * ms)}, kept, "the first restart left the window")

	// The backoff doubles with each restart in the window, up to 5s.
	restarts = []time.Time{t0, at(ms), at(2 * ms), at(3 * ms)}
	_, err = admitRestart(restarts, at(3*ms+799*ms), 10, window)
	assert.ErrorContains(t, err, "next try in 1ms", "4 restarts: 800ms")
	_, err = admitRestart(restarts, at(3*ms+800*ms), 10, window)
	assert.NoError(t, err)
	restarts = make([]time.Time, 9)
	for i := range restarts {
		restarts[i] = at(time.Duration(i) * ms)
	}
	_, err = admitRestart(restarts, at(8*ms+4999*ms), 10, window)
	assert.ErrorContains(t, err, "next try in 1ms", "9 restarts: capped at 5s")
	_, err = admitRestart(restarts, at(8*ms+5*time.Second), 10, window)
	assert.NoError(t, err)
}
