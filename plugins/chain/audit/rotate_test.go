package audit_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

func logFiles(path string, maxFiles int) []string {
	var files []string
	for i := maxFiles + 1; i >= 1; i-- {
		p := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(p); err == nil {
			files = append(files, p)
		}
	}
	if _, err := os.Stat(path); err == nil {
		files = append(files, path)
	}
	return files
}

// TestCrashMidRotationLosesNothing: another process crashed half way
// through a rotation, after renaming the path to path.1 and before
// creating the new path. The writer left, whose own file is now path.1
// and full, went on rotating on every append: each rotation shifted the
// files (deleting the oldest) and then failed on the missing path, so
// records on disk were deleted and no record could be written (review).
// Now the path is created, continuing the chain of path.1, and nothing
// is shifted away beyond what MaxFiles keeps.
func TestCrashMidRotationLosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	opts := &audit.Options{MaxBytes: 1, MaxFiles: 20}
	b, err := audit.Open(path, opts)
	require.NoError(t, err)
	for i := range 3 { // path.2: r0, path.1: r1, path: r2
		require.NoError(t, b.Append(sampleRecord(i)))
	}
	// The other process: shifted, renamed, crashed.
	require.NoError(t, os.Rename(path+".2", path+".3"))
	require.NoError(t, os.Rename(path+".1", path+".2"))
	require.NoError(t, os.Rename(path, path+".1"))

	for i := 3; i < 6; i++ {
		require.NoError(t, b.Append(sampleRecord(i)), "the log recovers from another process's crash mid-rotation")
	}
	require.NoError(t, b.Close())
	files := logFiles(path, 20)
	total := 0
	for _, f := range files {
		total += len(readEntries(t, f))
	}
	assert.Equal(t, 6, total, "no record on disk was deleted: %v", files)
	sum, err := audit.Verify(files, nil)
	require.NoError(t, err, "the files, oldest first, are one chain")
	assert.Equal(t, 6, sum.Records)
}

// TestStaleWriterDuringACrashedRotation: writer B's file was rotated by
// A (it is path.1, nobody else writes it), and a third process crashed
// half way through rotating again (path.1 moved to path.2, the path
// renamed, no new path). B found the path gone, "wrote where it was",
// into path.2, chained on its own stale hash: a fork (review). It now
// writes a new file at the path, chained on path.1.
func TestStaleWriterDuringACrashedRotation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	opts := &audit.Options{MaxBytes: 2000, MaxFiles: 10}
	a, err := audit.Open(path, opts)
	require.NoError(t, err)
	b, err := audit.Open(path, opts)
	require.NoError(t, err)
	big := sampleRecord(2)
	big.Summary = strings.Repeat("x", 1200)
	require.NoError(t, b.Append(sampleRecord(1))) // F1: r1
	require.NoError(t, a.Append(big))             // A rotates: F1 is path.1, F2 (path): r2
	require.NoError(t, os.Rename(path+".1", path+".2"))
	require.NoError(t, os.Rename(path, path+".1"))
	require.NoError(t, b.Append(sampleRecord(3)))
	require.NoError(t, a.Append(sampleRecord(4)))
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())

	files := logFiles(path, 10)
	sum, err := audit.Verify(files, nil)
	require.NoError(t, err, "the files, oldest first, are one chain: %v", files)
	assert.Equal(t, 4, sum.Records)
	assert.Len(t, readEntries(t, path+".2"), 1, "nothing was appended to the file rotated twice")
}
