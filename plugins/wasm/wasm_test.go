package wasm_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

func declineAll(t *testing.T) []byte {
	return plugintest.GuestWasm(t, plugintest.GuestDeclineAllWAT)
}

func TestLoadGarbage(t *testing.T) {
	for _, tc := range []struct {
		name string
		wasm []byte
		msg  string
	}{
		{"empty", nil, "not a WebAssembly binary"},
		{"text", []byte("#!/bin/sh\necho hello\n"), "not a WebAssembly binary"},
		{"component", []byte("\x00asm\x0d\x00\x01\x00"), "components are not supported"},
		{"truncated", []byte("\x00asm\x01\x00\x00\x00\x01\x05"), "malformed module"},
		{"empty module", []byte("\x00asm\x01\x00\x00\x00"), `no export "codexhost_abi_version"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := load(t, tc.wasm, nil)
			require.ErrorIs(t, err, plugins.ErrBadModule)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "wasm: "), "error prefix: %v", err)
			t.Log(err)
		})
	}
}

func TestLoadABIMismatch(t *testing.T) {
	_, err := load(t, testdataWAT(t, "abi99"), nil)
	require.ErrorIs(t, err, plugins.ErrIncompatibleABI)
	assert.Contains(t, err.Error(), "ABI v99")
	assert.Contains(t, err.Error(), "v1")
	t.Log(err)
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "declineall.wasm")
	require.NoError(t, os.WriteFile(path, declineAll(t), 0o600))
	p, err := testRuntime.LoadFile(t.Context(), path, nil)
	require.NoError(t, err)
	defer p.Close(t.Context())
	assert.Equal(t, "declineall-wat", p.Name())

	_, err = testRuntime.LoadFile(t.Context(), filepath.Join(dir, "missing.wasm"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)

	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	_, err = testRuntime.LoadFile(t.Context(), path, &wasm.Options{Name: "mine"})
	require.ErrorIs(t, err, plugins.ErrBadModule)
	assert.Contains(t, err.Error(), path, "the error names the file")
}

func TestLoadGrants(t *testing.T) {
	for _, tc := range []struct {
		name   string
		grants abi.Capabilities
	}{
		{"env not asked for", abi.Capabilities{Env: []string{"HOME"}}},
		{"dir not asked for", abi.Capabilities{ReadDirs: []string{t.TempDir()}}},
		{"network", abi.Capabilities{Network: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, declineAll(t), opts(plugins.Options{Grants: tc.grants}))
			require.ErrorIs(t, err, plugins.ErrNotGranted)
			t.Log(err)
		})
	}
}

func TestLoadOptions(t *testing.T) {
	_, err := load(t, declineAll(t), &wasm.Options{MemoryLimitPages: 65537})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MemoryLimitPages")

	p := mustLoad(t, declineAll(t), &wasm.Options{Name: "custom", MemoryLimitPages: 1})
	assert.Equal(t, "custom", p.Name())
	assert.Equal(t, "declineall-wat", p.Manifest().Name)
}

// misbehave loads testdata/misbehave.wat.
func misbehave(t *testing.T, o *wasm.Options) *wasm.Plugin {
	return mustLoad(t, testdataWAT(t, "misbehave"), o)
}

func TestMisbehavingGuest(t *testing.T) {
	p := misbehave(t, &wasm.Options{Options: plugins.Options{Timeout: 100 * time.Millisecond}})
	for _, tc := range []struct {
		req  string
		kind plugins.FailureKind
		msg  string
	}{
		{"o", plugins.FailBadOutput, "outside memory"},
		{"e", plugins.FailBadOutput, "empty result"},
		{"s", plugins.FailBadOutput, "unknown status byte 7"},
		{"j", plugins.FailBadOutput, "not an abi.Error"},
		{"u", plugins.FailTrap, "unreachable"},
		{"g", plugins.FailMemory, "memory limit of 32 MiB"},
		{"l", plugins.FailTimeout, "deadline"},
		{strings.Repeat("a", 2<<20), plugins.FailMemory, "could not allocate"},
	} {
		t.Run(tc.req[:1], func(t *testing.T) {
			_, err := p.Call(t.Context(), abi.HookApproval, []byte(tc.req))
			var ce *plugins.CallError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.kind, ce.Kind, "%v", err)
			assert.Equal(t, "misbehave", ce.Plugin)
			assert.Equal(t, abi.HookApproval, ce.Hook)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "\n", "one line")
			t.Log(err)
			// The plugin keeps working, on a fresh instance.
			out, err := p.Call(t.Context(), abi.HookApproval, []byte("fine"))
			require.NoError(t, err)
			assert.JSONEq(t, `{"decision":"abstain"}`, string(out))
		})
	}
}

func TestMaxResultBytes(t *testing.T) {
	p := mustLoad(t, declineAll(t), opts(plugins.Options{MaxResultBytes: 10}))
	_, err := p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailTooLarge, ce.Kind)
	assert.Contains(t, err.Error(), "exceeds the limit of 10")
}

func TestOutputCapture(t *testing.T) {
	logger, rec := newLogger()
	p := misbehave(t, &wasm.Options{MaxOutputBytes: 10 * (100 + 64), Logger: logger}) // 10 lines and their records
	for range 3 {
		_, err := p.Call(t.Context(), abi.HookApproval, []byte("p"))
		require.NoError(t, err)
	}
	msgs := rec.messages()
	// 10 lines of 100 bytes, each with its record's cost, then one note
	// per call; nothing more from the later calls (the budget is per
	// instance lifetime).
	require.Len(t, msgs, 13, "%q", msgs)
	for _, m := range msgs[:10] {
		assert.Equal(t, "INFO "+strings.Repeat("x", 99)+" plugin=misbehave stream=stdout", m)
	}
	assert.Contains(t, msgs[10], "WARN wasm: dropped 199000 bytes of guest output over the instance lifetime budget of 1640 bytes")
	assert.Contains(t, msgs[10], "plugin=misbehave")
	assert.Contains(t, msgs[11], "WARN wasm: dropped 200000 bytes")
	assert.Contains(t, msgs[12], "WARN wasm: dropped 200000 bytes")
}

func TestOutputCallBudget(t *testing.T) {
	logger, rec := newLogger()
	p := misbehave(t, &wasm.Options{MaxCallOutputBytes: 10 * (100 + 64), Logger: logger})
	for range 2 {
		_, err := p.Call(t.Context(), abi.HookApproval, []byte("p"))
		require.NoError(t, err)
	}
	msgs := rec.messages()
	// Each call logs its first 10 lines and one note.
	require.Len(t, msgs, 22, "%q", msgs)
	assert.Contains(t, msgs[10], "WARN wasm: dropped 199000 bytes of guest output over the call budget of 1640 bytes")
	assert.Equal(t, "INFO "+strings.Repeat("x", 99)+" plugin=misbehave stream=stdout", msgs[11])
	assert.Contains(t, msgs[21], "over the call budget")
}

func TestGuestLog(t *testing.T) {
	logger, rec := newLogger()
	p := misbehave(t, &wasm.Options{Logger: logger})
	_, err := p.Call(t.Context(), abi.HookApproval, []byte("L"))
	require.NoError(t, err)
	assert.Equal(t, []string{"INFO hello from wat plugin=misbehave"}, rec.messages())
}

func TestCancel(t *testing.T) {
	p := misbehave(t, nil) // default timeout: 5s
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := p.Call(ctx, abi.HookApproval, []byte("l"))
	// Ended by the cancel, not by the 5 s timeout: the errors say which.
	// The bound only catches a call that outlives both; a loaded machine
	// can delay the end by more than a second.
	assert.Less(t, time.Since(start), 30*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, context.DeadlineExceeded)
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailUnavailable, ce.Kind)

	// A deadline of the caller's ctx is a timeout too.
	ctx, cancel = context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = p.Call(ctx, abi.HookApproval, []byte("l"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailTimeout, ce.Kind)

	_, err = p.Call(t.Context(), abi.HookApproval, []byte("fine"))
	require.NoError(t, err)
}

func TestPoolWaitsForAnInstance(t *testing.T) {
	logger, sig := signalLogger("hello from wat")
	running := sig[0]
	p := misbehave(t, &wasm.Options{MaxInstances: 1, Logger: logger, Options: plugins.Options{Timeout: time.Minute}})
	loopCtx, stopLoop := context.WithCancel(t.Context())
	busy := make(chan error, 1)
	go func() {
		_, err := p.Call(loopCtx, abi.HookApproval, []byte("w"))
		busy <- err
	}()
	<-running // the only instance loops

	// A caller whose ctx ends while it waits gives up.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	_, err := p.Call(ctx, abi.HookApproval, []byte("fine"))
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailTimeout, ce.Kind)

	// A patient one gets the instance (a new one) once the loop is stopped.
	type result struct {
		out []byte
		err error
	}
	patient := make(chan result, 1)
	go func() {
		out, err := p.Call(t.Context(), abi.HookApproval, []byte("fine"))
		patient <- result{out, err}
	}()
	stopLoop()
	err = <-busy
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailUnavailable, ce.Kind)
	r := <-patient
	require.NoError(t, r.err)
	assert.JSONEq(t, `{"decision":"abstain"}`, string(r.out))
}

// signalLogger returns a logger that closes the i-th channel when it first
// logs a message that starts with prefixes[i].
func signalLogger(prefixes ...string) (*slog.Logger, []chan struct{}) {
	h := &signalHandler{prefixes: prefixes}
	for range prefixes {
		h.chans = append(h.chans, make(chan struct{}))
		h.once = append(h.once, new(sync.Once))
	}
	return slog.New(h), h.chans
}

type signalHandler struct {
	prefixes []string
	chans    []chan struct{}
	once     []*sync.Once
}

func (h *signalHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *signalHandler) Handle(_ context.Context, r slog.Record) error {
	for i, p := range h.prefixes {
		if strings.HasPrefix(r.Message, p) {
			h.once[i].Do(func() { close(h.chans[i]) })
		}
	}
	return nil
}
func (h *signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *signalHandler) WithGroup(string) slog.Handler      { return h }

func TestCloseWaitsForCallsInFlight(t *testing.T) {
	// The call logs one line and drops the next (over its budget): the
	// note saying so is logged as the call ends, before its instance is
	// put back.
	logger, sig := signalLogger("hello from wat", "wasm: dropped 14 bytes")
	running, ended := sig[0], sig[1]
	p, err := testRuntime.Load(t.Context(), testdataWAT(t, "misbehave"),
		&wasm.Options{MaxInstances: 1, Logger: logger, MaxCallOutputBytes: 14 + 64, Options: plugins.Options{Timeout: 300 * time.Millisecond}}) // a line and its record
	require.NoError(t, err)
	inflight := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), abi.HookApproval, []byte("w"))
		inflight <- err
	}()
	<-running
	// A caller waiting for the instance, or calling after Close began:
	// either way it gets ErrClosed.
	waiting := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), abi.HookApproval, []byte("fine"))
		waiting <- err
	}()

	require.NoError(t, p.Close(t.Context()))
	select {
	case <-ended:
	default:
		t.Fatal("Close returned before the call in flight ended")
	}
	assert.ErrorIs(t, <-inflight, context.DeadlineExceeded, "the call in flight ran to its deadline")
	assert.ErrorIs(t, <-waiting, plugins.ErrClosed, "a caller waiting for an instance")
	_, err = p.Call(t.Context(), abi.HookApproval, []byte("fine"))
	require.ErrorIs(t, err, plugins.ErrClosed)
}

// Close with a done ctx stops the calls in flight instead of waiting for
// their deadline.
func TestCloseStopsCallsInFlight(t *testing.T) {
	logger, sig := signalLogger("hello from wat")
	running := sig[0]
	p, err := testRuntime.Load(t.Context(), testdataWAT(t, "misbehave"),
		&wasm.Options{MaxInstances: 1, Logger: logger, Options: plugins.Options{Timeout: time.Minute}})
	require.NoError(t, err)
	inflight := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), abi.HookApproval, []byte("w"))
		inflight <- err
	}()
	<-running
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	require.NoError(t, p.Close(ctx))
	elapsed := time.Since(start)
	err = <-inflight
	require.ErrorIs(t, err, plugins.ErrClosed)
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailUnavailable, ce.Kind)
	// Generous for -race on a loaded machine; the call's own deadline is
	// a minute away.
	assert.Less(t, elapsed, 5*time.Second)
}

func TestRuntimeClose(t *testing.T) {
	ctx := t.Context()
	rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	p, err := rt.Load(ctx, declineAll(t), nil)
	require.NoError(t, err)
	require.NoError(t, rt.Close(ctx))
	require.NoError(t, rt.Close(ctx), "idempotent")
	_, err = p.Call(ctx, abi.HookApproval, []byte(`{}`))
	require.ErrorIs(t, err, plugins.ErrClosed)
	_, err = rt.Load(ctx, declineAll(t), nil)
	require.ErrorIs(t, err, plugins.ErrClosed)
}

func TestUnusableCacheDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	logger, rec := newLogger()
	rt, err := wasm.NewRuntime(t.Context(), &wasm.RuntimeOptions{CacheDir: file, Logger: logger})
	require.NoError(t, err)
	defer rt.Close(t.Context())
	msgs := rec.messages()
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "caching in memory only")
	p, err := rt.Load(t.Context(), declineAll(t), nil)
	require.NoError(t, err)
	_, err = p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	require.NoError(t, err)
}

func TestDefaultCacheDir(t *testing.T) {
	dir := wasm.DefaultCacheDir()
	require.NotEmpty(t, dir)
	assert.Contains(t, dir, filepath.Join("codexhost", "wazero-"))
}

func refGuest(t *testing.T) []byte { return plugintest.GuestWasm(t, plugintest.GuestRef) }

func TestMemoryLimitBelowStart(t *testing.T) {
	_, err := load(t, refGuest(t), &wasm.Options{MemoryLimitPages: 2})
	require.ErrorIs(t, err, plugins.ErrBadModule)
	assert.Contains(t, err.Error(), "the limit is 2 pages")
	t.Log(err)
}

// TestCompilationCache loads a guest in a Runtime with a fresh cache
// directory, then in another Runtime with the same directory (a process
// restart). With the race detector, which makes wazero's compiler ~8x
// slower (a cold compile of a Go guest takes 10-20 s), it uses the small
// WAT guest and checks only that the cache is written and read.
func TestCompilationCache(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b := refGuest(t)
	if raceEnabled {
		b = testdataWAT(t, "misbehave")
	}
	loadIn := func() time.Duration {
		rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
		require.NoError(t, err)
		defer rt.Close(ctx)
		start := time.Now()
		p, err := rt.Load(ctx, b, nil)
		elapsed := time.Since(start)
		require.NoError(t, err)
		_, err = p.Call(ctx, abi.HookApproval, []byte(`{"kind":"command","command":"echo"}`))
		require.NoError(t, err)
		return elapsed
	}
	cold := loadIn()
	var files []string
	require.NoError(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return err
	}))
	require.NotEmpty(t, files, "the compiled module is in the cache directory")
	warm := loadIn()
	t.Logf("load of a %d KiB module: cold %v, from the file cache %v (%.1fx)", len(b)>>10, cold, warm, float64(cold)/float64(warm))
	if !raceEnabled {
		assert.Less(t, warm, cold, "a load from the file cache is faster than a cold one")
	}
}

// Precompile fills the cache that a later runtime's Load reads.
func TestPrecompile(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	b := testdataWAT(t, "misbehave")
	rt, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	require.NoError(t, rt.Precompile(ctx, b))
	require.ErrorIs(t, rt.Precompile(ctx, []byte("\x00asm\x01\x00\x00\x00garbage")), plugins.ErrBadModule)
	require.ErrorIs(t, rt.Precompile(ctx, []byte("not wasm")), plugins.ErrBadModule)
	require.NoError(t, rt.Close(ctx))
	require.ErrorIs(t, rt.Precompile(ctx, b), plugins.ErrClosed)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.NotEmpty(t, entries, "the compiled module is in the cache directory")

	rt2, err := wasm.NewRuntime(ctx, &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	defer rt2.Close(ctx)
	p, err := rt2.Load(ctx, b, nil)
	require.NoError(t, err)
	_, err = p.Call(ctx, abi.HookApproval, []byte(`{"kind":"command","command":"echo"}`))
	require.NoError(t, err)
}

func TestLoadCommandModule(t *testing.T) {
	_, err := load(t, testdataWAT(t, "command"), nil)
	require.ErrorIs(t, err, plugins.ErrBadModule)
	assert.Contains(t, err.Error(), "-buildmode=c-shared")
}
