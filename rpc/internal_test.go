package rpc

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 3*readBufSize+17)
	input := "a\n\n" + long + "\n" + "tail"
	br := bufio.NewReaderSize(strings.NewReader(input), readBufSize)
	var buf []byte
	var lines []string
	var lastErr error
	for {
		line, err := readLine(br, &buf, len(long))
		if len(line) > 0 {
			lines = append(lines, string(line))
		}
		if err != nil {
			lastErr = err
			break
		}
	}
	assert.Equal(t, []string{"a\n", "\n", long + "\n", "tail"}, lines)
	assert.ErrorIs(t, lastErr, io.EOF)
}

func TestReadLineTooLong(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		max  int
	}{
		{"short buffer", strings.Repeat("y", 50) + "\n", 49},
		{"spans buffers", strings.Repeat("y", 2*readBufSize) + "\n", readBufSize + 5},
		{"no newline", strings.Repeat("y", 2*readBufSize), readBufSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReaderSize(strings.NewReader(tc.line), readBufSize)
			var buf []byte
			line, err := readLine(br, &buf, tc.max)
			require.Equal(t, errTooLong, err)
			assert.True(t, bytes.HasPrefix([]byte(tc.line), line))
		})
	}
	// Exactly max bytes plus the newline is fine.
	br := bufio.NewReaderSize(strings.NewReader(strings.Repeat("z", 10)+"\n"), readBufSize)
	var buf []byte
	line, err := readLine(br, &buf, 10)
	require.NoError(t, err)
	assert.Len(t, line, 11)
}

// Long lines reuse one buffer instead of allocating a new one per line.
func TestReadLineReusesLongBuffer(t *testing.T) {
	line := strings.Repeat("q", 4<<20) + "\n"
	r := &repeatReader{line: line}
	br := bufio.NewReaderSize(r, readBufSize)
	var buf []byte
	_, err := readLine(br, &buf, DefaultMaxLineBytes) // warm up: grows buf
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(5, func() {
		got, err := readLine(br, &buf, DefaultMaxLineBytes)
		if err != nil || len(got) != len(line) {
			t.Fatalf("readLine: %d bytes, %v", len(got), err)
		}
	})
	assert.Zero(t, allocs)
}

// repeatReader yields line forever.
type repeatReader struct {
	line string
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := copy(p, r.line[r.off:])
	r.off = (r.off + n) % len(r.line)
	return n, nil
}

// The inbox tests run in synctest bubbles: synctest.Wait returns once the
// goroutine calling push or pop is durably blocked (in sync.Cond.Wait), so
// "it waits" is observed, not assumed after a pause.
func TestInboxAdmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var q inbox
		q.init(100)
		r := func(m string) *Request { return &Request{Method: m} }
		require.True(t, q.push(r("big"), 500), "an empty queue admits any message")

		pushed := make(chan bool, 1)
		go func() { pushed <- q.push(r("next"), 10) }()
		synctest.Wait()
		select {
		case <-pushed:
			t.Fatal("push must wait while the queue is over its limit")
		default:
		}
		got, ok := q.pop()
		require.True(t, ok)
		assert.Equal(t, "big", got.Method)
		assert.True(t, <-pushed)

		for i := range 9 { // 10 + 9*10 = 100: still within the limit
			require.True(t, q.push(r("fill"), 10), i)
		}
		go func() { pushed <- q.push(r("over"), 10) }()
		synctest.Wait()
		select {
		case <-pushed:
			t.Fatal("push must wait at the limit")
		default:
		}
		q.close()
		assert.False(t, <-pushed, "close wakes a blocked push and refuses it")
		n := 0
		for {
			if _, ok := q.pop(); !ok {
				break
			}
			n++
		}
		assert.Equal(t, 10, n, "a closed inbox drains what it holds")
	})
}

func TestInboxAbandon(t *testing.T) {
	var q inbox
	q.init(100)
	require.True(t, q.push(&Request{Method: "a"}, 1))
	popped := make(chan bool, 1)
	q.abandon()
	go func() { _, ok := q.pop(); popped <- ok }()
	assert.False(t, <-popped, "an abandoned inbox drops what it holds")

	synctest.Test(t, func(t *testing.T) {
		var q2 inbox
		q2.init(100)
		popped := make(chan bool, 1)
		go func() { _, ok := q2.pop(); popped <- ok }()
		synctest.Wait()
		select {
		case <-popped:
			t.Fatal("pop must wait on an empty inbox")
		default:
		}
		q2.abandon()
		assert.False(t, <-popped, "abandon wakes a blocked pop")
	})
}

func TestInboxRingGrowsInOrder(t *testing.T) {
	var q inbox
	q.init(1 << 30)
	for round := range 3 {
		for i := range 1000 + round*3000 {
			require.True(t, q.push(&Request{Params: []byte{byte(i)}}, 1))
		}
		for i := range 1000 + round*3000 {
			got, ok := q.pop()
			require.True(t, ok)
			require.Equal(t, byte(i), got.Params[0], "round %d item %d", round, i)
		}
	}
	assert.Equal(t, 0, q.n)
	assert.LessOrEqual(t, len(q.items), maxIdleRing, "an idle queue releases a big ring")
}
