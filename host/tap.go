package host

import (
	"bytes"
	"io"

	"github.com/codexhost/codexhost/host/transcript"
)

// tapWriter records each line written to app-server. rpc writes one whole
// line per Write, under its write lock; a Write holding several lines, or
// part of one, is still recorded line by line.
type tapWriter struct {
	w       io.Writer
	tw      *transcript.Writer
	pending []byte
}

func (t *tapWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	recordLines(t.tw, transcript.Out, &t.pending, p[:n])
	return n, err
}

// tapReader records each line read from app-server. Only rpc's reader
// goroutine reads, so it needs no lock.
type tapReader struct {
	r       io.Reader
	tw      *transcript.Writer
	pending []byte
}

func (t *tapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	recordLines(t.tw, transcript.In, &t.pending, p[:n])
	if err != nil && len(t.pending) > 0 {
		// The last line had no newline: record what there is.
		t.tw.Record(transcript.In, t.pending)
		t.pending = nil
	}
	return n, err
}

// recordLines appends p to *pending and records every line that ends in
// p. Only p is scanned for newlines, and the rest of a line is copied only
// once a line ends: a line read in many pieces (codex's lines can be tens
// of MiB) costs time linear in its length.
func recordLines(tw *transcript.Writer, dir transcript.Direction, pending *[]byte, p []byte) {
	i := bytes.IndexByte(p, '\n')
	if i < 0 {
		*pending = append(*pending, p...)
		return
	}
	if len(*pending) > 0 {
		tw.Record(dir, append(*pending, p[:i]...))
	} else {
		tw.Record(dir, p[:i])
	}
	p = p[i+1:]
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			break
		}
		tw.Record(dir, p[:i])
		p = p[i+1:]
	}
	// The rest begins a line: keep a small buffer, drop a large one.
	if cap(*pending) > 64<<10 {
		*pending = nil
	}
	*pending = append((*pending)[:0], p...)
}
