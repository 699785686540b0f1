package wasm

import (
	"runtime"
	"sync"

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
// module is closed, maybe while a call the runtime's Close overtook is
// still running) returns its pages to the system at once but keeps the
// addresses mapped: that call reads zeros, never unmapped memory. The
// addresses go when the instance's owner closes it, no call running
// (instance.close), or else when the limitedMemory is unreachable, through
// a cleanup; every use of the bytes is in a method of the instance, which
// keeps it reachable (instance.call and instance.result end with
// runtime.KeepAlive). Once unmapped, a reservation is never touched again:
// its addresses may be another mapping's by then.
type limitedMemory struct {
	buf     []byte
	limit   uint64
	refused bool // a grow was refused (reset at each call)
	// res is the reservation, when the memory has one; buf is a prefix of
	// its bytes.
	res *reservation
}

// A reservation is address space that reserve mapped.
type reservation struct {
	b        []byte
	mu       sync.Mutex // orders discard and release
	released bool
}

// discard gives the pages back, unless the reservation is released.
func (r *reservation) discard() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.released {
		discard(r.b)
	}
}

// release unmaps the reservation, once.
func (r *reservation) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.released {
		r.released = true
		release(r.b)
	}
}

func (m *limitedMemory) allocate(capacity, maxBytes uint64) experimental.LinearMemory {
	m.limit = min(m.limit, maxBytes)
	if b := reserve(m.limit); b != nil {
		m.res = &reservation{b: b}
		runtime.AddCleanup(m, (*reservation).release, m.res)
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
	if m.res != nil {
		// Pages past the old length were never written: they are zero.
		m.buf = m.res.b[:size:size]
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
	if m.res != nil {
		m.res.discard()
	}
}

// release unmaps a reservation, if the memory has one. Only the owner of
// the instance may call it, with no call running in it.
func (m *limitedMemory) release() {
	if m.res != nil {
		m.res.release()
	}
}
