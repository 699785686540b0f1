package audit_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// The tests of this file are review 16's: what other processes, crashes
// and the names around the log do to one chain.

// tornPrefix is the first half of the first line of the file at path: a
// record whose write never finished (kill -9 in a large write(2)).
func tornPrefix(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	line, _, _ := strings.Cut(string(b), "\n")
	return []byte(line[:len(line)/2])
}

// A process rotated and was killed while writing the first record of the
// new file. Its torn line is cut off, and the file, empty again, continues
// path.1's chain: on the next Open, and for a writer that kept running
// (it chained on the genesis, or on its own stale hash: a fork).
func TestTornFirstRecordAfterRotation(t *testing.T) {
	t.Run("reopened", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		opts := &audit.Options{MaxBytes: 1, MaxFiles: 10}
		l, err := audit.Open(path, opts)
		require.NoError(t, err)
		require.NoError(t, l.Append(sampleRecord(1)))
		require.NoError(t, l.Append(sampleRecord(2))) // path.1: r1, path: r2
		require.NoError(t, l.Close())
		torn := tornPrefix(t, path)
		require.NoError(t, os.Rename(path+".1", path+".2"))
		require.NoError(t, os.Rename(path, path+".1"))
		require.NoError(t, os.WriteFile(path, torn, 0o600))

		l, err = audit.Open(path, &audit.Options{MaxBytes: 1, MaxFiles: 10, Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.NoError(t, l.Append(sampleRecord(3)))
		require.NoError(t, l.Close())
		sum, err := audit.Verify(logFiles(path, 10), nil)
		require.NoError(t, err, "the files, oldest first, are one chain")
		assert.Equal(t, 3, sum.Records)
	})
	t.Run("running", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		opts := &audit.Options{MaxBytes: 1 << 20, MaxFiles: 10, Logger: slog.New(slog.DiscardHandler)}
		a, err := audit.Open(path, opts)
		require.NoError(t, err)
		b, err := audit.Open(path, opts)
		require.NoError(t, err)
		require.NoError(t, a.Append(sampleRecord(1)))
		require.NoError(t, b.Append(sampleRecord(2)))
		torn := tornPrefix(t, path)
		require.NoError(t, os.Rename(path, path+".1"))
		require.NoError(t, os.WriteFile(path, torn, 0o600))

		require.NoError(t, a.Append(sampleRecord(3)))
		require.NoError(t, a.Close())
		require.NoError(t, b.Close())
		sum, err := audit.Verify(logFiles(path, 10), nil)
		require.NoError(t, err, "the files, oldest first, are one chain")
		assert.Equal(t, 3, sum.Records)
	})
}

// gateHandler parks the goroutine that logs a warning, once armed, until
// released: a point inside Append with the lock held (resume warns before
// it cuts a torn line).
type gateHandler struct {
	armed, inside, release chan struct{}
}

func (g *gateHandler) Enabled(context.Context, slog.Level) bool { return true }
func (g *gateHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case <-g.armed:
	default:
		return nil
	}
	if r.Level == slog.LevelWarn {
		close(g.inside)
		<-g.release
	}
	return nil
}
func (g *gateHandler) WithAttrs([]slog.Attr) slog.Handler { return g }
func (g *gateHandler) WithGroup(string) slog.Handler      { return g }

// The lock file is removed between appends (a cleanup of "stale" *.lock
// files) and created again by a process that opens the log afterwards.
// Writer A locked the removed file, B the new one: their appends were no
// longer serialized, and A's cut of a torn line erased B's record, whose
// Append had returned nil. A lock file no longer at its name is reopened.
func TestReplacedLockFileStillExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	g := &gateHandler{armed: make(chan struct{}), inside: make(chan struct{}), release: make(chan struct{})}
	a, err := audit.Open(path, &audit.Options{Logger: slog.New(g)})
	require.NoError(t, err)
	require.NoError(t, a.Append(sampleRecord(1)))

	require.NoError(t, os.Remove(path+".lock"))
	b, err := audit.Open(path, &audit.Options{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)

	// A third process died mid-write: half a line at the end.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write(tornPrefix(t, path))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	close(g.armed)
	aDone := make(chan error, 1)
	go func() { aDone <- a.Append(sampleRecord(3)) }()
	<-g.inside // A is inside Append

	probe, err := os.OpenFile(path+".lock", os.O_RDWR, 0)
	require.NoError(t, err)
	perr := syscall.Flock(int(probe.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if perr == nil {
		_ = syscall.Flock(int(probe.Fd()), syscall.LOCK_UN)
		require.NoError(t, b.Append(sampleRecord(2))) // not excluded: so is B
	}
	_ = probe.Close()
	close(g.release)
	require.NoError(t, <-aDone)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())

	assert.ErrorIs(t, perr, syscall.EWOULDBLOCK, "while A appends, FILE.lock is locked")
	_, err = audit.Verify([]string{path}, nil)
	assert.NoError(t, err)
}

// A log on a device or a pipe could never take a record (fsync of one is
// EINVAL, and on a FIFO the line had gone out before the failure): it is
// refused at Open, saying why, and a FIFO does not block Open.
func TestLogMustBeARegularFile(t *testing.T) {
	_, err := audit.Open(os.DevNull, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit: /dev/null is not a regular file")
	_, err = os.Stat(os.DevNull + ".lock")
	assert.True(t, os.IsNotExist(err), "no lock file next to a device: %v", err)

	fifo := filepath.Join(t.TempDir(), "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	_, err = audit.Open(fifo, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not a regular file")
}

// Open of an empty log reads path.1's last record to continue its chain:
// a FIFO planted there blocked Open in open(2), with the lock held, for
// ever. It is not a file of records: the chain starts at the genesis.
func TestFIFOAtPathDot1DoesNotBlockOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	require.NoError(t, syscall.Mkfifo(path+".1", 0o600))
	l, err := audit.Open(path, nil)
	require.NoError(t, err)
	require.NoError(t, l.Append(sampleRecord(1)))
	require.NoError(t, l.Close())
	_, err = audit.Verify([]string{path}, nil)
	assert.NoError(t, err)
}

// One process names the log through a symbolic link, another the file:
// they locked different lock files, and rotation renamed the link. The
// link is resolved at Open: one lock file, one chain.
func TestSymlinkedLogKeepsOneChain(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "decisions.jsonl")
	link := filepath.Join(dir, "link.jsonl")
	require.NoError(t, os.WriteFile(target, nil, 0o600))
	require.NoError(t, os.Symlink(target, link))
	opts := &audit.Options{MaxBytes: 1000, MaxFiles: 10}
	a, err := audit.Open(link, opts)
	require.NoError(t, err)
	b, err := audit.Open(target, opts)
	require.NoError(t, err)
	for i := 1; i <= 4; i++ {
		w := a
		if i%2 == 0 {
			w = b
		}
		require.NoError(t, w.Append(sampleRecord(i)))
	}
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	sum, err := audit.Verify(logFiles(target, 10), nil)
	require.NoError(t, err, "the files, oldest first, are one chain")
	assert.Equal(t, 4, sum.Records)
	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, fi.Mode()&os.ModeSymlink, "the link is left as it was")

	require.NoError(t, os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "dangling.jsonl")))
	_, err = audit.Open(filepath.Join(dir, "dangling.jsonl"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is a symbolic link that does not resolve")
}

// Two processes with different MaxFiles (5 and 2): the one keeping 2
// shifted path.1 onto path.2 and left path.3 and path.4, a gap no order
// of the files verifies. A rotation keeps MaxFiles files and removes the
// older ones; and renames only the files that exist (MaxFiles = 100000
// cost a rotation minutes of renames).
func TestRotationKeepsMaxFilesInOneChain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := audit.Open(path, &audit.Options{MaxBytes: 1, MaxFiles: 5})
	require.NoError(t, err)
	b, err := audit.Open(path, &audit.Options{MaxBytes: 1, MaxFiles: 2})
	require.NoError(t, err)
	for i := 1; i <= 5; i++ { // path.4 .. path: r1..r5
		require.NoError(t, a.Append(sampleRecord(i)))
	}
	require.NoError(t, b.Append(sampleRecord(6)))
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	files := logFiles(path, 5)
	assert.Equal(t, []string{path + ".2", path + ".1", path}, files)
	// The oldest file kept chains on a record removed with its file.
	oldest := readEntries(t, files[0])[0].Prev
	_, err = audit.Verify(files, &audit.VerifyOptions{Prev: oldest})
	assert.NoError(t, err, "the files left, oldest first, are one chain")

	c, err := audit.Open(path, &audit.Options{MaxBytes: 1, MaxFiles: 100000})
	require.NoError(t, err)
	for i := 7; i <= 9; i++ {
		require.NoError(t, c.Append(sampleRecord(i)))
	}
	require.NoError(t, c.Close())
	sum, err := audit.Verify(logFiles(path, 10), &audit.VerifyOptions{Prev: oldest})
	require.NoError(t, err)
	assert.Equal(t, 6, sum.Records)
}
