package host

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"

	"github.com/codexhost/codexhost/rpc"
)

func deltaNote(i int) *rpc.Request {
	return &rpc.Request{Method: "item/agentMessage/delta",
		Params: json.RawMessage(fmt.Sprintf(`{"threadId":"t1","turnId":"u1","itemId":"i1","delta":"d%06d"}`, i))}
}

// The router's byte budget blocks delivery once the events waiting in the
// subscriptions' buffers reach it (long before the count bound here), lets
// it go on as the consumer takes events, delivers every event in order,
// and returns to zero when all are taken.
func TestRouterByteBudgetBlocksAndLosesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r router
		one := eventCost(&Event{Params: deltaNote(0).Params, Delta: "d000000"})
		const fit = 10
		r.init(1000, fit*one, slog.New(slog.DiscardHandler))
		s := r.subscribe("t1")
		const n = 100
		delivered := make(chan int, n)
		go func() {
			for i := range n {
				r.deliver(context.Background(), deltaNote(i))
				delivered <- i
			}
			close(delivered)
		}()
		synctest.Wait() // deliver is durably blocked on the budget
		if got := len(delivered); got != fit {
			t.Fatalf("delivered %d events before blocking, want %d (the budget holds %d)", got, fit, fit)
		}
		if r.budget.used != fit*one {
			t.Fatalf("budget used %d, want %d", r.budget.used, fit*one)
		}
		for i := range n {
			ev := <-s.ch
			s.taken(ev)
			if want := fmt.Sprintf("d%06d", i); ev.Delta != want {
				t.Fatalf("event %d: delta %q, want %q", i, ev.Delta, want)
			}
			synctest.Wait()
			if r.budget.used > fit*one {
				t.Fatalf("budget used %d over its bound %d", r.budget.used, fit*one)
			}
		}
		for range delivered {
		}
		if r.budget.used != 0 {
			t.Fatalf("budget used %d after every event was taken, want 0", r.budget.used)
		}
	})
}

// A subscription closed with events still buffered returns their bytes at
// once, so delivery to another turn goes on; its buffered events stay
// readable.
func TestRouterCloseReturnsBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r router
		one := eventCost(&Event{Params: deltaNote(0).Params, Delta: "d000000"})
		r.init(1000, 3*one, slog.New(slog.DiscardHandler))
		a := r.subscribe("t1")
		done := make(chan struct{})
		go func() {
			for i := range 4 {
				r.deliver(context.Background(), deltaNote(i))
			}
			close(done)
		}()
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("4 events delivered into a budget of 3")
		default:
		}
		a.close() // the fourth event then goes nowhere: a was the only subscriber
		<-done
		if r.budget.used != 0 {
			t.Fatalf("budget used %d after close, want 0", r.budget.used)
		}
		if ev := a.take(); ev == nil || ev.Delta != "d000000" {
			t.Fatalf("buffered event after close: %+v", ev)
		}
		if r.budget.used != 0 {
			t.Fatalf("budget used %d after taking from a closed subscription, want 0", r.budget.used)
		}
	})
}

// An event larger than the whole budget still passes, alone.
func TestRouterOversizeEventPassesAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var r router
		r.init(1000, 10, slog.New(slog.DiscardHandler))
		s := r.subscribe("t1")
		done := make(chan struct{})
		go func() {
			r.deliver(context.Background(), deltaNote(0))
			r.deliver(context.Background(), deltaNote(1))
			close(done)
		}()
		synctest.Wait()
		if len(s.ch) != 1 {
			t.Fatalf("%d events queued, want the first alone", len(s.ch))
		}
		s.taken(<-s.ch)
		<-done
		s.taken(<-s.ch)
		if r.budget.used != 0 {
			t.Fatalf("budget used %d, want 0", r.budget.used)
		}
	})
}

// The default bound follows a Go memory limit down, not under 1 MiB.
func TestDefaultMaxQueuedBytes(t *testing.T) {
	for _, c := range []struct {
		limit int64
		want  int
	}{
		{1<<63 - 1, DefaultMaxQueuedBytes},
		{1 << 30, DefaultMaxQueuedBytes},
		{32 << 20, 4 << 20},
		{1 << 20, 1 << 20},
	} {
		if got := defaultMaxQueuedBytes(c.limit); got != c.want {
			t.Errorf("limit %d: %d, want %d", c.limit, got, c.want)
		}
	}
}
