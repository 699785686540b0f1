// Package audit writes codexhost's decision audit log: one JSON line for
// every request a chain.Chain answered, on disk before the answer reaches
// codex.
//
//	log, err := audit.Open("/var/log/codexhost/decisions.jsonl", nil)
//	...
//	defer log.Close()
//	ch, err := chain.New(&chain.Options{..., OnDecision: log.Record})
//
// # Durability
//
// The chain calls OnDecision before it sends the answer, and Record returns
// only after the line is written with one write(2) to a file opened with
// O_APPEND and fsync'd. A host that crashes after Record returns has the
// decision on disk, whether or not codex got the answer; a host that
// crashes during Record loses at most that one record (a torn last line,
// which readers skip). Records are serialized: concurrent calls never
// interleave.
//
// # Tamper evidence
//
// Each line carries the hash of the record before it and its own hash
// (prev first, hash last; see chain.go for the exact definition and
// docs/operations.md), so a changed, removed, inserted or moved record
// breaks the chain, and [Verify] (codexhost audit verify) finds the first
// broken record. The chain continues across reopening and rotation. A
// lock file next to the log (path + ".lock", locked with flock) serializes
// Logs of several processes on one path for each whole append, rotation
// included, so that they keep one chain. Opening a file whose last line is torn cuts
// that line off (with a warning): it is a record whose write never
// finished, so its answer was never sent. A file whose last record has no
// chain is refused.
//
// # Streaming
//
// A [Stream] ([StreamFromEnv], configured by the OTEL_* variables) also
// sends every record as an OTLP log record to a collector, batched, with
// the fields of StreamOptions.Mask masked; set it as Options.Stream and
// each record goes once it is on disk, with its prev and hash. It never
// blocks an answer and counts every record it could not send.
//
// # Failures
//
// Install [Log.Append] as chain.Options.Audit: when a write fails, the
// chain does not send the answer it could not record; it declines (fail
// closed) and logs why. [Log.Record], as ChainOptions.OnDecision, cannot
// change the answer: a failed write is logged at error level with the
// record's contents and reported by [Log.Err].
package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins/chain"
)

// ErrClosed is returned for records appended after Close.
var ErrClosed = errors.New("audit: log is closed")

// DefaultMaxFiles is how many rotated files are kept when
// Options.MaxFiles is zero.
const DefaultMaxFiles = 5

// Options configure [Open]. A nil *Options means the defaults.
type Options struct {
	// MaxBytes, if positive, rotates the file before a record would make
	// it larger than MaxBytes: path becomes path.1, path.1 becomes path.2,
	// and so on up to path.MaxFiles; the oldest is removed. A single
	// record larger than MaxBytes is still written, alone in its file.
	MaxBytes int64
	// MaxFiles is how many rotated files to keep; a rotation removes the
	// older ones (also those another process with a larger MaxFiles
	// kept: the files left are one chain). Default: DefaultMaxFiles.
	MaxFiles int
	// Logger receives write failures, at error level. Default:
	// slog.Default(), so that a failing audit log is never silent.
	Logger *slog.Logger
	// Stream, if set, is sent every record once it is on disk, with its
	// prev and hash (see [Stream]). A record whose write failed is not
	// sent. The Log does not own the Stream: shut it down after Close.
	Stream *Stream
}

// A Log is an append-only JSON-lines file of decisions. It is safe for
// concurrent use.
type Log struct {
	path string
	opts Options

	mu     sync.Mutex
	lock   *os.File // path + ".lock", flock'd around every look at the files
	f      *os.File // the file at path, as of the last append
	size   int64
	prev   string // the hash of the last record written
	err    error
	closed bool
}

// An Entry is one line of the log.
type Entry struct {
	// Prev is the hash of the record before this one, or GenesisHash
	// (see the hash chain in chain.go and docs/operations.md). It is set
	// when the entry is read back; Append writes it.
	Prev     string    `json:"prev,omitempty"`
	Time     time.Time `json:"time"` // RFC 3339 with nanoseconds
	ThreadID string    `json:"threadId,omitempty"`
	TurnID   string    `json:"turnId,omitempty"`
	ItemID   string    `json:"itemId,omitempty"`
	// Hook is the hook that answered ("approval", "tool-input",
	// "tool-call").
	Hook string `json:"hook"`
	// Kind is what an approval asks about ("command", "fileChange",
	// "permissions"); empty for the other hooks.
	Kind   string `json:"kind,omitempty"`
	Method string `json:"method"`
	// Summary is the command, the changed paths, the tool, the questions.
	Summary string   `json:"summary,omitempty"`
	Answers []Answer `json:"answers"`
	// Decision is the final decision of an approval.
	Decision string `json:"decision,omitempty"`
	// Why is "answer" or "fallback: ...".
	Why string `json:"why"`
	// Answer is the exact result sent to codex, extras included.
	Answer    json.RawMessage `json:"answer,omitempty"`
	LatencyMs float64         `json:"latencyMs"`
	// Generation is the plugin set that answered (1, then one more per
	// reload).
	Generation uint64 `json:"generation,omitempty"`
	// Hash is this record's hash: the SHA-256 of its line up to the
	// `,"hash":` before it. It is set when the entry is read back; Append
	// writes it, always as the last field.
	Hash string `json:"hash,omitempty"`
}

// An Answer is one plugin's part in a decision.
type Answer struct {
	Plugin    string  `json:"plugin"`
	Decision  string  `json:"decision,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	Error     string  `json:"error,omitempty"`
	LatencyMs float64 `json:"latencyMs"`
	// Monitor marks a plugin in monitor mode: its answer did not count.
	Monitor bool `json:"monitor,omitempty"`
}

// NewEntry converts a decision record into its log entry.
func NewEntry(rec *chain.DecisionRecord) *Entry {
	e := &Entry{Time: rec.Time, ThreadID: rec.ThreadID, TurnID: rec.TurnID, ItemID: rec.ItemID,
		Hook: hookName(rec.Hook), Kind: string(rec.ApprovalKind), Method: rec.Method, Summary: rec.Summary,
		Answers: make([]Answer, 0, len(rec.Answers)), Decision: string(rec.Decision), Why: rec.Why.String(), Answer: rec.Answer,
		LatencyMs: ms(rec.Latency), Generation: rec.Generation}
	for _, a := range rec.Answers {
		ans := Answer{Plugin: a.Plugin, Decision: string(a.Decision), Reason: a.Reason, LatencyMs: ms(a.Latency), Monitor: a.Monitor}
		if a.Err != nil {
			ans.Error = a.Err.Error()
		}
		e.Answers = append(e.Answers, ans)
	}
	return e
}

func hookName(h abi.Hook) string {
	if h == 0 {
		return ""
	}
	return h.String()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Open opens (creating it with mode 0600 if needed) the log at path for
// appending, and the lock file path + ".lock". The log must be a regular
// file (a device or a pipe is refused: it can be neither fsync'd nor
// rotated); a symbolic link is resolved, so that every process locks and
// rotates the file itself, whatever name it was given.
func Open(path string, opts *Options) (*Log, error) {
	l := &Log{path: path, prev: GenesisHash}
	if opts != nil {
		l.opts = *opts
	}
	if l.opts.MaxFiles <= 0 {
		l.opts.MaxFiles = DefaultMaxFiles
	}
	if l.opts.Logger == nil {
		l.opts.Logger = slog.Default()
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		// The file's own name: the lock file goes next to it, and
		// rotation renames it, not the link, whatever name another
		// process uses for it.
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, fmt.Errorf("audit: %s is a symbolic link that does not resolve: %w", path, err)
		}
		l.path = real
	}
	if fi, err := os.Stat(l.path); err == nil && !fi.Mode().IsRegular() {
		return nil, notRegular(path, fi.Mode())
	}
	if err := l.lockLog(); err != nil {
		return nil, err
	}
	err := l.open()
	unlock(l.lock)
	if err != nil {
		_ = l.lock.Close()
		return nil, err
	}
	return l, nil
}

// notRegular refuses a log that is no regular file; errors.Is
// regfile.ErrNotRegular, as for the other files codexhost reads.
func notRegular(path string, m os.FileMode) error {
	return fmt.Errorf("audit: %s is %w (%s): an audit log is a file, for its hash chain, rotation and fsync", path, regfile.ErrNotRegular, m.Type())
}

// lockLog opens (the first time) and locks the lock file, path + ".lock".
// A lock file that is no longer at its name (removed or replaced between
// appends: a cleanup of "stale" lock files) excludes nobody: it is
// reopened at its name and locked again.
func (l *Log) lockLog() error {
	name := l.path + ".lock"
	for {
		if l.lock == nil {
			lf, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
			if err != nil {
				return fmt.Errorf("audit: lock file: %w", err)
			}
			l.lock = lf
		}
		if err := lock(l.lock); err != nil {
			return err
		}
		cur, err := os.Stat(name)
		held, herr := l.lock.Stat()
		if err == nil && herr == nil && os.SameFile(cur, held) {
			return nil
		}
		unlock(l.lock)
		_ = l.lock.Close()
		l.lock = nil
	}
}

// open opens the file at the path (creating it) as l.f, closing the one
// before, and resumes the chain from it. The lock file is locked.
func (l *Log) open() error {
	_, statErr := os.Stat(l.path)
	// O_NONBLOCK: a FIFO planted at the path must not block the open; it
	// is refused below (no effect on a regular file).
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o600)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		return notRegular(l.path, fi.Mode())
	}
	if os.IsNotExist(statErr) {
		// Make the new name durable too.
		syncDir(filepath.Dir(l.path))
	}
	size, err := l.resume(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	if l.f != nil {
		_ = l.f.Close()
	}
	l.f, l.size = f, size
	return nil
}

// current makes l.f the file at the path, as another process may have
// left it: rotated away (the path names another file), or, after a crash
// half way through a rotation, gone (it is created, and continues the
// chain of path.1). The lock file is locked.
func (l *Log) current() error {
	cur, err := os.Stat(l.path)
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("audit: %w", err)
	}
	if err == nil {
		fi, ferr := l.f.Stat()
		if ferr != nil {
			return fmt.Errorf("audit: %w", ferr)
		}
		if os.SameFile(cur, fi) {
			return nil
		}
	}
	return l.open()
}

// resume reads the hash of the last record of f (the lock file locked) into
// l.prev and returns f's size. An empty file continues the chain of the
// file rotated before it, if there is one, else of l.prev. A torn last
// line (a write that never finished, so a record whose answer was never
// sent) is cut off, with a warning.
func (l *Log) resume(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	size := fi.Size()
	var line []byte
	end := int64(0)
	if size > 0 {
		if line, end, err = lastLine(f, size); err != nil {
			return 0, fmt.Errorf("audit: %s: %w", l.path, err)
		}
	}
	if end < size {
		l.opts.Logger.Warn("codexhost: audit log ends with a torn record (a write that did not finish); cutting it off",
			"path", l.path, "bytes", size-end, "torn", string(tail(f, end, size)))
		if err := f.Truncate(end); err != nil {
			return 0, fmt.Errorf("audit: %s: cut the torn record: %w", l.path, err)
		}
		size = end
	}
	if line == nil {
		// A new file (or one whose only line was torn: a writer that
		// rotated and died in its first record) continues the chain of
		// the one rotated before it, whoever rotated it (this process's
		// last record, or another's).
		if h, err := lastHash(l.path + ".1"); err == nil {
			l.prev = h
		}
		return size, nil
	}
	h, _, msg := parseLine(line)
	if msg != "" {
		return 0, fmt.Errorf("audit: %s: the last record is %s: the file was not written by this version (a log without a hash chain) or was changed; move it away to start a new log", l.path, msg)
	}
	l.prev = h
	return size, nil
}

// lastHash is the hash of the last record of the file at path.
func lastHash(path string) (string, error) {
	f, err := regfile.Open(path) // a FIFO there must not block; only a file has records
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	line, _, err := lastLine(f, fi.Size())
	if err != nil || line == nil {
		return "", errors.New("no record")
	}
	h, _, msg := parseLine(line)
	if msg != "" {
		return "", errors.New(msg)
	}
	return h, nil
}

// lastLine returns the last complete line of f (without its newline; nil
// if there is none) and the offset just past its newline: the end of the
// complete lines, size unless a torn line follows. It reads the file
// backwards in chunks to find the two newlines, then the line once: time
// linear in the line's length (a record can be tens of MiB).
func lastLine(f io.ReaderAt, size int64) ([]byte, int64, error) {
	buf := make([]byte, 64<<10)
	end, err := lastNewline(f, size, buf) // just past the last newline
	if err != nil || end < 0 {
		return nil, 0, err // no newline: one torn line
	}
	start, err := lastNewline(f, end-1, buf)
	if err != nil {
		return nil, 0, err
	}
	start = max(start, 0)
	line := make([]byte, end-1-start)
	if _, err := f.ReadAt(line, start); err != nil {
		return nil, 0, err
	}
	return line, end, nil
}

// lastNewline returns the offset just past the last newline of f before
// offset before, or -1 if there is none; buf is its scratch space.
func lastNewline(f io.ReaderAt, before int64, buf []byte) (int64, error) {
	for off := before; off > 0; {
		n := min(int64(len(buf)), off)
		off -= n
		b := buf[:n]
		if _, err := f.ReadAt(b, off); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return off + int64(i) + 1, nil
		}
	}
	return -1, nil
}

func tail(f *os.File, from, to int64) []byte {
	b := make([]byte, min(to-from, 4096))
	n, _ := f.ReadAt(b, from)
	return b[:n]
}

// Record appends rec and fsyncs it. Its signature fits
// chain.Options.OnDecision. A failure is logged and kept for Err; it
// does not change the chain's answer (see the package doc).
func (l *Log) Record(rec *chain.DecisionRecord) {
	if err := l.Append(rec); err != nil {
		l.opts.Logger.Error("codexhost: AUDIT LOG WRITE FAILED; the decision was still sent to codex",
			"path", l.path, "err", err, "method", rec.Method, "summary", rec.Summary,
			"decision", rec.Decision, "why", rec.Why, "thread", rec.ThreadID, "item", rec.ItemID)
	}
}

// Append is Record returning the error: it returns once the record is on
// disk (written and fsync'd), or with the reason it is not.
func (l *Log) Append(rec *chain.DecisionRecord) error {
	e := NewEntry(rec)
	body, err := json.Marshal(e)
	if err != nil {
		return l.fail(fmt.Errorf("audit: encode: %w", err))
	}
	// The agent wrote much of it: what a terminal would obey (C1
	// controls) or that reorders or hides text goes as \u escapes, the
	// same value, for an operator who follows the log (tail -f).
	body = termsafe.AppendJSON(nil, body)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return l.failLocked(ErrClosed)
	}
	// The record's length does not depend on the hashes.
	n := int64(len(body) + len(prevHead) + hashLen + 2 + len(hashHead) + hashLen + len(lineTail) - 1)
	if err := l.lockLog(); err != nil {
		return l.failLocked(err)
	}
	defer unlock(l.lock)
	// Under the lock, from the files themselves: another process may have
	// appended since, rotated, or crashed half way through a rotation.
	if err := l.current(); err != nil {
		return l.failLocked(err)
	}
	fi, err := l.f.Stat()
	if err != nil {
		return l.failLocked(fmt.Errorf("audit: %w", err))
	}
	if fi.Size() != l.size {
		// Another process appended (or a write of ours failed half way):
		// chain on the file's last record.
		size, err := l.resume(l.f)
		if err != nil {
			return l.failLocked(err)
		}
		l.size = size
	}
	if l.opts.MaxBytes > 0 && l.size > 0 && l.size+n > l.opts.MaxBytes {
		if err := l.rotate(); err != nil {
			return l.failLocked(err)
		}
	}
	line, hash := chainLine(l.prev, body)
	start := l.size
	w, err := l.f.Write(line)
	l.size += int64(w)
	if err == nil && w != len(line) {
		err = fmt.Errorf("short write: %d of %d bytes", w, len(line))
	}
	if err == nil {
		err = l.f.Sync()
	}
	if err != nil {
		// The record was not written (its answer is the failure's): cut
		// what went to the file, so that the next record does not start
		// on a torn line. If that fails too, the next Append finds the
		// size unknown and resume cuts the torn line.
		if terr := l.f.Truncate(start); terr == nil {
			l.size = start
		} else {
			l.size = -1
		}
		return l.failLocked(fmt.Errorf("audit: %w", err))
	}
	if l.opts.Stream != nil {
		// Under the lock: the stream gets the records in the chain's
		// order. Sending does not wait for the network.
		e.Prev, e.Hash = l.prev, hash
		l.opts.Stream.send(rec, e)
	}
	l.prev = hash
	return nil
}

// rotate shifts the files and opens a new one. The lock file is locked,
// and l.f is the file at the path (so the shift below never runs when the
// path is missing, and never deletes history for nothing). It keeps
// MaxFiles rotated files: older ones go, including those a writer with a
// larger MaxFiles kept, so that the files left are one chain. Only the
// files that exist are renamed. On failure Append fails (closed) until
// the cause is removed.
func (l *Log) rotate() error {
	name := func(i int) string { return fmt.Sprintf("%s.%d", l.path, i) }
	n := 0 // path.1 .. path.n exist
	for {
		if _, err := os.Lstat(name(n + 1)); err != nil {
			break
		}
		n++
	}
	for i := n; i >= l.opts.MaxFiles; i-- {
		if err := os.Remove(name(i)); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("audit: rotate: %w", err)
		}
	}
	for i := min(n, l.opts.MaxFiles-1); i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil {
			return fmt.Errorf("audit: rotate: %w", err)
		}
	}
	if err := os.Rename(l.path, name(1)); err != nil {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	if err := l.open(); err != nil {
		return fmt.Errorf("audit: rotate: %w", err)
	}
	syncDir(filepath.Dir(l.path))
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func (l *Log) fail(err error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failLocked(err)
}

func (l *Log) failLocked(err error) error {
	l.err = err
	return err
}

// Err returns the last error of a write (or of Close), or nil if every
// write so far succeeded. It stays set after later writes succeed, so
// that a gap in the log is never hidden.
func (l *Log) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Close closes the file. Records after Close fail with ErrClosed. It is
// idempotent.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	_ = l.lock.Close()
	if err := l.f.Close(); err != nil {
		return l.failLocked(fmt.Errorf("audit: %w", err))
	}
	return nil
}
