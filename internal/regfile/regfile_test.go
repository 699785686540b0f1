package regfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/internal/regfile"
)

// A FIFO, a directory and a device are refused without blocking; a file
// is read; a missing one says so.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	b, err := regfile.Read(file)
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))

	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	// The error says what the file is in words (before: its mode's type
	// bits, "d---------", which read as a directory without permissions).
	for p, what := range map[string]string{fifo: "a named pipe", dir: "a directory", os.DevNull: "a character device"} {
		_, err := regfile.Read(p)
		require.ErrorIs(t, err, regfile.ErrNotRegular, p)
		assert.Equal(t, "open "+p+": not a regular file ("+what+")", err.Error())
	}
	_, err = regfile.Read(filepath.Join(dir, "missing"))
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}
