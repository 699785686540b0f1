package audit

import (
	"fmt"
	"os"
	"syscall"
)

// lock takes the file's exclusive advisory lock (flock), so that two
// processes appending to one log keep one chain. A nil f is no lock.
func lock(f *os.File) error {
	for f != nil {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("audit: lock %s: %w", f.Name(), err)
		}
		return nil
	}
	return nil
}

func unlock(f *os.File) {
	if f != nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
}
