//go:build linux

// Fault tests of the process runtime: what a host gets when a plugin binary
// is tampered with, speaks another ABI, never starts, crashes, hangs,
// crashes in a loop, or outlives its host. They read /proc and send
// signals, hence Linux only.

package process_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
)

// --- helpers -----------------------------------------------------------------

// slack is how far past its deadline a step may end in these tests. Killing,
// reaping and restarting processes needs CPUs that a loaded machine (CI's 2
// cores shared with other jobs, -race, -cpu=1) may withhold for seconds, so a
// margin of a second flaked. What the tests tell apart is a deadline kept
// from one not kept at all (a sleep of 1234 s, a loop forever), which a wide
// slack still does.
const slack = 10 * time.Second

// refBin is the reference guest of the conformance kit, as a process plugin.
func refBin(t testing.TB) string {
	t.Helper()
	src, err := plugintest.GuestSource(plugintest.GuestRef)
	require.NoError(t, err)
	return plugintest.BuildProcessGuest(t, src)
}

// testBin builds the test guest testdata/<name>.
func testBin(t testing.TB, name string) string {
	t.Helper()
	return plugintest.BuildProcessGuest(t, filepath.Join("testdata", name))
}

// probeOpts are the options the probe guest needs: it asks for
// PROBE_GRANTED, which must be granted.
func probeOpts() *process.Options {
	return &process.Options{Options: plugins.Options{Grants: abi.Capabilities{Env: []string{"PROBE_GRANTED"}}}}
}

// load loads bin and closes it at the end of the test.
func load(t testing.TB, bin string, o *process.Options) *process.Plugin {
	t.Helper()
	p, err := process.Load(context.Background(), bin, o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p
}

func approve(p plugins.Plugin, cmd string) (*abi.ApprovalResponse, error) {
	return plugins.Call[abi.ApprovalResponse](context.Background(), p, abi.HookApproval,
		&abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "thr-1", Command: cmd})
}

func mustApprove(t testing.TB, p plugins.Plugin, cmd string) *abi.ApprovalResponse {
	t.Helper()
	r, err := approve(p, cmd)
	require.NoError(t, err)
	return r
}

func requireCallError(t testing.TB, err error, kind plugins.FailureKind) *plugins.CallError {
	t.Helper()
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, kind, ce.Kind, "kind of %v", err)
	return ce
}

// procState returns the state letter of process pid ('R', 'S', 'Z'...), or
// 0 if there is no such process.
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ...; comm may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// reaped reports whether pid is gone for good: no /proc entry (not even a
// zombie) and kill(pid, 0) fails with ESRCH.
func reaped(pid int) bool {
	return procState(pid) == 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// dead reports whether pid no longer runs: gone, or a zombie that its
// parent (not us) has yet to reap.
func dead(pid int) bool {
	s := procState(pid)
	return s == 0 || s == 'Z' || s == 'X'
}

// waitDead waits until process pid has exited (it may be gone already), and
// reports whether it did within the time limit (a bound on a failing test:
// it returns when the process exits). It waits on a pidfd (pidfd_open(2)),
// which becomes readable when the process exits, whoever its parent is.
func waitDead(pid int, within time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return true
	}
	if err != nil {
		panic(fmt.Sprintf("pidfd_open(%d): %v", pid, err))
	}
	defer unix.Close(fd)
	return waitPidfd(fd, within)
}

// waitPidfd waits until the process of pidfd fd has exited, and reports
// whether it did within the time limit.
func waitPidfd(fd int, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for {
		ms := max(time.Until(deadline).Milliseconds(), 0)
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(ms))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0
	}
}

// waitStopped waits until our child pid is stopped (by a signal), leaving
// its state to be waited for again (waitid(2) WSTOPPED|WNOWAIT).
func waitStopped(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WSTOPPED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// procsMatching lists the live (non-zombie) processes whose command line
// contains s.
func procsMatching(s string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || !bytes.Contains(cmdline, []byte(s)) {
			continue
		}
		if st := procState(pid); st != 0 && st != 'Z' && st != 'X' {
			pids = append(pids, pid)
		}
	}
	return pids
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for a slog handler
// that plugin output reaches from go-plugin's goroutines. waitContains
// waits for a write, without polling.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	written chan struct{} // closed by the next write; nil: none waits
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.written != nil {
		close(b.written)
		b.written = nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitContains waits until the buffer contains s, and reports whether it
// did within the time limit (a bound on a failing test, not a pause: it
// returns on the write that brings s).
func (b *syncBuffer) waitContains(s string, within time.Duration) bool {
	limit := time.NewTimer(within)
	defer limit.Stop()
	for {
		b.mu.Lock()
		found := strings.Contains(b.buf.String(), s)
		if b.written == nil {
			b.written = make(chan struct{})
		}
		written := b.written
		b.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-written:
		case <-limit.C:
			return false
		}
	}
}

// --- 1. checksum pinning -----------------------------------------------------

// TestChecksumPinning: a pinned sha256 that matches loads; one that does not
// is refused before the binary runs. The probe writes a marker file from
// init, so "never ran" is observed, not assumed.
func TestChecksumPinning(t *testing.T) {
	bin := testBin(t, "probe")
	sum := fileSHA256(t, bin)
	dir := t.TempDir()

	for _, pin := range []string{sum, "sha256:" + sum, strings.ToUpper(sum)} {
		marker := filepath.Join(dir, "ran-good")
		o := probeOpts()
		o.SHA256, o.Env = pin, []string{"PROBE_MARKER=" + marker}
		p := load(t, bin, o)
		assert.Equal(t, abi.Accept, mustApprove(t, p, "echo").Decision)
		b, err := os.ReadFile(marker)
		require.NoError(t, err, "the probe writes its marker in init")
		assert.Equal(t, strconv.Itoa(p.Pid()), string(b))
		require.NoError(t, p.Close(context.Background()))
		require.NoError(t, os.Remove(marker))
	}

	other := sha256.Sum256([]byte("not the plugin"))
	marker := filepath.Join(dir, "ran-bad")
	o := probeOpts()
	o.SHA256, o.Env = hex.EncodeToString(other[:]), []string{"PROBE_MARKER=" + marker}
	p, err := process.Load(context.Background(), bin, o)
	require.Error(t, err)
	assert.Nil(t, p)
	assert.ErrorIs(t, err, plugin.ErrChecksumsDoNotMatch)
	assert.Contains(t, err.Error(), "sha256 does not match")
	assert.Contains(t, err.Error(), sum, "the error names the binary's actual digest")
	// No process of the binary is alive, so none can still write the
	// marker: had one run, its marker would be there already.
	assert.Empty(t, procsMatching(bin), "the binary runs despite the checksum mismatch")
	assert.NoFileExists(t, marker, "the binary ran despite the checksum mismatch")

	o.SHA256 = "not-hex"
	_, err = process.Load(context.Background(), bin, o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a hex sha256 digest")
	assert.NoFileExists(t, marker)
}

// --- 2. incompatible ABI major -----------------------------------------------

func TestIncompatibleABIMajor(t *testing.T) {
	bin := testBin(t, "abi2")
	p, err := process.Load(context.Background(), bin, nil)
	require.Error(t, err)
	assert.Nil(t, p)
	require.ErrorIs(t, err, plugins.ErrIncompatibleABI)
	msg := err.Error()
	t.Log(msg)
	assert.Contains(t, msg, "ABI v2", "names the plugin's version")
	assert.Contains(t, msg, fmt.Sprintf("v%d", abi.Version), "names the host's version")
	assert.Empty(t, procsMatching(bin), "the refused plugin is still running")
}

// --- 3. never completes the handshake ----------------------------------------

// TestNeverHandshakes: a binary that never writes its handshake line is
// killed at StartTimeout, including a child it started that holds its
// stdout and stderr.
func TestNeverHandshakes(t *testing.T) {
	const startTimeout = 500 * time.Millisecond
	for _, tc := range []struct{ name, token, script string }{
		// sh replaced by sleep: one process.
		{"exec", "1234.5", "#!/bin/sh\necho 'no handshake today' >&2\nexec sleep 1234.5\n"},
		// sh waiting on a sleep that holds the plugin's pipes.
		{"child", "1234.6", "#!/bin/sh\necho 'no handshake today' >&2\nsleep 1234.6\necho done\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "sleeper-"+tc.name)
			require.NoError(t, os.WriteFile(bin, []byte(tc.script), 0o755))
			start := time.Now()
			p, err := process.Load(context.Background(), bin, &process.Options{StartTimeout: startTimeout})
			elapsed := time.Since(start)
			require.Error(t, err)
			assert.Nil(t, p)
			t.Logf("Load failed after %v: %v", elapsed, err)
			assert.Less(t, elapsed, startTimeout+slack)
			assert.Contains(t, err.Error(), "timeout")
			assert.Contains(t, err.Error(), "no handshake today", "the error carries the plugin's stderr")
			for _, pid := range procsMatching(tc.token) {
				assert.True(t, waitDead(pid, slack), "still running: %d", pid)
			}
			assert.Empty(t, procsMatching(tc.token), "still running")
		})
	}
}

// --- 4. crash during a call --------------------------------------------------

func TestCrashDuringCall(t *testing.T) {
	bin := refBin(t)
	p := load(t, bin, nil)
	pid := p.Pid()
	require.NotZero(t, pid)
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	require.NoError(t, err)
	assert.Equal(t, bin, exe, "Pid is the plugin process's")

	start := time.Now()
	_, err = approve(p, "exit-now")
	elapsed := time.Since(start)
	ce := requireCallError(t, err, plugins.FailTrap)
	assert.Equal(t, abi.HookApproval, ce.Hook)
	assert.Contains(t, err.Error(), "exit status 3")
	// Reported as the crash (a trap, above), not at the call's deadline.
	assert.Less(t, elapsed, plugins.DefaultTimeout)
	t.Logf("crash reported after %v: %v", elapsed, err)
	assert.True(t, reaped(pid), "the crashed process %d is not reaped", pid)
	assert.Zero(t, p.Pid(), "no process runs until the next call")

	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo hi").Reason)
	assert.NotZero(t, p.Pid())
	assert.NotEqual(t, pid, p.Pid(), "restarted")
}

// TestKilledBetweenCalls: a plugin process that dies between calls (the
// OOM killer, an operator) is noticed and restarted by the next call, which
// does not fail.
func TestKilledBetweenCalls(t *testing.T) {
	p := load(t, refBin(t), nil)
	pid := p.Pid()
	exited := process.Exited(p)
	require.NotNil(t, exited)
	require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
	<-exited // the runtime noticed: Pid is 0
	require.Zero(t, p.Pid())
	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo").Reason)
	assert.NotEqual(t, pid, p.Pid())
	assert.True(t, reaped(pid))
}

// --- 5. hang -----------------------------------------------------------------

func TestHang(t *testing.T) {
	const timeout = 300 * time.Millisecond
	p := load(t, refBin(t), &process.Options{Options: plugins.Options{Timeout: timeout}})
	pid := p.Pid()

	start := time.Now()
	_, err := approve(p, "loop-forever")
	elapsed := time.Since(start)
	requireCallError(t, err, plugins.FailTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, elapsed, timeout)
	assert.Less(t, elapsed, timeout+slack)
	t.Logf("hang reported after %v (timeout %v)", elapsed, timeout)
	assert.True(t, reaped(pid), "the hung process %d was not killed and reaped", pid)

	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo hi").Reason)
	assert.NotEqual(t, pid, p.Pid())
}

// TestFrozen: a plugin that cannot answer at all (stopped with SIGSTOP, as
// a wedged runtime or a debugger would leave it) times out and is killed
// too, and Close does not wait on it forever.
func TestFrozen(t *testing.T) {
	const timeout = 300 * time.Millisecond
	p := load(t, refBin(t), &process.Options{Options: plugins.Options{Timeout: timeout}})
	pid := p.Pid()
	stop := func(pid int) {
		t.Helper()
		require.NoError(t, syscall.Kill(pid, syscall.SIGSTOP))
		require.NoError(t, waitStopped(pid))
		require.Equal(t, byte('T'), procState(pid), "not stopped")
	}
	stop(pid)

	start := time.Now()
	_, err := approve(p, "echo hi")
	elapsed := time.Since(start)
	requireCallError(t, err, plugins.FailTimeout)
	assert.Less(t, elapsed, timeout+slack)
	assert.True(t, reaped(pid), "the stopped process %d was not killed and reaped", pid)
	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo hi").Reason)

	// Close asks the plugin to exit, which it cannot; it is killed after
	// a grace period (3s), or when Close's context is done.
	pid = p.Pid()
	stop(pid)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	require.NoError(t, p.Close(ctx))
	t.Logf("Close of a stopped plugin took %v (its context: 200ms)", time.Since(start))
	// Ended by its context, not by the 3 s grace: under it, with the most
	// room a loaded machine can be given.
	assert.Less(t, time.Since(start), 3*time.Second)
	assert.True(t, reaped(pid))
}

// TestCallerCancel: a call the caller cancels fails as unavailable with
// context.Canceled, not as a timeout, and the plugin is not killed.
func TestCallerCancel(t *testing.T) {
	p := load(t, refBin(t), nil)
	pid := p.Pid()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval,
		&abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "loop-forever"})
	requireCallError(t, err, plugins.FailUnavailable)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, pid, p.Pid())
	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo hi").Reason)

	// A call whose context is over before it starts does not reach (or
	// kill) the plugin.
	_, err = plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "echo"})
	requireCallError(t, err, plugins.FailUnavailable)
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	_, err = plugins.Call[abi.ApprovalResponse](expired, p, abi.HookApproval, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "echo"})
	requireCallError(t, err, plugins.FailTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, pid, p.Pid(), "the plugin was not killed")
}

// --- 6. restart budget -------------------------------------------------------

// childrenRunning lists our live child processes running bin.
func childrenRunning(bin string) []int {
	var pids []int
	for _, pid := range procsMatching(bin) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err == nil && bytes.Contains(b, fmt.Appendf(nil, "\nPPid:\t%d\n", os.Getpid())) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// recorder is a slog handler that keeps the records it gets.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// last returns the time of the last record with message msg, and how many
// there are.
func (r *recorder) last(msg string) (time.Time, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var at time.Time
	n := 0
	for _, rec := range r.records {
		if rec.Message == msg {
			at, n = rec.Time, n+1
		}
	}
	return at, n
}

// fakeClock is a clock for process.SetClock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestRestartBudget runs the restart budget and backoff on real processes
// and a fake clock (the policy itself: TestRestartPolicy).
func TestRestartBudget(t *testing.T) {
	bin := refBin(t)
	rec := &recorder{}
	p := load(t, bin, &process.Options{MaxRestarts: 2, RestartWindow: time.Minute, Logger: slog.New(rec)})
	clock := newFakeClock()
	process.SetClock(p, clock.now)
	pids := []int{p.Pid()}

	crash := func() {
		t.Helper()
		_, err := approve(p, "exit-now")
		requireCallError(t, err, plugins.FailTrap)
	}

	// Crash 1, restart 1: at once.
	crash()
	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo").Reason)
	pids = append(pids, p.Pid())
	_, n := rec.last("process: plugin restarted")
	require.Equal(t, 1, n)

	// Crash 2: restart 2 is refused within 100ms of restart 1 (the
	// backoff counts from the end of a restart), and spawns nothing.
	crash()
	clock.advance(99 * time.Millisecond)
	_, err := approve(p, "echo")
	requireCallError(t, err, plugins.FailUnavailable)
	assert.Contains(t, err.Error(), "next try in 1ms")
	assert.Empty(t, childrenRunning(bin))
	clock.advance(time.Millisecond)
	assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo").Reason)
	pids = append(pids, p.Pid())

	// Crash 3: the budget of 2 restarts a minute is spent.
	crash()
	clock.advance(250 * time.Millisecond) // past any backoff
	for range 3 {
		_, err = approve(p, "echo")
		requireCallError(t, err, plugins.FailUnavailable)
		assert.Contains(t, err.Error(), "restarted 2 times in 1m0s; waiting")
	}
	t.Log(err)
	assert.Zero(t, p.Pid())
	assert.Empty(t, childrenRunning(bin), "no process may be spawned beyond the budget")
	_, n = rec.last("process: restarting plugin")
	assert.Equal(t, 2, n, "restart attempts")
	for _, pid := range pids {
		assert.True(t, reaped(pid), "pid %d", pid)
	}
	assert.Len(t, pids, 3)
	assert.Equal(t, len(pids), len(slices.Compact(slices.Sorted(slices.Values(pids)))), "distinct pids %v", pids)
}

// --- 7. environment ----------------------------------------------------------

func TestEnvironmentLimited(t *testing.T) {
	t.Setenv("HOST_SECRET", "hunter2")
	t.Setenv("PROBE_GRANTED", "granted-value")
	o := probeOpts()
	o.Env = []string{"PROBE_OPTION=from-options"}
	p := load(t, testBin(t, "probe"), o)
	env := strings.Split(mustApprove(t, p, "env").Reason, "\x00")
	t.Logf("plugin environment keys: %v", func() []string {
		var ks []string
		for _, kv := range env {
			k, _, _ := strings.Cut(kv, "=")
			ks = append(ks, k)
		}
		return ks
	}())
	assert.Contains(t, env, "PROBE_OPTION=from-options")
	assert.Contains(t, env, "PROBE_GRANTED=granted-value")
	assert.Contains(t, env, abi.HandshakeCookieKey+"="+abi.HandshakeCookieValue)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PROBE_OPTION", k == "PROBE_GRANTED", k == abi.HandshakeCookieKey, strings.HasPrefix(k, "PLUGIN_"),
			k == "CODEXHOST_PLUGIN_TLS_FD": // the runtime's own
		default:
			t.Errorf("the plugin sees %s, which nothing gave it", k)
		}
	}
	assert.NotContains(t, strings.Join(env, "\n"), "hunter2")
}

// A plugin that ignores the key pair the host passes (another language, an
// older sdk-guest) still connects, with go-plugin's AutoMTLS.
func TestAutoMTLSFallback(t *testing.T) {
	o := probeOpts()
	o.Env = []string{"PROBE_AUTOMTLS=1"}
	p := load(t, testBin(t, "probe"), o)
	assert.Equal(t, "ok", mustApprove(t, p, "hello").Reason)
}

// TestStdinIsDevNull: the plugin does not get the host's stdin.
func TestStdinIsDevNull(t *testing.T) {
	p := load(t, refBin(t), nil)
	stdin, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", p.Pid()))
	require.NoError(t, err)
	assert.Equal(t, os.DevNull, stdin)
}

// TestRestartChecksBinary: a binary replaced after Load is not run by a
// restart unless it is the same plugin: with a pinned sha256 it is refused
// before it runs, without one its manifest must be the one checked at Load.
func TestRestartChecksBinary(t *testing.T) {
	ref, probe := refBin(t), testBin(t, "probe")
	sum := fileSHA256(t, ref)
	for _, pinned := range []bool{true, false} {
		t.Run(fmt.Sprintf("pinned=%v", pinned), func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "plugin")
			cp := func(src string) {
				t.Helper()
				b, err := os.ReadFile(src)
				require.NoError(t, err)
				// Write aside and rename: the running binary cannot be
				// written to (ETXTBSY).
				require.NoError(t, os.WriteFile(bin+".new", b, 0o755))
				require.NoError(t, os.Rename(bin+".new", bin))
			}
			cp(ref)
			o := &process.Options{}
			if pinned {
				o.SHA256 = sum
			}
			p := load(t, bin, o)
			clock := newFakeClock()
			process.SetClock(p, clock.now)
			cp(probe)
			_, err := approve(p, "exit-now")
			requireCallError(t, err, plugins.FailTrap)
			_, err = approve(p, "echo")
			requireCallError(t, err, plugins.FailUnavailable)
			if pinned {
				assert.ErrorIs(t, err, plugin.ErrChecksumsDoNotMatch)
			} else {
				assert.ErrorIs(t, err, plugins.ErrBadManifest)
				assert.Contains(t, err.Error(), "describes itself differently")
			}
			assert.Empty(t, childrenRunning(bin))

			// Put back, it restarts after the backoff (100ms after the
			// failed restart), not before.
			cp(ref)
			_, err = approve(p, "echo")
			requireCallError(t, err, plugins.FailUnavailable)
			assert.Contains(t, err.Error(), "next try in 100ms")
			clock.advance(100 * time.Millisecond)
			assert.Equal(t, "echo is harmless", mustApprove(t, p, "echo").Reason)
		})
	}
}

// --- 8. stderr and stdout reach the logger -----------------------------------

func TestOutputLogged(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := probeOpts()
	o.Logger = logger
	p := load(t, testBin(t, "probe"), o)
	assert.Equal(t, "said", mustApprove(t, p, "say hello-from-the-plugin").Reason)
	for _, want := range []string{
		"probe: raw stderr before serve", // stderr before plugin.Serve
		"stderr: hello-from-the-plugin",  // stderr after it (go-plugin's stdio stream)
		"stdout: hello-from-the-plugin",  // stdout after the handshake
	} {
		// The lines come through go-plugin's goroutines, after the call
		// returned: the bound is for a failing test, not a loaded machine.
		assert.True(t, buf.waitContains(want, time.Minute), "%q not logged; log:\n%s", want, buf.String())
	}
	t.Logf("log:\n%s", buf.String())

	// sdk-guest's Log goes to stderr too.
	buf2 := &syncBuffer{}
	load(t, refBin(t), &process.Options{Logger: slog.New(slog.NewTextHandler(buf2, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	assert.True(t, buf2.waitContains(`level=DEBUG msg="plugin: ref: configured"`, time.Minute),
		"guest.Log not logged at its level; log:\n%s", buf2.String())

	// Stdout before the handshake is the handshake: a plugin that writes
	// there first cannot be loaded.
	o = probeOpts()
	o.Env = []string{"PROBE_STDOUT_EARLY=1"}
	_, err := process.Load(context.Background(), testBin(t, "probe"), o)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "probe: this line breaks the handshake")
}

// --- 9. no zombies -----------------------------------------------------------

func TestCloseReaps(t *testing.T) {
	p := load(t, refBin(t), nil)
	pid := p.Pid()
	require.NotZero(t, pid)
	mustApprove(t, p, "echo")
	require.NoError(t, p.Close(context.Background()))
	assert.True(t, reaped(pid), "pid %d after Close: state %q, kill(0): %v", pid, procState(pid), syscall.Kill(pid, 0))
	assert.Zero(t, p.Pid())
	_, err := approve(p, "echo")
	assert.ErrorIs(t, err, plugins.ErrClosed)
}

// TestCloseDuringCall: Close while a call is in flight ends the call at once
// with an error matching plugins.ErrClosed. The probe writes a line to its
// stderr from inside the call, then never answers: Close follows that line.
func TestCloseDuringCall(t *testing.T) {
	var buf syncBuffer
	o := probeOpts()
	o.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := load(t, testBin(t, "probe"), o)
	pid := p.Pid()
	errc := make(chan error, 1)
	go func() {
		_, err := approve(p, "hang in-the-call")
		errc <- err
	}()
	require.True(t, buf.waitContains("stderr: in-the-call", time.Minute),
		"the call did not reach the plugin; log:\n%s", buf.String())
	start := time.Now()
	require.NoError(t, p.Close(context.Background()))
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, plugins.ErrClosed)
	case <-time.After(slack):
		t.Fatalf("the call outlived Close by %v", slack)
	}
	t.Logf("Close during a call took %v", time.Since(start))
	assert.True(t, reaped(pid))
}

// TestGrandchildHoldsPipes: a plugin that started a child holding its
// stdout and stderr does not make Close wait for that child; the child is
// killed with the plugin.
func TestGrandchildHoldsPipes(t *testing.T) {
	p := load(t, testBin(t, "probe"), probeOpts())
	pid := p.Pid()
	child, err := strconv.Atoi(mustApprove(t, p, "spawn").Reason)
	require.NoError(t, err)
	require.False(t, dead(child))
	done := make(chan struct{})
	go func() {
		_ = p.Close(context.Background())
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(slack):
		_ = syscall.Kill(child, syscall.SIGKILL) // unblock Close, so as not to hang the test binary
		<-done
		t.Fatal("Close waited on the plugin's child")
	}
	assert.True(t, reaped(pid))
	assert.True(t, waitDead(child, slack), "the plugin's child %d survived Close", child)

	// A plugin that crashes leaving such a child: the crash is reported
	// at once, and the child dies with it.
	p = load(t, testBin(t, "probe"), probeOpts())
	pid = p.Pid()
	child, err = strconv.Atoi(mustApprove(t, p, "spawn").Reason)
	require.NoError(t, err)
	start := time.Now()
	_, err = approve(p, "exit-now")
	requireCallError(t, err, plugins.FailTrap)
	// Reported as the crash (a trap), not at the call's deadline.
	assert.Less(t, time.Since(start), plugins.DefaultTimeout)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.True(t, reaped(pid))
	assert.True(t, waitDead(child, slack), "the plugin's child %d survived its crash", child)
	assert.Equal(t, "ok", mustApprove(t, p, "hello").Reason)
}

// The helper host: the test binary re-executed with helperEnv set loads the
// plugin at helperBinEnv, prints "pid N" and waits for a signal.
const (
	helperEnv    = "CODEXHOST_PROCESS_TEST_HOST"
	helperBinEnv = "CODEXHOST_PROCESS_TEST_PLUGIN"
)

func init() {
	runHelper = func() (int, bool) {
		mode := os.Getenv(helperEnv)
		if mode == "" {
			return 0, false
		}
		return helperHost(mode), true
	}
}

// helperHost is the helper host's main. mode "handler" closes the plugin on
// SIGTERM, as cmd/codexhost does; any other mode leaves signals to Go's
// defaults, as a library user gets.
func helperHost(mode string) int {
	sig := make(chan os.Signal, 1)
	if mode == "handler" {
		signal.Notify(sig, syscall.SIGTERM)
	}
	p, err := process.Load(context.Background(), os.Getenv(helperBinEnv), nil)
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	if _, err := approve(p, "echo"); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("pid", p.Pid())
	if mode == "handler" {
		<-sig
		_ = p.Close(context.Background())
		return 0
	}
	time.Sleep(time.Hour)
	return 2
}

// subreaper makes this process the subreaper of its descendants, so that a
// plugin whose host died is reparented to it and can be observed (and
// reaped) here, whatever this machine's init does with orphans.
var subreaper = sync.OnceValue(func() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
})

// TestHostDeath: the plugin does not outlive its host, whether the host
// closes it on SIGTERM, dies of SIGTERM without a handler (the default for
// a library user), or is killed with SIGKILL.
func TestHostDeath(t *testing.T) {
	bin := refBin(t)
	require.NoError(t, subreaper())
	for _, tc := range []struct {
		mode   string
		signal syscall.Signal
		// how the host and the plugin end
		hostSignaled bool
		pluginKilled bool // by SIGKILL (Pdeathsig), else it exits by itself
	}{
		{"handler", syscall.SIGTERM, false, false},
		{"default", syscall.SIGTERM, true, true},
		{"default", syscall.SIGKILL, true, true},
	} {
		t.Run(tc.mode+"-"+tc.signal.String(), func(t *testing.T) {
			host := exec.Command(os.Args[0], "-test.run=^$")
			host.Env = append(os.Environ(), helperEnv+"="+tc.mode, helperBinEnv+"="+bin)
			host.Stderr = os.Stderr
			out, err := host.StdoutPipe()
			require.NoError(t, err)
			require.NoError(t, host.Start())
			t.Cleanup(func() { _ = host.Process.Kill(); _ = host.Wait() })

			line, err := bufio.NewReader(out).ReadString('\n')
			require.NoError(t, err)
			f := strings.Fields(line)
			require.Len(t, f, 2, "helper host said %q", line)
			require.Equal(t, "pid", f[0], "helper host said %q", line)
			pid, err := strconv.Atoi(f[1])
			require.NoError(t, err)
			require.False(t, dead(pid))
			// Opened while the plugin runs: its pid cannot be reused
			// under us.
			plugin, err := unix.PidfdOpen(pid, 0)
			require.NoError(t, err)
			defer unix.Close(plugin)

			require.NoError(t, host.Process.Signal(tc.signal))
			err = host.Wait()
			if tc.hostSignaled {
				var ee *exec.ExitError
				require.ErrorAs(t, err, &ee)
				ws := ee.Sys().(syscall.WaitStatus)
				assert.True(t, ws.Signaled() && ws.Signal() == tc.signal, "host ended with %v", err)
			} else {
				require.NoError(t, err)
			}

			// The plugin is either reaped by its host (handler) or
			// reparented to us, the subreaper; reap it and see how it died.
			// The host is gone: the plugin, once it has exited, is
			// reaped already or is a zombie child of ours.
			start := time.Now()
			require.True(t, waitPidfd(plugin, 2*time.Second),
				"plugin %d still running 2s after its host died (state %q)", pid, procState(pid))
			var ws syscall.WaitStatus
			wpid, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if errors.Is(err, syscall.ECHILD) {
				ws = 0
				assert.Zero(t, procState(pid), "not our child, yet not reaped")
			} else {
				require.NoError(t, err)
				require.Equal(t, pid, wpid, "the plugin has exited, yet it is not a zombie")
			}
			t.Logf("plugin gone %v after the host; status %#x", time.Since(start), ws)
			if tc.pluginKilled {
				assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "plugin ended with status %#x", ws)
			}
			assert.True(t, reaped(pid))
		})
	}
}
