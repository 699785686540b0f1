//go:build !unix

package regfile

import (
	"fmt"
	"os"
)

func own(path string, fi os.FileInfo) error {
	if !fi.IsDir() {
		return fmt.Errorf("%s: %w: not a directory", path, ErrNotOwnDir)
	}
	return nil
}
