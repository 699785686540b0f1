package audit_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// TestTwoWritersRotateOneChain: "several processes appending to one file
// keep one chain", across rotation. Two Logs on one path (two processes:
// flock is per open file, so two Opens in one process behave the same)
// rotating: every record is in one of the files, and the files, oldest
// first, are one chain. The writer that had not rotated went on appending
// to the renamed file, and rotated on its own count of the size (review).
func TestTwoWritersRotateOneChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	opts := &audit.Options{MaxBytes: 1500, MaxFiles: 50}
	a, err := audit.Open(path, opts)
	require.NoError(t, err)
	b, err := audit.Open(path, opts)
	require.NoError(t, err)
	const n = 12
	for i := 0; i < n; i++ {
		w := a
		if i%2 == 1 {
			w = b
		}
		require.NoError(t, w.Append(sampleRecord(i)))
	}
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())

	var files []string
	for i := 50; i >= 1; i-- {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	files = append(files, path)
	total := 0
	for _, f := range files {
		total += len(readEntries(t, f))
	}
	assert.Equal(t, n, total, "every record appended is in the log")
	sum, err := audit.Verify(files, nil)
	assert.NoError(t, err, "the rotated files, oldest first, are one chain")
	assert.Equal(t, n, sum.Records)
}
