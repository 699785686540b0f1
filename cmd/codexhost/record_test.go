package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/transcript"
)

// recordTurn runs `codexhost run --record` on a turn in which the model
// asks to run rm (declined by examples/policy) and returns the transcript's
// path.
func recordTurn(t *testing.T) string {
	t.Helper()
	policy := policyPlugin(t)
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")))
	work := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(work, "victim.txt"), []byte("keep me"), 0o644))
	path := filepath.Join(t.TempDir(), "turn.jsonl")
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--plugin", policy, "--record", path, "remove victim.txt")
	require.Equal(t, exitDeclined, r.code)
	assert.NotContains(t, r.stderr, "\r", "no status line when stderr is not a terminal")
	assert.NotContains(t, r.stderr, "working…")
	return path
}

// --record saves the raw JSON-RPC lines of the run, which replay to the
// requests the policy saw.
func TestRunRecord(t *testing.T) {
	t.Parallel()
	path := recordTurn(t)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "a transcript is private")

	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr, err := transcript.Read(f)
	require.NoError(t, err)
	assert.Equal(t, host.Version, tr.Header.Codexhost)
	assert.Equal(t, wantCodexVersion(), tr.Header.Codex, "the version of the codex that ran, not the one the wire types are from")
	var out, in int
	for _, rec := range tr.Records {
		switch rec.Dir {
		case transcript.Out:
			out++
		case transcript.In:
			in++
		}
	}
	assert.Positive(t, out)
	assert.Positive(t, in)
	assert.Contains(t, string(tr.Records[0].Msg), `"method":"initialize"`)

	var approvals []string
	for r, err := range host.Replay(tr) {
		require.NoError(t, err)
		if r.Request == nil {
			continue
		}
		if hook, _ := r.Request.Hook(); hook == abi.HookApproval {
			a, err := r.Request.Approval()
			require.NoError(t, err)
			approvals = append(approvals, a.Command+" → "+string(r.Answer))
		}
	}
	require.Len(t, approvals, 1)
	assert.True(t, strings.HasSuffix(approvals[0], `rm victim.txt' → {"decision":"decline"}`), approvals[0])
}

// Ctrl-C on the real binary: SIGINT interrupts the turn with
// turn/interrupt, codex confirms it stopped, and codexhost exits 1 with one
// line, no stack trace. The transcript shows the interrupt on the wire.
func TestCtrlCInterruptsTheTurn(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "codexhost")
	build := exec.Command("go", "build", "-o", bin, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	model, home := fakeCodexHome(t, hosttest.Hang())
	record := filepath.Join(t.TempDir(), "turn.jsonl")
	cmd := exec.Command(bin, "run", "--codex-home", home, "--cwd", t.TempDir(), "--record", record, "think hard")
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	reached, cancelReached := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancelReached()
	_, err = model.WaitRequests(reached, 1)
	require.NoError(t, err, "the turn reached the model")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-waited
		t.Fatalf("codexhost did not exit after SIGINT:\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, exitTurnFailed, ee.ExitCode())
	assert.Contains(t, stderr.String(), "codexhost: turn interrupted\n")
	assert.NotContains(t, stderr.String(), "goroutine ")

	f, err := os.Open(record)
	require.NoError(t, err)
	defer f.Close()
	tr, err := transcript.Read(f)
	require.NoError(t, err)
	var sawInterrupt, sawInterrupted bool
	for _, rec := range tr.Records {
		s := string(rec.Msg)
		if rec.Dir == transcript.Out && strings.Contains(s, `"method":"turn/interrupt"`) {
			sawInterrupt = true
		}
		if rec.Dir == transcript.In && sawInterrupt && strings.Contains(s, `"method":"turn/completed"`) && strings.Contains(s, `"status":"interrupted"`) {
			sawInterrupted = true
		}
	}
	assert.True(t, sawInterrupt, "codexhost sent turn/interrupt")
	assert.True(t, sawInterrupted, "codex completed the turn as interrupted")
}

// When codex never starts, --record still leaves a readable transcript: its
// header, which names no codex version, since none reported one.
func TestRunRecordCodexNeverStarted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "turn.jsonl")
	r := runCmd(t, "run", "--codex", filepath.Join(t.TempDir(), "missing"), "--record", path, "hello")
	require.Equal(t, exitConn, r.code)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr, err := transcript.Read(f)
	require.NoError(t, err)
	assert.Equal(t, host.Version, tr.Header.Codexhost)
	assert.Empty(t, tr.Header.Codex)
	assert.Empty(t, tr.Records)
}
