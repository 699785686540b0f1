package audit_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// TestTornWriteIsCutBack: a write that fails half way (the disk fills up;
// simulated with RLIMIT_FSIZE, which makes write(2) short and then EFBIG)
// is answered fail-closed, and cut off: the next record, written once
// space is back and whose answer is sent to codex, is a verifiable record
// of the chain, and the log opens at the next start. The next line used
// to start on the torn one: audit verify refused the log, and so did the
// next codexhost run --audit (review).
func TestTornWriteIsCutBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, l.Append(sampleRecord(1)))

	fi, err := os.Stat(path)
	require.NoError(t, err)
	var old syscall.Rlimit
	require.NoError(t, syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old))
	lim := old
	lim.Cur = uint64(fi.Size()) + 40 // room for 40 bytes of the next line only
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim))
	err2 := l.Append(sampleRecord(2))
	require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old))
	require.Error(t, err2, "the write must fail (fail closed)")

	// Space is back: this record is written, so its answer goes to codex.
	require.NoError(t, l.Append(sampleRecord(3)))
	require.NoError(t, l.Close())

	sum, verr := audit.Verify([]string{path}, nil)
	assert.NoError(t, verr, "a log written only by codexhost must verify")
	assert.Equal(t, 2, sum.Records, "both records whose answers were sent")

	l2, oerr := audit.Open(path, nil)
	assert.NoError(t, oerr, "the log must open again at the next start")
	if l2 != nil {
		_ = l2.Close()
	}
}
