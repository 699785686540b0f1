package wasm

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCallCtxDeadline(t *testing.T) {
	c := newCallCtx(nil)
	start := time.Now()
	c.begin(context.Background(), 20*time.Millisecond)
	<-c.Done()
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	assert.False(t, c.end())
}

func TestCallCtxParent(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	c := newCallCtx(nil)
	c.begin(parent, time.Hour)
	assert.Equal(t, "v", c.Value(key{}))
	d, ok := c.Deadline()
	assert.True(t, ok)
	assert.WithinDuration(t, time.Now().Add(time.Hour), d, time.Minute)
	select {
	case <-c.Done():
		t.Fatal("done too early")
	default:
	}
	cancel()
	<-c.Done()
	assert.ErrorIs(t, c.Err(), context.Canceled)
	assert.False(t, c.end())

	// A parent done already.
	c = newCallCtx(nil)
	c.begin(parent, time.Hour)
	assert.ErrorIs(t, c.Err(), context.Canceled)
	assert.False(t, c.end())

	// A parent with an earlier deadline.
	parent, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	c = newCallCtx(nil)
	c.begin(parent, time.Hour)
	pd, _ := parent.Deadline()
	d, _ = c.Deadline()
	assert.Equal(t, pd, d)
	<-c.Done()
	assert.ErrorIs(t, c.Err(), context.DeadlineExceeded)
	assert.False(t, c.end())
}

// Reuse: calls that end before their deadline leave the context usable,
// and a timer stopped too late never cancels a later call. In a synctest
// bubble: every other call ends just as its deadline passes on the fake
// clock, so its timer's function runs before end, or after end and the
// next begin (a stale run); the next call, during which no time passes,
// must survive it. synctest.Wait lets every such run finish before the
// last check.
func TestCallCtxReuse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCallCtx(nil)
		parent, cancel := context.WithCancel(context.Background())
		defer cancel()
		for i := range 2000 {
			timeout := time.Duration(i%7)*50*time.Microsecond + time.Millisecond
			c.begin(parent, timeout)
			if i%2 == 0 {
				// No time passes: only a stale run of the previous call's
				// timer could end this call, and it must not.
				require.True(t, c.end(), "call %d: a stale timer cancelled it", i)
				require.NoError(t, c.Err())
				continue
			}
			time.Sleep(timeout) // the fake clock reaches the deadline
			if !c.end() {
				// The deadline passed: the instance would be discarded with
				// its context.
				require.ErrorIs(t, c.Err(), context.DeadlineExceeded)
				c = newCallCtx(nil)
				continue
			}
			require.NoError(t, c.Err())
		}
		c.begin(parent, time.Hour)
		synctest.Wait() // every timer function that started has run
		require.NoError(t, c.Err(), "no stale cancellation")
		assert.True(t, c.end())
	})
}
