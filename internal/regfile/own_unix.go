//go:build unix

package regfile

import (
	"fmt"
	"os"
	"syscall"
)

func own(path string, fi os.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w: not a directory", path, ErrNotOwnDir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if uid := os.Getuid(); int(st.Uid) != uid {
		return fmt.Errorf("%s: %w: it belongs to uid %d, not %d", path, ErrNotOwnDir, st.Uid, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s: %w: others may write it (mode %s); chmod go-w it", path, ErrNotOwnDir, fi.Mode().Perm())
	}
	return nil
}
