package chain

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
)

// A Member is one plugin's place in a [Chain].
type Member struct {
	Plugin plugins.Plugin
	// Monitor puts the plugin in monitor mode: it is asked like the
	// others, and its answer is recorded (PluginAnswer.Monitor) and
	// measured, but it never changes the answer sent to codex, and
	// neither does its failure. Use it to roll out a new policy. A monitor
	// plugin takes part in the approval and tool-input hooks, and renders
	// events with its output discarded; its dynamic tools are not
	// registered (a tool call cannot be answered twice).
	Monitor bool
	// CrashBudget overrides Options.CrashBudget for this plugin when
	// its Failures is not zero.
	CrashBudget CrashBudget
	// Digest and Source describe where the plugin came from (its sha256
	// and its path or reference); they are only reported, in [PluginStatus].
	Digest, Source string
}

// A PluginSet is the part of a [Chain] that [Chain.Swap] replaces: its
// plugins, and how their approvals combine.
type PluginSet struct {
	Members []Member
	Mode    Mode
	// Fallback is as in [Options]. Default: abi.Decline.
	Fallback abi.Decision
}

// pluginSet is an immutable, validated PluginSet with a reference count
// of the requests that use it.
type pluginSet struct {
	gen      uint64
	members  []*member
	mode     Mode
	fallback abi.Decision
	tools    map[string]*member
	specs    []host.ToolSpec
	renders  bool // a member implements abi.HookEventRender

	refs    atomic.Int64
	retired atomic.Bool
	drained chan struct{}
	once    sync.Once
}

// member is a Member in a pluginSet, with its crash-budget state.
type member struct {
	Member
	name     string
	hooks    uint64 // 1<<hook for each hook the manifest lists
	features abi.Features
	budgetState
}

func newPluginSet(set *PluginSet, budget CrashBudget) (*pluginSet, error) {
	s := &pluginSet{mode: set.Mode, fallback: set.Fallback, tools: map[string]*member{}, drained: make(chan struct{})}
	if s.fallback == "" {
		s.fallback = abi.Decline
	}
	switch s.fallback {
	case abi.Decline, abi.Cancel, abi.Accept:
	default:
		return nil, fmt.Errorf("chain: chain fallback %q must be decline, cancel or accept", s.fallback)
	}
	switch s.mode {
	case DenyWins, FirstAnswer:
	default:
		return nil, fmt.Errorf("chain: unknown chain mode %d", s.mode)
	}
	budget = budget.withDefaults()
	for i, mem := range set.Members {
		if mem.Plugin == nil {
			return nil, fmt.Errorf("chain: chain member %d has no plugin", i)
		}
		man := mem.Plugin.Manifest()
		m := &member{Member: mem, name: man.Name, budgetState: budgetState{name: man.Name, budget: budget}}
		for _, h := range man.Hooks {
			m.hooks |= 1 << h
		}
		m.features = man.Features
		if m.implements(abi.HookEventRender) {
			s.renders = true
		}
		if mem.CrashBudget.Failures != 0 {
			m.budget = mem.CrashBudget.withDefaults()
		}
		s.members = append(s.members, m)
		if mem.Monitor {
			continue
		}
		for _, t := range man.Tools {
			if prev, ok := s.tools[t.Name]; ok {
				return nil, fmt.Errorf("chain: tool %q is declared by both %q and %q", t.Name, prev.name, m.name)
			}
			s.tools[t.Name] = m
			s.specs = append(s.specs, host.ToolSpec{Name: t.Name, Description: t.Description, InputSchema: json.RawMessage(t.InputSchema)})
		}
	}
	return s, nil
}

// release ends one request's use of s.
func (s *pluginSet) release() {
	if s.refs.Add(-1) == 0 && s.retired.Load() {
		s.once.Do(func() { close(s.drained) })
	}
}

// retire marks s as replaced; drained closes once no request uses it.
func (s *pluginSet) retire() {
	s.retired.Store(true)
	if s.refs.Load() == 0 {
		s.once.Do(func() { close(s.drained) })
	}
}

// acquire returns the current set, counted as in use until release.
func (c *Chain) acquire() *pluginSet {
	for {
		s := c.cur.Load()
		s.refs.Add(1)
		// A Swap between the Load and the Add may have found no user and
		// declared s drained: use s only if it is still current.
		if c.cur.Load() == s {
			return s
		}
		s.release()
	}
}

// Swap installs set in place of the chain's plugin set, atomically: every
// request that starts after Swap returns uses the new set, and every
// request in flight finishes on the set it started with. Swap validates
// set first (as [NewChain] does) and, if it is invalid, returns the error
// and leaves the chain unchanged. It does not call any plugin.
//
// Swap returns the replaced set. The chain does not own plugins: wait for
// [RetiredSet.Wait] (every request that used the old set has been
// answered) before closing plugins that are not in the new set.
//
// Crash-budget state belongs to a set: a plugin disabled in the old set
// is enabled again in the new one. Tools: codex learns dynamic tools when a
// thread starts, so tools added by set reach new threads only; a call of a
// tool that set no longer serves is answered with a failure that says so.
//
// Swap is safe for concurrent use with every other method; concurrent
// Swaps are applied one after the other.
func (c *Chain) Swap(set *PluginSet) (*RetiredSet, error) {
	if set == nil {
		set = &PluginSet{}
	}
	c.swapMu.Lock()
	defer c.swapMu.Unlock()
	s, err := newPluginSet(set, c.opts.CrashBudget)
	if err != nil {
		return nil, err
	}
	s.gen = c.cur.Load().gen + 1
	if s.renders {
		c.renders.Store(true)
	}
	old := c.cur.Swap(s)
	old.retire()
	c.opts.Logger.Info("codexhost: plugin set swapped", "generation", s.gen, "plugins", len(s.members))
	return &RetiredSet{s: old}, nil
}

// Generation is the number of the chain's current plugin set: 1 for the
// set of NewChain, one more for each successful Swap.
func (c *Chain) Generation() uint64 { return c.cur.Load().gen }

// A RetiredSet is a plugin set that [Chain.Swap] replaced. Its methods are
// safe for concurrent use.
type RetiredSet struct{ s *pluginSet }

// Generation is the retired set's generation number.
func (r *RetiredSet) Generation() uint64 { return r.s.gen }

// Done is closed when no request uses the set any more.
func (r *RetiredSet) Done() <-chan struct{} { return r.s.drained }

// Wait blocks until no request uses the set any more (then its plugins
// may be closed), or ctx ends.
func (r *RetiredSet) Wait(ctx context.Context) error {
	select {
	case <-r.s.drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// call calls the member's plugin, unless its crash budget disabled it, and
// charges failures to the budget.
func (m *member) call(ctx context.Context, hook abi.Hook, payload []byte, log *slog.Logger) ([]byte, error) {
	if m.disabled.Load() {
		return nil, m.disabledErr()
	}
	out, err := m.callRecovered(ctx, hook, payload)
	if err != nil && countsAgainstBudget(ctx, err) {
		m.fail(err, log)
	}
	return out, err
}

// callRecovered calls the plugin, turning a panic (an in-process plugin's:
// the runtimes recover their own) into a trap, which the crash budget
// counts and the chain records as the plugin's failure.
func (m *member) callRecovered(ctx context.Context, hook abi.Hook, payload []byte) (out []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &plugins.CallError{Plugin: m.name, Hook: hook, Kind: plugins.FailTrap, Err: fmt.Errorf("panic: %v", v)}
		}
	}()
	return m.Plugin.Call(ctx, hook, payload)
}

func (m *member) implements(h abi.Hook) bool { return m.hooks&(1<<h) != 0 }

// A PluginState is whether a chain still calls a plugin.
type PluginState uint8

const (
	// PluginEnabled: the plugin is called.
	PluginEnabled PluginState = iota
	// PluginDisabled: the crash budget disabled the plugin.
	PluginDisabled
)

func (s PluginState) String() string {
	if s == PluginDisabled {
		return "disabled"
	}
	return "enabled"
}

// PluginStatus describes a plugin of the chain's current set.
type PluginStatus struct {
	Name, Version  string
	Digest, Source string // from the Member
	Hooks          []abi.Hook
	Monitor        bool
	State          PluginState
	// Failures counts the failures charged to the crash budget since the
	// set was installed.
	Failures uint64
	// DisabledAt and DisabledWhy say when and why the crash budget
	// disabled the plugin.
	DisabledAt  time.Time
	DisabledWhy string
	// Generation is the plugin set's generation.
	Generation uint64
}

// Status describes the plugins of the current set, in chain order. It is
// safe for concurrent use and cheap enough to call on every metrics
// scrape.
func (c *Chain) Status() []PluginStatus {
	s := c.cur.Load()
	out := make([]PluginStatus, 0, len(s.members))
	for _, m := range s.members {
		man := m.Plugin.Manifest()
		st := PluginStatus{Name: m.name, Version: man.Version, Digest: m.Digest, Source: m.Source,
			Hooks: man.Hooks, Monitor: m.Monitor, Failures: m.failures.Load(), Generation: s.gen}
		if m.disabled.Load() {
			m.mu.Lock()
			st.State, st.DisabledAt, st.DisabledWhy = PluginDisabled, m.disabledAt, m.disabledWhy
			m.mu.Unlock()
		}
		out = append(out, st)
	}
	return out
}
