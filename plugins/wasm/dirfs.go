package wasm

import (
	"io/fs"
	"os"
	"syscall"
)

// This file owns what a guest sees of a granted directory
// (abi.Capabilities.ReadDirs).

// grantedFS is a granted directory as the guest sees it, mounted at its
// own path:
//   - read-only (wazero's adapter of an fs.FS writes nothing);
//   - resolved beneath the directory: a symbolic link in it that leads out
//     of it does not open (os.Root), as anyone who can write to the
//     directory (the agent, if it is in its workspace) could plant one;
//   - regular files and directories only, opened without blocking: a FIFO
//     or a device in it would block the host in open(2) or read(2), where
//     no deadline reaches, and is refused.
type grantedFS string

// Open implements fs.FS. Each open resolves the path beneath the
// directory afresh; the file it returns does not keep the root open.
func (d grantedFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	root, err := os.OpenRoot(string(d))
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if m := st.Mode(); !m.IsRegular() && !m.IsDir() {
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, nil
}
