package wasm

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
)

// Defaults of [Options].
const (
	// DefaultMemoryLimitPages bounds a guest's linear memory: 512 pages of
	// 64 KiB, 32 MiB. A Go guest uses 3-8 MiB.
	DefaultMemoryLimitPages = 512
	// DefaultMaxInstances bounds the instances of one plugin, hence the
	// calls into it that run at once.
	DefaultMaxInstances = 4
	// DefaultMaxOutputBytes bounds the output (codexhost.log lines,
	// stdout and stderr together) logged from one instance over its
	// lifetime: 1 MiB.
	DefaultMaxOutputBytes = 1 << 20
	// DefaultMaxCallOutputBytes bounds the output logged from one call
	// (or the start of an instance): 64 KiB.
	DefaultMaxCallOutputBytes = 64 << 10
	// maxMemoryLimitPages is the most a 32-bit memory can have (4 GiB).
	maxMemoryLimitPages = 65536
	// maxLogLineBytes bounds one line the guest logs with codexhost.log.
	maxLogLineBytes = 4 << 10
	// minInputBuffer is the smallest input buffer asked of a guest.
	minInputBuffer = 4 << 10
	// minStartTimeout bounds starting an instance (instantiate,
	// _initialize, describe, configure) when Options.Timeout is shorter.
	minStartTimeout = 10 * time.Second
	// minCompileTimeout bounds compiling a module when the start timeout
	// is shorter. The module limits bound what a compilation costs (a
	// module within them compiles in seconds on an idle core, a bomb is
	// refused before compiling); this is the backstop, generous so that
	// the first load of a large plugin on a slow or busy machine does not
	// fail: a 7 MiB Go guest took 18 s on a loaded 2-core machine, and
	// the race detector makes wazero's compiler ~8x slower. Later loads
	// hit the compilation cache.
	minCompileTimeout = 5 * time.Minute
)

// startTimeout bounds starting an instance: a hook's Timeout may be
// shorter than a Go guest's start (~5-30 ms, far more under -race), but an
// _initialize that never returns must still be stopped.
func (p *Plugin) startTimeout() time.Duration { return max(p.timeout, minStartTimeout) }

// compileTimeout bounds compiling the module.
func (p *Plugin) compileTimeout() time.Duration { return max(p.startTimeout(), minCompileTimeout) }

// Options configure a Wasm plugin. A nil *Options means defaults.
type Options struct {
	plugins.Options

	// MemoryLimitPages bounds the guest's linear memory, in 64 KiB pages.
	// A guest that asks for more sees memory.grow fail; a Go guest then
	// dies with "out of memory" and the call fails with
	// plugins.FailMemory. At most 65536 (4 GiB). Default:
	// DefaultMemoryLimitPages (32 MiB).
	MemoryLimitPages uint32
	// MaxInstances bounds how many instances of the plugin exist, hence
	// how many calls run at once; further callers wait for a free
	// instance (or for their ctx). Instances are created on demand and
	// kept until Close. Default: DefaultMaxInstances.
	MaxInstances int
	// MaxOutputBytes bounds what one instance may log (codexhost.log)
	// and write to stdout and stderr, together, over its lifetime;
	// MaxCallOutputBytes bounds the same in one call (the start of an
	// instance counts as a call). The output is logged line by line, and
	// each line costs its bytes and 64 more (its record's overhead: empty
	// lines are not free); what is over a budget is dropped, and the call
	// ends with one "dropped N bytes" warning. Defaults: DefaultMaxOutputBytes,
	// DefaultMaxCallOutputBytes. Negative: drop everything (with the
	// warning).
	MaxOutputBytes, MaxCallOutputBytes int
	// MaxModuleBytes bounds the size of the module. Default:
	// DefaultMaxModuleBytes.
	MaxModuleBytes int
	// MaxTableElements bounds each table of the module: a larger minimum
	// or declared maximum refuses the module, and a table with no
	// declared maximum cannot grow past it. Default:
	// DefaultMaxTableElements.
	MaxTableElements uint32
	// Logger receives the plugin's log lines (codexhost.log) and output.
	// Default: the Runtime's logger.
	Logger *slog.Logger
	// Name names the plugin in logs and errors instead of its manifest
	// name.
	Name string
	// Lazy lets Load return before the plugin is compiled and started,
	// when the runtime's cache directory records that this module loaded
	// before with the same settings, grants (and granted variables'
	// values) and limits: Load then checks the recorded manifest (grants,
	// limits, Admit) at once and returns, and the plugin loads when it is
	// first needed, at its first Call or [Plugin.Ready], on a goroutine
	// of its own (one lazy load at a time per Runtime); calls wait for
	// it. A load that succeeds with Lazy set writes the record. Without a
	// record (the first load, new settings, a cache in memory only), Load
	// loads at once.
	//
	// A lazy load can still fail: the cache was damaged, the guest
	// describes itself differently from its record (the load fails with
	// plugins.ErrBadManifest), or configure now refuses what it took
	// before (a granted file changed). Every call then fails with a
	// *plugins.CallError of kind FailUnavailable that wraps the load's
	// error, and [Plugin.Ready] returns it. A caller that must never act
	// on such a plugin's failure (a fallback decision, say) waits for
	// Ready first.
	Lazy bool
}

// A Plugin is a loaded Wasm plugin: a compiled module and a pool of
// instances of it, each configured with the plugin's settings.
//
// # Concurrency
//
// Call is safe for concurrent use. Each call runs on an instance of its
// own, never shared with another goroutine; up to Options.MaxInstances
// calls run at once and the others wait. Instances are created on demand
// (the first at load time) and kept, most recently used first, until they
// fail or the plugin is closed: the pool never shrinks. An instance of a
// Go guest costs its linear memory (3-8 MiB) plus about as much host heap.
//
// # Failures
//
// An instance whose call fails in the runtime (trap, timeout, memory
// limit, bad or oversize result) is closed and discarded, and the call
// returns a *plugins.CallError; the next call creates a fresh instance, so
// the Plugin stays usable. An *abi.Error from the plugin leaves the
// instance in the pool.
//
// # Closing
//
// Close marks the plugin closed at once: later calls, and callers waiting
// for an instance, get plugins.ErrClosed. Calls in flight run to their end
// (each is bounded by its deadline, a guest asleep in WASI included), or
// are stopped once Close's context is done, and their instances are then
// closed.
type Plugin struct {
	rt       *Runtime
	compiled *compiledModule
	host     api.Module // this plugin's "codexhost" host module; nil if not imported
	config   wazero.ModuleConfig
	settings []byte
	manifest abi.Manifest
	name     string
	logger   *slog.Logger

	timeout            time.Duration
	maxResult          int
	memLimitBytes      uint64
	maxOutputBytes     int
	maxCallOutputBytes int

	// closing is cancelled by Close when its ctx is done before the calls
	// in flight end: instance starts stop at once (calls have their own
	// contexts, in busy).
	closing     context.Context
	stopClosing context.CancelCauseFunc

	// slots holds one token per instance in use; its capacity is
	// MaxInstances.
	slots  chan struct{}
	done   chan struct{} // closed by Close
	closed atomic.Bool

	mu       sync.Mutex
	idle     []*instance // LIFO: the most recently used first
	busy     map[*instance]struct{}
	inflight int
	shut     bool

	drainOnce sync.Once
	drained   chan struct{} // closed when shut and no call is in flight

	// ready is closed when a lazy load (Options.Lazy) has ended, after
	// loadErr is set; nil when Load loaded the plugin before returning.
	// startLazy starts the lazy load, once.
	ready     chan struct{}
	loadErr   error
	startLazy func()
}

var _ plugins.Plugin = (*Plugin)(nil)

// Manifest returns the plugin's manifest, as checked at load time. The
// caller must not modify it.
func (p *Plugin) Manifest() *abi.Manifest { return &p.manifest }

// Name returns the name the plugin has in logs and errors.
func (p *Plugin) Name() string { return p.name }

func (rt *Runtime) load(ctx context.Context, wasm []byte, o *Options, fileName string) (_ *Plugin, err error) {
	if err := checkHeader(wasm); err != nil {
		return nil, err
	}
	if !rt.startLoad() {
		return nil, plugins.ErrClosed
	}
	defer rt.loads.Done()
	limit := o.MemoryLimitPages
	if limit == 0 {
		limit = DefaultMemoryLimitPages
	}
	if limit > maxMemoryLimitPages {
		return nil, fmt.Errorf("MemoryLimitPages %d is over the maximum %d", limit, maxMemoryLimitPages)
	}
	maxInst := o.MaxInstances
	if maxInst <= 0 {
		maxInst = DefaultMaxInstances
	}
	maxOut := o.MaxOutputBytes
	if maxOut == 0 {
		maxOut = DefaultMaxOutputBytes
	}
	if maxOut < 0 {
		maxOut = 0
	}
	maxCallOut := o.MaxCallOutputBytes
	if maxCallOut == 0 {
		maxCallOut = DefaultMaxCallOutputBytes
	}
	if maxCallOut < 0 {
		maxCallOut = 0
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = plugins.DefaultTimeout
	}
	maxResult := o.MaxResultBytes
	if maxResult <= 0 {
		maxResult = plugins.DefaultMaxResultBytes
	}
	logger := o.Logger
	if logger == nil {
		logger = rt.logger
	}
	name := o.Name
	if name == "" {
		name = fileName
	}
	if name == "" {
		name = "wasm plugin"
	}

	p := &Plugin{
		rt:                 rt,
		name:               name,
		logger:             logger.With("plugin", termsafe.Line(name)),
		timeout:            timeout,
		maxResult:          maxResult,
		memLimitBytes:      uint64(limit) * 65536,
		maxOutputBytes:     maxOut,
		maxCallOutputBytes: maxCallOut,
		slots:              make(chan struct{}, maxInst),
		done:               make(chan struct{}),
		drained:            make(chan struct{}),
		busy:               make(map[*instance]struct{}),
	}
	p.closing, p.stopClosing = context.WithCancelCause(context.Background())
	var rec *record
	if o.Lazy {
		rec = rt.record(wasm, o, limit)
		if m := rec.read(); m != nil {
			if p.admit(m, o, limit, logger) == nil {
				if !p.lazy(wasm, o, limit, rec) {
					return nil, plugins.ErrClosed
				}
				return p, nil
			}
			// The record does not pass (the options changed what Admit
			// takes, or the record is damaged): loading the plugin says
			// what is wrong.
			rec.remove()
			p.manifest, p.name, p.logger = abi.Manifest{}, name, logger.With("plugin", termsafe.Line(name))
		}
	}
	in, mb, err := p.boot(ctx, wasm, o, limit, logger, false)
	if err != nil {
		return nil, err
	}
	p.idle = append(p.idle, in)
	if !rt.register(p) {
		in.close()
		p.release()
		return nil, plugins.ErrClosed
	}
	rec.write(mb)
	return p, nil
}

// boot compiles the module (or shares it), creates the first instance,
// checks its ABI version and manifest, and configures it; it returns the
// instance and the manifest's bytes. With lazy, the guest's manifest must
// say what p's (the record's, which admit has checked) says. On error it
// releases what it took.
func (p *Plugin) boot(ctx context.Context, wasm []byte, o *Options, limit uint32, logger *slog.Logger, lazy bool) (_ *instance, _ []byte, err error) {
	// The compilation is bounded by the compile timeout, the start of the
	// first instance by the start timeout; both end when the runtime or
	// the plugin is closed.
	compCtx, cancelComp := p.boundedContext(ctx, p.compileTimeout(), "the compile timeout")
	compiled, err := p.rt.compile(compCtx, wasm, moduleLimits(o))
	cancelComp()
	if err != nil {
		return nil, nil, err
	}
	p.compiled = compiled
	cctx, cancel := p.startContext(ctx)
	defer cancel()
	defer func() {
		if err != nil {
			p.release()
		}
	}()
	importsLog, err := checkModule(compiled.mod, limit, p.rt.wasi)
	if err != nil {
		return nil, nil, err
	}
	if importsLog {
		if p.host, err = p.instantiateHost(ctx); err != nil {
			return nil, nil, fmt.Errorf("instantiate host module: %w", err)
		}
	}
	if p.config, err = moduleConfig(&o.Grants); err != nil {
		return nil, nil, err
	}
	p.settings = o.Settings
	if len(p.settings) == 0 {
		p.settings = []byte("null")
	}

	// The first instance: fail fast on anything wrong with the plugin.
	in, err := p.newInstance(cctx)
	if err != nil {
		return nil, nil, p.loadError(cctx, nil, err)
	}
	if err := in.checkVersion(cctx); err != nil {
		in.close()
		return nil, nil, p.loadError(cctx, in, err)
	}
	mb, err := in.describe(cctx)
	if err != nil {
		in.close()
		return nil, nil, p.loadError(cctx, in, err)
	}
	if !lazy {
		err = p.admit(mb, o, limit, logger)
	} else if !p.describesAsRecorded(mb) {
		err = fmt.Errorf("%w: plugin %q describes itself differently from when it last loaded (recorded in the compilation cache)", plugins.ErrBadManifest, p.name)
	}
	if err != nil {
		in.close()
		return nil, nil, err
	}
	if err := in.configure(cctx, p.settings); err != nil {
		in.close()
		return nil, nil, p.loadError(cctx, in, err)
	}
	in.out.callEnd()
	return in, mb, nil
}

// admit reads the manifest mb into p and checks it against o and the
// limits; the plugin takes the manifest's name unless o names it.
func (p *Plugin) admit(mb []byte, o *Options, limit uint32, logger *slog.Logger) error {
	if err := json.Unmarshal(mb, &p.manifest); err != nil {
		return fmt.Errorf("%w: %w", plugins.ErrBadManifest, err)
	}
	if o.Name == "" && p.manifest.Name != "" {
		p.name = p.manifest.Name
		p.logger = logger.With("plugin", termsafe.Line(p.name))
	}
	if err := plugins.CheckManifest(&p.manifest, o.Grants); err != nil {
		return err
	}
	if err := plugins.CheckLimits(&p.manifest, limit, p.timeout); err != nil {
		return err
	}
	if o.Admit != nil {
		if err := o.Admit(&p.manifest); err != nil {
			return err
		}
	}
	if p.manifest.Capabilities.Network || o.Grants.Network {
		return fmt.Errorf("%w: plugin %q: a Wasm plugin cannot have network access; use the process runtime", plugins.ErrNotGranted, p.name)
	}
	return nil
}

// loadError turns an error of starting the first instance into the error
// Load returns: a runtime failure is not a *plugins.CallError (there is no
// call) but an error naming the kind of failure.
func (p *Plugin) loadError(ctx context.Context, in *instance, err error) error {
	err = p.startError(ctx, in, err)
	var ce *plugins.CallError
	if errors.As(err, &ce) {
		return &startFailure{ce: ce}
	}
	return err
}

// A startFailure is the first instance of a plugin failing to start. It
// unwraps to the *plugins.CallError that says how (its Kind).
type startFailure struct{ ce *plugins.CallError }

func (e *startFailure) Error() string {
	return fmt.Sprintf("the plugin failed to start: %s: %v", e.ce.Kind, e.ce.Err)
}

func (e *startFailure) Unwrap() error { return e.ce }

// startContext bounds ctx by the start timeout (named as the cause) and
// ends it when the plugin or its runtime is closing.
func (p *Plugin) startContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return p.boundedContext(ctx, p.startTimeout(), "the start timeout")
}

// boundedContext bounds ctx by d (named what in the cause) and ends it
// when the plugin or its runtime is closing.
func (p *Plugin) boundedContext(ctx context.Context, d time.Duration, what string) (context.Context, context.CancelFunc) {
	tctx, cancelT := context.WithTimeoutCause(ctx, d, &deadlineError{what: what, d: d})
	cctx, cancelC := context.WithCancelCause(tctx)
	stop1 := context.AfterFunc(p.closing, func() { cancelC(plugins.ErrClosed) })
	stop2 := context.AfterFunc(p.rt.closing, func() { cancelC(plugins.ErrClosed) })
	return cctx, func() {
		stop1()
		stop2()
		cancelC(nil)
		cancelT()
	}
}

// startError turns an error of starting an instance into the error Call
// returns: plugin errors (*abi.Error) and classified errors as they are,
// anything else as a *plugins.CallError.
func (p *Plugin) startError(ctx context.Context, in *instance, err error) error {
	var ae *abi.Error
	var ce *plugins.CallError
	if errors.As(err, &ae) || errors.As(err, &ce) ||
		errors.Is(err, plugins.ErrBadModule) || errors.Is(err, plugins.ErrIncompatibleABI) ||
		errors.Is(err, plugins.ErrBadManifest) {
		return err
	}
	return p.callError(ctx, 0, in, err)
}

// checkModule checks a compiled module's exports and imports against the
// ABI and reports whether it imports codexhost.log.
func checkModule(m wazero.CompiledModule, limitPages uint32, wasi map[string]api.FunctionDefinition) (importsLog bool, err error) {
	i32, i64 := api.ValueTypeI32, api.ValueTypeI64
	want := []struct {
		name    string
		params  []api.ValueType
		results []api.ValueType
	}{
		{abi.ExportABIVersion, nil, []api.ValueType{i32}},
		{abi.ExportAlloc, []api.ValueType{i32}, []api.ValueType{i32}},
		{abi.ExportFree, []api.ValueType{i32}, nil},
		{abi.ExportDescribe, nil, []api.ValueType{i64}},
		{abi.ExportConfigure, []api.ValueType{i32, i32}, []api.ValueType{i64}},
		{abi.ExportHandle, []api.ValueType{i32, i32, i32}, []api.ValueType{i64}},
	}
	fns := m.ExportedFunctions()
	if _, ok := fns["_start"]; ok {
		if _, ok := fns[abi.ExportInitialize]; !ok {
			return false, fmt.Errorf("%w: a WASI command module (it exports _start); a plugin is a reactor: build a Go plugin with -buildmode=c-shared", plugins.ErrBadModule)
		}
	}
	for _, w := range want {
		def, ok := fns[w.name]
		if !ok {
			return false, fmt.Errorf("%w: no export %q (is it a codexhost plugin built as a WASI reactor?)", plugins.ErrBadModule, w.name)
		}
		if !sameTypes(def.ParamTypes(), w.params) || !sameTypes(def.ResultTypes(), w.results) {
			return false, fmt.Errorf("%w: export %q has signature %s, want %s", plugins.ErrBadModule, w.name,
				signature(def.ParamTypes(), def.ResultTypes()), signature(w.params, w.results))
		}
	}
	if def, ok := fns[abi.ExportInitialize]; ok && (len(def.ParamTypes()) != 0 || len(def.ResultTypes()) != 0) {
		return false, fmt.Errorf("%w: export %q must take and return nothing", plugins.ErrBadModule, abi.ExportInitialize)
	}
	mem, ok := m.ExportedMemories()[abi.ExportMemory]
	if !ok {
		return false, fmt.Errorf("%w: no exported memory %q", plugins.ErrBadModule, abi.ExportMemory)
	}
	if mem.Min() > limitPages {
		return false, fmt.Errorf("%w: the module needs %d pages (%d MiB) of memory to start; the limit is %d pages", plugins.ErrBadModule,
			mem.Min(), uint64(mem.Min())*65536>>20, limitPages)
	}
	if len(m.ImportedMemories()) > 0 {
		return false, fmt.Errorf("%w: the module imports a memory; it must define and export its own", plugins.ErrBadModule)
	}
	for _, def := range m.ImportedFunctions() {
		mod, name, _ := def.Import()
		// The names are the module's: escape them in messages.
		qmod, qname := termsafe.Line(mod), termsafe.Line(name)
		switch mod {
		case wasi_snapshot_preview1.ModuleName:
			have, ok := wasi[name]
			if !ok {
				return false, fmt.Errorf("%w: imports %s.%s, which the host does not provide", plugins.ErrBadModule, qmod, qname)
			}
			if !sameTypes(def.ParamTypes(), have.ParamTypes()) || !sameTypes(def.ResultTypes(), have.ResultTypes()) {
				return false, fmt.Errorf("%w: import %s.%s has signature %s, want %s", plugins.ErrBadModule, qmod, qname,
					signature(def.ParamTypes(), def.ResultTypes()), signature(have.ParamTypes(), have.ResultTypes()))
			}
		case abi.ImportModule:
			if name != abi.ImportLog {
				return false, fmt.Errorf("%w: imports %s.%s, which the host does not provide", plugins.ErrBadModule, qmod, qname)
			}
			if !sameTypes(def.ParamTypes(), []api.ValueType{i32, i32, i32}) || len(def.ResultTypes()) != 0 {
				return false, fmt.Errorf("%w: import %s.%s has signature %s, want (i32, i32, i32)", plugins.ErrBadModule, qmod, qname,
					signature(def.ParamTypes(), def.ResultTypes()))
			}
			importsLog = true
		default:
			return false, fmt.Errorf("%w: imports %s.%s; a plugin may import only wasi_snapshot_preview1 and %s", plugins.ErrBadModule, qmod, qname, abi.ImportModule)
		}
	}
	return importsLog, nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func signature(params, results []api.ValueType) string {
	s := "("
	for i, t := range params {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(t)
	}
	s += ") -> ("
	for i, t := range results {
		if i > 0 {
			s += ", "
		}
		s += api.ValueTypeName(t)
	}
	return s + ")"
}

// moduleConfig is the sandbox of every instance: no args, no environment
// and no files except what is granted, real clocks and randomness; sleeps
// end at the deadline.
func moduleConfig(g *abi.Capabilities) (wazero.ModuleConfig, error) {
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: many instances coexist
		WithStartFunctions(abi.ExportInitialize).
		WithSysWalltime().
		WithSysNanotime().
		// No WithSysNanosleep: each instance sleeps on its own, waking
		// at its call's deadline (instance.sleep).
		WithRandSource(rand.Reader)
	for _, k := range g.Env {
		if v, ok := os.LookupEnv(k); ok {
			cfg = cfg.WithEnv(k, v)
		}
	}
	if len(g.ReadDirs) > 0 {
		fs := wazero.NewFSConfig()
		for _, d := range g.ReadDirs {
			st, err := os.Stat(d)
			if err != nil {
				return nil, fmt.Errorf("granted directory: %w", err)
			}
			if !st.IsDir() {
				return nil, fmt.Errorf("granted directory %s is not a directory", d)
			}
			fs = fs.WithFSMount(grantedFS(d), d) // dirfs.go
		}
		cfg = cfg.WithFSConfig(fs)
	}
	return cfg, nil
}

// instantiateHost instantiates this plugin's "codexhost" host module,
// anonymously; instances find it through an import resolver.
func (p *Plugin) instantiateHost(ctx context.Context) (api.Module, error) {
	i32 := api.ValueTypeI32
	compiled, err := p.rt.r.NewHostModuleBuilder(abi.ImportModule).
		NewFunctionBuilder().
		WithGoModuleFunction(api.GoModuleFunc(p.hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").
		Export(abi.ImportLog).
		Compile(ctx)
	if err != nil {
		return nil, err
	}
	return p.rt.r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName(""))
}

// hostLog implements codexhost.log: (level i32, ptr i32, len i32) -> ().
// Each line counts against the instance's output budgets (see output), its
// full length included, plus recordCost; the logged text is escaped for
// terminals.
func (p *Plugin) hostLog(ctx context.Context, mod api.Module, stack []uint64) {
	level, ptr, n := slog.Level(int32(stack[0])), uint32(stack[1]), uint32(stack[2])
	in := instanceFrom(ctx)
	if in == nil || !in.out.takeLine(int(n)) {
		return // dropped, and counted
	}
	cut := n > maxLogLineBytes
	if cut {
		n = maxLogLineBytes
	}
	b, ok := mod.Memory().Read(ptr, n)
	if !ok {
		p.logger.Warn("wasm: guest log line out of memory bounds", "ptr", ptr, "len", n)
		return
	}
	msg := termsafe.Line(string(b))
	if cut {
		msg += " [truncated]"
	}
	p.logger.Log(ctx, level, msg)
}

// testHookCallStart, if set (by tests), runs in Call between taking an
// instance and counting the call among those in flight.
var testHookCallStart func(*Plugin)

// Call implements [plugins.Plugin.Call]: it runs hook on a free instance,
// creating one if fewer than MaxInstances exist, else waiting for one
// (honoring ctx). Options.Timeout bounds the hook call in the guest, not
// the wait; creating an instance first (to grow the pool, or to replace
// one that failed) is bounded by the longer of Options.Timeout and 10s.
//
// # Errors
//
//   - *abi.Error: the plugin returned an error; its instance is kept.
//   - *plugins.CallError: FailTimeout (the deadline, Options.Timeout or
//     ctx's, passed: the guest was stopped; errors.Is(err,
//     context.DeadlineExceeded) holds), FailMemory (the guest hit its
//     memory limit), FailTrap (any other trap, panic or exit),
//     FailBadOutput, FailTooLarge (over MaxResultBytes), FailUnavailable
//     (ctx was cancelled, errors.Is(err, context.Canceled) holds, or a
//     new instance could not be configured, or a lazy load failed: see
//     Options.Lazy). The instance involved is discarded. Waiting for a
//     lazy load is bounded by ctx, not by Options.Timeout.
//   - plugins.ErrClosed after Close.
func (p *Plugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if p.closed.Load() {
		return nil, plugins.ErrClosed
	}
	if p.ready != nil {
		if err := p.waitLoaded(ctx, hook); err != nil {
			return nil, err
		}
	}
	in, err := p.acquire(ctx, hook)
	if err != nil {
		return nil, err
	}
	if in == nil {
		sctx, cancel := p.startContext(ctx)
		in, err = p.newConfiguredInstance(sctx)
		cancel()
		if err != nil {
			p.put(nil)
			if p.closed.Load() {
				return nil, plugins.ErrClosed
			}
			if ce := (*plugins.CallError)(nil); errors.As(err, &ce) {
				ce.Hook = hook
				ce.Err = fmt.Errorf("wasm: start a new instance: %w", ce.Err)
				return nil, ce
			}
			return nil, &plugins.CallError{Plugin: p.name, Hook: hook, Kind: plugins.FailUnavailable, Err: err}
		}
	}
	if testHookCallStart != nil {
		testHookCallStart(p)
	}
	cctx := in.ctx
	p.mu.Lock()
	if p.closing.Err() != nil {
		// Close has stopped the calls in flight (stopInFlight) before
		// this one could be counted among them: it does not start.
		p.mu.Unlock()
		p.put(in) // closed, as p is shut
		return nil, plugins.ErrClosed
	}
	p.busy[in] = struct{}{}
	p.mu.Unlock()
	cctx.begin(ctx, p.timeout)
	out, err := in.handle(cctx, hook, req)
	if err == nil && cctx.Err() != nil {
		// It returned, but after its deadline (a guest sleeping in WASI
		// wakes up at the deadline, and may return before wazero stops
		// it): the caller has given up on it.
		out, err = nil, cctx.Err()
	}
	in.out.callEnd()
	p.mu.Lock()
	delete(p.busy, in)
	p.mu.Unlock()
	if err == nil {
		p.end(in)
		return out, nil
	}
	if ae := asABIError(err); ae != nil {
		p.end(in)
		return nil, ae
	}
	ce := p.callError(cctx, hook, in, err)
	cctx.end()
	p.put(nil)
	in.close()
	if p.closed.Load() && (ce.Kind == plugins.FailTrap || ce.Kind == plugins.FailUnavailable) {
		// Close stopped the call, or Runtime.Close closed the module
		// under it.
		ce.Kind = plugins.FailUnavailable
		ce.Err = fmt.Errorf("wasm: the plugin was closed during the call: %w", plugins.ErrClosed)
		return nil, ce
	}
	return nil, ce
}

// end ends a call that did not fail in the runtime: its instance goes
// back to the pool, unless the deadline passed as the call returned.
func (p *Plugin) end(in *instance) {
	if in.ctx.end() {
		p.put(in)
		return
	}
	p.put(nil)
	in.close()
}

// asABIError returns err as an *abi.Error, or nil. (A function of its own
// so that the target of errors.As escapes only on this path.)
func asABIError(err error) *abi.Error {
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}

// acquire takes a slot and, if there is one, an idle instance.
func (p *Plugin) acquire(ctx context.Context, hook abi.Hook) (*instance, error) {
	select {
	case p.slots <- struct{}{}:
	default:
		select {
		case p.slots <- struct{}{}:
		case <-p.done:
			return nil, plugins.ErrClosed
		case <-ctx.Done():
			kind := plugins.FailUnavailable
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				kind = plugins.FailTimeout
			}
			return nil, &plugins.CallError{Plugin: p.name, Hook: hook, Kind: kind,
				Err: fmt.Errorf("wasm: waiting for a free instance: %w", ctx.Err())}
		}
	}
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		<-p.slots
		return nil, plugins.ErrClosed
	}
	p.inflight++
	var in *instance
	if n := len(p.idle); n > 0 {
		in = p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
	}
	p.mu.Unlock()
	return in, nil
}

// put ends a call: it returns in (nil: none to keep) to the pool and frees
// the call's slot.
func (p *Plugin) put(in *instance) {
	p.mu.Lock()
	p.inflight--
	if in != nil && !p.shut {
		p.idle = append(p.idle, in)
		in = nil
	}
	last := p.shut && p.inflight == 0
	p.mu.Unlock()
	<-p.slots
	if in != nil {
		in.close()
	}
	if last {
		p.drainOnce.Do(p.finish)
	}
}

// newConfiguredInstance creates an instance for the pool: instantiate,
// check the ABI version, describe, configure.
func (p *Plugin) newConfiguredInstance(ctx context.Context) (*instance, error) {
	in, err := p.newInstance(ctx)
	if err != nil {
		return nil, p.startError(ctx, nil, err)
	}
	err = in.checkVersion(ctx)
	if err == nil {
		_, err = in.describe(ctx)
	}
	if err == nil {
		err = in.configure(ctx, p.settings)
	}
	if err != nil {
		in.close()
		return nil, p.startError(ctx, in, err)
	}
	in.out.callEnd()
	return in, nil
}

// Close implements [plugins.Plugin.Close]. It is idempotent. Later calls,
// and callers waiting for an instance, get plugins.ErrClosed at once; idle
// instances are closed at once; Close then waits for the calls in flight
// to return (each bounded by its deadline), whose instances are then
// closed. If ctx is done first, Close stops the calls in flight (they
// fail with a *plugins.CallError matching plugins.ErrClosed), waits for
// them to return, which they do at once, and returns.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.shut {
		p.mu.Unlock()
		return nil
	}
	p.shut = true
	p.closed.Store(true)
	close(p.done)
	if p.ready != nil {
		select {
		case <-p.ready:
		default: // stop the lazy load (start it, if it has not: it ends at once)
			p.stopClosing(plugins.ErrClosed)
			p.startLazy()
		}
	}
	idle := p.idle
	p.idle = nil
	inflight := p.inflight
	p.mu.Unlock()

	for _, in := range idle {
		in.close()
	}
	if inflight == 0 {
		p.drainOnce.Do(p.finish)
	}
	select {
	case <-p.drained:
		return nil
	case <-ctx.Done():
	}
	p.stopInFlight()
	<-p.drained
	return nil
}

// stopInFlight stops the calls in flight and the instance starts of a
// closed plugin.
func (p *Plugin) stopInFlight() {
	p.stopClosing(plugins.ErrClosed)
	p.mu.Lock()
	defer p.mu.Unlock()
	for in := range p.busy {
		in.ctx.cancel(context.Canceled, plugins.ErrClosed)
	}
}

// finish releases what the instances shared, once none is left.
func (p *Plugin) finish() {
	p.release()
	p.rt.unregister(p)
	close(p.drained)
}

// release releases the host module and the compiled module, if taken.
func (p *Plugin) release() {
	ctx := context.Background()
	if p.host != nil {
		_ = p.host.Close(ctx)
		p.host = nil
	}
	if p.compiled != nil {
		p.rt.release(p.compiled)
		p.compiled = nil
	}
}

// callError classifies a failed call (or instance start) on in (nil: no
// instance yet) under ctx.
func (p *Plugin) callError(ctx context.Context, hook abi.Hook, in *instance, err error) *plugins.CallError {
	var ce *plugins.CallError
	if errors.As(err, &ce) {
		ce.Hook = hook
		return ce
	}
	if msg := err.Error(); strings.Contains(msg, "\n") {
		// wazero appends the guest's stack trace; keep it out of the
		// error, in the debug log.
		// The trace names the guest's functions: escape it.
		p.logger.Debug("wasm: guest failure", "hook", hook.String(), "err", termsafe.Line(msg))
		err = &oneLineError{msg: termsafe.Line(msg[:strings.IndexByte(msg, '\n')]), err: err}
	}
	kind := plugins.FailTrap
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		kind = plugins.FailTimeout
		err = fmt.Errorf("wasm: stopped at the deadline (%v): %w", why(ctx), err)
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		kind = plugins.FailUnavailable
		err = fmt.Errorf("wasm: stopped, the call was cancelled (%v): %w", why(ctx), err)
	case in != nil && in.outOfMemory():
		kind = plugins.FailMemory
		err = fmt.Errorf("wasm: memory limit of %d MiB reached: %w", p.memLimitBytes>>20, err)
	}
	if in != nil {
		if line := in.out.firstErrLine(); line != "" {
			err = fmt.Errorf("%w (guest stderr: %q)", err, line)
		}
	}
	return &plugins.CallError{Plugin: p.name, Hook: hook, Kind: kind, Err: err}
}

// why says why ctx ended: the deadline that applied, or the cancellation.
func why(ctx context.Context) error {
	if cc, ok := ctx.(*callCtx); ok {
		if err := cc.why(); err != nil {
			return err
		}
		return ctx.Err()
	}
	if ctx.Err() == nil {
		return context.DeadlineExceeded // the guest's own deadline error
	}
	return deadlineCause(ctx)
}

// oneLineError is an error whose message is cut to its first line.
type oneLineError struct {
	msg string
	err error
}

func (e *oneLineError) Error() string { return e.msg }
func (e *oneLineError) Unwrap() error { return e.err }

func (rt *Runtime) isClosed() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.closed
}
