package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/codexhost/codexhost/plugins/chain"
)

// The decision stream.
//
// A [Stream] sends every decision record, as an OTLP log record, to an
// OpenTelemetry collector: batched by the OpenTelemetry SDK's batch
// processor and exported over OTLP/HTTP in the background. Sending a
// record never waits for the network: it builds the log record and puts
// it in a bounded queue. A record that finds the queue full is dropped
// and counted ([StreamStats.QueueFull]), as is a batch the collector did
// not take ([StreamStats.ExportFailed]); nothing is dropped without being
// counted. The local log ([Log]) stays the record of truth: with
// Options.Stream, a record is sent only once it is on disk, with its
// prev and hash, so that the remote copy can be matched with the chain.
//
// The log record: event name "codexhost.decision", timestamp the
// decision's time, severity INFO (WARN when the fallback answered), the
// trace and span ids of the request's span when tracing is on, and one
// attribute per field of the log line, named as in the JSON line (see
// docs/operations.md). Fields named in StreamOptions.Mask are sent as
// [Masked]; the local log is never masked.

// ErrUnknownField is returned (wrapped) for a mask that names a field
// the decision record does not have, or that cannot be masked.
var ErrUnknownField = errors.New("audit: unknown field")

// ErrProtocol is returned by [StreamFromEnv] for an OTLP protocol other
// than http/protobuf.
var ErrProtocol = errors.New("audit: unsupported OTLP protocol")

// Masked is the value a masked field is sent with.
const Masked = "[masked]"

// EventName is the event name of the log records a Stream sends.
const EventName = "codexhost.decision"

// DefaultMaxQueue is how many records may wait for export when neither
// StreamOptions.MaxQueue nor OTEL_BLRP_MAX_QUEUE_SIZE says otherwise.
const DefaultMaxQueue = 2048

// DefaultMaxQueueBytes bounds the bytes of the records waiting for export
// when StreamOptions.MaxQueueBytes does not say otherwise (see there).
const DefaultMaxQueueBytes = 64 << 20

// recordOverhead is what a record counts against the byte bound beyond
// its attributes' text: its timestamp, severity, ids and the SDK's own
// structure.
const recordOverhead = 256

// maskable are the fields StreamOptions.Mask may name: the log line's
// text fields, and the fields of each of its answers as answers.FIELD.
var maskable = []string{"threadId", "turnId", "itemId", "hook", "kind", "method", "summary", "answers",
	"answers.plugin", "answers.decision", "answers.reason", "answers.error", "decision", "why", "answer"}

// MaskableFields returns the field names StreamOptions.Mask accepts.
func MaskableFields() []string { return slices.Clone(maskable) }

// CheckMask returns an error (errors.Is ErrUnknownField) naming the
// first field of mask that is not one of [MaskableFields].
func CheckMask(mask []string) error {
	for _, f := range mask {
		if !slices.Contains(maskable, f) {
			return fmt.Errorf("%w %q in the mask: the fields that can be masked are %s", ErrUnknownField, f, strings.Join(maskable, ", "))
		}
	}
	return nil
}

// StreamOptions configure [NewStream] and [StreamFromEnv]. A nil
// *StreamOptions means defaults.
type StreamOptions struct {
	// Mask names the fields sent as [Masked] (see [MaskableFields]),
	// e.g. "summary" (the command, the changed paths) and "answer" (the
	// exact answer, which may repeat them).
	Mask []string
	// MaxQueue bounds the records waiting for export. Default:
	// OTEL_BLRP_MAX_QUEUE_SIZE if set, else DefaultMaxQueue.
	MaxQueue int
	// MaxQueueBytes bounds the memory of the records waiting for export,
	// each counted as the bytes of its attributes' text and 256 more: a
	// record is as large as its plugins make it (a reason, a tool's
	// output in the answer, up to a plugin answer's 16 MiB each), so
	// MaxQueue records alone could hold gigabytes while the collector is
	// slow. A record that finds the queue holding that much is dropped
	// and counted (QueueFull); one record larger than the bound still
	// goes, alone. Default: DefaultMaxQueueBytes.
	MaxQueueBytes int
	// Logger receives the first export failure, at warning level (the
	// rest are only counted). Default: slog.Default().
	Logger *slog.Logger
}

// StreamStats count a Stream's records. Every record sent is, in the end,
// in exactly one of them.
type StreamStats struct {
	// Exported: taken by the collector.
	Exported uint64
	// QueueFull: dropped because MaxQueue records, or MaxQueueBytes,
	// were waiting already.
	QueueFull uint64
	// ExportFailed: in a batch whose export failed (after the
	// exporter's retries).
	ExportFailed uint64
	// Unsent: sent after Shutdown, or still queued when Shutdown's
	// context ended. Counted by Shutdown.
	Unsent uint64
}

// Dropped is the number of records that did not reach the collector.
func (s StreamStats) Dropped() uint64 { return s.QueueFull + s.ExportFailed + s.Unsent }

// A Stream sends decision records as OTLP log records. Its methods are
// safe for concurrent use. Shutdown flushes and stops it.
type Stream struct {
	lp       *sdklog.LoggerProvider
	logger   log.Logger
	mask     map[string]bool
	max      int64
	maxBytes int64
	log      *slog.Logger

	// pending counts the records handed to the batch processor and not
	// yet through an export: never more than max, the processor's own
	// queue size, so that the processor never drops one uncounted.
	pending atomic.Int64
	// pendingBytes is the size (recordBytes) of the pending records.
	pendingBytes                      atomic.Int64
	exported, queueFull, failed, lost atomic.Uint64
	closed, done                      atomic.Bool
	warnOnce                          sync.Once
}

// StreamEnabled reports whether the OTEL_* environment asks for logs: an
// OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_LOGS_ENDPOINT) or OTEL_LOGS_EXPORTER is "otlp", and
// neither OTEL_SDK_DISABLED=true nor OTEL_LOGS_EXPORTER=none.
func StreamEnabled() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	switch strings.TrimSpace(os.Getenv("OTEL_LOGS_EXPORTER")) {
	case "none":
		return false
	case "otlp":
		return true
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT") != ""
}

// StreamFromEnv returns a Stream that exports over OTLP/HTTP as the
// standard OTEL_* variables configure it (endpoint, headers, timeout,
// compression, TLS; OTEL_BLRP_* for the batching; OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES for the resource), or nil if they do not ask
// for logs ([StreamEnabled]). The mask is checked first ([CheckMask]).
func StreamFromEnv(ctx context.Context, opts *StreamOptions) (*Stream, error) {
	if opts != nil {
		if err := CheckMask(opts.Mask); err != nil {
			return nil, err
		}
	}
	if !StreamEnabled() {
		return nil, nil
	}
	proto := os.Getenv("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	if proto != "" && proto != "http/protobuf" {
		return nil, fmt.Errorf("%w %q: codexhost exports decision logs over http/protobuf; set OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and the collector's OTLP/HTTP endpoint (port 4318)", ErrProtocol, proto)
	}
	exp, err := otlploghttp.New(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return NewStream(exp, opts)
}

// NewStream returns a Stream exporting to exp through the SDK's batch
// processor. Its resource is service.name=codexhost unless
// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise. It fails
// only for an unknown field in the mask.
func NewStream(exp sdklog.Exporter, opts *StreamOptions) (*Stream, error) {
	var o StreamOptions
	if opts != nil {
		o = *opts
	}
	if err := CheckMask(o.Mask); err != nil {
		return nil, err
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = DefaultMaxQueue
		if n, err := strconv.Atoi(os.Getenv("OTEL_BLRP_MAX_QUEUE_SIZE")); err == nil && n > 0 {
			o.MaxQueue = n
		}
	}
	if o.MaxQueueBytes <= 0 {
		o.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Stream{max: int64(o.MaxQueue), maxBytes: int64(o.MaxQueueBytes), log: o.Logger, mask: map[string]bool{}}
	for _, f := range o.Mask {
		s.mask[f] = true
	}
	res, err := resource.Merge(resource.NewSchemaless(attribute.String("service.name", "codexhost")), resource.Environment())
	if err != nil {
		res = resource.NewSchemaless(attribute.String("service.name", "codexhost"))
	}
	proc := sdklog.NewBatchProcessor(&countingExporter{Exporter: exp, s: s}, sdklog.WithMaxQueueSize(o.MaxQueue))
	// The attribute keys are distinct by construction: no deduplication
	// (it was half the cost of a record).
	s.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(proc), sdklog.WithResource(res), sdklog.WithAllowKeyDuplication())
	s.logger = s.lp.Logger("github.com/codexhost/codexhost/plugins/chain/audit")
	return s, nil
}

// Record sends rec. Its signature fits chain.Options.OnDecision, for a
// host without a local log; with one, set Options.Stream instead, so
// that records are sent once on disk, with their hashes. It does not
// block on the export: a record that finds the queue full is dropped and
// counted.
func (s *Stream) Record(rec *chain.DecisionRecord) { s.send(rec, NewEntry(rec)) }

func (s *Stream) send(rec *chain.DecisionRecord, e *Entry) {
	if s.closed.Load() {
		s.lost.Add(1)
		return
	}
	if s.pending.Add(1) > s.max {
		s.pending.Add(-1)
		s.queueFull.Add(1)
		return
	}
	kv := s.attrs(e)
	size := recordBytes(kv)
	if b := s.pendingBytes.Add(size); b > s.maxBytes && b != size {
		s.pendingBytes.Add(-size)
		s.pending.Add(-1)
		s.queueFull.Add(1)
		return
	}
	var r log.Record
	r.SetEventName(EventName)
	r.SetTimestamp(e.Time)
	if rec.Why.Fallback() {
		r.SetSeverity(log.SeverityWarn)
		r.SetSeverityText("WARN")
	} else {
		r.SetSeverity(log.SeverityInfo)
		r.SetSeverityText("INFO")
	}
	r.AddAttributes(kv...)
	s.logger.Emit(rec.Context(), r)
}

// recordBytes is what a record with the attributes kv counts against
// MaxQueueBytes: the bytes of their keys and text, and recordOverhead.
func recordBytes(kv []attribute.KeyValue) int64 {
	n := int64(recordOverhead)
	for _, a := range kv {
		n += int64(len(a.Key)) + valueBytes(a.Value)
	}
	return n
}

// valueBytes is the bytes of v's text: a string's, or its members' for a
// map or a slice; 8 for any other value.
func valueBytes(v attribute.Value) int64 {
	switch v.Type() {
	case attribute.STRING:
		return int64(len(v.AsString()))
	case attribute.MAP:
		var n int64
		for _, a := range v.AsMap() {
			n += int64(len(a.Key)) + valueBytes(a.Value)
		}
		return n
	case attribute.SLICE:
		var n int64
		for _, x := range v.AsSlice() {
			n += valueBytes(x)
		}
		return n
	}
	return 8
}

// attrs are e's fields as attributes, masked.
func (s *Stream) attrs(e *Entry) []attribute.KeyValue {
	kv := make([]attribute.KeyValue, 0, 18)
	str := func(k, v string) {
		if v == "" {
			return
		}
		if s.mask[k] {
			v = Masked
		}
		kv = append(kv, attribute.String(k, v))
	}
	str("prev", e.Prev)
	str("threadId", e.ThreadID)
	str("turnId", e.TurnID)
	str("itemId", e.ItemID)
	str("hook", e.Hook)
	str("kind", e.Kind)
	str("method", e.Method)
	str("summary", e.Summary)
	if s.mask["answers"] {
		kv = append(kv, attribute.String("answers", Masked))
	} else {
		answers := make([]attribute.Value, 0, len(e.Answers))
		for _, a := range e.Answers {
			m := make([]attribute.KeyValue, 0, 6)
			sub := func(k, v string) {
				if v == "" {
					return
				}
				if s.mask["answers."+k] {
					v = Masked
				}
				m = append(m, attribute.String(k, v))
			}
			sub("plugin", a.Plugin)
			sub("decision", a.Decision)
			sub("reason", a.Reason)
			sub("error", a.Error)
			m = append(m, attribute.Float64("latencyMs", a.LatencyMs))
			if a.Monitor {
				m = append(m, attribute.Bool("monitor", true))
			}
			answers = append(answers, attribute.MapValue(m...))
		}
		kv = append(kv, attribute.Slice("answers", answers...))
	}
	str("decision", e.Decision)
	str("why", e.Why)
	str("answer", string(e.Answer))
	kv = append(kv, attribute.Float64("latencyMs", e.LatencyMs))
	if e.Generation != 0 {
		kv = append(kv, attribute.Int64("generation", int64(e.Generation)))
	}
	str("hash", e.Hash)
	return kv
}

// Stats returns the counts so far.
func (s *Stream) Stats() StreamStats {
	st := StreamStats{Exported: s.exported.Load(), QueueFull: s.queueFull.Load(), ExportFailed: s.failed.Load(), Unsent: s.lost.Load()}
	if s.done.Load() {
		// What is still pending after Shutdown was not sent, unless a
		// late export still takes it (then it moves to Exported).
		st.Unsent += uint64(max(s.pending.Load(), 0))
	}
	return st
}

// Shutdown exports the records still queued and stops the Stream; it
// waits until ctx ends at most. Records still queued then are counted as
// Unsent. Records sent after Shutdown are not exported (Unsent). It is
// idempotent.
func (s *Stream) Shutdown(ctx context.Context) error {
	if s.closed.Swap(true) {
		return nil
	}
	err := s.lp.Shutdown(ctx)
	s.done.Store(true)
	if err != nil {
		return fmt.Errorf("audit: export decision logs: %w", err)
	}
	return nil
}

// countingExporter counts what the batch processor exports and keeps
// export errors from the OpenTelemetry global error handler (which
// would print them): the first is logged, all are counted.
type countingExporter struct {
	sdklog.Exporter
	s *Stream
}

func (e *countingExporter) Export(ctx context.Context, recs []sdklog.Record) error {
	err := e.Exporter.Export(ctx, recs)
	n := len(recs)
	if err != nil {
		e.s.failed.Add(uint64(n))
		e.s.warnOnce.Do(func() {
			e.s.log.Warn("codexhost: decision log export failed; the records are counted in codexhost_decision_log_dropped_total", "records", n, "err", err)
		})
	} else {
		e.s.exported.Add(uint64(n))
	}
	var size int64
	for _, r := range recs {
		var kv []attribute.KeyValue
		r.WalkAttributes(func(a attribute.KeyValue) bool {
			kv = append(kv, a)
			return true
		})
		size += recordBytes(kv)
	}
	e.s.pendingBytes.Add(-size)
	e.s.pending.Add(-int64(n))
	return nil
}
