package audit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// A record's size is the plugins' to choose: a reason, or a tool's output
// in the answer, can be as large as a plugin's answer (16 MiB). The queue
// of records waiting for a slow collector is bounded in bytes as well as
// in records (2048 of 16 MiB each would be 32 GiB): with the collector
// stalled, a record that finds DefaultMaxQueueBytes waiting is dropped and
// counted.
func TestStreamQueueIsBoundedInBytes(t *testing.T) {
	exp := &memExporter{block: make(chan struct{})}
	s, err := audit.NewStream(exp, nil)
	require.NoError(t, err)
	rec := sampleRecord(1)
	rec.Answers[0].Reason = strings.Repeat("r", plugins.DefaultMaxResultBytes)
	const sent = 10
	for range sent {
		s.Record(rec)
	}
	full := s.Stats().QueueFull
	waiting := sent - int(full)
	assert.Positive(t, full, "records of 16 MiB are dropped before the queue holds %d of them", sent)
	assert.LessOrEqual(t, waiting*plugins.DefaultMaxResultBytes, audit.DefaultMaxQueueBytes, "what waits fits in the bound")
	close(exp.block)
	require.NoError(t, s.Shutdown(t.Context()))
	assert.Equal(t, audit.StreamStats{Exported: uint64(waiting), QueueFull: full}, s.Stats())
}

// One record larger than the bound still goes, alone: the bound keeps
// records from piling up, it does not refuse a large one.
func TestStreamLargeRecordPassesAlone(t *testing.T) {
	exp := &memExporter{block: make(chan struct{})}
	s, err := audit.NewStream(exp, &audit.StreamOptions{MaxQueueBytes: 64 << 10})
	require.NoError(t, err)
	rec := sampleRecord(1)
	rec.Answers[0].Reason = strings.Repeat("r", 100<<10)
	s.Record(rec)
	s.Record(rec) // waits behind the first: dropped
	small := sampleRecord(2)
	s.Record(small) // 100 KiB wait already: dropped too
	assert.Equal(t, uint64(2), s.Stats().QueueFull)
	close(exp.block)
	require.NoError(t, s.Shutdown(t.Context()))
	assert.Equal(t, audit.StreamStats{Exported: 1, QueueFull: 2}, s.Stats())
	s2, err := audit.NewStream(&memExporter{}, &audit.StreamOptions{MaxQueueBytes: 64 << 10})
	require.NoError(t, err)
	for i := range 3 {
		s2.Record(sampleRecord(i)) // small records, exported as they come
	}
	require.NoError(t, s2.Shutdown(t.Context()))
	assert.Equal(t, uint64(3), s2.Stats().Exported)
}
