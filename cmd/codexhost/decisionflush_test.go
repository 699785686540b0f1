package main

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/chain"
)

// TestDecisionFlushesConcurrently: with --json, a decision first flushes
// the renderer's output, for up to 5 s (a renderer or an output that
// stalls). Concurrent approvals wait for that flush side by side: one did
// it holding the lock of the decision lines, so that the answers to n
// approvals in flight came up to n times 5 s late.
func TestDecisionFlushesConcurrently(t *testing.T) {
	var out bytes.Buffer
	flushing := make(chan struct{}, 3)
	release := make(chan struct{})
	d := &decisions{stderr: io.Discard, json: &lockedWriter{w: &out},
		flush: func() { flushing <- struct{}{}; <-release }}
	var wg sync.WaitGroup
	defer wg.Wait()
	releaseAll := sync.OnceFunc(func() { close(release) })
	defer releaseAll()
	for range 3 {
		wg.Go(func() {
			d.record(&chain.DecisionRecord{Hook: abi.HookApproval, Decision: abi.Accept, Summary: "ls"})
		})
	}
	deadline := time.After(10 * time.Second)
	for i := range 3 {
		select {
		case <-flushing:
		case <-deadline:
			require.Failf(t, "the flushes are not concurrent", "%d of 3 decisions flushing at once", i)
		}
	}
	releaseAll()
	wg.Wait()
	assert.Equal(t, 3, bytes.Count(out.Bytes(), []byte("\n")))
}
