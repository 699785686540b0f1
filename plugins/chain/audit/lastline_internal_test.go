package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r    *bytes.Reader
	read int64
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.read += int64(n)
	return n, err
}

// TestLastLineReadsALongLineOnce: the last record of a log is read back
// at every start and whenever another process appended; a plugin's
// reason can make it tens of MiB. Finding it reads the file about twice
// the line's length: it prepended each 64 KiB chunk to what it had read,
// copying the line again per chunk (a 36 MiB record took 7 s to open).
func TestLastLineReadsALongLineOnce(t *testing.T) {
	long := strings.Repeat("x", 8<<20)
	data := []byte("first\n" + long + "\n" + "torn")
	c := &countingReader{r: bytes.NewReader(data)}
	line, end, err := lastLine(c, int64(len(data)))
	require.NoError(t, err)
	assert.Equal(t, long, string(line))
	assert.Equal(t, int64(len(data)-len("torn")), end)
	assert.LessOrEqual(t, c.read, int64(2*len(long)+2*(64<<10)), "bytes read to find a line of %d", len(long))

	for _, tc := range []struct {
		in, line string
		end      int64
	}{
		{"", "", 0},
		{"torn", "", 0},
		{"one\n", "one", 4},
		{"one\ntwo\n", "two", 8},
		{"one\ntwo\ntor", "two", 8},
		{"\n", "", 1},
	} {
		line, end, err := lastLine(bytes.NewReader([]byte(tc.in)), int64(len(tc.in)))
		require.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.line, string(line), "%q", tc.in)
		assert.Equal(t, tc.end, end, "%q", tc.in)
	}
}
