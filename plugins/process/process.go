// Package process runs codexhost plugins as separate processes through
// hashicorp/go-plugin over gRPC, behind the same [plugins.Plugin] interface
// as the Wasm runtime.
//
// Pick it for plugins that need what the Wasm sandbox forbids (the network,
// a database, native libraries). A process plugin is not sandboxed: it runs
// with the operator's user rights. What the host does control: the binary's
// sha256 (refused on mismatch), its environment (only what Options.Env
// passes), its stdin (/dev/null) and, on Linux, its other descriptors (none
// the host inherited), mutual TLS on the connection, the size of
// its answers, and its lifetime: killed on Close, at a call's deadline, when
// it crashes, and, on Linux, with the host and together with the children
// it started.
//
// # Output
//
// The plugin's stdout carries go-plugin's handshake: a plugin must write
// nothing there before it. Afterwards go-plugin forwards what the plugin
// writes to os.Stdout and os.Stderr; all of it, and whatever it writes to
// its raw stderr (a Go panic, go-plugin's own log, sdk-guest's Log), goes
// to Options.Logger line by line. A line that starts with a slog level
// ("DEBUG msg", as sdk-guest's Log writes) is logged at that level, any
// other at INFO. Close returns once the raw stderr has been read to its
// end; go-plugin relays os.Stdout and os.Stderr over the plugin connection
// on its own schedule, and a line written there just before Close may be
// lost.
//
// # Host shutdown
//
// Close ends the plugin gracefully: go-plugin asks it to exit, and it is
// killed, with its process tree, if it has not within 1s, or when Close's
// context is done. A
// host killed with SIGKILL, or dying of SIGTERM or SIGINT without a handler
// (Go's default), cannot do that: on Linux the kernel kills the plugin with
// SIGKILL (Pdeathsig) when the host dies, but not the children the plugin
// started; elsewhere the plugin is left running. A host that wants a
// graceful end handles those signals and Closes its plugins, as
// cmd/codexhost does. (Pdeathsig follows the host thread that started the
// plugin: see setProcAttr for the one way a Go host can defeat it.)
package process

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
)

// Options configure [Load]. A nil *Options means defaults.
type Options struct {
	plugins.Options

	// SHA256 is the expected hex sha256 of the plugin binary, optionally
	// prefixed "sha256:". When set, a binary with another digest is
	// refused before it runs, at Load and at every restart. On Linux the
	// bytes hashed are copied into a sealed in-memory file, and that copy
	// is what runs: a file replaced or rewritten after the check does not
	// (the copy costs the plugin process the binary's size in memory, and
	// a pinned binary may be at most 1 GiB).
	// Elsewhere the file is hashed, then executed by its path: someone who
	// can replace it between the two can still run another binary.
	SHA256 string
	// Env is the plugin's whole environment ("KEY=value"); nothing of the
	// host's environment is passed unless listed here or granted by name
	// in Options.Grants.Env (copied from the host's environment). The
	// runtime adds its own variables: go-plugin's magic cookie and
	// PLUGIN_*, and CODEXHOST_PLUGIN_TLS_FD (see tls.go).
	Env []string
	// Args are passed to the plugin binary.
	Args []string
	// StartTimeout bounds the start and handshake. Default: 10s.
	StartTimeout time.Duration
	// MaxRestarts bounds restarts after crashes and timeouts within
	// RestartWindow; beyond it calls fail with FailUnavailable until the
	// window passes. Restarts are also spaced: a restart begins at least
	// 100ms after the previous one ended, doubling with each restart in
	// the window, at most 5s; a call before that fails with
	// FailUnavailable. Default: 5 per minute.
	MaxRestarts   int
	RestartWindow time.Duration
	// Logger receives the plugin's output, line by line, and runtime
	// events. Default: discard.
	Logger *slog.Logger
}

// A Plugin is a running process plugin. Call is safe for concurrent use
// (gRPC multiplexes calls on one connection). A crashed or hung process is
// killed and restarted on the next call, with backoff; Close kills it.
type Plugin struct {
	path     string
	opts     Options
	manifest abi.Manifest
	logger   *slog.Logger
	wantSum  []byte // the pinned sha256, or nil

	// restarting holds one token while a process (re)starts: callers
	// wait for it, or for their ctx. It is never held with mu.
	restarting chan struct{}
	// closing is cancelled by Close: a restart in progress stops.
	closing     context.Context
	stopClosing context.CancelFunc

	// mu guards the fields below. It is held only briefly, never while a
	// process starts.
	mu       sync.Mutex
	cur      *proc // nil: not running
	restarts []time.Time
	closed   bool

	// now is the clock of the restart budget and backoff: time.Now,
	// except in tests (export_test.go), which set it before the first
	// call to step through the backoff without sleeping.
	now func() time.Time
}

// proc is one plugin process and its connection.
type proc struct {
	client *plugin.Client
	stub   *stub
	runner *procRunner
	stderr *lineLogger // the raw stderr
	output *budget     // what its output may still log

	// runnerMu guards runner until Client returns: go-plugin sets it on
	// a goroutine of its own, and a start stopped early kills it.
	runnerMu sync.Mutex
}

// ended reports whether the process has exited: the runner's watch saw it
// (Pid returns 0 from then on), or go-plugin did, which learns it only
// later, from its own Wait. A call that finds it ended restarts the
// process instead of calling the dead one.
func (pr *proc) ended() bool {
	return pr.runner.runningPid() == 0 || pr.client.Exited()
}

var _ plugins.Plugin = (*Plugin)(nil)

// Load starts the plugin binary at path, performs the handshake, reads its
// manifest and configures it. A path without a slash names a file in the
// working directory, never a program on PATH.
//
// # Errors
//
//   - a checksum mismatch (Options.SHA256): the binary is not started;
//     errors.Is(err, plugin.ErrChecksumsDoNotMatch) holds;
//   - plugins.ErrIncompatibleABI: the plugin speaks another ABI major version
//     (the message names both);
//   - the process exits or does not complete the handshake within
//     StartTimeout (the message includes its stderr); it is killed;
//   - plugins.ErrBadManifest, plugins.ErrNotGranted, plugins.ErrLimits,
//     an error of Options.Admit, or a configure error.
func Load(ctx context.Context, path string, opts *Options) (*Plugin, error) {
	// The file itself, not a program of that name on PATH: exec.Command
	// looks a name without a slash up in PATH, while the checks (and the
	// sha256 pin) read the file in the working directory.
	if !strings.Contains(path, "/") {
		path = "./" + path
	}
	p := &Plugin{path: path, restarting: make(chan struct{}, 1), now: time.Now}
	p.closing, p.stopClosing = context.WithCancel(context.Background())
	if opts != nil {
		p.opts = *opts
	}
	o := &p.opts
	if o.StartTimeout <= 0 {
		o.StartTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = plugins.DefaultTimeout
	}
	if o.MaxResultBytes <= 0 {
		o.MaxResultBytes = plugins.DefaultMaxResultBytes
	}
	if o.MaxRestarts <= 0 {
		o.MaxRestarts = 5
	}
	if o.RestartWindow <= 0 {
		o.RestartWindow = time.Minute
	}
	p.logger = o.Logger
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	p.logger = p.logger.With("plugin", path)
	if o.SHA256 != "" {
		sum, err := hex.DecodeString(strings.TrimPrefix(strings.ToLower(o.SHA256), "sha256:"))
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("process: SHA256 %q is not a hex sha256 digest", o.SHA256)
		}
		p.wantSum = sum
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("process: plugin %s: %w", path, err)
	}
	lctx, cancel := context.WithTimeoutCause(ctx, o.StartTimeout,
		&deadlineError{what: "the start timeout", d: o.StartTimeout})
	defer cancel()
	pr, err := p.start(lctx)
	if err != nil {
		return nil, err
	}
	raw, err := pr.stub.describe(lctx)
	if err != nil {
		p.stop(context.Background(), pr, true)
		return nil, fmt.Errorf("process: describe %s: %w", path, ctxError(lctx, &escapedError{err: err}))
	}
	if err := json.Unmarshal(raw, &p.manifest); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, fmt.Errorf("%w: %s: %v", plugins.ErrBadManifest, path, err)
	}
	if err := plugins.CheckManifest(&p.manifest, o.Grants); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, err
	}
	if err := plugins.CheckLimits(&p.manifest, 0, o.Timeout); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, err
	}
	if o.Admit != nil {
		if err := o.Admit(&p.manifest); err != nil {
			p.stop(context.Background(), pr, true)
			return nil, err
		}
	}
	if err := p.configure(lctx, pr); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, ctxError(lctx, err)
	}
	p.cur = pr
	return p, nil
}

func (p *Plugin) configure(ctx context.Context, pr *proc) error {
	settings := []byte(p.opts.Settings)
	if len(settings) == 0 {
		settings = []byte("null")
	}
	res, err := pr.stub.configure(ctx, settings)
	if err != nil {
		return fmt.Errorf("process: configure %s: %w", p.path, &escapedError{err: err})
	}
	st, payload, err := unpack(res)
	if err != nil || st == abi.StatusOK {
		return err
	}
	var ae abi.Error
	if json.Unmarshal(payload, &ae) != nil {
		ae = abi.Error{Code: abi.CodeBadConfig, Message: string(payload)}
	}
	ae.Message = termsafe.Quote(ae.Message, plugins.MaxQuotedErrorBytes)
	return fmt.Errorf("process: plugin %s rejects its settings: %w", p.manifest.Name, &ae)
}

// verify checks the binary against the pinned sha256, within ctx (the
// plugin runs with the operator's rights and may have put a file of any
// size, a sparse one costs no disk, where its binary was), and returns
// what to execute. Without a pin that is the path (image is nil). With
// one, on Linux, it is a sealed in-memory copy of the file, hashed once
// sealed: what runs is what was verified, even if the file is replaced or
// written to between the check and the exec. Elsewhere the file is hashed
// and executed by its path, and a file changed in that window runs
// unchecked.
func (p *Plugin) verify(ctx context.Context) (image *os.File, err error) {
	if p.wantSum == nil {
		return nil, nil
	}
	// Not os.Open: the plugin runs with the operator's rights, and a FIFO
	// put where its binary was would block the restart past any deadline.
	f, err := regfile.Open(p.path)
	if err != nil {
		return nil, fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	defer f.Close()
	if image, err = newImage(p.path); err != nil {
		return nil, fmt.Errorf("process: plugin %s: a sealed copy to run: %w", p.path, err)
	}
	src := f
	if image != nil {
		defer func() {
			if err != nil {
				_ = image.Close()
				image = nil
			}
		}()
		if err := copyImage(ctx, image, f); err != nil {
			return nil, fmt.Errorf("process: plugin %s: %w", p.path, err)
		}
		if err := sealImage(image); err != nil {
			return nil, fmt.Errorf("process: plugin %s: %w", p.path, err)
		}
		src = image
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	if _, err := io.CopyBuffer(h, &ctxReader{ctx: ctx, r: io.NewSectionReader(src, 0, 1<<62)}, buf); err != nil {
		return nil, fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, p.wantSum) {
		return nil, fmt.Errorf("process: plugin %s: its sha256 does not match: it is %x, %x is pinned; refusing to run it: %w",
			p.path, got, p.wantSum, plugin.ErrChecksumsDoNotMatch)
	}
	if hook := afterVerify.Load(); hook != nil {
		(*hook)(p.path)
	}
	return image, nil
}

// maxPinnedBinaryBytes bounds a pinned process plugin's binary (1 GiB): on
// Linux it is copied into memory (see Options.SHA256). Go plugins are tens
// of MB.
const maxPinnedBinaryBytes = 1 << 30

// copyImage copies f into image, in the kernel (copy_file_range), a chunk
// at a time until ctx is done; a file larger than maxPinnedBinaryBytes,
// or growing past it meanwhile, is refused.
func copyImage(ctx context.Context, image, f *os.File) error {
	const chunk = 8 << 20
	if fi, err := f.Stat(); err == nil && fi.Size() > maxPinnedBinaryBytes {
		return fmt.Errorf("the binary is %d bytes, more than the %d a pinned one may be", fi.Size(), maxPinnedBinaryBytes)
	}
	var n int64
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("copying the binary stopped: %w", deadlineCause(ctx))
		}
		m, err := image.ReadFrom(io.LimitReader(f, chunk))
		if err != nil {
			return fmt.Errorf("a sealed copy to run: %w", err)
		}
		if n += m; n > maxPinnedBinaryBytes {
			return fmt.Errorf("the binary grew past the %d bytes a pinned one may be", maxPinnedBinaryBytes)
		}
		if m < chunk {
			return nil
		}
	}
}

// afterVerify, if set, is called between the check of a pinned binary
// and its start (tests change the file there).
var afterVerify atomic.Pointer[func(path string)]

// A ctxReader reads r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(b []byte) (int, error) {
	if r.ctx.Err() != nil {
		return 0, fmt.Errorf("hashing the binary stopped: %w", deadlineCause(r.ctx))
	}
	return r.r.Read(b)
}

// start checks and launches the process, and performs the handshake
// within the start timeout and ctx's deadline; it stops when ctx is done.
// The caller holds p.restarting or owns p exclusively.
func (p *Plugin) start(ctx context.Context) (*proc, error) {
	image, err := p.verify(ctx)
	if err != nil {
		return nil, err
	}
	if image != nil {
		// The process has its copy once started (procRunner.Start closes
		// it too); one that never starts must not keep it.
		defer image.Close()
	}
	startTimeout := p.opts.StartTimeout
	var timeoutErr error = &deadlineError{what: "the start timeout", d: startTimeout}
	if d, ok := ctx.Deadline(); ok && time.Until(d) < startTimeout-10*time.Millisecond {
		startTimeout = time.Until(d)
		timeoutErr = fmt.Errorf("the caller's deadline, %v away when the start began", startTimeout.Round(time.Millisecond))
	}
	if err := ctx.Err(); err != nil || startTimeout <= 0 {
		return nil, fmt.Errorf("process: start plugin %s: no time left: %w", p.path, deadlineCause(ctx))
	}
	o := &p.opts
	env := append([]string(nil), o.Env...)
	for _, k := range o.Grants.Env {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	host, err := hostTLS()
	if err != nil {
		return nil, fmt.Errorf("process: TLS client certificate: %w", err)
	}
	server, err := newKeyPair()
	if err != nil {
		return nil, fmt.Errorf("process: TLS server certificate: %w", err)
	}
	out := newBudget(maxOutputBytes)
	pr := &proc{output: out, stderr: &lineLogger{logger: p.logger, stream: "stderr", keep: 20, budget: out}}
	var runErr error
	pr.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig: handshake,
		Plugins:         plugin.PluginSet{abi.PluginName: &grpcPlugin{}},
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			// spec.Env holds go-plugin's variables, and the TLS ones
			// ours; they come last so that Options.Env cannot override
			// them.
			penv := append(append(env, spec.Env...),
				envClientCert+"="+string(host.CertPEM), fmt.Sprintf("%s=%d", envTLSFD, tlsFD))
			r, err := newProcRunner(p.path, image, o.Args, penv, tlsBlob(server))
			pr.runnerMu.Lock()
			pr.runner, runErr = r, err
			pr.runnerMu.Unlock()
			return r, err
		},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// Mutual TLS with the certificates above (see tls.go); a plugin
		// that ignores them answers with go-plugin's AutoMTLS, whose
		// certificate then replaces the server's in RootCAs.
		TLSConfig:    clientTLS(host, server),
		SkipHostEnv:  true,
		StartTimeout: startTimeout,
		Stderr:       pr.stderr,
		SyncStdout:   &lineLogger{logger: p.logger, stream: "stdout", budget: out},
		SyncStderr:   &lineLogger{logger: p.logger, stream: "stderr", budget: out},
		Logger:       hclog.NewNullLogger(),
		// Every message the plugin sends is bounded, its stdio stream's
		// (SyncStdout, SyncStderr) included: go-plugin's default is 2 GiB.
		// Handle sets its own bound per call.
		//
		// The connection to the address the handshake names, its TLS
		// handshake included, ends by the start's deadline: the address
		// is the plugin's to choose, and a socket that accepts and never
		// answers would otherwise hold Client (and Kill, which waits for
		// its lock) for gRPC's default of 20s.
		GRPCDialOptions: []grpc.DialOption{grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxSetupRecv)),
			grpc.WithChainStreamInterceptor(noBroker),
			grpc.WithConnectParams(connectParams(startTimeout))},
	})
	type started struct {
		c   plugin.ClientProtocol
		err error
	}
	ch := make(chan started, 1)
	go func() {
		c, err := pr.client.Client()
		ch <- started{c, err}
	}()
	var res started
	select {
	case res = <-ch:
	case <-ctx.Done():
		// Kill it: the handshake then fails at once.
		pr.runnerMu.Lock()
		if pr.runner != nil {
			pr.runner.kill()
		}
		pr.runnerMu.Unlock()
		pr.client.Kill()
		res = <-ch
		if res.err == nil {
			res.err = context.Cause(ctx)
		}
	}
	rpcClient, err := res.c, res.err
	if err != nil {
		pr.client.Kill()
		if runErr != nil {
			err = runErr
		}
		if ctx.Err() != nil {
			// Killed at the deadline: what go-plugin says of it then
			// ("Unrecognized remote plugin message") is beside the point.
			err = fmt.Errorf("not started (launch, handshake, connection) before the deadline (%w)", deadlineCause(ctx))
		} else if strings.Contains(err.Error(), "timeout while waiting for plugin to start") {
			err = fmt.Errorf("%w (%w)", err, timeoutErr)
		}
		return nil, p.startError(err, pr)
	}
	raw, err := rpcClient.Dispense(abi.PluginName)
	if err != nil {
		p.stop(context.Background(), pr, true)
		return nil, fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	pr.stub = raw.(*stub)
	return pr, nil
}

// connectParams bounds gRPC's attempt to connect to the plugin's address,
// its TLS handshake included, by d: an attempt may last the longer of
// MinConnectTimeout and the backoff's delay (1s by default).
func connectParams(d time.Duration) grpc.ConnectParams {
	b := backoff.DefaultConfig
	b.BaseDelay = min(b.BaseDelay, d)
	b.MaxDelay = max(b.BaseDelay, min(b.MaxDelay, d))
	return grpc.ConnectParams{Backoff: b, MinConnectTimeout: d}
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

func (p *Plugin) startError(err error, pr *proc) error {
	stderr := pr.stderr
	if pr.runner != nil {
		// The error may come before go-plugin has read the plugin's
		// last words: wait for its stderr to end (it is killed).
		pr.runner.waitStderr(pipeGrace + 500*time.Millisecond)
	}
	msg := err.Error()
	if strings.Contains(strings.ToLower(msg), "incompatible api version") {
		theirs := "another version"
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			theirs = "ABI v" + m[1]
		}
		return fmt.Errorf("%w: plugin %s speaks %s, this host speaks ABI v%d (%s)",
			plugins.ErrIncompatibleABI, p.path, theirs, abi.Version, msg)
	}
	// go-plugin's message quotes what the plugin wrote on stdout.
	err = &escapedError{err: err}
	how := ""
	if pr.runner != nil {
		if st := pr.runner.exitState(); st != nil {
			how = fmt.Sprintf(" (the plugin process ended: %s)", st)
		}
	}
	if tail := stderr.tail(); tail != "" {
		return fmt.Errorf("process: start plugin %s: %w%s; its stderr:\n%s", p.path, err, how, tail)
	}
	return fmt.Errorf("process: start plugin %s: %w%s; its stderr is empty", p.path, err, how)
}

// Manifest implements plugins.Plugin.
func (p *Plugin) Manifest() *abi.Manifest { return &p.manifest }

// admitRestart decides whether a restart may begin at now, given the times
// the previous restarts ended (oldest first): it returns the restarts still
// in the window, and an error if the budget is spent or the backoff (100ms
// after the previous restart, doubling with each restart in the window, at
// most 5s) has not passed.
func admitRestart(restarts []time.Time, now time.Time, max int, window time.Duration) ([]time.Time, error) {
	kept := restarts[:0]
	for _, t := range restarts {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= max {
		next := kept[0].Add(window).Sub(now)
		return kept, fmt.Errorf("restarted %d times in %s; waiting %s before the next restart",
			len(kept), window, next.Round(time.Millisecond))
	}
	if n := len(kept); n > 0 {
		wait := min(100*time.Millisecond<<(n-1), 5*time.Second)
		if since := now.Sub(kept[n-1]); since < wait {
			return kept, fmt.Errorf("restarting after a failure; next try in %s", (wait - since).Round(time.Millisecond))
		}
	}
	return kept, nil
}

// current returns the live process, restarting a dead one if the restart
// budget allows. A restart runs within ctx's deadline (and the start
// timeout); callers wait for a restart in progress, or for their ctx.
func (p *Plugin) current(ctx context.Context) (*proc, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, plugins.ErrClosed
	}
	if pr := p.cur; pr != nil && !pr.ended() {
		p.mu.Unlock()
		return pr, nil
	}
	p.mu.Unlock()

	select {
	case p.restarting <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("waiting for the plugin to restart: %w", deadlineCause(ctx))
	}
	defer func() { <-p.restarting }()
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, plugins.ErrClosed
	}
	var dead *proc
	if pr := p.cur; pr != nil {
		if !pr.ended() { // restarted meanwhile
			p.mu.Unlock()
			return pr, nil
		}
		p.cur, dead = nil, pr
	}
	var err error
	p.restarts, err = admitRestart(p.restarts, p.now(), p.opts.MaxRestarts, p.opts.RestartWindow)
	n := len(p.restarts)
	p.mu.Unlock()
	if dead != nil {
		p.stop(context.Background(), dead, true)
	}
	if err != nil {
		return nil, err
	}
	p.logger.Warn("process: restarting plugin", "restarts", n+1, "window", p.opts.RestartWindow)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopOnClose := context.AfterFunc(p.closing, cancel)
	defer stopOnClose()
	pr, err := p.restart(rctx)
	// The backoff counts from the end of this restart, whether it worked
	// or not: the time a plugin takes to start is not a pause.
	at := p.now()
	p.mu.Lock()
	p.restarts = append(p.restarts, at)
	closed := p.closed
	if err == nil && !closed {
		p.cur = pr
	}
	p.mu.Unlock()
	if err != nil {
		if closed {
			return nil, plugins.ErrClosed
		}
		p.logger.Warn("process: restart failed", "err", err)
		return nil, err
	}
	if closed {
		p.stop(context.Background(), pr, true)
		return nil, plugins.ErrClosed
	}
	p.logger.Info("process: plugin restarted", "pid", pr.runner.runningPid(), "at", at)
	return pr, nil
}

// restart starts a new process for the plugin and checks and configures
// it, within ctx's deadline and the start timeout. The caller holds
// p.restarting.
func (p *Plugin) restart(ctx context.Context) (*proc, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.opts.StartTimeout,
		&deadlineError{what: "the start timeout", d: p.opts.StartTimeout})
	defer cancel()
	pr, err := p.start(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.redescribe(ctx, pr); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, ctxError(ctx, err)
	}
	if err := p.configure(ctx, pr); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, ctxError(ctx, err)
	}
	return pr, nil
}

// redescribe checks that a restarted plugin describes itself as at Load: the
// binary may have changed since, and its manifest was checked then only.
func (p *Plugin) redescribe(ctx context.Context, pr *proc) error {
	raw, err := pr.stub.describe(ctx)
	if err != nil {
		return fmt.Errorf("process: describe %s: %w", p.path, &escapedError{err: err})
	}
	var m abi.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%w: %s: %v", plugins.ErrBadManifest, p.path, err)
	}
	if !reflect.DeepEqual(&m, &p.manifest) {
		return fmt.Errorf("%w: %s: the restarted plugin describes itself differently than when it was loaded",
			plugins.ErrBadManifest, p.path)
	}
	return nil
}

// Call implements plugins.Plugin.
//
// # Errors
//
//   - *abi.Error: the plugin returned an error.
//   - *plugins.CallError: FailTimeout (Options.Timeout or ctx's deadline
//     passed; the process is killed, restarted on the next call),
//     FailTrap (the process crashed or the connection broke; it is
//     killed and restarted on the next call), FailUnavailable (ctx was
//     cancelled: errors.Is(err, context.Canceled) holds and the process is
//     kept; the plugin was closed during the call: errors.Is(err,
//     plugins.ErrClosed) holds; or it cannot be restarted now),
//     FailTooLarge, FailBadOutput.
//   - plugins.ErrClosed after Close.
func (p *Plugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		// Do not start (or kill) a process for a call that is over.
		kind := plugins.FailUnavailable
		if errors.Is(err, context.DeadlineExceeded) {
			kind = plugins.FailTimeout
		}
		if p.isClosed() {
			return nil, plugins.ErrClosed
		}
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: kind, Err: err}
	}
	// A restart runs within the caller's deadline (and the StartTimeout);
	// Options.Timeout bounds the hook call itself.
	pr, err := p.current(ctx)
	if err != nil {
		if errors.Is(err, plugins.ErrClosed) {
			return nil, err
		}
		kind := plugins.FailUnavailable
		if ctx.Err() != nil && errors.Is(context.Cause(ctx), context.DeadlineExceeded) {
			kind = plugins.FailTimeout
		}
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: kind, Err: err}
	}
	cctx, cancel := context.WithTimeoutCause(ctx, p.opts.Timeout,
		&deadlineError{what: "the call timeout", d: p.opts.Timeout})
	defer cancel()
	// Room for the status byte and the protobuf framing of BytesValue.
	res, err := pr.stub.handle(cctx, hook, req, p.opts.MaxResultBytes+16)
	if err != nil {
		return nil, p.callError(ctx, cctx, pr, hook, err)
	}
	if len(res)-1 > p.opts.MaxResultBytes {
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailTooLarge,
			Err: fmt.Errorf("result of %d bytes exceeds %d", len(res)-1, p.opts.MaxResultBytes)}
	}
	st, payload, err := unpack(res)
	if err != nil {
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailBadOutput, Err: err}
	}
	switch st {
	case abi.StatusOK:
		return payload, nil
	case abi.StatusError:
		ae := &abi.Error{}
		if err := json.Unmarshal(payload, ae); err != nil {
			return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailBadOutput, Err: err}
		}
		ae.Message = termsafe.Quote(ae.Message, plugins.MaxQuotedErrorBytes)
		return nil, ae
	}
	return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailBadOutput, Err: fmt.Errorf("unknown status %d", st)}
}

// callError classifies a failed gRPC call on pr; ctx is the caller's, cctx
// the call's (with Options.Timeout).
func (p *Plugin) callError(ctx, cctx context.Context, pr *proc, hook abi.Hook, err error) error {
	code := status.Code(err)
	// A gRPC error's message may be the plugin's own text.
	err = &escapedError{err: err}
	ce := &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailTrap, Err: err}
	switch {
	case p.isClosed():
		ce.Kind = plugins.FailUnavailable
		ce.Err = fmt.Errorf("process: the plugin was closed during the call: %w", plugins.ErrClosed)
	case errors.Is(ctx.Err(), context.Canceled):
		// The caller gave up; the plugin is not at fault, and gRPC has
		// cancelled the call's context in the plugin.
		ce.Kind = plugins.FailUnavailable
		ce.Err = fmt.Errorf("process: the call was cancelled: %w", ctx.Err())
	case cctx.Err() != nil || code == codes.DeadlineExceeded:
		// It hung past its deadline: kill it, so that it is restarted
		// fresh rather than left stuck (and to stop what it is running).
		ce.Kind = plugins.FailTimeout
		ce.Err = fmt.Errorf("process: no answer by the deadline (%v); the plugin process was killed: %w", p.whichDeadline(ctx, cctx), err)
		p.logger.Warn("process: plugin timed out; killing it", "hook", hook.String(), "pid", pr.runner.runningPid())
		p.killIfCurrent(pr)
	case code == codes.ResourceExhausted:
		ce.Kind = plugins.FailTooLarge
	default:
		// The process crashed, or the connection broke: kill it and say
		// how it ended.
		p.killIfCurrent(pr)
		if st := pr.runner.exitState(); st != nil {
			ce.Err = fmt.Errorf("process: the plugin process ended (%s)%s: %w", st, pr.stderr.crashLine(), err)
		}
		p.logger.Warn("process: plugin call failed", "hook", hook.String(), "err", ce.Err)
	}
	return ce
}

func (p *Plugin) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// killIfCurrent kills pr unless it was replaced or closed meanwhile (then
// whoever did that stops it), and waits for it to be reaped.
func (p *Plugin) killIfCurrent(pr *proc) {
	p.mu.Lock()
	mine := p.cur == pr
	if mine {
		p.cur = nil
	}
	p.mu.Unlock()
	if mine {
		p.stop(context.Background(), pr, true)
	}
}

// closeGrace bounds a graceful stop: go-plugin asks the plugin to exit over
// gRPC, which a wedged plugin never answers.
const closeGrace = time.Second

// stop ends pr's process and waits for it to be reaped and for go-plugin's
// goroutines to end. force kills it at once (SIGKILL, with its process
// group); otherwise go-plugin asks it to exit first, and it is killed if
// it has not after closeGrace or when ctx is done.
func (p *Plugin) stop(ctx context.Context, pr *proc, force bool) {
	if pr.output != nil {
		defer pr.output.report(p.logger)
	}
	kill := func() {
		if pr.runner != nil { // nil if go-plugin failed before starting it
			pr.runner.kill()
		}
	}
	if force {
		kill()
		pr.client.Kill()
		return
	}
	// The children it has now are killed once it has exited (or been
	// killed): one in a session of its own would escape the group's kill.
	var pid int
	if pr.runner != nil {
		pid = pr.runner.runningPid()
	}
	defer holdDescendants(pid)()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pr.client.Kill()
	}()
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-ctx.Done():
	case <-t.C:
	}
	kill()
	<-done
}

// Pid returns the plugin process's id, or 0 if it is not running (before
// the restart that follows a crash or a timeout, and after Close).
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil {
		return 0
	}
	return p.cur.runner.runningPid()
}

// Close ends the plugin process and waits for it: go-plugin asks it to exit,
// and it is killed (with its process tree, on Linux) if it has not after
// 1s or when ctx is done. A restart in progress is stopped. Close is idempotent. A call in flight fails with
// an error matching plugins.ErrClosed.
func (p *Plugin) Close(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	pr := p.cur
	p.cur = nil
	p.mu.Unlock()
	// A restart in progress stops (it kills what it started); wait for it.
	p.stopClosing()
	p.restarting <- struct{}{}
	<-p.restarting
	if pr != nil {
		p.stop(ctx, pr, false)
	}
	return nil
}

// maxOutputBytes bounds what one plugin process may log, stdout and
// stderr together, over its lifetime: 1 MiB. Past it, lines are dropped
// and counted; one warning says so at once, another how much when the
// process ends.
const maxOutputBytes = 1 << 20

// A budget is what a process's output may still log.
type budget struct {
	mu      sync.Mutex
	left    int
	limit   int
	dropped int
}

func newBudget(n int) *budget { return &budget{left: n, limit: n} }

// take reports whether n bytes may be logged, and counts them; first
// reports whether this is the first drop.
func (b *budget) take(n int) (ok, first bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= b.left {
		b.left -= n
		return true, false
	}
	b.left = 0
	first = b.dropped == 0
	b.dropped += n
	return false, first
}

// report logs how much output was dropped, if any.
func (b *budget) report(logger *slog.Logger) {
	b.mu.Lock()
	n := b.dropped
	b.dropped = 0
	b.mu.Unlock()
	if n > 0 {
		logger.Warn(fmt.Sprintf("process: dropped %d bytes of plugin output over its budget of %d bytes", n, b.limit),
			"dropped", n, "limit", b.limit)
	}
}

// lineLogger logs one output stream of the plugin line by line, within
// budget, escaped for terminals, and, if keep is set, keeps its first
// lines and its last keep lines for errors.
type lineLogger struct {
	logger *slog.Logger
	stream string // "stdout" or "stderr"
	keep   int
	budget *budget

	mu    sync.Mutex
	buf   []byte
	first []string // the first keepFirst lines
	last  []string // the last keep lines
	lines int      // lines kept in all
}

// keepFirst is how many of its first lines a lineLogger keeps: a crash
// says why at its start (a Go panic, "SIGSEGV: segmentation violation").
const keepFirst = 10

// maxKeptLine bounds a kept line.
const maxKeptLine = 512

func (l *lineLogger) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(bytes.TrimSuffix(l.buf[:i], []byte("\r"))))
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 64<<10 { // a line with no end: log what there is
		l.line(string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

// line logs one line: at the level it starts with if any ("WARN msg", as
// sdk-guest's Log writes), as the record it is if it is one of go-plugin's
// JSON log lines, else at INFO.
func (l *lineLogger) line(s string) {
	if l.keep > 0 && !strings.HasPrefix(s, "{\"@") {
		k := termsafe.Line(truncate(s, maxKeptLine))
		l.lines++
		if len(l.first) < keepFirst {
			l.first = append(l.first, k)
		} else {
			l.last = append(l.last, k)
			if len(l.last) > l.keep {
				l.last = l.last[1:]
			}
		}
	}
	if l.budget != nil {
		ok, first := l.budget.take(len(s) + 1)
		if first {
			l.logger.Warn(fmt.Sprintf("process: plugin output over its budget of %d bytes; dropping the rest", l.budget.limit))
		}
		if !ok {
			return
		}
	}
	// A record is decoded first, then its text escaped: escaping the line
	// first would leave a JSON escape ("\u001b") to decode into the
	// control it stands for.
	rec, isRecord := hclogRecord(s)
	s = termsafe.Line(s)
	level, msg, attrs := slog.LevelInfo, s, []any{"stream", l.stream}
	if isRecord {
		level, msg = rec.level, rec.msg
		// In a group of their own: a member named "plugin", "stream",
		// "msg" or "level" must not pass for the host's (a reader of
		// JSON keeps the last of duplicate names).
		if len(rec.attrs) > 0 {
			attrs = append(attrs, slog.Group("attrs", rec.attrs...))
		}
	} else if word, rest, ok := strings.Cut(s, " "); ok && word != "" && word[0] >= 'A' && word[0] <= 'Z' {
		var lv slog.Level
		if lv.UnmarshalText([]byte(word)) == nil {
			level, msg = lv, rest
		}
	}
	l.logger.Log(context.Background(), level, "plugin: "+msg, attrs...)
}

type hclogLine struct {
	level slog.Level
	msg   string
	attrs []any
}

// hclogRecord parses a JSON log line of hclog, which go-plugin's server
// writes to the plugin's stderr: {"@level":"debug","@message":"...",...}.
func hclogRecord(s string) (hclogLine, bool) {
	if !strings.HasPrefix(s, "{\"@") {
		return hclogLine{}, false
	}
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return hclogLine{}, false
	}
	lv, _ := m["@level"].(string)
	msg, ok := m["@message"].(string)
	if !ok {
		return hclogLine{}, false
	}
	rec := hclogLine{msg: termsafe.Line(msg)}
	switch lv {
	case "trace", "debug":
		rec.level = slog.LevelDebug
	case "warn":
		rec.level = slog.LevelWarn
	case "error":
		rec.level = slog.LevelError
	default:
		rec.level = slog.LevelInfo
	}
	for k, v := range m {
		if !strings.HasPrefix(k, "@") {
			rec.attrs = append(rec.attrs, termsafe.Line(k), safeValue(v))
		}
	}
	return rec, true
}

// safeValue is a decoded JSON value of a plugin's log record with its
// text escaped: a string escaped, an object or array as its JSON text
// escaped, a number, boolean or null as it is.
func safeValue(v any) any {
	switch v := v.(type) {
	case string:
		return termsafe.Line(v)
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return termsafe.Line(string(b))
	}
	return v
}

// tail returns the kept lines: the first ones, and the last ones, with a
// note of how many were left out between.
func (l *lineLogger) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := append([]string(nil), l.first...)
	if skipped := l.lines - len(l.first) - len(l.last); skipped > 0 {
		lines = append(lines, fmt.Sprintf("[... %d lines ...]", skipped))
	}
	lines = append(lines, l.last...)
	return strings.Join(lines, "\n")
}

// crashLine returns, as `; its stderr: "..."`, the line of the kept output
// that best says why the process died (a Go panic or fatal error, a signal
// report, else the last line), or "".
func (l *lineLogger) crashLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := ""
	for _, s := range append(append([]string(nil), l.first...), l.last...) {
		if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") || signalLineRE.MatchString(s) {
			line = s
			break
		}
	}
	if line == "" && len(l.last) > 0 {
		line = l.last[len(l.last)-1]
	} else if line == "" && len(l.first) > 0 {
		line = l.first[len(l.first)-1]
	}
	if line == "" {
		return ""
	}
	return fmt.Sprintf("; its stderr: %q", line)
}

// signalLineRE matches the Go runtime's report of a fatal signal
// ("SIGSEGV: segmentation violation").
var signalLineRE = regexp.MustCompile(`^SIG[A-Z]+: `)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

var _ io.Writer = (*lineLogger)(nil)

// A deadlineError is the cause of a context that one of the runtime's
// timeouts ended: it names the timeout. It matches
// context.DeadlineExceeded.
type deadlineError struct {
	what string // "the call timeout", "the start timeout"
	d    time.Duration
}

func (e *deadlineError) Error() string { return fmt.Sprintf("%s of %v passed", e.what, e.d) }

func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// deadlineCause returns why ctx is done: a *deadlineError naming the
// runtime's timeout that ended it, else the caller's cause, "the caller's
// deadline" for a plain context.DeadlineExceeded.
func deadlineCause(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == context.DeadlineExceeded {
		return fmt.Errorf("the caller's deadline passed: %w", cause)
	}
	return cause
}

// whichDeadline names the deadline of a call that ran past it: cctx is ctx
// bounded by the call timeout. (gRPC may report the deadline a moment
// before cctx is done.)
func (p *Plugin) whichDeadline(ctx, cctx context.Context) error {
	if cctx.Err() != nil {
		return deadlineCause(cctx)
	}
	cd, _ := cctx.Deadline()
	if d, ok := ctx.Deadline(); ok && !d.After(cd) {
		return fmt.Errorf("the caller's deadline passed: %w", context.DeadlineExceeded)
	}
	return &deadlineError{what: "the call timeout", d: p.opts.Timeout}
}

// ctxError adds to err, if ctx is done, why.
func ctxError(ctx context.Context, err error) error {
	if ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", err, deadlineCause(ctx))
}

// An escapedError is an error whose message quotes what a plugin wrote
// (a gRPC status message, up to grpc-go's 16 MiB): its message is cut at
// plugins.MaxQuotedErrorBytes and escaped for terminals; it unwraps to the
// original.
type escapedError struct{ err error }

func (e *escapedError) Error() string {
	return termsafe.Quote(e.err.Error(), plugins.MaxQuotedErrorBytes)
}
func (e *escapedError) Unwrap() error { return e.err }
