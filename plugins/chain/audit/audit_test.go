package audit_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(envCrashHelper); path != "" {
		crashHelper(path) // never returns
	}
	os.Exit(m.Run())
}

func readEntries(t *testing.T, path string) []audit.Entry {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []audit.Entry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var e audit.Entry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		out = append(out, e)
	}
	require.NoError(t, sc.Err())
	return out
}

func sampleRecord(i int) *chain.DecisionRecord {
	return &chain.DecisionRecord{
		Time: time.Date(2026, 11, 25, 2, 0, 0, 123456789, time.UTC), Hook: abi.HookApproval,
		ApprovalKind: abi.ApprovalCommand, Method: "item/commandExecution/requestApproval",
		ThreadID: "th", TurnID: "tu", ItemID: fmt.Sprintf("item-%d", i), Summary: fmt.Sprintf("touch x%d", i),
		Answers: []chain.PluginAnswer{
			{Plugin: "allow", Decision: abi.Accept, Reason: "ok", Latency: 1500 * time.Microsecond},
			{Plugin: "broken", Decision: abi.Decline, Err: errors.New("boom"), Latency: time.Millisecond},
		},
		Decision: abi.Decline, Why: chain.Why{Kind: chain.WhyFailed, Plugin: "broken"}, Answer: json.RawMessage(`{"decision":"decline"}`), Latency: 3 * time.Millisecond,
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path, nil)
	require.NoError(t, err)
	l.Record(sampleRecord(1))
	l.Record(&chain.DecisionRecord{Hook: abi.HookToolCall, Method: "item/tool/call", Summary: "lookup", Why: chain.Why{Kind: chain.WhyAnswer, Plugin: "p"}})
	require.NoError(t, l.Err())
	require.NoError(t, l.Close())
	require.NoError(t, l.Close())

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(b), "\n")
	es0 := readEntries(t, path)[0]
	assert.True(t, strings.HasPrefix(first, `{"prev":"`+audit.GenesisHash+`","time":`), first)
	assert.True(t, strings.HasSuffix(first, `,"hash":"`+es0.Hash+`"}`), first)
	assert.JSONEq(t, `{"prev":"`+audit.GenesisHash+`","hash":"`+es0.Hash+`","time":"2026-11-25T02:00:00.123456789Z","threadId":"th","turnId":"tu","itemId":"item-1",
		"hook":"approval","kind":"command","method":"item/commandExecution/requestApproval","summary":"touch x1",
		"answers":[{"plugin":"allow","decision":"accept","reason":"ok","latencyMs":1.5},
		           {"plugin":"broken","decision":"decline","error":"boom","latencyMs":1}],
		"decision":"decline","why":"fallback: plugin broken failed","answer":{"decision":"decline"},"latencyMs":3}`, first)
	es := readEntries(t, path)
	require.Len(t, es, 2)
	assert.Equal(t, "tool-call", es[1].Hook)
	assert.Equal(t, "lookup", es[1].Summary)
	assert.Empty(t, es[1].Decision)
	assert.NotNil(t, es[1].Answers)

	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// Reopening appends.
	l, err = audit.Open(path, nil)
	require.NoError(t, err)
	l.Record(sampleRecord(3))
	require.NoError(t, l.Close())
	assert.Len(t, readEntries(t, path), 3)
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path, nil)
	require.NoError(t, err)
	defer l.Close()
	const writers, each = 16, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				rec := sampleRecord(w*each + i)
				rec.Summary = strings.Repeat("y", 5000) // larger than a pipe buffer line
				l.Record(rec)
			}
		})
	}
	wg.Wait()
	require.NoError(t, l.Err())
	es := readEntries(t, path)
	require.Len(t, es, writers*each)
	seen := map[string]bool{}
	for _, e := range es {
		seen[e.ItemID] = true
	}
	assert.Len(t, seen, writers*each)
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	// The size of one record as written, hashes included.
	one := filepath.Join(t.TempDir(), "one.jsonl")
	l1, err := audit.Open(one, nil)
	require.NoError(t, err)
	require.NoError(t, l1.Append(sampleRecord(10)))
	require.NoError(t, l1.Close())
	fi1, err := os.Stat(one)
	require.NoError(t, err)
	size := fi1.Size()
	l, err := audit.Open(path, &audit.Options{MaxBytes: 3 * size, MaxFiles: 2})
	require.NoError(t, err)
	for i := range 10 { // item-10 .. item-19: same length
		l.Record(sampleRecord(10 + i))
	}
	require.NoError(t, l.Close())
	require.NoError(t, l.Err())

	ids := func(p string) []string {
		var out []string
		for _, e := range readEntries(t, p) {
			out = append(out, e.ItemID)
		}
		return out
	}
	assert.Equal(t, []string{"item-19"}, ids(path))
	assert.Equal(t, []string{"item-16", "item-17", "item-18"}, ids(path+".1"))
	assert.Equal(t, []string{"item-13", "item-14", "item-15"}, ids(path+".2"))
	_, err = os.Stat(path + ".3")
	assert.True(t, os.IsNotExist(err), "only MaxFiles rotated files are kept")
	// One chain through the files; the oldest kept file starts where the
	// removed one ended, which Verify reports unless told its prev.
	files := []string{path + ".2", path + ".1", path}
	_, err = audit.Verify(files, nil)
	var be *audit.BrokenError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, audit.BreakPrev, be.Kind)
	assert.Equal(t, path+".2:1", fmt.Sprintf("%s:%d", be.File, be.Line))
	sum, err := audit.Verify(files, &audit.VerifyOptions{Prev: readEntries(t, path+".2")[0].Prev})
	require.NoError(t, err)
	assert.Equal(t, 7, sum.Records)
	assert.Equal(t, readEntries(t, path)[0].Hash, sum.Head)
	for _, p := range []string{path, path + ".1", path + ".2"} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		assert.LessOrEqual(t, fi.Size(), 3*size)
	}
}

// A write failure is logged, kept in Err, and does not panic; after Close
// records fail with ErrClosed.
func TestWriteFailure(t *testing.T) {
	var logged bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logged, nil))
	l, err := audit.Open(filepath.Join(t.TempDir(), "audit.jsonl"), &audit.Options{Logger: logger})
	require.NoError(t, err)
	require.NoError(t, l.Close())
	l.Record(sampleRecord(1))
	require.ErrorIs(t, l.Err(), audit.ErrClosed)
	assert.Contains(t, logged.String(), "AUDIT LOG WRITE FAILED")
	assert.Contains(t, logged.String(), "touch x1")
	require.ErrorIs(t, l.Append(sampleRecord(2)), audit.ErrClosed)

	_, err = audit.Open(filepath.Join(t.TempDir(), "missing", "audit.jsonl"), nil)
	require.Error(t, err)
}

// The agent writes much of a record (the command, the paths, the
// questions): an operator who follows the log in a terminal (tail -f)
// must not have it obeyed or reordered. The characters encoding/json
// leaves raw that a terminal obeys (C1 controls, CSI among them) or that
// reorder or hide text (bidi overrides, zero-width characters) are
// written as \u escapes, as in --json; the value, and the chain, are the
// same.
func TestRecordsHoldNoRawTerminalControls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := audit.Open(path, nil)
	require.NoError(t, err)
	rec := sampleRecord(1)
	rec.Summary = "touch x # \u202eevil\u009b2J\u200b\u2066"
	l.Record(rec)
	require.NoError(t, l.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, c := range []string{"\u202e", "\u009b", "\u200b", "\u2066", "\x1b"} {
		assert.NotContains(t, string(b), c)
	}
	assert.Contains(t, string(b), `\u202eevil\u009b2J\u200b\u2066`)
	assert.Equal(t, rec.Summary, readEntries(t, path)[0].Summary)
	_, err = audit.Verify([]string{path}, nil)
	require.NoError(t, err)
}
