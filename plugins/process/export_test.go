package process

import (
	"time"
)

// SetClock makes now the clock of p's restart budget and backoff (see
// Plugin.now). Call it before the call that may restart p, not
// concurrently with calls.
func SetClock(p *Plugin, now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.now = now
}

// Exited returns a channel closed when p's current process has exited (and
// the runtime noticed: Pid returns 0 from then on), or nil when no process
// runs.
func Exited(p *Plugin) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return nil
	}
	return p.cur.runner.exited
}

// SetAfterVerify makes hook run between the check of a pinned binary and
// its start, for every plugin of the process, until the test ends.
func SetAfterVerify(t interface{ Cleanup(func()) }, hook func(path string)) {
	afterVerify.Store(&hook)
	t.Cleanup(func() { afterVerify.Store(nil) })
}
