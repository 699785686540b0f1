package main

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestProgressLine(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var term bytes.Buffer
	p := newProgressOn(&term, clock.now, false)
	p.setLabel("working")

	p.draw()
	assert.Equal(t, "\r⠙ working… 0s\x1b[K", term.String())

	// At most every progressInterval.
	term.Reset()
	clock.advance(progressInterval / 2)
	p.draw()
	assert.Empty(t, term.String(), "redrawn too soon")

	clock.advance(12 * time.Second)
	for range 3 {
		p.ObserveEvent(&host.Event{Kind: abi.EventItemStarted, Item: &host.Item{Type: host.ItemCommandExecution}})
	}
	p.ObserveEvent(&host.Event{Kind: abi.EventItemStarted, Item: &host.Item{Type: host.ItemAgentMessage}})
	p.draw()
	assert.Equal(t, "\r⠹ working… 12s · 3 commands\x1b[K", term.String())

	// Output through a wrapped writer erases the line first.
	term.Reset()
	out := p.wrap(&term)
	_, _ = out.Write([]byte("$ ls\n"))
	assert.Equal(t, "\r\x1b[K$ ls\n", term.String())

	// After a partial line (streaming text), the line is not drawn: it
	// would overwrite the text.
	term.Reset()
	_, _ = out.Write([]byte("Hello, wor"))
	clock.advance(time.Second)
	p.draw()
	assert.Equal(t, "Hello, wor", term.String(), "nothing drawn after a partial line")
	_, _ = out.Write([]byte("ld\n"))
	clock.advance(time.Second)
	p.draw()
	assert.True(t, strings.HasSuffix(term.String(), "ld\n\r⠸ working… 14s · 3 commands\x1b[K"), "%q", term.String())

	// stop erases it, and nothing is drawn afterwards.
	term.Reset()
	p.stop()
	assert.Equal(t, "\r\x1b[K", term.String())
	term.Reset()
	clock.advance(time.Second)
	p.draw()
	p.stop()
	assert.Empty(t, term.String())
}

func TestProgressColor(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var term bytes.Buffer
	p := newProgressOn(&term, clock.now, true)
	p.draw()
	assert.Equal(t, "\r\x1b[2m⠙ starting codex… 0s\x1b[0m\x1b[K", term.String())
}

// The ticker goroutine draws every progressInterval and stops cleanly (run
// with -race). In a synctest bubble the clock is fake: exactly three ticks
// pass, each one a redraw.
func TestProgressRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var term syncBuffer
		p := newProgressOn(&term, time.Now, false)
		p.run()
		time.Sleep(3*progressInterval + progressInterval/2)
		synctest.Wait()
		assert.Equal(t, "\r⠙ starting codex… 0s\x1b[K\r⠹ starting codex… 0s\x1b[K\r⠸ starting codex… 0s\x1b[K", term.String())
		p.stop()
		stopped := term.String()
		assert.True(t, strings.HasSuffix(stopped, "⠸ starting codex… 0s\x1b[K\r\x1b[K"), "%q", stopped)
		// Stopped: nothing is drawn any more.
		time.Sleep(3 * progressInterval)
		assert.Equal(t, stopped, term.String())
	})
}

// Not a terminal: no status line, and the I/O is unchanged.
func TestProgressOnlyOnTerminal(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cio := &cmdIO{stdout: &stdout, stderr: &stderr}
	got, p := startProgress(cio, false)
	assert.Nil(t, p)
	assert.Same(t, cio, got)
	assert.Nil(t, newProgress(&stderr))
}
