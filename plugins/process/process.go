// Package process runs codexhost plugins as separate processes through
// hashicorp/go-plugin over gRPC, behind the same [plugins.Plugin] interface
// as the Wasm runtime.
//
// Pick it for plugins that need what the Wasm sandbox forbids (the network,
// a database, native libraries). A process plugin is not sandboxed: it runs
// with the operator's user rights. What the host does control: the binary's
// sha256 (refused on mismatch), its environment (only what Options.Env
// passes), mutual TLS on the connection, and its lifetime (killed on Close,
// and with the host on Linux).
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
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// Options configure [Load]. A nil *Options means defaults.
type Options struct {
	plugins.Options

	// SHA256 is the expected hex sha256 of the plugin binary. When set, a
	// binary with another digest is refused before it runs.
	SHA256 string
	// Env is the plugin's whole environment ("KEY=value"); nothing of the
	// host's environment is passed unless listed here or granted by name
	// in Options.Grants.Env (copied from the host's environment).
	Env []string
	// Args are passed to the plugin binary.
	Args []string
	// StartTimeout bounds the start and handshake. Default: 10s.
	StartTimeout time.Duration
	// MaxRestarts bounds restarts after crashes within RestartWindow;
	// beyond it calls fail until the window passes. Default: 5 per minute.
	MaxRestarts   int
	RestartWindow time.Duration
	// Logger receives the plugin's stderr, line by line, and runtime
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

	mu       sync.Mutex
	client   *plugin.Client
	stub     *stub
	restarts []time.Time
	closed   bool
}

var _ plugins.Plugin = (*Plugin)(nil)

// Load starts the plugin binary at path, performs the handshake, reads its
// manifest and configures it.
//
// # Errors
//
//   - a checksum mismatch (Options.SHA256): the binary is not started;
//   - plugins.ErrIncompatibleABI: the plugin speaks another ABI major version
//     (the message names both);
//   - the process exits or does not complete the handshake within
//     StartTimeout (the message includes its stderr);
//   - plugins.ErrBadManifest, plugins.ErrNotGranted, or a configure error.
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
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("process: plugin %s: %w", path, err)
	}
	if err := p.start(); err != nil {
		return nil, err
	}
	lctx, cancel := context.WithTimeout(ctx, o.StartTimeout)
	defer cancel()
	raw, err := p.stub.describe(lctx)
	if err != nil {
		p.kill()
		return nil, fmt.Errorf("process: describe %s: %w", path, err)
	}
	if err := json.Unmarshal(raw, &p.manifest); err != nil {
		p.kill()
		return nil, fmt.Errorf("%w: %s: %v", plugins.ErrBadManifest, path, err)
	}
	if err := plugins.CheckManifest(&p.manifest, o.Grants); err != nil {
		p.kill()
		return nil, err
	}
	if err := p.configure(lctx); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

func (p *Plugin) configure(ctx context.Context) error {
	settings := []byte(p.opts.Settings)
	if len(settings) == 0 {
		settings = []byte("null")
	}
	res, err := p.stub.configure(ctx, settings)
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

// start launches the process. The caller holds p.mu or owns p exclusively.
func (p *Plugin) start() error {
	o := &p.opts
	env := append([]string(nil), o.Env...)
	for _, k := range o.Grants.Env {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	cmd := exec.Command(p.path, o.Args...)
	cmd.Env = env
	setProcAttr(cmd)
	var secure *plugin.SecureConfig
	if o.SHA256 != "" {
		sum, err := hex.DecodeString(strings.TrimPrefix(o.SHA256, "sha256:"))
		if err != nil || len(sum) != sha256.Size {
			return fmt.Errorf("process: SHA256 %q is not a hex sha256 digest", o.SHA256)
		}
		secure = &plugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	stderr := &lineLogger{logger: p.logger}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake,
		Plugins:          plugin.PluginSet{abi.PluginName: &grpcPlugin{}},
		Cmd:              cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		SkipHostEnv:      true,
		StartTimeout:     o.StartTimeout,
		Stderr:           stderr,
		Logger:           hclog.NewNullLogger(),
	})
	rpcClient, err := client.Client()
	if err != nil {
		client.Kill()
		return p.startError(err, stderr)
	}
	raw, err := rpcClient.Dispense(abi.PluginName)
	if err != nil {
		client.Kill()
		return fmt.Errorf("process: plugin %s: %w", p.path, err)
	}
	p.client, p.stub = client, raw.(*stub)
	return nil
}

func (p *Plugin) startError(err error, stderr *lineLogger) error {
	msg := err.Error()
	switch {
	case errors.Is(err, plugin.ErrChecksumsDoNotMatch):
		return fmt.Errorf("process: plugin %s: its sha256 does not match the pinned %s; refusing to run it: %w", p.path, p.opts.SHA256, err)
	case strings.Contains(msg, "Incompatible API version"), strings.Contains(msg, "incompatible API version"):
		return fmt.Errorf("%w: plugin %s: %s (this host speaks ABI v%d)", plugins.ErrIncompatibleABI, p.path, msg, abi.Version)
	}
	if tail := stderr.tail(); tail != "" {
		return fmt.Errorf("process: start plugin %s: %w; its stderr:\n%s", p.path, err, tail)
	}
	return fmt.Errorf("process: start plugin %s: %w", p.path, err)
}

// Manifest implements plugins.Plugin.
func (p *Plugin) Manifest() *abi.Manifest { return &p.manifest }

// current returns the live stub, restarting a dead process if the restart
// budget allows.
func (p *Plugin) current() (*stub, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, plugins.ErrClosed
	}
	if p.client != nil && !p.client.Exited() {
		return p.stub, nil
	}
	if p.client != nil {
		p.client.Kill()
		p.client, p.stub = nil, nil
	}
	now := time.Now()
	kept := p.restarts[:0]
	for _, t := range p.restarts {
		if now.Sub(t) < p.opts.RestartWindow {
			kept = append(kept, t)
		}
	}
	p.restarts = kept
	if len(p.restarts) >= p.opts.MaxRestarts {
		return nil, fmt.Errorf("restarted %d times in %s; waiting before the next restart", len(p.restarts), p.opts.RestartWindow)
	}
	// Backoff: 100ms doubling with each recent restart, at most 5s.
	if n := len(p.restarts); n > 0 {
		wait := min(100*time.Millisecond<<(n-1), 5*time.Second)
		if since := now.Sub(p.restarts[n-1]); since < wait {
			return nil, fmt.Errorf("restarting after a crash; next try in %s", (wait - since).Round(time.Millisecond))
		}
	}
	p.restarts = append(p.restarts, now)
	p.logger.Warn("process: restarting plugin", "restarts", len(p.restarts))
	if err := p.start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.StartTimeout)
	defer cancel()
	if err := p.configure(ctx); err != nil {
		p.client.Kill()
		p.client, p.stub = nil, nil
		return nil, err
	}
	return p.stub, nil
}

// Call implements plugins.Plugin.
func (p *Plugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	s, err := p.current()
	if err != nil {
		if errors.Is(err, plugins.ErrClosed) {
			return nil, err
		}
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: plugins.FailUnavailable, Err: err}
	}
	cctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	res, err := s.handle(cctx, hook, req)
	if err != nil {
		kind := plugins.FailTrap
		switch {
		case cctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded:
			kind = plugins.FailTimeout
			if ctx.Err() == nil {
				// The plugin hung past its deadline: kill it, so that it
				// is restarted fresh rather than left stuck.
				p.killIfCurrent(s)
			}
		case status.Code(err) == codes.ResourceExhausted:
			kind = plugins.FailTooLarge
		default:
			p.killIfCurrent(s)
		}
		return nil, &plugins.CallError{Plugin: p.manifest.Name, Hook: hook, Kind: kind, Err: err}
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

func (p *Plugin) killIfCurrent(s *stub) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stub == s && p.client != nil {
		p.client.Kill()
	}
}

func (p *Plugin) kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != nil {
		p.client.Kill()
		p.client, p.stub = nil, nil
	}
}

// Pid returns the plugin process's id, or 0 if it is not running.
func (p *Plugin) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return 0
	}
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Close kills the plugin process (go-plugin asks it to exit, then kills it
// after a grace period) and waits for it. It is idempotent.
func (p *Plugin) Close(context.Context) error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.kill()
	return nil
}

// lineLogger logs the plugin's stderr line by line and keeps the last lines
// for start-up errors.
type lineLogger struct {
	logger *slog.Logger
	mu     sync.Mutex
	buf    []byte
	last   []string
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
		line := string(l.buf[:i])
		l.buf = l.buf[i+1:]
		l.logger.Info("plugin stderr", "line", line)
		l.last = append(l.last, line)
		if len(l.last) > 20 {
			l.last = l.last[1:]
		}
	}
	if len(l.buf) > 64<<10 { // a line with no end: log what there is
		l.logger.Info("plugin stderr", "line", string(l.buf))
		l.buf = l.buf[:0]
	}
	return len(b), nil
}

func (l *lineLogger) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.last, "\n")
}

var _ io.Writer = (*lineLogger)(nil)
