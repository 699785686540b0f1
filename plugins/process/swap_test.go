//go:build linux

package process_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/process"
)

// TestPinnedBinaryChangedAfterCheck: a pinned binary replaced (renamed
// over) or rewritten in place between its check and its start does not
// run: the sealed copy of the bytes checked does. The probe writes a
// marker from init, so "never ran" is observed. Not parallel: the hook is
// the package's.
func TestPinnedBinaryChangedAfterCheck(t *testing.T) {
	ref, probe := refBin(t), testBin(t, "probe")
	refBytes, err := os.ReadFile(ref)
	require.NoError(t, err)
	probeBytes, err := os.ReadFile(probe)
	require.NoError(t, err)
	for _, how := range []string{"renamed over", "written in place"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "plugin")
			require.NoError(t, os.WriteFile(bin, refBytes, 0o755))
			marker := filepath.Join(dir, "probe-ran")
			swapped := 0
			process.SetAfterVerify(t, func(path string) {
				if path != bin {
					return
				}
				swapped++
				if how == "renamed over" {
					require.NoError(t, os.WriteFile(bin+".new", probeBytes, 0o755))
					require.NoError(t, os.Rename(bin+".new", bin))
					return
				}
				require.NoError(t, os.WriteFile(bin, probeBytes, 0o755))
			})
			o := &process.Options{SHA256: fileSHA256(t, ref), Env: []string{"PROBE_MARKER=" + marker}}
			p := load(t, bin, o)
			require.Equal(t, 1, swapped, "the hook ran between the check and the start")
			assert.Equal(t, "ref", p.Manifest().Name, "what runs is the binary checked")
			assert.Equal(t, abi.Accept, mustApprove(t, p, "echo").Decision)
			require.NoError(t, p.Close(context.Background()))
			assert.NoFileExists(t, marker, "the binary put there after the check ran")
			now, err := os.ReadFile(bin)
			require.NoError(t, err)
			assert.Equal(t, probeBytes, now, "the file holds the probe")
		})
	}
}

// TestPinnedBinaryTooLarge: a pinned binary is copied into memory, so one
// over 1 GiB (here a sparse file, which costs no disk) is refused before
// any copy.
func TestPinnedBinaryTooLarge(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "plugin")
	f, err := os.Create(bin)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(1<<30+1))
	require.NoError(t, f.Close())
	require.NoError(t, os.Chmod(bin, 0o755))
	_, err = process.Load(context.Background(), bin, &process.Options{SHA256: strings.Repeat("ab", 32)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the binary is 1073741825 bytes, more than the 1073741824 a pinned one may be")
}

// TestPinnedBinaryLongName: a pinned binary whose file name is long (up to
// the 255 bytes a Linux file name may have) runs from its sealed copy: the
// copy's name (memfd_create takes at most 249 bytes) is cut, not refused.
func TestPinnedBinaryLongName(t *testing.T) {
	t.Parallel()
	ref := refBin(t)
	b, err := os.ReadFile(ref)
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), strings.Repeat("p", 255))
	require.NoError(t, os.WriteFile(bin, b, 0o755))
	p := load(t, bin, &process.Options{SHA256: fileSHA256(t, ref)})
	assert.Equal(t, "ref", p.Manifest().Name)
	assert.Equal(t, abi.Accept, mustApprove(t, p, "echo").Decision)
}
