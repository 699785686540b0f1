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
	t.pending = recordLines(t.tw, transcript.Out, append(t.pending, p[:n]...))
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
	t.pending = recordLines(t.tw, transcript.In, append(t.pending, p[:n]...))
	if err != nil && len(t.pending) > 0 {
		// The last line had no newline: record what there is.
		t.tw.Record(transcript.In, t.pending)
		t.pending = nil
	}
	return n, err
}

// recordLines records every complete line of buf and returns the rest.
func recordLines(tw *transcript.Writer, dir transcript.Direction, buf []byte) []byte {
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		tw.Record(dir, buf[:i])
		buf = buf[i+1:]
	}
	if len(buf) == 0 {
		return buf[:0:0] // drop the consumed backing array
	}
	return append([]byte(nil), buf...)
}
