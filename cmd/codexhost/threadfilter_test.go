package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/host"
)

type nopObserver struct{}

func (nopObserver) ObserveEvent(*host.Event) {}

// waitStarted returns once thread/started of the thread has passed the
// filter, whether before the wait or during it, and false when ctx ends
// first (run fork without a prompt waits so for codex's announcement of
// the copy, which TestRunFork's --json line needs: it was missing in 2 of
// 12 runs under -race -cpu=1,2,4 before).
func TestThreadFilterWaitStarted(t *testing.T) {
	f := &threadFilter{inner: nopObserver{}}
	f.ObserveEvent(&host.Event{Method: "thread/started", ThreadID: "a"})
	assert.True(t, f.waitStarted(context.Background(), "a"), "before the wait")

	done := make(chan bool)
	go func() { done <- f.waitStarted(context.Background(), "b") }()
	f.ObserveEvent(&host.Event{Method: "thread/status/changed", ThreadID: "b"})
	f.ObserveEvent(&host.Event{Method: "thread/started", ThreadID: "c"})
	f.ObserveEvent(&host.Event{Method: "thread/started", ThreadID: "b"})
	assert.True(t, <-done, "during the wait")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.False(t, f.waitStarted(ctx, "d"), "never started")
}
