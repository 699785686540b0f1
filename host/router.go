package host

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"

	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/rpc"
)

// router delivers notifications to the turns that subscribed to their
// thread. deliver runs on the rpc dispatcher goroutine, one notification at
// a time, in arrival order.
type router struct {
	mu      sync.Mutex
	subs    map[string][]*subscription
	closed  bool
	buf     int
	seq     uint64 // only touched by deliver
	ids     idCache
	scratch []byte // decode's; ids and scratch are only touched by deliver
	logger  *slog.Logger
	// observers see every event, subscribed or not (used by tests and by
	// the recorder); they must not block for long.
	observe func(*Event)
}

type subscription struct {
	threadID string
	ch       chan *Event
	done     chan struct{} // closed by close
	once     sync.Once
	r        *router
}

func (r *router) init(buf int, logger *slog.Logger) {
	r.subs = map[string][]*subscription{}
	r.buf = buf
	r.logger = logger
}

func (r *router) subscribe(threadID string) *subscription {
	s := &subscription{threadID: threadID, ch: make(chan *Event, r.buf), done: make(chan struct{}), r: r}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		close(s.done)
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
	ev, err := r.decode(n.Method, n.Params)
	if err != nil {
		// Still deliver it: the raw params are there, and skipping an
		// event is worse than an event with fewer typed fields.
		r.logger.Warn("codexhost: undecodable notification", "method", n.Method, "err", err)
	}
	r.seq++
	ev.Seq = r.seq
	if r.observe != nil {
		r.observe(ev)
	}
	if ev.ThreadID == "" {
		if ev.Method == string(protocol.NotifConfigWarning) {
			var w struct{ Summary, Details string }
			_ = json.Unmarshal(ev.Params, &w)
			r.logger.Warn("codex: "+w.Summary, "details", w.Details)
		}
		return
	}
	r.mu.Lock()
	subs := r.subs[ev.ThreadID]
	if len(subs) > 1 {
		subs = slices.Clone(subs)
	}
	r.mu.Unlock()
	for _, s := range subs {
		select {
		case s.ch <- ev:
		case <-s.done:
		case <-ctx.Done():
			return
		}
	}
}
