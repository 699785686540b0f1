package chain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// A CrashBudget disables a plugin that keeps failing: after Failures
// counted failures within Window, the chain stops calling it, and its part
// in every later request falls back as if it had failed (approvals: the
// chain's fallback, fail closed; renderers: their output stops). It stays
// disabled until a [Chain.Swap] installs a new instance of it.
//
// Counted failures are those of the plugin, not of the request: a
// *plugins.CallError other than plugins.FailUnavailable (a trap, crash,
// timeout, memory limit, malformed or oversize result), an *abi.Error
// with abi.CodeInternal (e.g. a panic the guest SDK recovered), and an
// answer the host refuses (an invalid decision, extras the request does
// not entitle, a response that does not decode strictly).
type CrashBudget struct {
	// Failures is how many counted failures within Window disable the
	// plugin. Zero means [DefaultCrashFailures]; negative means never.
	Failures int
	// Window is the sliding window. Default: [DefaultCrashWindow].
	Window time.Duration
}

// The default crash budget: five failures in a minute.
const (
	DefaultCrashFailures = 5
	DefaultCrashWindow   = time.Minute
)

// ErrPluginDisabled is the error recorded (PluginAnswer.Err, wrapped) for
// a plugin the crash budget disabled.
var ErrPluginDisabled = errors.New("plugin disabled after repeated failures")

func (b CrashBudget) withDefaults() CrashBudget {
	if b.Failures == 0 {
		b.Failures = DefaultCrashFailures
	}
	if b.Window <= 0 {
		b.Window = DefaultCrashWindow
	}
	return b
}

// budgetState is one plugin's crash budget in one plugin set. Its methods
// are safe for concurrent use.
type budgetState struct {
	name   string
	budget CrashBudget

	disabled atomic.Bool
	failures atomic.Uint64 // counted failures since the set was installed

	mu          sync.Mutex
	recent      []time.Time // counted failures within the window, oldest first
	disabledAt  time.Time
	disabledWhy string
}

// disabledErr is the error of a call the budget stopped.
func (b *budgetState) disabledErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return fmt.Errorf("plugin %q: %w (%s)", b.name, ErrPluginDisabled, b.disabledWhy)
}

// errCallTimeout is the cause of a call's context that the chain's own
// bound on the call ended (a render call's RenderOptions.Timeout): the
// plugin took too long, which counts against its budget.
var errCallTimeout = errors.New("chain: the call took longer than its timeout")

// countsAgainstBudget reports whether err, the error of a call made under
// ctx, is a failure of the plugin itself (see CrashBudget).
func countsAgainstBudget(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		// The request ended, not the plugin; unless what ended it is the
		// call's own timeout.
		return errors.Is(context.Cause(ctx), errCallTimeout)
	}
	if ce, ok := errors.AsType[*plugins.CallError](err); ok {
		return ce.Kind != plugins.FailUnavailable
	}
	ae, ok := errors.AsType[*abi.Error](err)
	return ok && ae.Code == abi.CodeInternal
}

// fail charges one failure; the plugin is disabled when the budget is
// spent.
func (b *budgetState) fail(err error, log *slog.Logger) {
	n := b.failures.Add(1)
	if b.budget.Failures < 0 {
		return
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.disabled.Load() {
		return
	}
	keep := b.recent[:0]
	for _, t := range b.recent {
		if now.Sub(t) < b.budget.Window {
			keep = append(keep, t)
		}
	}
	b.recent = append(keep, now)
	if len(b.recent) < b.budget.Failures {
		return
	}
	b.disabledAt = now
	b.disabledWhy = fmt.Sprintf("%d failures within %s, the last: %v", len(b.recent), b.budget.Window, err)
	b.disabled.Store(true)
	log.Error("codexhost: plugin disabled by its crash budget; its part falls back until the plugin set is reloaded",
		"plugin", b.name, "failures", len(b.recent), "window", b.budget.Window, "total_failures", n, "err", err)
}
