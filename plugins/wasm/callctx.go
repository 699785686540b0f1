package wasm

import (
	"context"
	"sync"
	"time"
)

// A callCtx is the context of the hook calls into one instance: the
// caller's ctx bounded by the plugin's Timeout. It is reused call after
// call (begin, the call, end), so that a call allocates nothing for its
// deadline; context.WithTimeout would cost five allocations per call. A
// callCtx that is done is never reused: its instance is discarded with it.
//
// wazero watches Done (WithCloseOnContextDone) and reads Err when it
// fires; host functions may call Value.
type callCtx struct {
	timer *time.Timer // fires expire; stopped between calls
	done  chan struct{}
	in    *instance // the instance it runs calls on (Value(instanceKey{}))

	mu       sync.Mutex
	parent   context.Context // the caller's ctx during a call
	deadline time.Time
	timeout  time.Duration // the call timeout of the current call
	active   bool          // between begin and end
	err      error         // set, and done closed, when the context is done
	cause    error         // why: names the deadline or the cancellation
	stop     func() bool
}

var _ context.Context = (*callCtx)(nil)

func newCallCtx(in *instance) *callCtx {
	c := &callCtx{done: make(chan struct{}), parent: context.Background(), in: in}
	c.timer = time.AfterFunc(time.Hour, c.expire)
	c.timer.Stop()
	return c
}

// begin starts a call under parent with timeout.
func (c *callCtx) begin(parent context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.mu.Lock()
	c.parent, c.deadline, c.timeout, c.active = parent, deadline, timeout, true
	c.mu.Unlock()
	if err := parent.Err(); err != nil {
		c.cancel(err, deadlineCause(parent))
		return
	}
	c.timer.Reset(time.Until(deadline))
	if parent.Done() != nil {
		c.stop = context.AfterFunc(parent, c.parentDone)
	}
}

// end ends a call and reports whether the context is still usable: false
// if it is done (the call ran into its deadline or was cancelled).
func (c *callCtx) end() bool {
	c.timer.Stop()
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active = false
	c.parent = context.Background() // do not keep the caller's ctx
	return c.err == nil
}

// expire is the timer's function. A stale run, from a timer stopped too
// late, finds the deadline of a later call not reached yet.
func (c *callCtx) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.active && !time.Now().Before(c.deadline) {
		c.doneLocked(context.DeadlineExceeded, &deadlineError{what: "the call timeout", d: c.timeout})
	}
}

// parentDone runs when the caller's ctx is done.
func (c *callCtx) parentDone() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.parent.Err(); c.active && err != nil {
		c.doneLocked(err, deadlineCause(c.parent))
	}
}

// cancel ends the context with err (context.Canceled or
// context.DeadlineExceeded) for cause.
func (c *callCtx) cancel(err, cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.doneLocked(err, cause)
}

func (c *callCtx) doneLocked(err, cause error) {
	if c.err == nil {
		c.err, c.cause = err, cause
		close(c.done)
	}
}

// why returns the cause of the end of the context, or nil.
func (c *callCtx) why() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Deadline implements context.Context.
func (c *callCtx) Deadline() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.deadline, true
}

// Done implements context.Context.
func (c *callCtx) Done() <-chan struct{} { return c.done }

// Err implements context.Context.
func (c *callCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Value implements context.Context: the caller's values, and the instance
// for instanceKey.
func (c *callCtx) Value(key any) any {
	if key == (instanceKey{}) {
		return c.in
	}
	c.mu.Lock()
	p := c.parent
	c.mu.Unlock()
	return p.Value(key)
}
