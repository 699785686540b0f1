// Package process runs codexhost plugins as separate processes through
// hashicorp/go-plugin over gRPC, behind the same [plugins.Plugin] interface
// as the Wasm runtime.
//
// Pick it for plugins that need what the Wasm sandbox forbids (the network,
// a database, native libraries). A process plugin is not sandboxed: it runs
// with the operator's user rights. What the host does control: the binary's
// sha256 (refused on mismatch), its environment (only what Options.Env
// passes), its stdin (/dev/null), mutual TLS on the connection, the size of
// its answers, and its lifetime: killed on Close, at a call's deadline, when
// it crashes, and, on Linux, with the host and together with the children
// it started.
//
// # Output
//
// The plugin's stdout carries go-plugin's handshake: a plugin must write
// nothing there before it. Afterwards go-plugin forwards what the plugin
// writes to os.Stdout and os.Stderr; all of it, and whatever it writes to
// its raw stderr (a Go panic, say), goes to Options.Logger line by line. A
// line that starts with a slog level ("DEBUG msg", as sdk-guest's Log
// writes) is logged at that level, any other at INFO.
//
// # Host shutdown
//
// Close ends the plugin gracefully: go-plugin asks it to exit, and it is
// killed if it has not within 2 to 3s, or when Close's context is done. A
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
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// Options configure [Load]. A nil *Options means defaults.
type Options struct {
	plugins.Options

	// SHA256 is the expected hex sha256 of the plugin binary, optionally
	// prefixed "sha256:". When set, a binary with another digest is
	// refused before it runs, at Load and at every restart. (The file is
	// hashed, then executed by path: someone who can replace it between
	// the two can still run another binary.)
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

	// mu guards the fields below. It is held while a process starts, so a
	// Close during a restart waits for the restart (at most StartTimeout).
	mu       sync.Mutex
	cur      *proc // nil: not running
	restarts []time.Time
	closed   bool
}

// proc is one plugin process and its connection.
type proc struct {
	client *plugin.Client
	stub   *stub
	runner *procRunner
	stderr *lineLogger // the raw stderr
}

var _ plugins.Plugin = (*Plugin)(nil)

// Load starts the plugin binary at path, performs the handshake, reads its
// manifest and configures it.
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
	p := &Plugin{path: path}
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
	pr, err := p.start()
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	raw, err := pr.stub.describe(lctx)
	if err != nil {
		p.stop(context.Background(), pr, true)
		return nil, fmt.Errorf("process: describe %s: %w", path, err)
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
		return nil, err
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
		return fmt.Errorf("process: configure %s: %w", p.path, err)
	}
	st, payload, err := unpack(res)
	if err != nil || st == abi.StatusOK {
		return err
	}
	var ae abi.Error
	if json.Unmarshal(payload, &ae) != nil {
		ae = abi.Error{Code: abi.CodeBadConfig, Message: string(payload)}
	}
	return fmt.Errorf("process: plugin %s rejects its settings: %w", p.manifest.Name, &ae)
}

// checkSum verifies the binary against the pinned sha256.
func (p *Plugin) checkSum() error {
	if p.wantSum == nil {
		return nil
	}
	f, err := os.Open(p.path)
	if err != nil {
		return fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	if got := h.Sum(nil); !bytes.Equal(got, p.wantSum) {
		return fmt.Errorf("process: plugin %s: its sha256 does not match: it is %x, %x is pinned; refusing to run it: %w",
			p.path, got, p.wantSum, plugin.ErrChecksumsDoNotMatch)
	}
	return nil
}

// start checks and launches the process. The caller holds p.mu or owns p
// exclusively.
func (p *Plugin) start() (*proc, error) {
	if err := p.checkSum(); err != nil {
		return nil, err
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
	pr := &proc{stderr: &lineLogger{logger: p.logger, stream: "stderr", keep: 20}}
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
			r, err := newProcRunner(p.path, o.Args, penv, tlsBlob(server))
			pr.runner, runErr = r, err
			return r, err
		},
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		// Mutual TLS with the certificates above (see tls.go); a plugin
		// that ignores them answers with go-plugin's AutoMTLS, whose
		// certificate then replaces the server's in RootCAs.
		TLSConfig:    clientTLS(host, server),
		SkipHostEnv:  true,
		StartTimeout: o.StartTimeout,
		Stderr:       pr.stderr,
		SyncStdout:   &lineLogger{logger: p.logger, stream: "stdout"},
		SyncStderr:   &lineLogger{logger: p.logger, stream: "stderr"},
		Logger:       hclog.NewNullLogger(),
	})
	rpcClient, err := pr.client.Client()
	if err != nil {
		pr.client.Kill()
		if runErr != nil {
			err = runErr
		}
		return nil, p.startError(err, pr.stderr)
	}
	raw, err := rpcClient.Dispense(abi.PluginName)
	if err != nil {
		p.stop(context.Background(), pr, true)
		return nil, fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	pr.stub = raw.(*stub)
	return pr, nil
}

var pluginVersionRE = regexp.MustCompile(`Plugin version: (\d+)`)

func (p *Plugin) startError(err error, stderr *lineLogger) error {
	msg := err.Error()
	if strings.Contains(strings.ToLower(msg), "incompatible api version") {
		theirs := "another version"
		if m := pluginVersionRE.FindStringSubmatch(msg); m != nil {
			theirs = "ABI v" + m[1]
		}
		return fmt.Errorf("%w: plugin %s speaks %s, this host speaks ABI v%d (%s)",
			plugins.ErrIncompatibleABI, p.path, theirs, abi.Version, msg)
	}
	if tail := stderr.tail(); tail != "" {
		return fmt.Errorf("process: start plugin %s: %w; its stderr:\n%s", p.path, err, tail)
	}
	return fmt.Errorf("process: start plugin %s: %w", p.path, err)
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
// budget allows.
func (p *Plugin) current() (*proc, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, plugins.ErrClosed
	}
	if pr := p.cur; pr != nil {
		if !pr.client.Exited() {
			return pr, nil
		}
		p.cur = nil
		p.stop(context.Background(), pr, true)
	}
	var err error
	p.restarts, err = admitRestart(p.restarts, time.Now(), p.opts.MaxRestarts, p.opts.RestartWindow)
	if err != nil {
		return nil, err
	}
	p.logger.Warn("process: restarting plugin", "restarts", len(p.restarts)+1, "window", p.opts.RestartWindow)
	pr, err := p.restart()
	// The backoff counts from the end of this restart, whether it worked
	// or not: the time a plugin takes to start is not a pause.
	at := time.Now()
	p.restarts = append(p.restarts, at)
	if err != nil {
		p.logger.Warn("process: restart failed", "err", err)
		return nil, err
	}
	p.cur = pr
	p.logger.Info("process: plugin restarted", "pid", pr.runner.runningPid(), "at", at)
	return pr, nil
}

// restart starts a new process for the plugin and checks and configures
// it. The caller holds p.mu.
func (p *Plugin) restart() (*proc, error) {
	pr, err := p.start()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
	defer cancel()
	if err := p.redescribe(ctx, pr); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, err
	}
	if err := p.configure(ctx, pr); err != nil {
		p.stop(context.Background(), pr, true)
		return nil, err
	}
	return pr, nil
}

// redescribe checks that a restarted plugin describes itself as at Load: the
// binary may have changed since, and its manifest was checked then only.
func (p *Plugin) redescribe(ctx context.Context, pr *proc) error {
	raw, err := pr.stub.describe(ctx)
	if err != nil {
		return fmt.Errorf("process: describe %s: %w", p.path, err)
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
	pr, err := p.current()
	if err != nil {
		if errors.Is(err, plugins.ErrClosed) {
			return nil, err
		}
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailUnavailable, Err: err}
	}
	cctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
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
		return nil, ae
	}
	return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailBadOutput, Err: fmt.Errorf("unknown status %d", st)}
}

// callError classifies a failed gRPC call on pr; ctx is the caller's, cctx
// the call's (with Options.Timeout).
func (p *Plugin) callError(ctx, cctx context.Context, pr *proc, hook abi.Hook, err error) error {
	ce := &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailTrap, Err: err}
	code := status.Code(err)
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
		ce.Err = fmt.Errorf("process: no answer within %s; the plugin process was killed: %w", p.opts.Timeout, err)
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
const closeGrace = 3 * time.Second

// stop ends pr's process and waits for it to be reaped and for go-plugin's
// goroutines to end. force kills it at once (SIGKILL, with its process
// group); otherwise go-plugin asks it to exit first, and it is killed if
// it has not after closeGrace or when ctx is done.
func (p *Plugin) stop(ctx context.Context, pr *proc, force bool) {
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
// and it is killed (with its process group, on Linux) if it has not after
// 3s or when ctx is done. Close is idempotent. A call in flight fails with
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
	if pr != nil {
		p.stop(ctx, pr, false)
	}
	return nil
}

// lineLogger logs one output stream of the plugin line by line and, if keep
// is set, keeps its last lines for errors.
type lineLogger struct {
	logger *slog.Logger
	stream string // "stdout" or "stderr"
	keep   int

	mu   sync.Mutex
	buf  []byte
	last []string
}

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
	level, msg, attrs := slog.LevelInfo, s, []any{"stream", l.stream}
	rec, isRecord := hclogRecord(s)
	if isRecord {
		level, msg = rec.level, rec.msg
		attrs = append(attrs, rec.attrs...)
	} else if word, rest, ok := strings.Cut(s, " "); ok && word != "" && word[0] >= 'A' && word[0] <= 'Z' {
		var lv slog.Level
		if lv.UnmarshalText([]byte(word)) == nil {
			level, msg = lv, rest
		}
	}
	l.logger.Log(context.Background(), level, "plugin: "+msg, attrs...)
	if l.keep > 0 && !isRecord {
		l.last = append(l.last, s)
		if len(l.last) > l.keep {
			l.last = l.last[1:]
		}
	}
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
	rec := hclogLine{msg: msg}
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
			rec.attrs = append(rec.attrs, k, v)
		}
	}
	return rec, true
}

func (l *lineLogger) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}

// crashLine returns, as `; its stderr: "..."`, the line of the kept output
// that best says why the process died (a Go panic or fatal error, else the
// last line), or "".
func (l *lineLogger) crashLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := ""
	for _, s := range l.last {
		if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") {
			line = s
			break
		}
	}
	if line == "" && len(l.last) > 0 {
		line = l.last[len(l.last)-1]
	}
	if line == "" {
		return ""
	}
	return fmt.Sprintf("; its stderr: %q", line)
}

var _ io.Writer = (*lineLogger)(nil)
