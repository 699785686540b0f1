package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/trace"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// memExporter keeps the records it is given; with block set, Export
// waits until block is closed; with fail set, it fails.
type memExporter struct {
	mu    sync.Mutex
	recs  []sdklog.Record
	block chan struct{}
	fail  error
}

func (e *memExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	if e.block != nil {
		<-e.block
	}
	if e.fail != nil {
		return e.fail
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range recs {
		e.recs = append(e.recs, r.Clone())
	}
	return nil
}
func (*memExporter) Shutdown(context.Context) error   { return nil }
func (*memExporter) ForceFlush(context.Context) error { return nil }

func attrsOf(r sdklog.Record) map[string]attribute.Value {
	out := map[string]attribute.Value{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		out[string(kv.Key)] = kv.Value
		return true
	})
	return out
}

// approver is an in-process approval plugin.
type approver struct{ d abi.Decision }

func (a approver) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "approver", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}
}
func (approver) Close(context.Context) error { return nil }
func (a approver) Call(context.Context, abi.Hook, []byte) ([]byte, error) {
	return json.Marshal(&abi.ApprovalResponse{Decision: a.d, Reason: "because"})
}

// A decision goes to the local log and, once on disk, to the stream:
// with the record's prev and hash, the masked fields masked (the local
// line keeps them), and the trace and span ids of the request's context.
func TestStreamSendsLoggedRecords(t *testing.T) {
	exp := &memExporter{}
	s, err := audit.NewStream(exp, &audit.StreamOptions{Mask: []string{"summary", "answer", "answers.reason"}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path, &audit.Options{Stream: s})
	require.NoError(t, err)
	ch, err := chain.New(&chain.Options{Plugins: nil, Members: []chain.Member{{Plugin: approver{abi.Accept}}}, Audit: l.Append})
	require.NoError(t, err)

	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(t.Context(), sc)
	p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": "rm -rf secret", "cwd": "/w", "startedAtMs": 1})
	_, err = host.NewRequest("item/commandExecution/requestApproval", p).Serve(ctx, ch)
	require.NoError(t, err)
	require.NoError(t, l.Close())
	require.NoError(t, s.Shutdown(t.Context()))

	line := readEntries(t, path)[0]
	assert.Equal(t, "rm -rf secret", line.Summary, "the local log is not masked")
	assert.Equal(t, "because", line.Answers[0].Reason)
	require.Len(t, exp.recs, 1)
	r := exp.recs[0]
	assert.Equal(t, audit.EventName, r.EventName())
	assert.Equal(t, log.SeverityInfo, r.Severity())
	assert.Equal(t, sc.TraceID(), r.TraceID())
	assert.Equal(t, sc.SpanID(), r.SpanID())
	assert.True(t, line.Time.Equal(r.Timestamp()))
	a := attrsOf(r)
	assert.Equal(t, line.Hash, a["hash"].AsString())
	assert.Equal(t, line.Prev, a["prev"].AsString())
	assert.Equal(t, audit.Masked, a["summary"].AsString())
	assert.Equal(t, audit.Masked, a["answer"].AsString())
	assert.Equal(t, "accept", a["decision"].AsString())
	assert.Equal(t, "command", a["kind"].AsString())
	assert.Equal(t, "it", a["itemId"].AsString())
	assert.Equal(t, "answer", a["why"].AsString())
	answers := a["answers"].AsSlice()
	require.Len(t, answers, 1)
	sub := map[string]string{}
	for _, kv := range answers[0].AsMap() {
		sub[string(kv.Key)] = kv.Value.String()
	}
	assert.Equal(t, "approver", sub["plugin"])
	assert.Equal(t, audit.Masked, sub["reason"])
	assert.Equal(t, audit.StreamStats{Exported: 1}, s.Stats())
}

func TestStreamRejectsUnknownMaskField(t *testing.T) {
	_, err := audit.NewStream(&memExporter{}, &audit.StreamOptions{Mask: []string{"summary", "comand"}})
	require.ErrorIs(t, err, audit.ErrUnknownField)
	assert.Contains(t, err.Error(), `"comand"`)
	require.ErrorIs(t, audit.CheckMask([]string{"latencyMs"}), audit.ErrUnknownField)
	require.NoError(t, audit.CheckMask(audit.MaskableFields()))
}

// A full queue drops the record without waiting and counts it; a failed
// export is counted too; records after Shutdown are counted as unsent.
// Every record sent is in exactly one count.
func TestStreamCountsDrops(t *testing.T) {
	exp := &memExporter{block: make(chan struct{})}
	s, err := audit.NewStream(exp, &audit.StreamOptions{MaxQueue: 2})
	require.NoError(t, err)
	rec := sampleRecord(1)
	for range 5 {
		s.Record(rec) // the exporter is blocked: two wait, three are dropped
	}
	assert.Equal(t, uint64(3), s.Stats().QueueFull)
	exp.fail = errors.New("collector down")
	close(exp.block)
	require.NoError(t, s.Shutdown(t.Context()))
	s.Record(rec)
	assert.Equal(t, audit.StreamStats{QueueFull: 3, ExportFailed: 2, Unsent: 1}, s.Stats())
	assert.Equal(t, uint64(6), s.Stats().Dropped())
}
