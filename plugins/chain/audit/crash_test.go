package audit_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// envCrashHelper makes the test binary a helper host that writes its
// audit log to the named file.
const envCrashHelper = "CODEXHOST_AUDIT_CRASH_HELPER"

func requireCodex(t testing.TB) { e2e.RequireCodex(t) }

// crashHelper runs a real codex turn whose command approval is accepted,
// recorded in the audit log at path, and followed at once by SIGKILL of
// this process: a host that crashes between recording a decision and
// sending it. It exits 3 if it ever gets past that point.
func crashHelper(path string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		os.Exit(2)
	}
	alog, err := audit.Open(path, nil)
	if err != nil {
		fail(err)
	}
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: hosttest.Turn(hosttest.ExecCommand("touch x"), hosttest.Text("done"))})
	if err != nil {
		fail(err)
	}
	// The test's temporary directory holds codex's home and work too.
	home, work := filepath.Join(filepath.Dir(path), "home"), filepath.Join(filepath.Dir(path), "work")
	for _, d := range []string{home, work} {
		if err := os.Mkdir(d, 0o700); err != nil {
			fail(err)
		}
	}
	if err := hosttest.WriteCodexHome(home, model.URL(), nil); err != nil {
		fail(err)
	}
	ch, err := chain.New(&chain.Options{Fallback: abi.Accept, OnDecision: func(rec *chain.DecisionRecord) {
		alog.Record(rec)
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}})
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: work, Handler: ch})
	if err != nil {
		fail(err)
	}
	_, err = c.Run(ctx, "touch x", &host.RunOptions{Thread: &host.ThreadOptions{Cwd: work}})
	fmt.Fprintln(os.Stderr, "crash helper: the turn ended without a decision:", err)
	os.Exit(3)
}

// The decision is on disk before the answer leaves: a host killed right
// after OnDecision still has it in its audit log.
func TestCrashAfterDecisionIsOnDisk(t *testing.T) {
	requireCodex(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashHelper+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, "output: %s", out)
	ws, ok := ee.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "helper did not die by SIGKILL: %v; output: %s", err, out)

	es := readEntries(t, path)
	require.Len(t, es, 1)
	e := es[0]
	assert.Contains(t, e.Summary, "touch x")
	assert.Equal(t, "accept", e.Decision)
	assert.Equal(t, "approval", e.Hook)
	assert.Equal(t, "command", e.Kind)
	assert.JSONEq(t, `{"decision":"accept"}`, string(e.Answer), "the exact answer codex got")
	assert.Equal(t, "fallback: all abstained", e.Why)
	assert.NotEmpty(t, e.ThreadID)
	assert.NotEmpty(t, e.ItemID)
	assert.WithinDuration(t, time.Now(), e.Time, 5*time.Minute)
}
