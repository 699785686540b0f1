// Package regfile reads files that must be regular files: plugins,
// cached blobs, load records. Anything else is refused: a FIFO would
// block the open (and the caller with it, whatever its context), and
// could give each read other bytes than the ones hashed and verified; a
// device may never end.
package regfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned for a path that exists but is no regular
// file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens the regular file at path for reading, without blocking on a
// FIFO: it is refused, as is every other kind of file (errors.Is
// ErrNotRegular). A missing file's error matches fs.ErrNotExist.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))}
	}
	return f, nil
}

// kind names the type of a file that is not regular, in words: its mode
// bits (d---------) read as a directory without permissions.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "type " + m.Type().String()
}

// Read reads the regular file at path (see Open).
func Read(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// ErrNotOwnDir is returned for a cache directory that is not this user's
// own.
var ErrNotOwnDir = errors.New("not a directory of this user's own")

// OwnDir checks that path is a directory owned by this process's user
// and writable by no one else (a cache codexhost trusts: who can write it
// can change what runs), and removes what in it, down to depth levels of
// subdirectories, is neither a regular file nor a directory of the same
// kind (a FIFO planted there would block a reader). An error names what
// is wrong.
func OwnDir(path string, depth int) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := own(path, fi); err != nil {
		return err
	}
	if depth <= 0 {
		return nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := path + string(os.PathSeparator) + e.Name()
		switch {
		case e.Type().IsRegular():
		case e.IsDir():
			if err := OwnDir(p, depth-1); err != nil {
				return err
			}
		default:
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("%s: %w (%s), and it cannot be removed: %v", p, ErrNotRegular, e.Type(), err)
			}
		}
	}
	return nil
}
