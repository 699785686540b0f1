package host

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/transcript"
)

// chunkReader yields data in reads of at most size bytes, as a pipe does.
type chunkReader struct {
	data []byte
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestTapRecordsLinesInLinearTime: --record copies a long line once, not
// at every read: a 32 MiB line read 64 KiB at a time cost the read loop
// (and every answer behind it) 6 s, copying the line so far at each read
// (review). It records every line whole, however the reads cut them.
func TestTapRecordsLinesInLinearTime(t *testing.T) {
	const size = 32 << 20
	long := `{"method":"x","params":"` + strings.Repeat("a", size) + `"}` + "\n"
	var out bytes.Buffer
	tw := transcript.NewWriter(&out, transcript.Header{})
	r := &tapReader{r: &chunkReader{data: []byte(long), size: 64 << 10}, tw: tw}
	buf := make([]byte, 64<<10)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for {
		if _, err := r.Read(buf); err != nil {
			break
		}
	}
	runtime.ReadMemStats(&after)
	// The line's buffer as it grows, the record's encoding and the output
	// buffer (each about twice the line as they grow): a few times the
	// line. Copying it at every read allocated 19 GB here, 580 times it.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(32*size), "bytes allocated to record a %d-byte line", len(long))
	tr, err := transcript.Read(&out)
	require.NoError(t, err)
	require.Len(t, tr.Records, 1)
	assert.Len(t, tr.Records[0].Msg, len(long)-1)

	// Lines cut anywhere: each recorded whole, once.
	text := "{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}\n{\"d\":"
	for _, chunk := range []int{1, 2, 3, 7, 100} {
		var out bytes.Buffer
		tw := transcript.NewWriter(&out, transcript.Header{})
		r := &tapReader{r: &chunkReader{data: []byte(text), size: chunk}, tw: tw}
		_, _ = io.ReadAll(r)
		tr, err := transcript.Read(&out)
		require.NoError(t, err, "chunk %d", chunk)
		var got []string
		for _, rec := range tr.Records {
			got = append(got, string(rec.Msg)+rec.Text)
		}
		assert.Equal(t, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`, `{"d":`}, got, "chunk %d", chunk)
	}
}
