package benchmarks

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// discardExporter takes every batch at once: what is left of an export
// is the cost of building and queueing the records.
type discardExporter struct{}

func (discardExporter) Export(context.Context, []sdklog.Record) error { return nil }
func (discardExporter) Shutdown(context.Context) error                { return nil }
func (discardExporter) ForceFlush(context.Context) error              { return nil }

func decisionRecord() *chain.DecisionRecord {
	return &chain.DecisionRecord{
		Time: time.Now(), Hook: abi.HookApproval, ApprovalKind: abi.ApprovalCommand,
		Method: "item/commandExecution/requestApproval", ThreadID: "019a0000-0000-7000-8000-000000000001",
		TurnID: "019a0000-0000-7000-8000-000000000002", ItemID: "call_0123456789", Summary: "/bin/bash -lc 'git push origin main'",
		Answers:  []chain.PluginAnswer{{Plugin: "rules", Decision: abi.Decline, Reason: "rule no-push: pushing is not allowed", Latency: 80 * time.Microsecond}},
		Decision: abi.Decline, Why: chain.Why{Kind: chain.WhyAnswer, Plugin: "rules"},
		Answer: json.RawMessage(`{"decision":"decline"}`), Latency: 100 * time.Microsecond, Generation: 1,
	}
}

// BenchmarkDecisionLog is figure 9: what the OTLP decision log stream
// adds to a decision on the answer's path. local is the floor: the audit
// log's append (one write and an fsync, into the benchmark's temporary
// directory). local+stream is the same with audit.Options.Stream: the
// record is also built as an OTLP log record and queued for the batch
// processor, whose export (here to an exporter that discards) runs on
// its own goroutine. stream is the stream alone (no --audit), with and
// without masking. dropped/op counts the records the queue refused.
func BenchmarkDecisionLog(b *testing.B) {
	newStream := func(b *testing.B, mask []string) *audit.Stream {
		s, err := audit.NewStream(discardExporter{}, &audit.StreamOptions{Mask: mask})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
		return s
	}
	report := func(b *testing.B, s *audit.Stream) {
		if s != nil {
			b.ReportMetric(float64(s.Stats().QueueFull)/float64(b.N), "dropped/op")
		}
	}
	rec := decisionRecord()
	for _, c := range []struct {
		name  string
		local bool
		mask  []string
		str   bool
	}{
		{name: "local", local: true},
		{name: "local+stream", local: true, str: true},
		{name: "stream", str: true},
		{name: "stream-masked", str: true, mask: []string{"summary", "answer", "answers.reason"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var s *audit.Stream
			if c.str {
				s = newStream(b, c.mask)
			}
			record := func() error { s.Record(rec); return nil }
			if c.local {
				l, err := audit.Open(filepath.Join(b.TempDir(), "audit.jsonl"), &audit.Options{Stream: s})
				if err != nil {
					b.Fatal(err)
				}
				defer l.Close()
				record = func() error { return l.Append(rec) }
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := record(); err != nil {
					b.Fatal(err)
				}
			}
			report(b, s)
		})
	}
}
