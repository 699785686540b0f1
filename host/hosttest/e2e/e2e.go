// Package e2e runs plugins end to end in tests: it builds Go guests from
// source for the Wasm or the process runtime, loads them, and drives the
// real, pinned codex against the fake model server (hosttest) with the
// plugins installed in the host. Plugin authors can use it in their tests.
package e2e

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/internal/codexbin"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// RequireCodex fails under CI=true and skips otherwise when the pinned codex
// is not installed (`make codex`).
func RequireCodex(t testing.TB) {
	t.Helper()
	if os.Getenv(codexbin.Env) != "" || codexbin.Pinned() != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the pinned codex is not installed (run `make codex`); end-to-end tests must run in CI")
	}
	t.Skip("the pinned codex is not installed; run `make codex`")
}

// CodexBin is the codex binary the host would run: $CODEX_BIN, else the
// pinned install. It calls RequireCodex first.
func CodexBin(t testing.TB) string {
	t.Helper()
	RequireCodex(t)
	if b := os.Getenv(codexbin.Env); b != "" {
		return b
	}
	return codexbin.Pinned()
}

// LoadWasm builds the Go guest in dir and loads it into a fresh runtime
// (closed with the test).
func LoadWasm(t testing.TB, dir string, opts *wasm.Options) plugins.Plugin {
	t.Helper()
	bin := plugintest.BuildGoGuest(t, dir)
	// The default (per-user) compilation cache is shared by every test
	// process, so each guest is compiled once per machine, not per test.
	rt, err := wasm.NewRuntime(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	p, err := rt.Load(context.Background(), bin, opts)
	require.NoError(t, err)
	return p
}

// LoadProcess builds the Go guest in dir as a process plugin and loads it
// (closed with the test).
func LoadProcess(t testing.TB, dir string, opts *process.Options) plugins.Plugin {
	t.Helper()
	bin := plugintest.BuildProcessGuest(t, dir)
	p, err := process.Load(context.Background(), bin, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

// A Runtime loads a Go guest from source with one plugin runtime.
type Runtime struct {
	Name string
	Load func(t testing.TB, dir string) plugins.Plugin
}

// Runtimes are the plugin runtimes, for tests that must behave the same on
// each: the same source, built for Wasm and as a process plugin.
var Runtimes = []Runtime{
	{"wasm", func(t testing.TB, dir string) plugins.Plugin { return LoadWasm(t, dir, nil) }},
	{"process", func(t testing.TB, dir string) plugins.Plugin { return LoadProcess(t, dir, nil) }},
}

// Env is a real codex with the fake model and a plugin chain.
type Env struct {
	Client *host.Client
	Model  *hosttest.Model
	Chain  *chain.Chain
	// Work is the threads' working directory.
	Work string
	// Home is codex's CODEX_HOME.
	Home string
}

// Config configures [Start].
type Config struct {
	Script hosttest.Script
	Chain  chain.Options
	Home   *hosttest.CodexHomeOptions
	// CodexHome is the CODEX_HOME to use, e.g. an earlier Env's, to run a
	// later session on what codex persisted (its config.toml is rewritten
	// for this Env's model). Default: a new temporary one.
	CodexHome string
	// Observers are added to the client's options. The chain itself is
	// an observer too when it has render plugins (its Render.Output
	// receives their output, flushed before Run returns).
	Observers []host.EventObserver
	// Work is the threads' working directory. Default: a new temporary one.
	Work string
}

// Start starts the fake model and codex with cfg's chain as the handler.
func Start(t testing.TB, cfg Config) *Env {
	t.Helper()
	RequireCodex(t)
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: cfg.Script})
	require.NoError(t, err)
	t.Cleanup(func() { _ = model.Close() })
	home, work := cfg.CodexHome, cfg.Work
	if home == "" {
		home = t.TempDir()
	}
	if work == "" {
		work = t.TempDir()
	}
	require.NoError(t, hosttest.WriteCodexHome(home, model.URL(), cfg.Home))
	ch, err := chain.New(&cfg.Chain)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	observers := append([]host.EventObserver{ch}, cfg.Observers...)
	c, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: work, Handler: ch, Observers: observers})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
		_ = ch.Close()
	})
	return &Env{Client: c, Model: model, Chain: ch, Work: work, Home: home}
}

// Run runs one turn on a new thread in e.Work.
func (e *Env) Run(t testing.TB, prompt string) *host.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := e.Client.Run(ctx, prompt, &host.RunOptions{Thread: &host.ThreadOptions{Cwd: e.Work}})
	require.NoError(t, err)
	require.NoError(t, e.Chain.Flush(ctx))
	return res
}

// Decisions collects the chain's decision records; use Record as
// chain.Options.OnDecision.
type Decisions struct {
	mu   sync.Mutex
	list []*chain.DecisionRecord
}

// Record appends r. It is safe for concurrent use.
func (d *Decisions) Record(r *chain.DecisionRecord) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.list = append(d.list, r)
}

// All returns the records so far, in order.
func (d *Decisions) All() []*chain.DecisionRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*chain.DecisionRecord(nil), d.list...)
}

// Buffer is a bytes.Buffer safe for concurrent writes (a renderer's output).
type Buffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed by the next Write; nil: none asked
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed != nil {
		close(b.changed)
		b.changed = nil
	}
	return b.b.Write(p)
}

// Changed returns a channel closed by the next Write. To wait for some
// output without polling, take it, check String, and if the output is not
// there yet, wait on it and check again.
func (b *Buffer) Changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.changed == nil {
		b.changed = make(chan struct{})
	}
	return b.changed
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WithoutProfileOutput returns out, a rendered turn, without what a login
// shell's profile printed between the rendered command line and first,
// the first line the command itself prints. codex runs a command with
// bash -lc, which reads the user's profile, and what that prints (on a
// busy machine, a version manager's warnings about a rehash racing
// another shell's) is not the command's output. out is returned as it is
// if the line or first is not there.
func WithoutProfileOutput(out, line, first string) string {
	i := strings.Index(out, line+"\n")
	if i < 0 {
		return out
	}
	i += len(line) + 1
	j := strings.Index(out[i:], first+"\n")
	if j <= 0 {
		return out
	}
	return out[:i] + out[i+j:]
}
