package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/rpc"
)

// Version is codexhost's version, sent to app-server as the client version.
const Version = "0.1.0"

// CodexVersion is the Codex CLI version whose app-server protocol host was
// generated from and is tested against (`make protocol`).
const CodexVersion = protocol.CodexVersion

// DefaultMaxQueuedBytes is the default [Options.MaxQueuedBytes] (8 MiB): with
// it a stalled consumer of a stream of a million deltas keeps the peak RSS
// of the whole process well under 64 MB (docs/performance.md).
const DefaultMaxQueuedBytes = 8 << 20

// minQueuedBytes is the least default MaxQueuedBytes under a small
// GOMEMLIMIT.
const minQueuedBytes = 1 << 20

// defaultMaxQueuedBytes sizes the default bound for the Go memory limit
// memLimit (math.MaxInt64 when none is set).
func defaultMaxQueuedBytes(memLimit int64) int {
	n := int64(DefaultMaxQueuedBytes)
	if l := memLimit / 8; l < n {
		n = max(l, minQueuedBytes)
	}
	return int(n)
}

// observeSafely gives ev to obs, recovering a panic: one observer's bug
// must not take the event from the other observers, nor from the turn's
// consumer (the connection would recover the panic and skip the rest of
// the event's delivery).
func observeSafely(obs EventObserver, ev *Event, logger *slog.Logger) {
	defer func() {
		if v := recover(); v != nil {
			logger.Error("codexhost: an event observer panicked; the event goes on to the others", "method", ev.Method, "seq", ev.Seq, "panic", fmt.Sprint(v))
		}
	}()
	obs.ObserveEvent(ev)
}

// Options configure [Start]. A nil *Options means all defaults.
type Options struct {
	// Codex is the codex binary. Default: $CODEX_BIN, then the project's
	// pinned install (tools/codex, installed by `make codex`, in the working directory or a parent), then "codex" on PATH.
	Codex string
	// CodexHome sets CODEX_HOME for app-server. Default: inherited, which
	// means codex uses ~/.codex and the user's own login.
	CodexHome string
	// Dir is app-server's working directory. Default: the current one.
	Dir string
	// Env holds extra "KEY=value" entries added to the inherited environment.
	Env []string
	// ReplaceEnv makes Env app-server's whole environment (with CODEX_HOME
	// when CodexHome is set) instead of additions to the inherited one.
	// codex needs at least HOME (or CODEX_HOME) and, to find its helpers,
	// PATH.
	ReplaceEnv bool
	// Config holds `-c key=value` overrides passed to app-server, e.g.
	// `model="o3"`. The value part is TOML.
	Config []string
	// Features are codex feature flags, passed to app-server as
	// `--enable NAME` (true) or `--disable NAME` (false). Unlike a
	// `-c features.NAME=…` override, which codex only warns about, an
	// unknown name stops app-server at start: Start returns a *ConnError
	// whose Reason names it.
	Features map[string]bool
	// StrictConfig passes app-server --strict-config: codex refuses a
	// config.toml with a field it does not know, and app-server exits at
	// start (Start returns a *ConnError whose Reason names the field),
	// instead of ignoring it.
	StrictConfig bool
	// ClientName and ClientVersion identify the client in initialize.
	// Default: "codexhost" and [Version].
	ClientName, ClientVersion string
	// Extra holds raw initialize params, set over the ones codexhost sends
	// (merged last; a nil value removes a key).
	Extra map[string]any
	// Handler answers every request app-server sends. Default: [SafeHandler].
	Handler Handler
	// Logger receives diagnostics, including app-server's stderr at debug
	// level. Default: discard.
	Logger *slog.Logger
	// StopGrace bounds each step of the shutdown in [Client.Close].
	// Default: 3s.
	StopGrace time.Duration
	// StderrLines is how many of app-server's last stderr lines a
	// [ConnError] carries. Default: 500.
	StderrLines int
	// MaxLineBytes limits one JSON-RPC line from app-server.
	// Default: rpc.DefaultMaxLineBytes (64 MiB).
	MaxLineBytes int
	// EventBuffer is how many events each turn buffers before delivery
	// blocks (backpressure). Default: 1024. It bounds a count, not memory:
	// MaxQueuedBytes does that.
	EventBuffer int
	// MaxQueuedBytes bounds the memory of what app-server has sent and the
	// consumers have not taken yet. Half of it bounds the raw lines read
	// and waiting for the connection's dispatcher (rpc.Options.MaxQueuedBytes),
	// the other half the events waiting in the turns' buffers, each counted
	// as its raw params plus its decoded text plus 256 bytes. When either
	// half is full, delivery blocks, the reader stops reading and app-server
	// blocks writing to its stdout pipe: a stalled consumer slows codex
	// down, and no event is ever discarded. One message larger than its
	// half still passes, alone; MaxLineBytes bounds that.
	//
	// What a stalled consumer costs is this bound, plus the decoded form
	// of the queued lines (about as much again for small events), plus the
	// Go heap's headroom (GOGC), plus the reader's buffer for the longest
	// line so far. docs/performance.md has the measured figure.
	//
	// Default: [DefaultMaxQueuedBytes], or an eighth of the Go memory limit
	// (GOMEMLIMIT, debug.SetMemoryLimit) when one is set and that is
	// smaller, but not under 1 MiB.
	MaxQueuedBytes int
	// Observers see every event of every thread on the Client, in order,
	// exactly once (renderers hook in here; see [Renderer]).
	Observers []EventObserver
	// Transcript, if set, records every JSON-RPC line to and from
	// app-server, raw, as it passes (see package transcript). The Client
	// writes to it until [Client.Wait] returns; the caller owns it and
	// checks its Err afterwards. A failed write stops the recording, not
	// the Client.
	Transcript *transcript.Writer
	// Prepare, if set, runs on a goroutine of its own while app-server
	// starts (the spawn and the initialize handshake; ~0.3 s on the bench VM), so
	// that work the Client needs before its first thread, such as loading
	// plugins, costs the slower of the two instead of both. Its result
	// completes the options: a non-nil Prepared.Handler replaces Handler,
	// and Prepared.Observers are added after Observers.
	//
	// No event reaches an observer and no request reaches the Handler
	// before Prepare has returned: they wait for it (under the usual
	// backpressure), so none is lost or answered by the wrong handler.
	//
	// Prepare's ctx ends when Start's ctx ends, when Start fails and
	// when the Client is closed, not when Start returns: what Prepare
	// starts may hold it.
	//
	// Start returns when both have finished, like an errgroup:
	//   - if Prepare fails, app-server is stopped (an initialize in
	//     flight is abandoned) and Start returns Prepare's error, wrapped
	//     with [ErrPrepare];
	//   - if app-server fails to start, Start waits for Prepare and returns
	//     Prepare's error if it failed too (so that a bad plugin, say, is
	//     reported the same whichever failed first), else the start error;
	//   - when ctx ends, both end.
	//
	// Prepare's caller owns what Prepare makes: when Start returns an
	// error, release it (Prepare may have succeeded before app-server
	// failed). Default: nil, nothing runs beside the start.
	Prepare func(ctx context.Context) (*Prepared, error)
}

// Prepared is what [Options.Prepare] adds to a Client's options.
type Prepared struct {
	// Handler, if not nil, replaces Options.Handler.
	Handler Handler
	// Observers are added after Options.Observers.
	Observers []EventObserver
}

// An EventObserver sees every event of a Client, in arrival order.
//
// ObserveEvent runs on the connection's delivery goroutine: it must not
// modify the event, and it must hand slow work to a goroutine of its own,
// because while it runs no other event is delivered. It may block briefly
// to apply backpressure.
type EventObserver interface {
	ObserveEvent(ev *Event)
}

func (o *Options) withDefaults() *Options {
	c := Options{}
	if o != nil {
		c = *o
	}
	if c.ClientName == "" {
		c.ClientName = "codexhost"
	}
	if c.ClientVersion == "" {
		c.ClientVersion = Version
	}
	if c.Handler == nil {
		c.Handler = SafeHandler{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 3 * time.Second
	}
	if c.StderrLines <= 0 {
		c.StderrLines = 500
	}
	if c.EventBuffer <= 0 {
		c.EventBuffer = 1024
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = defaultMaxQueuedBytes(debug.SetMemoryLimit(-1))
	}
	return &c
}

// A Client is one running app-server process and the connection to it.
//
// A Client is safe for concurrent use. Close stops app-server; Wait blocks
// until every goroutine the Client started has ended.
type Client struct {
	opts *Options
	proc *process
	conn *rpc.Conn

	router   router
	files    fileChangeCache
	inflight inflight
	// cwds maps thread ids to the working directory app-server reported
	// when the thread was started, resumed or forked, or to its parent's
	// for a sub-agent's thread (learnCwds).
	cwds sync.Map
	// ownTools maps the ids of threads started with
	// ThreadOptions.OmitHandlerTools to the names of the tools they were
	// given (map[string]bool): a tool call on such a thread for any other
	// tool is refused without the Handler.
	ownTools sync.Map
	// connDrained is closed when rpc.Conn.Wait returns: every notification
	// read before the connection ended has been delivered.
	connDrained chan struct{}

	// prep is Options.Prepare's progress: events and requests wait for
	// it.
	prep *prepState
	// stopPrepare ends the context Options.Prepare had, at Close.
	stopPrepare func()

	initResp  protocol.InitializeResponse
	closeOnce sync.Once
	closed    atomic.Bool
	closeErr  error
	connErr   atomic.Pointer[ConnError]
}

// Start spawns `codex app-server` and performs the initialize handshake.
// ctx bounds the start-up only; the process lives until [Client.Close].
//
// # Errors
//
//   - [ErrCodexNotFound]: no binary was found; the message says where it looked.
//   - [*ConnError]: app-server exited during start-up (for example, a broken
//     config.toml); its Stderr says why.
//   - [ErrPrepare]: [Options.Prepare] failed; the error wraps its error.
//   - ctx's error if ctx ended first.
func Start(ctx context.Context, opts *Options) (*Client, error) {
	o := opts.withDefaults()
	// With Prepare, the start runs under sctx, which a failed Prepare
	// cancels; ps.done is closed when Prepare has returned and o holds its
	// Handler and Observers.
	sctx, cancel := ctx, context.CancelCauseFunc(func(error) {})
	ps := &prepState{done: closedChan}
	if o.Prepare != nil {
		sctx, cancel = context.WithCancelCause(ctx)
		done := make(chan struct{})
		ps.done = done
		go func() { // owned by Start, which waits for it before it returns
			defer close(done)
			ready, err := o.Prepare(sctx)
			if err != nil {
				ps.err = fmt.Errorf("%w: %w", ErrPrepare, err)
				cancel(ps.err)
				return
			}
			if ready != nil {
				if ready.Handler != nil {
					o.Handler = ready.Handler
				}
				o.Observers = append(slices.Clip(o.Observers), ready.Observers...)
			}
		}()
	}
	c, err := start(sctx, o, ps)
	// A failed start does not cancel Prepare: its own error, if it has
	// one, is the more useful (a bad plugin, not a missing codex), and
	// which one Start returns must not depend on which failed first.
	<-ps.done
	if ps.err != nil {
		err = ps.err
	}
	if err != nil {
		cancel(err)
		if c != nil {
			_ = c.Close()
		}
		return nil, err
	}
	c.stopPrepare = func() { cancel(nil) } // what Prepare started may hold its ctx
	return c, nil
}

// prepState is Options.Prepare's progress: done is closed when it has
// returned, after err is set.
type prepState struct {
	done <-chan struct{}
	err  error
}

// start spawns app-server and performs the handshake. Events and requests
// wait for Prepare, and are dropped if it failed. On error it returns the
// Client, if one was made, for Start to close.
func start(ctx context.Context, o *Options, ps *prepState) (*Client, error) {
	bin, err := findCodex(o.Codex)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err // Prepare failed before the spawn
	}
	args := []string{"app-server"}
	for _, kv := range o.Config {
		args = append(args, "-c", kv)
	}
	for _, name := range slices.Sorted(maps.Keys(o.Features)) {
		flag := "--disable"
		if o.Features[name] {
			flag = "--enable"
		}
		args = append(args, flag, name)
	}
	if o.StrictConfig {
		args = append(args, "--strict-config")
	}
	p, err := startProcess(bin, args, o)
	if err != nil {
		return nil, err
	}
	c := &Client{opts: o, proc: p, prep: ps}
	c.router.init(o.EventBuffer, max(o.MaxQueuedBytes/2, 1), o.Logger)
	c.router.observe = func(ev *Event) {
		if <-ps.done; ps.err != nil {
			return // Start is failing: nobody is to see it
		}
		c.files.observe(ev)
		c.inflight.observe(ev)
		c.learnCwds(ev)
		for _, obs := range o.Observers {
			observeSafely(obs, ev, o.Logger)
		}
	}
	rwc := stdio{Reader: p.stdout, Writer: p.stdin, closeFn: func() error {
		err1 := p.stdin.Close()
		err2 := p.stdout.Close()
		return errors.Join(ignoreClosed(err1), ignoreClosed(err2))
	}}
	if o.Transcript != nil {
		c.startTranscript()
		rwc.Reader = &tapReader{r: p.stdout, tw: o.Transcript}
		rwc.Writer = &tapWriter{w: p.stdin, tw: o.Transcript}
	}
	c.conn = rpc.NewConn(rwc, &rpc.Options{
		Handler:        rpc.HandlerFunc(c.handleRequest),
		Notifications:  rpc.NotificationHandlerFunc(c.router.deliver),
		Arrived:        c.arrived,
		Abandoned:      c.abandonedRequest,
		Params:         &paramsDecoder{},
		MaxLineBytes:   o.MaxLineBytes,
		MaxQueuedBytes: max(o.MaxQueuedBytes/2, 1),
		Logger:         o.Logger,
	})
	c.connDrained = make(chan struct{})
	go func() { // owned by c; ends when the connection ends
		_ = c.conn.Wait()
		close(c.connDrained)
	}()
	init := protocol.InitializeParams{
		ClientInfo: protocol.ClientInfo{Name: o.ClientName, Version: o.ClientVersion},
		// Dynamic tools and several fields codexhost uses are experimental.
		Capabilities: &protocol.InitializeCapabilities{ExperimentalAPI: true},
	}
	return c, c.handshake(ctx, bin, init)
}

// handshake is initialize, the version check and initialized.
func (c *Client) handshake(ctx context.Context, bin string, init protocol.InitializeParams) error {
	err := c.callExtra(ctx, protocol.ClientInitialize, init, c.opts.Extra, &c.initResp)
	c.finishTranscriptHeader()
	if err != nil {
		return fmt.Errorf("host: initialize: %w", err)
	}
	if err := c.checkCodexVersion(bin); err != nil {
		return err
	}
	if err := c.conn.Notify(ctx, "initialized", nil); err != nil {
		return fmt.Errorf("host: initialized: %w", c.wrapConnErr(err))
	}
	return nil
}

// closedChan is a closed channel: Prepare's "done" when there is none.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func ignoreClosed(err error) error {
	if err == nil || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, os.ErrClosed) {
		return nil
	}
	return err
}

// CodexHome reports the CODEX_HOME app-server is using.
func (c *Client) CodexHome() string { return string(c.initResp.CodexHome) }

// UserAgent reports app-server's user agent, which includes codex's version.
func (c *Client) UserAgent() string { return c.initResp.UserAgent }

// Pid returns app-server's process id.
func (c *Client) Pid() int { return c.proc.cmd.Process.Pid }

// Done is closed when the connection to app-server ends, by Close or because
// app-server exited.
func (c *Client) Done() <-chan struct{} { return c.conn.Done() }

// Err reports why the connection ended: nil while it is up or after Close,
// else a [*ConnError].
func (c *Client) Err() error {
	select {
	case <-c.conn.Done():
	default:
		return nil
	}
	if c.closed.Load() {
		return nil
	}
	return c.connError()
}

// Close stops app-server in order (close stdin, wait, SIGTERM, wait,
// SIGKILL; each wait bounded by [Options.StopGrace]) and ends every turn
// stream with [ErrClosed]. Close is idempotent and safe to call
// concurrently; later calls return the first call's result.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.router.closeAll()
		// Close stdin first so that app-server sees EOF and exits on its
		// own; the rpc reader ends when stdout closes.
		_ = c.proc.stdin.Close()
		stopErr := c.proc.stop(c.opts.StopGrace)
		_ = c.conn.Close()
		if c.stopPrepare != nil {
			c.stopPrepare()
		}
		c.closeErr = stopErr
	})
	return c.closeErr
}

// Wait blocks until app-server has exited and every goroutine the Client
// owns has returned. It returns nil after Close, else the [*ConnError] that
// ended the connection. Wait does not stop anything itself.
func (c *Client) Wait() error {
	<-c.conn.Done()
	<-c.proc.exited
	<-c.connDrained
	c.proc.wg.Wait()
	return c.Err()
}

// How long connError waits for what a ConnError reports. They bound only
// the pathological cases: when app-server dies, its stdout closes as it
// exits and the waits end as soon as the exit is seen and stderr is read
// to its end. The bounds matter on a loaded machine, where seeing the exit
// and reading the pipe can take far longer than usual (with 500 and 200 ms
// a dead app-server's ConnError could lack its exit code and stderr);
// they stop a process that closed stdout but keeps running, or a
// descendant that keeps stderr open, from delaying the report for ever.
const (
	connErrExitWait   = 5 * time.Second // for the process to exit
	connErrStderrWait = time.Second     // then for the stderr reader to reach EOF
)

// connError builds (once) the ConnError for a broken connection. It waits
// (at most connErrExitWait, then connErrStderrWait) for the process to
// exit and its stderr to be read, so that the exit code and its last
// stderr lines are included.
func (c *Client) connError() *ConnError {
	if e := c.connErr.Load(); e != nil {
		return e
	}
	cause := c.conn.Err()
	if cause == nil {
		cause = rpc.ErrClosed
	}
	exitWait := time.NewTimer(connErrExitWait)
	defer exitWait.Stop()
	select {
	case <-c.proc.exited:
		// Let the stderr reader catch up with the last lines.
		done := make(chan struct{})
		go func() { c.proc.wg.Wait(); close(done) }()
		stderrWait := time.NewTimer(connErrStderrWait)
		defer stderrWait.Stop()
		select {
		case <-done:
		case <-stderrWait.C:
		}
	case <-exitWait.C:
	}
	e := &ConnError{Err: cause, ExitCode: c.proc.exitCode(), Stderr: c.proc.stderr.snapshot()}
	c.connErr.CompareAndSwap(nil, e)
	return c.connErr.Load()
}

// wrapConnErr turns an error from the rpc layer into the Client's error.
func (c *Client) wrapConnErr(err error) error {
	if err == nil {
		return nil
	}
	var we *rpc.WireError
	if errors.As(err, &we) {
		return mapWireError(we)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if c.closed.Load() {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	select {
	case <-c.conn.Done():
		return c.connError()
	default:
		return err
	}
}

// mapWireError adds host sentinels to app-server's error responses.
func mapWireError(we *rpc.WireError) error {
	msg := strings.ToLower(we.Message)
	switch {
	case strings.Contains(msg, "failed to load configuration"), strings.Contains(msg, "invalid configuration"):
		return fmt.Errorf("%w: %w", ErrConfig, we)
	case strings.Contains(msg, "thread not found"), strings.Contains(msg, "thread not loaded"),
		strings.Contains(msg, "no thread with id"),
		strings.Contains(msg, "no rollout found"):
		return fmt.Errorf("%w: %w", ErrThreadNotFound, we)
	case strings.Contains(msg, "not authenticated"), strings.Contains(msg, "authentication required"),
		strings.Contains(msg, "unauthorized"),
		strings.Contains(msg, "not logged in"):
		return fmt.Errorf("%w: %w", ErrNotAuthenticated, we)
	}
	return we
}

// call performs one request to app-server.
func (c *Client) call(ctx context.Context, method protocol.ClientMethod, params, result any) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return c.wrapConnErr(c.conn.Call(ctx, string(method), params, result))
}
