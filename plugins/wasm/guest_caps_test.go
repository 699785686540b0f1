package wasm_test

// Review (round 14) of 4ae3973/967fd8a: an ordinary Go guest still reads,
// lists, opens and prints correctly under the short reads (1 MiB per
// fd_read/fd_pread), the 64 KiB fd_readdir buffer, the 64-descriptor cap
// and the per-line output cost.

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// buildBulkGuest builds testdata/guests/bulk granted dir.
func buildBulkGuest(t *testing.T, dir string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bulk.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared",
		"-ldflags=-X=main.grantedDir="+dir, "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "guests", "bulk")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	w, err := os.ReadFile(out)
	require.NoError(t, err)
	return w
}

func sumOf(b []byte) string {
	h := sha256.Sum256(b)
	return fmt.Sprintf("%d %s", len(b), hex.EncodeToString(h[:]))
}

func TestOrdinaryGuestUnderCaps(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 5<<20+12345) // several MiB, not a multiple of anything
	_, _ = rand.Read(big)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big"), big, 0o644))
	text := bytes.Repeat([]byte(strings.Repeat("t", 5000)+"\n"+strings.Repeat("u", 37)+"\n"), 700) // lines longer than bufio's buffer
	require.NoError(t, os.WriteFile(filepath.Join(dir, "text"), text, 0o644))
	entries := filepath.Join(dir, "entries")
	require.NoError(t, os.Mkdir(entries, 0o755))
	var names []string
	for i := range 3000 {
		name := fmt.Sprintf("entry-with-a-longish-name-%05d.txt", i)
		names = append(names, name)
		require.NoError(t, os.WriteFile(filepath.Join(entries, name), nil, 0o644))
	}
	slices.Sort(names)
	files := filepath.Join(dir, "files")
	require.NoError(t, os.Mkdir(files, 0o755))
	for i := range 80 {
		require.NoError(t, os.WriteFile(filepath.Join(files, fmt.Sprintf("f%d", i)), fmt.Appendf(nil, "file %d", i), 0o644))
	}

	logger, rec := newLogger()
	p := mustLoad(t, buildBulkGuest(t, dir), &wasm.Options{
		Options:          plugins.Options{Grants: abi.Capabilities{ReadDirs: []string{dir}}, Timeout: 60 * time.Second},
		MemoryLimitPages: 1024, Logger: logger,
		MaxOutputBytes: 64 << 20, MaxCallOutputBytes: 64 << 20,
	})
	for _, op := range []string{"readfile", "bufio", "readat"} {
		for _, f := range [][2]string{{"big", sumOf(big)}, {"text", sumOf(text)}} {
			assert.Equal(t, f[1], probe(t, p, op+" "+filepath.Join(dir, f[0])), "%s %s", op, f[0])
		}
	}
	assert.Equal(t, sumOf([]byte(strings.Join(names, "\n"))), probe(t, p, "list "+entries), "os.ReadDir sees every entry")
	assert.Equal(t, "opened 50", probe(t, p, "open 50 "+files))
	got := probe(t, p, "open 70 "+files)
	assert.Contains(t, strings.ToLower(got), "too many open files", "past 60 descriptors: EMFILE")
	assert.Equal(t, "opened 50", probe(t, p, "open 50 "+files), "and all were closed")
	assert.Equal(t, "stdin 0 EOF", probe(t, p, "stdin"))
	assert.Contains(t, strings.ToLower(probe(t, p, "readdirasfile "+entries)), "is a directory")

	const lines = 3000
	before := len(rec.messages())
	assert.Equal(t, "printed", probe(t, p, fmt.Sprint("print ", lines)))
	msgs := rec.messages()[before:]
	var want []string
	for i := range lines {
		want = append(want, fmt.Sprintf("INFO line %06d plugin=bulk stream=stdout", i))
	}
	for i := range lines {
		want = append(want, fmt.Sprintf("INFO bulk %06d plugin=bulk stream=stdout", i))
	}
	want = append(want, "WARN on stderr plugin=bulk stream=stderr")
	assert.Equal(t, want, msgs, "every line, once, in order")
}
