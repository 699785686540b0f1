package chain_test

import (
	"fmt"
	"io"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// gatedRenderer writes each event's Seq, then says which event it renders
// on entered and waits for release.
type gatedRenderer struct {
	entered chan uint64
	release chan struct{}
}

func (r *gatedRenderer) Render(w io.Writer, ev *abi.Event) error {
	fmt.Fprint(w, ev.Seq)
	r.entered <- ev.Seq
	<-r.release
	return nil
}

// gatedChain is a chain whose renderer is a gatedRenderer writing to out.
func gatedChain(t *testing.T) (*chain.Chain, *gatedRenderer, *syncBuffer) {
	out := &syncBuffer{}
	r := &gatedRenderer{entered: make(chan uint64), release: make(chan struct{})}
	c, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{chain.RendererPlugin("gated", r)},
		Render: chain.RenderOptions{Output: out}})
	require.NoError(t, err)
	return c, r, out
}

// Flush returns once the output of every event observed before it has
// been written, though later events wait to be rendered. The render
// goroutine writes its buffered output when no event waits; it used to
// count a batch as written all the same, so a Flush could return while
// the output it waited for was still in the buffer (codexhost run flushes
// at the turn's end while codex may still send the thread's events).
func TestFlushWritesWhileLaterEventsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r, out := gatedChain(t)
		defer c.Close()

		c.ObserveEvent(delta(1))
		require.Equal(t, uint64(1), <-r.entered)
		flushed := make(chan error, 1)
		go func() { flushed <- c.Flush(t.Context()) }()
		synctest.Wait()          // Flush waits for event 1
		c.ObserveEvent(delta(2)) // queued while event 1 renders
		r.release <- struct{}{}
		require.Equal(t, uint64(2), <-r.entered, "event 1's batch is done, event 2's begins")
		require.NoError(t, <-flushed)
		assert.Equal(t, "1", out.String(), "event 1's output was written before Flush returned")

		r.release <- struct{}{}
		require.NoError(t, c.Flush(t.Context()))
		assert.Equal(t, "12", out.String())
	})
}

// Close writes the output of the events rendered, though a later event
// waits (Close does not render it): the render goroutine keeps a batch's
// output buffered while another event waits, and used to return on Close
// without writing it.
func TestCloseWritesWhatIsRendered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, r, out := gatedChain(t)

		c.ObserveEvent(delta(1))
		require.Equal(t, uint64(1), <-r.entered)
		c.ObserveEvent(delta(2)) // queued while event 1 renders
		closed := make(chan error, 1)
		go func() { closed <- c.Close() }()
		synctest.Wait() // Close waits for the call in progress
		r.release <- struct{}{}
		require.NoError(t, <-closed)
		assert.Equal(t, "1", out.String(), "event 1's output was written, event 2 not rendered")
	})
}
