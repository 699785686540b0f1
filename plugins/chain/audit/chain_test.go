package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// writeLog writes n records to a new log and returns its path and bytes.
func writeLog(t *testing.T, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path, nil)
	require.NoError(t, err)
	for i := range n {
		require.NoError(t, l.Append(sampleRecord(i)))
	}
	require.NoError(t, l.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, b
}

// verifyBytes verifies b as the content of one log file.
func verifyBytes(t *testing.T, b []byte) (audit.Summary, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "copy.jsonl")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	return audit.Verify([]string{p}, nil)
}

func requireBroken(t *testing.T, err error, line int, kind audit.BreakKind, msgAndArgs ...any) *audit.BrokenError {
	t.Helper()
	require.ErrorIs(t, err, audit.ErrBroken, msgAndArgs...)
	be, ok := err.(*audit.BrokenError)
	require.True(t, ok, "%T", err)
	assert.Equal(t, line, be.Line, msgAndArgs...)
	assert.Equal(t, kind, be.Kind, msgAndArgs...)
	return be
}

// lines splits a log into its lines, each with its newline.
func lines(b []byte) [][]byte {
	ls := bytes.SplitAfter(b, []byte("\n"))
	return ls[:len(ls)-1] // the empty string after the last newline
}

// The chain as written: the first prev is the genesis, each prev the hash
// of the record before, each hash the SHA-256 of its line up to
// ,"hash":. An untouched 1,000-record log verifies.
func TestChainIntact(t *testing.T) {
	_, b := writeLog(t, 1000)
	es := readEntriesBytes(t, b)
	require.Len(t, es, 1000)
	assert.Equal(t, audit.GenesisHash, es[0].Prev)
	for i, ln := range lines(b) {
		cut := bytes.LastIndex(ln, []byte(`,"hash":"`))
		require.Positive(t, cut)
		assert.Equal(t, sha256hex(ln[:cut]), es[i].Hash, "line %d", i+1)
		if i > 0 {
			assert.Equal(t, es[i-1].Hash, es[i].Prev, "line %d", i+1)
		}
	}
	sum, err := verifyBytes(t, b)
	require.NoError(t, err)
	assert.Equal(t, audit.Summary{Records: 1000, Head: es[999].Hash}, sum)
	// The genesis is what the docs say.
	assert.Equal(t, sha256hex([]byte("codexhost audit log v1")), audit.GenesisHash)
}

// A single changed byte anywhere in a 1,000-record log is found, at the
// line that holds it.
func TestChainDetectsOneChangedByte(t *testing.T) {
	_, b := writeLog(t, 1000)
	lineOf := func(pos int) int { return bytes.Count(b[:pos], []byte("\n")) + 1 }
	var positions []int
	for pos := 0; pos < len(b); pos += len(b)/97 + 1 { // ~100 positions through the whole file
		positions = append(positions, pos)
	}
	last := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1 // the start of the last record
	positions = append(positions,
		1,                        // the first record's prev field name
		12,                       // in the first record's prev hash
		last+20,                  // the last record's prev hash
		len(b)-10,                // the last record's own hash
		len(b)-3,                 // its closing quote
		len(b)-2,                 // its closing brace
		len(b)-1,                 // the final newline
		bytes.IndexByte(b, '\n'), // the first newline
		bytes.Index(b[last:], []byte("touch x999"))+last+6, // the last record's summary
	)
	for _, pos := range positions {
		for _, flip := range []byte{0x01, 0x20} {
			c := bytes.Clone(b)
			c[pos] ^= flip
			_, err := verifyBytes(t, c)
			require.ErrorIs(t, err, audit.ErrBroken, "byte %d (%q -> %q) changed", pos, b[pos], c[pos])
			be := err.(*audit.BrokenError)
			assert.Equal(t, lineOf(pos), be.Line, "byte %d (%q -> %q): %v", pos, b[pos], c[pos], err)
		}
	}
}

// Records removed, moved, inserted or cut off.
func TestChainDetectsEdits(t *testing.T) {
	_, b := writeLog(t, 1000)
	ls := lines(b)
	join := func(ls [][]byte) []byte { return bytes.Join(ls, nil) }
	full, err := verifyBytes(t, b)
	require.NoError(t, err)

	// A record deleted: the next one's prev breaks, at the deleted line.
	for _, k := range []int{0, 1, 499, 998} {
		c := append(append([][]byte{}, ls[:k]...), ls[k+1:]...)
		_, err := verifyBytes(t, join(c))
		be := requireBroken(t, err, k+1, audit.BreakPrev, "record %d deleted", k+1)
		assert.Contains(t, be.Reason, "prev is")
	}
	// Two records swapped.
	for _, k := range []int{0, 500, 998} {
		c := append([][]byte{}, ls...)
		c[k], c[k+1] = c[k+1], c[k]
		_, err := verifyBytes(t, join(c))
		requireBroken(t, err, k+1, audit.BreakPrev, "records %d and %d swapped", k+1, k+2)
	}
	// A record repeated (a replayed line).
	c := append(append(append([][]byte{}, ls[:10]...), ls[9]), ls[10:]...)
	_, err = verifyBytes(t, join(c))
	requireBroken(t, err, 11, audit.BreakPrev)
	// A forged record (well formed, its own hash right) inserted.
	forged := forge(t, ls[4], ls[5])
	c = append(append(append([][]byte{}, ls[:5]...), forged), ls[5:]...)
	_, err = verifyBytes(t, join(c))
	requireBroken(t, err, 7, audit.BreakPrev, "the record after the forged one no longer chains")

	// Cut inside a record: a torn last line.
	for _, cut := range []int{len(b) - 1, len(b) - 300, len(b) / 2} {
		_, err := verifyBytes(t, b[:cut])
		requireBroken(t, err, bytes.Count(b[:cut], []byte("\n"))+1, audit.BreakForm, "cut at %d", cut)
	}
	// Whole records cut off the end: the chain is intact, and only the
	// summary shows it against a copy kept elsewhere.
	short := join(ls[:900])
	sum, err := verifyBytes(t, short)
	require.NoError(t, err)
	assert.Equal(t, 900, sum.Records)
	assert.NotEqual(t, full.Head, sum.Head)
	// The head of the cut log is the hash of its last record.
	assert.Equal(t, readEntriesBytes(t, ls[899])[0].Hash, sum.Head)

	// Not a record at all; an empty line; a record without its chain.
	_, err = verifyBytes(t, append(bytes.Clone(b), "{}\n"...))
	requireBroken(t, err, 1001, audit.BreakForm)
	_, err = verifyBytes(t, append(join(ls[:3]), append([]byte("\n"), join(ls[3:])...)...))
	requireBroken(t, err, 4, audit.BreakForm)
	// An empty log verifies, with nothing in it.
	sum, err = verifyBytes(t, nil)
	require.NoError(t, err)
	assert.Equal(t, audit.Summary{Records: 0, Head: audit.GenesisHash}, sum)
}

// forge makes a well-formed record that claims to follow prevLine: its
// own hash is right, its content is the next record's with another
// summary.
func forge(t *testing.T, prevLine, like []byte) []byte {
	t.Helper()
	prev := readEntriesBytes(t, prevLine)[0].Hash
	l := bytes.TrimSuffix(like, []byte("\n"))
	cut := bytes.LastIndex(l, []byte(`,"hash":"`))
	body := bytes.Replace(l[:cut], []byte("touch x"), []byte("touch y"), 1)
	body = append([]byte(`{"prev":"`+prev+`"`), body[len(`{"prev":"`)+71+1:]...)
	out := append(bytes.Clone(body), `,"hash":"`+sha256hex(body)+`"}`+"\n"...)
	// Well formed, its hash right: on its own, after prevLine, it verifies.
	p := filepath.Join(t.TempDir(), "forged.jsonl")
	require.NoError(t, os.WriteFile(p, out, 0o600))
	_, err := audit.Verify([]string{p}, &audit.VerifyOptions{Prev: prev})
	require.NoError(t, err)
	return out
}

// The chain continues across reopening and rotation; a rotated file
// verifies after the files before it, oldest first, or from the head of
// the one before.
func TestChainAcrossReopenAndRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	_, one := writeLog(t, 1)
	size := int64(len(one))
	l, err := audit.Open(path, &audit.Options{MaxBytes: 3 * size, MaxFiles: 3})
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, l.Append(sampleRecord(i)))
	}
	require.NoError(t, l.Close())
	l, err = audit.Open(path, &audit.Options{MaxBytes: 3 * size, MaxFiles: 3})
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, l.Append(sampleRecord(4+i)))
	}
	require.NoError(t, l.Close())
	// 8 records, 3 a file: .2 (0-2), .1 (3-5), path (6-7).
	files := []string{path + ".2", path + ".1", path}
	sum, err := audit.Verify(files, nil)
	require.NoError(t, err)
	assert.Equal(t, 8, sum.Records)

	_, err = audit.Verify([]string{path}, nil)
	be := requireBroken(t, err, 1, audit.BreakPrev)
	assert.Contains(t, be.Reason, "oldest first")
	older, err := audit.Verify(files[:2], nil)
	require.NoError(t, err)
	sum2, err := audit.Verify([]string{path}, &audit.VerifyOptions{Prev: older.Head})
	require.NoError(t, err)
	assert.Equal(t, sum.Head, sum2.Head)
	_, err = audit.Verify([]string{path + ".1", path + ".2", path}, nil)
	requireBroken(t, err, 1, audit.BreakPrev, "files out of order")
}

// A record torn by a crash is cut off when the log is opened again, and
// the chain goes on from the last whole record.
func TestChainTornTailIsCut(t *testing.T) {
	path, b := writeLog(t, 5)
	torn := append(bytes.Clone(b), `{"prev":"sha256:00`...)
	require.NoError(t, os.WriteFile(path, torn, 0o600))
	_, err := audit.Verify([]string{path}, nil)
	requireBroken(t, err, 6, audit.BreakForm)

	var logged bytes.Buffer
	l, err := audit.Open(path, &audit.Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	require.NoError(t, err)
	require.NoError(t, l.Append(sampleRecord(5)))
	require.NoError(t, l.Close())
	assert.Contains(t, logged.String(), "torn record")
	sum, err := audit.Verify([]string{path}, nil)
	require.NoError(t, err)
	assert.Equal(t, 6, sum.Records)

	// A log without a chain is not appended to.
	old := filepath.Join(t.TempDir(), "old.jsonl")
	require.NoError(t, os.WriteFile(old, []byte(`{"time":"2026-01-01T00:00:00Z","hook":"approval"}`+"\n"), 0o600))
	_, err = audit.Open(old, nil)
	require.ErrorContains(t, err, "without a hash chain")
}

// Two Logs on one file (two processes, say) keep one chain: the file
// lock serializes them and each chains on what the other wrote.
func TestChainTwoWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := audit.Open(path, nil)
	require.NoError(t, err)
	b, err := audit.Open(path, nil)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w, l := range []*audit.Log{a, b} {
		wg.Go(func() {
			for i := range 50 {
				assert.NoError(t, l.Append(sampleRecord(w*100+i)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	sum, err := audit.Verify([]string{path}, nil)
	require.NoError(t, err)
	assert.Equal(t, 100, sum.Records)
}

func BenchmarkAppend(b *testing.B) {
	l, err := audit.Open(filepath.Join(b.TempDir(), "audit.jsonl"), nil)
	require.NoError(b, err)
	defer l.Close()
	rec := sampleRecord(1)
	for b.Loop() {
		_ = l.Append(rec)
	}
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func readEntriesBytes(t *testing.T, b []byte) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	for _, ln := range bytes.SplitAfter(b, []byte("\n")) {
		if len(ln) == 0 {
			continue
		}
		var e audit.Entry
		require.NoError(t, json.Unmarshal(ln, &e), "line %q", ln)
		out = append(out, e)
	}
	return out
}

// testdata/decisions.jsonl is three records as this version writes them
// (docs/operations.md verifies it with codexhost audit verify): the
// format, the genesis and the hashes do not change unnoticed.
func TestChainGolden(t *testing.T) {
	_, b := writeLog(t, 3)
	golden := filepath.Join("testdata", "decisions.jsonl")
	if os.Getenv("CODEXHOST_UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(golden, b, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(b))
	sum, err := audit.Verify([]string{golden}, nil)
	require.NoError(t, err)
	assert.Equal(t, 3, sum.Records)
}
