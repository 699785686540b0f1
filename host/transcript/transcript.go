// Package transcript reads and writes codexhost transcripts: every raw
// JSON-RPC line exchanged between a host and codex app-server, in order,
// with its direction and time.
//
// A transcript is JSON Lines. The first line is a [Header]; each further
// line is a [Record]:
//
//	{"format":"codexhost-transcript","version":1,"codexhost":"0.1.0","codex":"0.169.0","start":"2026-09-01T10:00:00.123Z"}
//	{"t":"2026-09-01T10:00:00.130Z","dir":"out","msg":{"id":0,"method":"initialize","params":{...}}}
//	{"t":"2026-09-01T10:00:00.410Z","dir":"in","msg":{"id":0,"result":{...}}}
//
// "out" lines went from the host to app-server, "in" lines from app-server
// to the host. msg is the line as it was on the wire, as a JSON value (a
// line that was not JSON is kept as a string in "text"), with the
// characters a terminal obeys in its strings (C1 controls, bidirectional
// overrides, ...) written as \u escapes: the same value, safe to print. Record
// one with [host.Options].Transcript (or `codexhost run --record FILE`);
// `codexhost plugin test --transcript FILE` replays it against a plugin.
// docs/cli.md describes the format for other tools.
package transcript

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/codexhost/codexhost/internal/termsafe"
)

// Format is the value of [Header].Format.
const Format = "codexhost-transcript"

// Version is the version of the format this package writes. Readers refuse
// other major versions; fields added within a version are ignored by older
// readers.
const Version = 1

// A Direction says which way a line went.
type Direction string

const (
	// In is a line app-server wrote to the host.
	In Direction = "in"
	// Out is a line the host wrote to app-server.
	Out Direction = "out"
)

// A Header is the first line of a transcript.
type Header struct {
	// Format is always [Format].
	Format string `json:"format"`
	// Version is the format's version, [Version].
	Version int `json:"version"`
	// Codexhost is the version of the codexhost that wrote it.
	Codexhost string `json:"codexhost,omitempty"`
	// Codex is the version of the codex the transcript was recorded from,
	// as codex reported it at initialize (host sets it with
	// [Writer.SetCodex]); else, in transcripts of older codexhost
	// versions, the codex version codexhost was built against.
	Codex string `json:"codex,omitempty"`
	// Start is when the transcript was started.
	Start time.Time `json:"start"`
}

// A Record is one JSON-RPC line.
type Record struct {
	Time time.Time `json:"t"`
	Dir  Direction `json:"dir"`
	// Msg is the line, when it is valid JSON (as every codex line is).
	Msg json.RawMessage `json:"msg,omitempty"`
	// Text is the line, when it is not valid JSON.
	Text string `json:"text,omitempty"`
	// Line is the record's line number in the file it was read from
	// (the header is line 1). It is not written.
	Line int `json:"-"`
}

// A Writer writes a transcript. It is safe for concurrent use: each record
// is written with one Write call on the underlying writer, whole, so a
// transcript written to a file survives a crash up to its last record.
type Writer struct {
	mu     sync.Mutex
	w      io.Writer
	header Header
	begun  bool
	held   bool     // Hold was called and Begin not yet
	queued [][]byte // records held, in order
	err    error
	buf    []byte
	now    func() time.Time
}

// NewWriter returns a Writer that writes to w. The header (h, with Format,
// Version and a zero Start filled in) is written with the first record, or
// by [Writer.Begin].
func NewWriter(w io.Writer, h Header) *Writer {
	h.Format, h.Version = Format, Version
	return &Writer{w: w, header: h, now: time.Now}
}

// Begin writes the header if it has not been written yet, then the records
// held since [Writer.Hold].
func (w *Writer) Begin() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.held = false
	w.begin()
	for _, b := range w.queued {
		if w.err != nil {
			break
		}
		if _, err := w.w.Write(b); err != nil {
			w.err = fmt.Errorf("transcript: %w", err)
		}
	}
	w.queued = nil
	return w.err
}

// Hold defers the header until [Writer.Begin]: records written meanwhile
// are kept in memory, in order, and written after the header. A host holds
// the transcript during the initialize handshake, to put the codex version
// codex reports into the header; hold only that long, since held records
// are lost if the process dies. Hold does nothing once the header is
// written.
func (w *Writer) Hold() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.begun {
		w.held = true
	}
}

// SetCodex sets the header's Codex version. It reports false, and does
// nothing, once the header is written.
func (w *Writer) SetCodex(version string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.begun {
		return false
	}
	w.header.Codex = version
	return true
}

func (w *Writer) begin() {
	if w.begun || w.err != nil {
		return
	}
	w.begun = true
	if w.header.Start.IsZero() {
		w.header.Start = w.now().UTC()
	}
	b, err := json.Marshal(w.header)
	if err == nil {
		_, err = w.w.Write(append(b, '\n'))
	}
	w.err = err
}

// Record writes one line that went in direction dir. A trailing newline
// is removed. After a write error, Record does nothing; [Writer.Err]
// reports the error.
func (w *Writer) Record(dir Direction, line []byte) {
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.held {
		w.begin()
	}
	if w.err != nil {
		return
	}
	b := append(w.buf[:0], `{"t":`...)
	b = w.now().UTC().AppendFormat(append(b, '"'), time.RFC3339Nano)
	b = append(b, `","dir":"`...)
	b = append(b, dir...)
	// The characters a terminal obeys (C1 controls, bidi overrides and
	// the like, which JSON allows raw in strings) are written as \u
	// escapes: the value is the same, and printing a transcript (cat,
	// less -R, grep) cannot drive the terminal with the agent's text.
	if json.Valid(line) {
		b = append(b, `","msg":`...)
		b = termsafe.AppendJSON(b, line) // a JSON line has no raw newline in it
	} else {
		s, _ := json.Marshal(string(line))
		b = append(b, `","text":`...)
		b = termsafe.AppendJSON(b, s)
	}
	b = append(b, "}\n"...)
	if w.held {
		w.queued = append(w.queued, bytes.Clone(b))
		return
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("transcript: %w", err)
	}
	if cap(b) <= 1<<20 {
		w.buf = b
	}
}

// Err reports the first write error, if any.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// A Transcript is a transcript read back.
type Transcript struct {
	Header  Header
	Records []Record
}

// ErrFormat is wrapped by every error about a transcript's content.
var ErrFormat = errors.New("not a codexhost transcript")

// MaxLineBytes bounds one line of a transcript read by [Read].
const MaxLineBytes = 128 << 20

// Read reads a whole transcript. A transcript cut short (a crash while
// writing its last line) is read up to its last complete record.
//
// # Errors
//
// Errors about the content wrap [ErrFormat] and name the line: a first
// line that is not a header, another format version, a record that is not
// JSON or has no direction.
func Read(r io.Reader) (*Transcript, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var t Transcript
	header := false
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if len(line) > MaxLineBytes {
			return nil, fmt.Errorf("%w: line %d is longer than %d bytes", ErrFormat, lineNo, MaxLineBytes)
		}
		complete := err == nil
		switch {
		case len(bytes.TrimSpace(line)) == 0:
		case !header:
			if err := json.Unmarshal(line, &t.Header); err != nil || t.Header.Format != Format {
				return nil, fmt.Errorf("%w: line %d is not a transcript header (want {\"format\":%q,...})", ErrFormat, lineNo, Format)
			}
			if t.Header.Version != Version {
				return nil, fmt.Errorf("%w: format version %d; this codexhost reads version %d", ErrFormat, t.Header.Version, Version)
			}
			header = true
		default:
			var rec Record
			jerr := json.Unmarshal(line, &rec)
			if jerr != nil && !complete {
				return &t, nil // the last line was cut short
			}
			if jerr != nil {
				return nil, fmt.Errorf("%w: line %d: %v", ErrFormat, lineNo, jerr)
			}
			if rec.Dir != In && rec.Dir != Out {
				return nil, fmt.Errorf("%w: line %d: dir %q is not \"in\" or \"out\"", ErrFormat, lineNo, rec.Dir)
			}
			rec.Line = lineNo
			t.Records = append(t.Records, rec)
		}
		if !complete {
			break
		}
	}
	if !header {
		return nil, fmt.Errorf("%w: the file is empty", ErrFormat)
	}
	return &t, nil
}
