//go:build unix

package wasm

import (
	"golang.org/x/sys/unix"
)

// reserve maps n bytes of zeroed, private address space that commits no
// memory until it is touched, or returns nil if it cannot.
func reserve(n uint64) []byte {
	if n == 0 || n != uint64(int(n)) {
		return nil
	}
	b, err := unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

// discard gives b's pages back to the system; b stays mapped and reads
// as zeros.
func discard(b []byte) {
	_ = unix.Madvise(b, unix.MADV_DONTNEED)
}

// release unmaps what reserve mapped.
func release(b []byte) {
	_ = unix.Munmap(b)
}
