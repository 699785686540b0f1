// Package wasm runs codexhost plugins compiled to WebAssembly (WASI preview 1
// reactors) in a sandbox, with wazero. See docs/abi.md, "WebAssembly
// binding", for the contract a guest implements, and RATIONALE.md for the
// design.
//
// A process creates one [Runtime], loads each plugin with [Runtime.Load] or
// [Runtime.LoadFile] and calls it through the [plugins.Plugin] interface:
//
//	rt, err := wasm.NewRuntime(ctx, nil)
//	...
//	defer rt.Close(ctx)
//	p, err := rt.LoadFile(ctx, "deny-rm.wasm", nil)
//	...
//	resp, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, req)
package wasm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm/internal/scan"
)

// RuntimeOptions configure a [Runtime]. A nil *RuntimeOptions means
// defaults.
type RuntimeOptions struct {
	// CacheDir is the directory of the compilation cache, which makes the
	// second load of a module (in this process or a later one) ~10x
	// faster than the first. Default: os.UserCacheDir()/codexhost/
	// wazero-<wazero version>. A directory that cannot be created or
	// written to, or that is not this user's own (owned by another user,
	// or writable by others: who can write it can change the machine code
	// that runs), is not an error: the runtime logs a warning and caches
	// in memory only. What in it is neither a file nor a directory is
	// removed.
	CacheDir string
	// Logger receives the runtime's warnings and, unless Options.Logger
	// overrides it, the plugins' logs and captured output. Default:
	// discard.
	Logger *slog.Logger
}

// A Runtime compiles and runs Wasm plugins. Create one per process and load
// every Wasm plugin with it: the runtime holds the compiled code and the
// compilation cache they share.
//
// A Runtime is safe for concurrent use. Close closes every plugin loaded
// from it.
type Runtime struct {
	r      wazero.Runtime
	cache  wazero.CompilationCache
	logger *slog.Logger
	wasi   map[string]api.FunctionDefinition // what WASI provides
	// recordDir holds the records of lazy loads (lazy.go); "" when the
	// compilation cache is in memory only.
	recordDir string
	// lazyTurn lets one lazy load run at a time (lazy.go).
	lazyTurn chan struct{}

	loads sync.WaitGroup // loads in progress
	// compiles counts the compilations running, abandoned ones included:
	// wazero must not be closed under one (it crashes).
	compiles sync.WaitGroup
	// compiling counts the compilations inside wazero's CompileModule:
	// Close does not wait past its deadline for one of them (it may be
	// stuck reading its cache entry), and waits for the rest of compiles,
	// which end at once.
	compiling atomic.Int64
	// closing is cancelled when Close begins: loads in progress stop.
	closing     context.Context
	stopClosing context.CancelCauseFunc

	mu       sync.Mutex
	plugins  map[*Plugin]struct{} // until their instances are all closed
	compiled map[[sha256.Size]byte]*compiledModule
	closed   bool
}

// A compiledModule is a module compiled once and shared by the plugins
// loaded from the same bytes (say, one policy with two configurations).
type compiledModule struct {
	key  [sha256.Size]byte
	mod  wazero.CompiledModule
	refs int // plugins using it; guarded by Runtime.mu
}

// compile returns the compiled module of wasm, checked against and
// prepared for the module limits l (see prepare), compiling it (with every
// CPU, through the compilation cache) unless a loaded plugin already did
// with the same bytes and limits: then neither the check nor the rewrite
// runs again. Release it with release.
//
// wazero cannot stop a compilation half-way (it checks its context only
// between functions), so the compilation runs on a goroutine of its own
// and compile returns when ctx is done, abandoning it: the goroutine
// closes the module when it is compiled. What an abandoned compilation
// can cost is bounded by the module limits checked before (see limits.go).
func (rt *Runtime) compile(ctx context.Context, wasm []byte, l scan.Limits) (*compiledModule, error) {
	h := sha256.New()
	h.Write(wasm)
	h.Write(fmt.Appendf(nil, "\x00limits %+v", l))
	var key [sha256.Size]byte
	h.Sum(key[:0])
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil, plugins.ErrClosed
	}
	if c, ok := rt.compiled[key]; ok {
		c.refs++
		rt.mu.Unlock()
		return c, nil
	}
	rt.mu.Unlock()
	wasm, err := prepare(wasm, l)
	if err != nil {
		return nil, err
	}

	stopped := func() error {
		// Not the module's fault: compiling a large module takes seconds
		// on a busy machine (once; then the cache serves it).
		return fmt.Errorf("compile stopped before it finished (%d bytes; allow more time for the first load): %w",
			len(wasm), deadlineCause(ctx))
	}
	if ctx.Err() != nil {
		return nil, stopped()
	}
	type result struct {
		mod wazero.CompiledModule
		err error
	}
	done := make(chan result, 1)
	var mu sync.Mutex
	abandoned := false
	rt.compiles.Add(1)
	rt.compiling.Add(1)
	go func() { // owned by rt: Close waits for it
		defer rt.compiles.Done()
		// Several workers stop between two functions when ctx is done
		// (wazero's single-worker path does not check ctx).
		cctx := experimental.WithCompilationWorkers(ctx, max(runtime.GOMAXPROCS(0), 2))
		mod, err := compileRecovered(cctx, rt.r, wasm)
		// Before the result is delivered: a Load that returns has no
		// compilation counted here (Close must not wait past its
		// deadline for one that has ended).
		rt.compiling.Add(-1)
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if err == nil {
				_ = mod.Close(context.Background())
			}
			return
		}
		done <- result{mod, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		mu.Lock()
		select {
		case res = <-done: // finished meanwhile: use it
		default:
			abandoned = true
		}
		mu.Unlock()
		if abandoned {
			return nil, stopped()
		}
	}
	mod, err := res.mod, res.err
	if err != nil {
		if rt.isClosed() {
			return nil, plugins.ErrClosed
		}
		if ctx.Err() != nil {
			return nil, stopped()
		}
		return nil, fmt.Errorf("%w: compile: %w", plugins.ErrBadModule, err)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		_ = mod.Close(context.Background())
		return nil, plugins.ErrClosed
	}
	if c, ok := rt.compiled[key]; ok { // compiled concurrently
		_ = mod.Close(context.Background())
		c.refs++
		return c, nil
	}
	c := &compiledModule{key: key, mod: mod, refs: 1}
	rt.compiled[key] = c
	return c, nil
}

// release drops a reference to c, closing it with the last one.
func (rt *Runtime) release(c *compiledModule) {
	rt.mu.Lock()
	c.refs--
	last := c.refs == 0
	if last && rt.compiled[c.key] == c {
		delete(rt.compiled, c.key)
	}
	rt.mu.Unlock()
	if last {
		_ = c.mod.Close(context.Background())
	}
}

// wazeroVersion is the version of the wazero module this binary is built
// with, or "unknown".
func wazeroVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/tetratelabs/wazero" {
				if dep.Replace != nil && dep.Replace.Version != "" {
					return dep.Replace.Version
				}
				if dep.Version != "" && dep.Version != "(devel)" {
					return dep.Version
				}
			}
		}
	}
	return "unknown"
}

// DefaultCacheDir returns the default compilation cache directory,
// os.UserCacheDir()/codexhost/wazero-<wazero version>, or "" if the user
// has no cache directory.
func DefaultCacheDir() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(base, "codexhost", "wazero-"+wazeroVersion())
}

// newRuntimeMu serializes the construction of wazero runtimes; see NewRuntime.
var newRuntimeMu sync.Mutex

// NewRuntime returns a new Runtime. The runtime always stops a guest whose
// call's context is done (wazero's WithCloseOnContextDone): a hook timeout
// really stops a guest stuck in a loop, at the price of a check at every
// loop header of the guest's code (see RATIONALE.md for the cost).
//
// # Errors
//
// NewRuntime fails only if wazero cannot start (for example, WASI cannot
// be instantiated). A bad cache directory is not an error.
func NewRuntime(ctx context.Context, opts *RuntimeOptions) (*Runtime, error) {
	var o RuntimeOptions
	if opts != nil {
		o = *opts
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir := o.CacheDir
	if dir == "" {
		dir = DefaultCacheDir()
	}
	// wazero v1.12.0 caches its own version in an unsynchronized global
	// (internal/version.GetWazeroVersion), written on first use by the
	// compilation cache and the engine, both created here. Building
	// runtimes one at a time keeps two first uses from racing.
	newRuntimeMu.Lock()
	defer newRuntimeMu.Unlock()
	cache, err := newFileCache(dir)
	recordDir := filepath.Join(dir, recordsDir)
	if err != nil {
		logger.Warn("wasm: compilation cache directory unusable; caching in memory only", "dir", dir, "err", err)
		cache = wazero.NewCompilationCache()
		recordDir = ""
	}
	cfg := wazero.NewRuntimeConfig().
		WithCloseOnContextDone(true).
		WithCompilationCache(cache).
		// No DWARF: a module's .debug_* sections would be copied and parsed
		// with debug/dwarf at compile time, where 51 KB of abbreviation
		// tables cost 2.2 s and 414 MB (review, round 8). Go guests carry
		// none; stack traces keep their function names.
		WithDebugInfoEnabled(false)
	r := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := instantiateWASI(ctx, r); err != nil {
		_ = r.Close(ctx)
		_ = cache.Close(ctx)
		return nil, fmt.Errorf("wasm: instantiate WASI: %w", err)
	}
	rt := &Runtime{
		wasi:      r.Module(wasi_snapshot_preview1.ModuleName).ExportedFunctionDefinitions(),
		recordDir: recordDir,
		lazyTurn:  make(chan struct{}, 1),
		r:         r,
		cache:     cache,
		logger:    logger,
		plugins:   make(map[*Plugin]struct{}),
		compiled:  make(map[[sha256.Size]byte]*compiledModule),
	}
	rt.closing, rt.stopClosing = context.WithCancelCause(context.Background())
	return rt, nil
}

// newFileCache returns a file compilation cache in dir, after checking
// that dir can be written to (wazero would otherwise fail every compile).
func newFileCache(dir string) (wazero.CompilationCache, error) {
	if dir == "" {
		return nil, errors.New("no cache directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// Who can write the cache can change the machine code that runs: it
	// must be this user's own, and hold files only (wazero opens an entry
	// with a plain open, which a FIFO would block for ever).
	if err := regfile.OwnDir(dir, 2); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return nil, err
	}
	name := f.Name()
	_ = f.Close()
	_ = os.Remove(name)
	return wazero.NewCompilationCacheWithDir(dir)
}

// Close closes every plugin loaded from the runtime (see [Plugin.Close]),
// then the runtime and its compilation cache. Loads in progress stop and
// fail with plugins.ErrClosed, later ones too. It is idempotent.
//
// Close waits for the calls in flight to end, each by its deadline (a
// guest asleep in WASI wakes up at it), or, once ctx is done, stops them:
// closing the runtime under running guest code is not safe. A compilation
// that a stopped load abandoned is waited for too (wazero cannot stop it
// half-way, nor be closed under it); the module limits bound its cost. If
// one has not ended when ctx is done, Close returns an error and leaves
// the runtime open rather than wait for ever.
func (rt *Runtime) Close(ctx context.Context) error {
	rt.mu.Lock()
	if rt.closed {
		rt.mu.Unlock()
		return nil
	}
	rt.closed = true
	rt.mu.Unlock()
	rt.stopClosing(plugins.ErrClosed)
	rt.loads.Wait() // no plugin is registered after this

	rt.mu.Lock()
	ps := make([]*Plugin, 0, len(rt.plugins))
	for p := range rt.plugins {
		ps = append(ps, p)
	}
	rt.mu.Unlock()
	var errs []error
	for _, p := range ps {
		if err := p.Close(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, p := range ps {
		<-p.drained
	}
	// A compilation wazero cannot stop (one blocked reading its cache,
	// say) must not hang Close past ctx: then the runtime is left open,
	// and the waiter below ends with the compilation.
	if rt.compiling.Load() > 0 {
		compiled := make(chan struct{})
		go func() { rt.compiles.Wait(); close(compiled) }()
		select {
		case <-compiled:
		case <-ctx.Done():
			if rt.compiling.Load() > 0 {
				return errors.Join(append(errs, fmt.Errorf("wasm: close: a compilation did not end by the deadline; the runtime is left open: %w", context.Cause(ctx)))...)
			}
		}
	}
	rt.compiles.Wait() // none runs, or the last is ending
	// A fresh context: closing must not be cut short by a done ctx.
	if err := rt.r.Close(context.WithoutCancel(ctx)); err != nil {
		errs = append(errs, fmt.Errorf("wasm: close runtime: %w", err))
	}
	if err := rt.cache.Close(context.WithoutCancel(ctx)); err != nil {
		errs = append(errs, fmt.Errorf("wasm: close compilation cache: %w", err))
	}
	return errors.Join(errs...)
}

// Precompile compiles wasm into the compilation cache without loading it,
// so that a later [Runtime.Load] of the same bytes, in this process or
// another one with the same cache directory, skips compiling: an installer
// can run it ahead of the first start. It neither instantiates the module
// nor checks its manifest; a plugin already loaded from the same bytes makes
// it a no-op.
//
// # Errors
//
//   - [plugins.ErrBadModule]: wasm is not a WebAssembly module or does not
//     compile.
//   - [plugins.ErrClosed]: the Runtime is closed.
func (rt *Runtime) Precompile(ctx context.Context, wasm []byte) error {
	if err := checkHeader(wasm); err != nil {
		return fmt.Errorf("wasm: precompile: %w", err)
	}
	if !rt.startLoad() {
		return plugins.ErrClosed
	}
	defer rt.loads.Done()
	c, err := rt.compile(ctx, wasm, moduleLimits(&Options{}))
	if err != nil {
		return fmt.Errorf("wasm: precompile: %w", err)
	}
	rt.release(c)
	return nil
}

// LoadFile reads a Wasm plugin from path and loads it like [Runtime.Load].
// Unless opts.Name is set, the file's base name names the plugin in logs
// until its manifest is read.
func (rt *Runtime) LoadFile(ctx context.Context, path string, opts *Options) (*Plugin, error) {
	b, err := regfile.Read(path)
	if err != nil {
		return nil, fmt.Errorf("wasm: load plugin: %w", err)
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	p, err := rt.load(ctx, b, &o, filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("wasm: load %s: %w", path, err)
	}
	return p, nil
}

// Load compiles a Wasm plugin (or takes it from the compilation cache, or
// shares the module of a plugin already loaded from the same bytes),
// creates its first instance in the sandbox, checks its ABI version and
// its manifest against opts.Grants, and configures it with opts.Settings
// ("null" when nil). Any failure refuses the plugin: nothing is left
// running. The sandbox has no arguments, no environment and no files but
// the granted ones (environment variables copied from the host's,
// directories mounted read-only at the same path), no network, and real
// clocks and randomness.
//
// Load is safe for concurrent use. ctx bounds the load; the plugin does
// not keep it.
//
// # Errors
//
//   - [plugins.ErrBadModule]: wasm is not a WebAssembly module, does not
//     compile, lacks an export of the ABI, imports something the host does
//     not provide, or needs more memory than the limit to start.
//   - [plugins.ErrIncompatibleABI]: the plugin speaks another ABI major
//     version; the message names both.
//   - [plugins.ErrBadManifest]: the manifest is missing or invalid.
//   - [plugins.ErrNotGranted]: the manifest asks for a capability opts
//     does not grant, or opts grants one it does not ask for, or it asks
//     for the network (a Wasm plugin cannot have it).
//   - [plugins.ErrLimits]: the manifest's Limits ask for more memory than
//     MemoryLimitPages or a longer call than Timeout.
//   - an error of opts.Admit (plugins/load's settings and tool checks);
//     the guest's configure is not called.
//   - *abi.Error, with code abi.CodeBadConfig as a rule: configure
//     refused the settings.
//   - plugins.ErrClosed: the Runtime is closed.
//   - any other error: the guest failed to start (a trap in _initialize,
//     the memory limit, or the start deadline, the longer of
//     Options.Timeout and 10s: errors.Is(err, context.DeadlineExceeded)
//     then holds), or a granted directory does not exist.
func (rt *Runtime) Load(ctx context.Context, wasm []byte, opts *Options) (*Plugin, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	p, err := rt.load(ctx, wasm, &o, "")
	if err != nil {
		return nil, fmt.Errorf("wasm: load plugin: %w", err)
	}
	return p, nil
}

// wasmMagic starts every WebAssembly binary; version 1 follows it in core
// modules (components have another version).
var wasmMagic = []byte("\x00asm")

func checkHeader(b []byte) error {
	if len(b) < 8 || !bytes.Equal(b[:4], wasmMagic) {
		return fmt.Errorf("%w: not a WebAssembly binary (no \\0asm header)", plugins.ErrBadModule)
	}
	if !bytes.Equal(b[4:8], []byte{1, 0, 0, 0}) {
		return fmt.Errorf("%w: WebAssembly binary version %x is not a core module (version 1); components are not supported", plugins.ErrBadModule, b[4:8])
	}
	return nil
}

// startLoad counts a load in progress, unless the runtime is closed.
func (rt *Runtime) startLoad() bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return false
	}
	rt.loads.Add(1)
	return true
}

func (rt *Runtime) register(p *Plugin) bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.closed {
		return false
	}
	rt.plugins[p] = struct{}{}
	return true
}

func (rt *Runtime) unregister(p *Plugin) {
	rt.mu.Lock()
	delete(rt.plugins, p)
	rt.mu.Unlock()
}

// compileRecovered compiles wasm, turning a panic of the decoder or the
// validator (on this goroutine) into an error. A panic in one of the
// compiler's own workers still ends the process: they are wazero's.
func compileRecovered(ctx context.Context, r wazero.Runtime, wasm []byte) (mod wazero.CompiledModule, err error) {
	defer func() {
		if v := recover(); v != nil {
			mod, err = nil, fmt.Errorf("the compiler failed on the module: %v", v)
		}
	}()
	return r.CompileModule(ctx, wasm)
}
