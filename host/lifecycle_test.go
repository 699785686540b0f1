package host_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
)

// envStderrHolder makes the test binary, started as app-server, first
// start a helper in a session of its own that inherits its stderr (as a
// daemon does), write the helper's pid to the file it names, then play
// hosttest's "text" scenario.
const envStderrHolder = "CODEXHOST_TEST_STDERR_HOLDER"

func init() {
	pidfile := os.Getenv(envStderrHolder)
	if pidfile == "" {
		return
	}
	cmd := exec.Command("sleep", "300")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		os.Exit(9)
	}
	_ = os.WriteFile(pidfile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	os.Exit(hosttest.FakeAppServer("text"))
}

// TestCloseWhenADescendantHoldsStderr: Close returns though a descendant
// of app-server outside its process group still holds app-server's
// stderr: it waited for the stderr reader without bound (review). A
// regression hangs until the test binary's timeout.
func TestCloseWhenADescendantHoldsStderr(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	require.NoError(t, err)
	pidfile := filepath.Join(t.TempDir(), "pid")
	c, err := host.Start(t.Context(), &host.Options{Codex: exe, StopGrace: 200 * time.Millisecond,
		Env: []string{"GORACE=atexit_sleep_ms=0", envStderrHolder + "=" + pidfile, "FAKE_DELTAS=0"}})
	require.NoError(t, err)
	b, err := os.ReadFile(pidfile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	require.NoError(t, c.Close())
	_ = c.Wait()
}

// TestStartTurnAfterCloseFails: StartTurn on a closed Client returns an
// error matching ErrClosed, as StartThread does. It closed its event
// subscription twice and panicked ("close of closed channel"), taking
// the caller's process down.
func TestStartTurnAfterCloseFails(t *testing.T) {
	t.Parallel()
	c := startFake(t, "text", 0, nil)
	th, err := c.StartThread(t.Context(), nil)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	_ = c.Wait()
	_, err = c.StartTurn(t.Context(), th.ID, []host.Input{host.TextInput("go")}, nil)
	require.ErrorIs(t, err, host.ErrClosed)
}
