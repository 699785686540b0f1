//go:build linux

package process

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// newImage returns an empty in-memory file (memfd) for the bytes of a
// pinned binary, close-on-exec in the host (no other child inherits it).
func newImage(path string) (*os.File, error) {
	name := "codexhost-plugin:" + filepath.Base(path)
	// Cut to what memfd_create takes (it refuses a longer name): a file
	// name may have 255 bytes. The name only labels the copy (/proc).
	if len(name) > maxMemfdName {
		name = name[:maxMemfdName]
	}
	// MFD_EXEC: where vm.memfd_noexec asks for it (Linux 6.3 on), a memfd
	// is executable only if created so; older kernels reject the flag.
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, &os.PathError{Op: "memfd_create", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// maxMemfdName is the longest name memfd_create takes (MFD_NAME_MAX_LEN:
// NAME_MAX less the "memfd:" it prefixes).
const maxMemfdName = 255 - len("memfd:")

// sealImage makes the image immutable: no process, the host included,
// can write, shrink or grow it any more, nor lift the seals.
func sealImage(f *os.File) error {
	_, err := unix.FcntlInt(f.Fd(), unix.F_ADD_SEALS,
		unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE)
	if err != nil {
		return &os.PathError{Op: "seal", Path: f.Name(), Err: err}
	}
	return nil
}
