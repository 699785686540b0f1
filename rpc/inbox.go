package rpc

import "sync"

// inbox is the ordered queue between the reader and the dispatcher. It
// bounds the raw line bytes it holds: push blocks while admitting a message
// would exceed max, unless the queue is empty (one message is always
// admitted, however large).
type inbox struct {
	mu       sync.Mutex
	nonEmpty sync.Cond // signalled on push and on stop
	notFull  sync.Cond // signalled on pop and on stop

	items []inboxItem // ring buffer; len(items) is its capacity
	head  int         // index of the oldest item
	n     int         // number of items
	bytes int         // sum of the items' sizes
	max   int

	// closed: no more pushes; the dispatcher drains what is queued.
	closed bool
	// abandoned: the dispatcher stops at once; queued items are dropped.
	abandoned bool
}

// maxIdleRing is the largest ring kept once the queue is empty.
const maxIdleRing = 4096

type inboxItem struct {
	req  *Request
	size int
}

func (q *inbox) init(max int) {
	q.max = max
	q.nonEmpty.L = &q.mu
	q.notFull.L = &q.mu
}

// push appends req, blocking while the queue is over its byte limit. It
// reports false, without queuing, once the inbox is closed.
func (q *inbox) push(req *Request, size int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n > 0 && q.bytes+size > q.max && !q.closed {
		q.notFull.Wait()
	}
	if q.closed {
		return false
	}
	if q.n == len(q.items) {
		q.grow()
	}
	q.items[(q.head+q.n)%len(q.items)] = inboxItem{req: req, size: size}
	q.n++
	q.bytes += size
	q.nonEmpty.Signal()
	return true
}

func (q *inbox) grow() {
	size := 2 * len(q.items)
	if size == 0 {
		size = 64
	}
	items := make([]inboxItem, size)
	for i := range q.n {
		items[i] = q.items[(q.head+i)%len(q.items)]
	}
	q.items, q.head = items, 0
}

// pop removes and returns the oldest request, blocking while the queue is
// empty. It reports false when the inbox is abandoned, or closed and
// drained.
func (q *inbox) pop() (*Request, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n == 0 && !q.closed && !q.abandoned {
		q.nonEmpty.Wait()
	}
	if q.abandoned || q.n == 0 {
		return nil, false
	}
	it := q.items[q.head]
	q.items[q.head] = inboxItem{}
	q.head = (q.head + 1) % len(q.items)
	q.n--
	q.bytes -= it.size
	if q.n == 0 && len(q.items) > maxIdleRing {
		q.items, q.head = nil, 0 // release the memory of a past burst
	}
	q.notFull.Signal()
	return it.req, true
}

// close refuses further pushes, waking a blocked push; the dispatcher still
// drains what is queued.
func (q *inbox) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.nonEmpty.Broadcast()
	q.notFull.Broadcast()
}

// abandon closes the inbox and drops what is queued; pop returns false at
// once.
func (q *inbox) abandon() {
	q.mu.Lock()
	q.closed, q.abandoned = true, true
	q.items, q.head, q.n, q.bytes = nil, 0, 0, 0
	q.mu.Unlock()
	q.nonEmpty.Broadcast()
	q.notFull.Broadcast()
}
