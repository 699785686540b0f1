package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest/e2e"
)

// blockingStdin is a stdin that is never closed (a producer still
// writing, a CI step's open pipe): Read blocks until release is closed;
// entered is closed by the first Read.
type blockingStdin struct {
	entered, release chan struct{}
	once             sync.Once
}

func newBlockingStdin(t *testing.T) *blockingStdin {
	s := &blockingStdin{entered: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) }) // the abandoned read returns
	return s
}

func (s *blockingStdin) Read([]byte) (int, error) {
	s.once.Do(func() { close(s.entered) })
	<-s.release
	return 0, errors.New("released")
}

// TestPromptReadEndsWithTheRun: Ctrl-C or SIGTERM (the end of run's
// context) and --timeout end a run that is reading its prompt from a
// stdin that stays open; the read ignored both, and only kill -9 ended
// the process (review).
func TestPromptReadEndsWithTheRun(t *testing.T) {
	t.Parallel()
	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		stdin := newBlockingStdin(t)
		ctx, cancel := context.WithCancel(t.Context())
		var stdout, stderr syncBuffer
		code := make(chan int, 1)
		go func() {
			code <- run(ctx, []string{"run", "--codex", "/nonexistent/codex", "-"}, stdin, &stdout, &stderr)
		}()
		<-stdin.entered
		cancel()
		assert.Equal(t, exitTurnFailed, <-code)
		assert.Contains(t, stderr.String(), "interrupted while reading the prompt from stdin")
	})
	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		stdin := newBlockingStdin(t)
		var stdout, stderr syncBuffer
		c := run(t.Context(), []string{"run", "--codex", "/nonexistent/codex", "--timeout", "100ms", "-"}, stdin, &stdout, &stderr)
		assert.Equal(t, exitTurnFailed, c)
		assert.Contains(t, stderr.String(), "timed out (--timeout) while reading the prompt from stdin")
	})
}

// TestSIGHUPBeforeTheReloaderStarts: with a configuration file, SIGHUP
// reloads; one that came before the plugins had loaded (here, while the
// prompt is read) killed the process, SIGHUP's default action (review).
// Not parallel: the signal goes to the whole test process.
func TestSIGHUPBeforeTheReloaderStarts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "codexhost.toml")
	require.NoError(t, os.WriteFile(file, []byte("render = \"exec\"\n"), 0o644))
	stdin := newBlockingStdin(t)
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"run", "--codex", "/nonexistent/codex", "--config-file", file, "-"}, stdin, &stdout, &stderr)
	}()
	<-stdin.entered // run has caught SIGHUP by now
	// The signal is delivered asynchronously, to every channel notified
	// for it: the test's own tells when run's has it too. Without that
	// wait, run could return (and Stop its channel) before the runtime
	// delivered the signal, whose default action then ended the test
	// process (seen once in CI: "signal: hangup"). The channel also keeps
	// the test process alive, so what is checked is run's answer to it:
	// it goes on, and ends as the context does.
	seen := make(chan os.Signal, 1)
	signal.Notify(seen, syscall.SIGHUP)
	defer signal.Stop(seen)
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	<-seen
	cancel()
	assert.Equal(t, exitTurnFailed, <-code, "stderr: %s", stderr.String())
}

// TestStdoutClosedStopsTheRun: when stdout's reader goes away (| head),
// the run stops the turn and shuts down in order, exit 1, saying why, and
// removes what it made (--scripted's CODEX_HOME). SIGPIPE killed it with
// none of that (review).
func TestStdoutClosedStopsTheRun(t *testing.T) {
	t.Parallel()
	codex := e2e.CodexBin(t)
	bin := codexhostBinary(t)
	script, err := filepath.Abs("testdata/push.agent.toml")
	require.NoError(t, err)
	tmp, work := t.TempDir(), t.TempDir()
	require.NoError(t, exec.Command("git", "init", "-q", work).Run())
	r, w, err := os.Pipe()
	require.NoError(t, err)
	require.NoError(t, r.Close()) // nobody reads stdout
	cmd := exec.Command(bin, "run", "--scripted", script, "--cwd", work, "push my work")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir(), "TMPDIR="+tmp, "CODEX_BIN="+codex)
	var stderr syncBuffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	require.NoError(t, cmd.Start())
	require.NoError(t, w.Close())
	err = cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "exit: %v; stderr: %s", err, stderr.String())
	st, _ := ee.Sys().(syscall.WaitStatus)
	require.False(t, st.Signaled(), "killed by %v; stderr: %s", st.Signal(), stderr.String())
	assert.Equal(t, exitTurnFailed, ee.ExitCode(), "stderr: %s", stderr.String())
	assert.Contains(t, stderr.String(), "stdout was closed")
	left, _ := filepath.Glob(filepath.Join(tmp, "codexhost-scripted-*"))
	assert.Empty(t, left, "--scripted's temporary CODEX_HOME is removed")
}

// TestChildrenStartWithSIGPIPEDefault: codexhost catches SIGPIPE (a closed
// stdout is an EPIPE the run handles); what it starts (app-server, process
// plugins) does not inherit it ignored, as it did with signal.Ignore: a
// script's producer | head would spin on EPIPE (review).
func TestChildrenStartWithSIGPIPEDefault(t *testing.T) {
	t.Parallel()
	bin := codexhostBinary(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "sigign")
	fake := filepath.Join(dir, "codex")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\ngrep SigIgn /proc/self/status > "+out+"\nexit 1\n"), 0o755))
	cmd := exec.Command(bin, "run", "--codex", fake, "hello")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+t.TempDir())
	_ = cmd.Run() // the fake codex fails the handshake
	b, err := os.ReadFile(out)
	require.NoError(t, err, "the fake codex ran")
	f := strings.Fields(string(b))
	require.Len(t, f, 2)
	mask, err := strconv.ParseUint(f[1], 16, 64)
	require.NoError(t, err)
	assert.Zero(t, mask&(1<<(13-1)), "app-server (a child of codexhost) starts with SIGPIPE ignored: SigIgn %s", f[1])
}
