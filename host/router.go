package host

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/rpc"
)

// router delivers notifications to the turns that subscribed to their
// thread. deliver runs on the rpc dispatcher goroutine, one notification at
// a time, in arrival order.
type router struct {
	mu     sync.Mutex
	subs   map[string][]*subscription
	closed bool
	buf    int
	budget byteBudget // bytes of events waiting in subscriptions' buffers
	seq    uint64     // only touched by deliver
	ids    idCache
	scan   scanner // decode's; ids and scan are only touched by deliver
	logger *slog.Logger
	// observers see every event, subscribed or not (used by tests and by
	// the recorder); they must not block for long.
	observe func(*Event)
	// delivering counts the deliveries in progress (0 or 1: one
	// dispatcher): an observer or a subscription may hold one a while.
	delivering atomic.Int32
}

type subscription struct {
	threadID string
	ch       chan *Event
	done     chan struct{} // closed by close
	once     sync.Once
	r        *router

	// mu guards isClosed and queued, the budget bytes of the events this
	// subscription holds. close returns queued to the budget at once, so
	// that a turn that stops listening frees the budget even though its
	// buffered events stay readable (Turn.next drains them after
	// Client.Close).
	mu       sync.Mutex
	isClosed bool
	queued   int

	// turnID, once set (setTurn), is the turn the subscription is for:
	// it is closed once it has been handed that turn's turn/completed, so
	// that a completed turn nobody reads does not hold later events of
	// its thread (and, its buffer full, the dispatcher) for ever. What it
	// buffered stays readable. completed are the turns whose turn/completed
	// it was handed before its turn was set (the turn/start response and
	// the events race), the last few. Guarded by mu.
	turnID    string
	completed []string
}

// setTurn sets the turn the subscription is for, closing it if that turn
// has completed already.
func (s *subscription) setTurn(id string) {
	s.mu.Lock()
	s.turnID = id
	done := slices.Contains(s.completed, id)
	s.completed = nil
	s.mu.Unlock()
	if done {
		s.close()
	}
}

// handed notes that turn/completed of turn id was handed to s, closing s
// if it is s's turn.
func (s *subscription) handed(id string) {
	s.mu.Lock()
	mine := s.turnID != "" && s.turnID == id
	if s.turnID == "" {
		if len(s.completed) == 8 {
			s.completed = s.completed[1:]
		}
		s.completed = append(s.completed, id)
	}
	s.mu.Unlock()
	if mine {
		s.close()
	}
}

// init sets up the router: buf events at most in each subscription's
// buffer, and maxBytes of events (by eventCost) at most in all of them.
func (r *router) init(buf, maxBytes int, logger *slog.Logger) {
	r.subs = map[string][]*subscription{}
	r.buf = buf
	r.budget.init(maxBytes)
	r.logger = logger
}

// sent accounts for an event deliver has put in s.ch, its cost already
// acquired from the budget.
func (s *subscription) sent(cost int) {
	s.mu.Lock()
	closed := s.isClosed
	if !closed {
		s.queued += cost
	}
	s.mu.Unlock()
	if closed {
		s.r.budget.release(cost)
	}
}

// taken returns the bytes of an event received from s.ch to the budget.
// (It may run before the sent of the same event: queued dips below zero
// for that moment, and the sums still match.)
func (s *subscription) taken(ev *Event) {
	cost := eventCost(ev)
	s.mu.Lock()
	closed := s.isClosed
	if !closed {
		s.queued -= cost
	}
	s.mu.Unlock()
	if !closed {
		s.r.budget.release(cost)
	}
}

// take returns the next queued event of s, if any, without blocking.
func (s *subscription) take() *Event {
	select {
	case ev := <-s.ch:
		s.taken(ev)
		return ev
	default:
		return nil
	}
}

func (r *router) subscribe(threadID string) *subscription {
	s := &subscription{threadID: threadID, ch: make(chan *Event, r.buf), done: make(chan struct{}), r: r}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		// Closed as closeAll closes: once, so that a later close (the
		// caller's, as StartTurn fails) does nothing.
		s.once.Do(func() {
			s.isClosed = true
			close(s.done)
		})
		return s
	}
	r.subs[threadID] = append(r.subs[threadID], s)
	return s
}

// close unsubscribes; a deliver blocked on this subscription returns.
func (s *subscription) close() {
	s.once.Do(func() {
		r := s.r
		r.mu.Lock()
		list := r.subs[s.threadID]
		if i := slices.Index(list, s); i >= 0 {
			list = slices.Delete(list, i, i+1)
		}
		if len(list) == 0 {
			delete(r.subs, s.threadID)
		} else {
			r.subs[s.threadID] = list
		}
		r.mu.Unlock()
		s.mu.Lock()
		s.isClosed = true
		q := s.queued
		s.queued = 0
		s.mu.Unlock()
		s.r.budget.release(q)
		close(s.done)
	})
}

func (r *router) closeAll() {
	r.mu.Lock()
	var all []*subscription
	for _, l := range r.subs {
		all = append(all, l...)
	}
	r.closed = true
	r.mu.Unlock()
	for _, s := range all {
		s.close()
	}
}

// deliver is the rpc NotificationHandler. It blocks while a subscriber's
// buffer is full: that is the backpressure that keeps memory bounded without
// dropping events.
func (r *router) deliver(ctx context.Context, n *rpc.Request) {
	r.delivering.Add(1)
	defer r.delivering.Add(-1)
	ev, ok := n.Decoded.(*Event) // decoded by the reader (paramsDecoder)
	if !ok {
		var err error
		ev, err = r.decode(n.Method, n.Params)
		if err != nil {
			// Still deliver it: the raw params are there, and skipping an
			// event is worse than an event with fewer typed fields.
			r.logger.Warn("codexhost: undecodable notification", "method", n.Method, "err", err)
		}
	}
	r.seq++
	ev.Seq = r.seq
	if r.observe != nil {
		r.observe(ev)
	}
	if ev.ThreadID == "" {
		if ev.Method == string(protocol.NotifConfigWarning) {
			// At Info, not Warn: it is an event too, which observers get
			// and a program shows its own way (codexhost run prints it as
			// codex exec does); a Warn log would print it a second time.
			var w struct{ Summary, Details string }
			_ = json.Unmarshal(ev.Params, &w)
			r.logger.Info("codex: "+w.Summary, "details", w.Details)
		}
		return
	}
	r.mu.Lock()
	subs := r.subs[ev.ThreadID]
	if len(subs) > 1 {
		subs = slices.Clone(subs)
	}
	r.mu.Unlock()
	cost := eventCost(ev)
	for _, s := range subs {
		if !r.budget.acquire(ctx, cost) {
			return
		}
		select {
		case s.ch <- ev:
			s.sent(cost)
			if ev.Kind == abi.EventTurnCompleted {
				s.handed(ev.TurnID)
			}
		case <-s.done:
			r.budget.release(cost)
		case <-ctx.Done():
			r.budget.release(cost)
			return
		}
	}
}

// eventOverhead is what eventCost counts for an event besides its params:
// the Event and the strings and typed values decoded from it.
const eventOverhead = 256

// eventCost is the bytes an event is counted for in the router's budget:
// its params (which hold the line they were read from alive), the text it
// carries decoded a second time, and eventOverhead.
func eventCost(ev *Event) int {
	n := eventOverhead + len(ev.Params) + len(ev.Delta)
	if ev.Item != nil {
		n += len(ev.Item.Text)
	}
	return n
}

// byteBudget is a counting bound on bytes that a blocked acquire can wait
// on with a context. One acquire always succeeds when nothing is held, so an
// event larger than the whole budget still passes, alone.
type byteBudget struct {
	mu      sync.Mutex
	used    int
	max     int
	waiting bool          // an acquire waits on wake
	wake    chan struct{} // closed by release when waiting
}

func (b *byteBudget) init(max int) {
	b.max = max
	b.wake = make(chan struct{})
}

// acquire takes n bytes, blocking while they would exceed the bound. It
// reports false, having taken nothing, when ctx ends first.
func (b *byteBudget) acquire(ctx context.Context, n int) bool {
	for {
		b.mu.Lock()
		if b.used == 0 || b.used+n <= b.max {
			b.used += n
			b.mu.Unlock()
			return true
		}
		b.waiting = true
		wake := b.wake
		b.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

// release returns n bytes and wakes a waiting acquire. n may be negative
// (subscription.close returning a balance that a racing deliver has yet to
// add).
func (b *byteBudget) release(n int) {
	b.mu.Lock()
	b.used -= n
	if b.waiting {
		close(b.wake)
		b.wake = make(chan struct{})
		b.waiting = false
	}
	b.mu.Unlock()
}
