package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// sleeperPlugin writes the hostile suite's guest that logs "hostile:
// sleeping in WASI" at level ERROR, then sleeps in WASI poll_oneoff for
// hours, to a file.
func sleeperPlugin(t *testing.T) string {
	t.Helper()
	b := plugintest.BuildWAT(t, "../../plugins/internal/hostile/testdata/wat/log-then-sleep-handle.wat")
	path := filepath.Join(t.TempDir(), "sleeper.wasm")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// Ctrl-C (SIGINT: main turns it into the cancellation of run's context)
// while a plugin sleeps in WASI in an approval ends the run within a
// second, with the documented status of an interrupted turn (1).
//
// The test sees the plugin fall asleep through the pluginLoggerKey hook:
// the guest logs "hostile: sleeping in WASI" from inside the approval call,
// right before its poll_oneoff, and the interrupt follows that line. It
// checks afterwards that the plugin was interrupted, not timed out (its
// deadline is 5 s).
func TestRunInterruptDuringWASISleep(t *testing.T) {
	t.Parallel()
	sleeper := sleeperPlugin(t)
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("echo hi"), hosttest.Text("done")))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	asleep := make(chan struct{})
	var once sync.Once
	logs := slog.New(&recordHandler{handle: func(r slog.Record) {
		if r.Level == slog.LevelError && r.Message == "hostile: sleeping in WASI" {
			once.Do(func() { close(asleep) })
		}
	}})
	ctx = context.WithValue(ctx, pluginLoggerKey{}, logs)
	var interrupted time.Time // written by the goroutine, read after it ended
	interrupter := make(chan struct{})
	go func() {
		defer close(interrupter)
		select {
		case <-asleep:
			interrupted = time.Now()
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	r := runCtx(ctx, t, "", "run", "--codex-home", home, "--cwd", t.TempDir(), "--plugin", sleeper, "say hi")
	end := time.Now()
	cancel()
	<-interrupter
	require.False(t, interrupted.IsZero(), "the run ended before the plugin fell asleep and was interrupted")
	took := end.Sub(interrupted)
	t.Logf("exit %d %v after the interrupt, %v after the start", r.code, took, end.Sub(start))
	assert.Equal(t, exitTurnFailed, r.code)
	assert.Contains(t, r.stderr, "turn interrupted")
	assert.NotContains(t, r.stderr, "timeout", "the plugin was interrupted, not timed out")
	// Interrupted, not timed out: stderr says so (above). The bound only
	// catches a run that outlives the interrupt for good; it is not the
	// second it takes on an idle machine (0.1 s; 0.6 s seen with the
	// CPUs busy), which a loaded CI machine can exceed.
	assert.Less(t, took, 30*time.Second, "the run ends after the interrupt")
}

// recordHandler is a slog.Handler that passes every record to handle.
type recordHandler struct{ handle func(slog.Record) }

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.handle(r)
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

// plugin test on a plugin that sleeps in WASI reports a timeout at its
// deadline (the default call timeout, 5s), naming it.
func TestPluginTestSleeperTimesOut(t *testing.T) {
	t.Parallel()
	sleeper := sleeperPlugin(t)
	cases := filepath.Join(t.TempDir(), "cases.json")
	require.NoError(t, os.WriteFile(cases, []byte(`{"case": [
		{"name": "sleeps", "approval": {"kind": "command", "command": "echo hi"}, "expect": {"decision": "accept"}}
	]}`), 0o644))
	start := time.Now()
	r := runCmd(t, "plugin", "test", "-v", sleeper, "--cases", cases)
	took := time.Since(start)
	assert.Equal(t, exitTurnFailed, r.code)
	out := r.stdout + r.stderr
	assert.Contains(t, out, "timeout")
	assert.Contains(t, out, "the call timeout of 5s passed")
	// The deadline, plus the command's start, loading the plugin and the
	// 100 ms margin (5.02-5.04 s on a quiet VM; the start and the load
	// take several times longer under -race on a loaded 2-core one). The
	// deadline's own margin is checked per guest by the hostile suite.
	assert.GreaterOrEqual(t, took, 5*time.Second)
	assert.Less(t, took, 5*time.Second+3*time.Second)
}
