package wasm

import (
	"runtime"

	"github.com/tetratelabs/wazero/experimental"
)

// This file owns the guests' linear memories: where their bytes live and
// the limit on their size.

// limitedMemory backs a guest's linear memory and refuses to grow it past
// limit: memory.grow then returns -1 in the guest. It gives each instance
// its own limit while all share one wazero runtime.
//
// Where the platform can (memory_unix.go), the memory is a reservation of
// limit bytes of address space outside the Go heap: growing it moves and
// copies nothing, only the pages the guest touches are resident, and the
// garbage collector neither counts nor scans it, so a guest's heap does not
// also raise the host's GC target. Elsewhere it is a Go slice that grows
// like append.
//
// A reservation is released in two steps. Free (wazero calls it when the
// module is closed) returns its pages to the system at once but keeps the
// addresses mapped: a call that the runtime's Close overtakes reads zeros,
// never unmapped memory. The addresses go when the limitedMemory is
// unreachable, through a cleanup; every use of the bytes is in a method of
// the instance, which keeps it reachable (instance.call and
// instance.result end with runtime.KeepAlive).
type limitedMemory struct {
	buf     []byte
	limit   uint64
	refused bool // a grow was refused (reset at each call)
	// mapped is the reservation, when the memory has one; buf is a prefix
	// of it.
	mapped []byte
}

func (m *limitedMemory) allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	m.limit = min(m.limit, maxBytes)
	if b := reserve(m.limit); b != nil {
		m.mapped = b
		runtime.AddCleanup(m, release, b)
		return m
	}
	m.buf = make([]byte, 0, min(capacity, m.limit))
	return m
}

// Reallocate implements experimental.LinearMemory.
func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused = true
		return nil
	}
	if m.mapped != nil {
		// Pages past the old length were never written: they are zero.
		m.buf = m.mapped[:size:size]
		return m.buf
	}
	if size <= uint64(cap(m.buf)) {
		// Bytes past len were never written: they are still zero.
		m.buf = m.buf[:size]
		return m.buf
	}
	// Grow like append: amortized doubling, but never past the limit.
	c := min(max(size, 2*uint64(cap(m.buf))), m.limit)
	b := make([]byte, size, c)
	copy(b, m.buf)
	m.buf = b
	return b
}

// Free implements experimental.LinearMemory. A reservation's pages go back
// to the system (the addresses stay until the cleanup); a Go slice is left
// to the garbage collector: freeing it explicitly could pull it from under
// a call that the runtime is closing.
func (m *limitedMemory) Free() {
	if m.mapped != nil {
		discard(m.mapped)
	}
}
