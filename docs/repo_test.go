package docs_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// executableMagic are the first bytes of the compiled programs a build
// leaves behind: ELF (Linux), PE (Windows) and Mach-O (macOS, both byte
// orders, and universal binaries).
var executableMagic = [][]byte{
	[]byte("\x7fELF"),
	[]byte("MZ"),
	{0xcf, 0xfa, 0xed, 0xfe},
	{0xfe, 0xed, 0xfa, 0xcf},
	{0xca, 0xfe, 0xba, 0xbe},
}

// TestNoCompiledProgramsTracked checks that the checkout a reader clones
// holds no compiled program: a build's output committed by mistake (go
// build writes NAME.exe into the working directory for GOOS=windows)
// makes every clone larger, and every docs test copy slower, for nothing.
// Wasm modules are not programs of this kind: tests build theirs.
func TestNoCompiledProgramsTracked(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	var found []string
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		f, err := os.Open(filepath.Join(root, name))
		if err != nil {
			continue // deleted in the work tree
		}
		head := make([]byte, 4)
		n, _ := io.ReadFull(f, head)
		_ = f.Close()
		for _, m := range executableMagic {
			if bytes.HasPrefix(head[:n], m) {
				found = append(found, name)
				break
			}
		}
	}
	assert.Empty(t, found, "compiled programs are tracked by git; remove them (git rm) and ignore them")
}
