package host

import (
	"bufio"
	"github.com/codexhost/codexhost/host/internal/codexbin"

	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// envCodexBin is the environment variable that selects the codex binary.
const envCodexBin = codexbin.Env

// findCodex resolves the codex binary: explicit, then $CODEX_BIN, then the
// project's pinned install (tools/codex in this directory or a parent), then
// PATH.
func findCodex(explicit string) (string, error) {
	if explicit != "" {
		return checkBinary(explicit, "Options.Codex")
	}
	if env := os.Getenv(envCodexBin); env != "" {
		return checkBinary(env, envCodexBin)
	}
	if p := codexbin.Pinned(); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("codex"); err == nil {
		return p, nil
	}
	return "", &CodexNotFoundError{}
}

func checkBinary(path, from string) (string, error) {
	if !strings.ContainsRune(path, filepath.Separator) {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", &CodexNotFoundError{Source: from, Path: path, Err: err}
		}
		return p, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", &CodexNotFoundError{Source: from, Path: path, Err: err}
	}
	if st.IsDir() || st.Mode()&0o111 == 0 {
		return "", &CodexNotFoundError{Source: from, Path: path, Err: errNotExecutable}
	}
	return path, nil
}

// process is a running app-server and the goroutines that watch it.
type process struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout io.ReadCloser
	stderr *lineRing
	// errPipe is the read end of app-server's stderr, which the reader
	// (wg) reads until EOF, or until finish closes it.
	errPipe io.ReadCloser
	logger  *slog.Logger

	exited  chan struct{} // closed when cmd.Wait returns
	waitErr error         // set before exited is closed
	wg      sync.WaitGroup
}

func startProcess(bin string, args []string, o *Options) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = o.Dir
	cmd.Env = o.processEnv()
	setProcAttr(cmd)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("host: start %s: %w", bin, err)
	}
	p := &process{
		cmd: cmd, stdin: stdin, stdout: stdout,
		stderr: newLineRing(o.StderrLines), errPipe: stderr,
		logger: o.Logger,
		exited: make(chan struct{}),
	}
	p.wg.Add(1)
	go func() { // owned by p; ends when app-server closes stderr
		defer p.wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.stderr.add(line)
			p.logger.Debug("app-server stderr", "line", line)
		}
		// A stderr line over 1 MiB stops the scan; keep draining so the
		// child never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() { // owned by p; ends when the process exits
		// cmd.Wait waits for the stderr copy too, via the pipe's close; we
		// use Process.Wait so that the stderr goroutine is the only reader.
		st, err := cmd.Process.Wait()
		if err == nil && !st.Success() {
			err = &exec.ExitError{ProcessState: st}
		}
		cmd.ProcessState = st
		p.waitErr = err
		close(p.exited)
	}()
	return p, nil
}

// exitCode reports the exit code, or -1 if the process is running or was
// killed by a signal.
func (p *process) exitCode() int {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// stop ends app-server in order, each step bounded by grace:
//
//  1. close its stdin: app-server exits on EOF, finishing what it writes;
//  2. wait up to grace for it to exit;
//  3. send SIGTERM (to its process group, so helpers it spawned go too);
//  4. wait up to grace again;
//  5. send SIGKILL and wait.
//
// stop is called once, by Client.Close.
func (p *process) stop(grace time.Duration) error {
	_ = p.stdin.Close()
	if p.waitExit(grace) {
		return p.finish(grace)
	}
	p.logger.Debug("app-server did not exit after stdin closed; sending SIGTERM")
	_ = signalGroup(p.cmd, syscall.SIGTERM)
	if p.waitExit(grace) {
		return p.finish(grace)
	}
	p.logger.Warn("app-server ignored SIGTERM; sending SIGKILL")
	_ = signalGroup(p.cmd, syscall.SIGKILL)
	<-p.exited
	return p.finish(grace)
}

func (p *process) waitExit(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.exited:
		return true
	case <-t.C:
		return false
	}
}

func (p *process) finish(grace time.Duration) error {
	// The process is gone, but a grandchild may still hold stderr open.
	// Kill the group to release it, then wait for the stderr reader: up
	// to grace, for what is left in the pipe; then close the pipe, since
	// a descendant outside the group (setsid) may hold it open for ever.
	_ = signalGroup(p.cmd, syscall.SIGKILL)
	_ = p.stdout.Close()
	read := make(chan struct{})
	go func() { p.wg.Wait(); close(read) }() // ends with the reader
	t := time.NewTimer(grace)
	select {
	case <-read:
	case <-t.C:
		p.logger.Debug("app-server's stderr is still open (held by a descendant); closing it")
		_ = p.errPipe.Close()
		<-read
	}
	t.Stop()
	var ee *exec.ExitError
	if errors.As(p.waitErr, &ee) {
		// A non-zero exit after we asked it to stop is not an error of
		// the caller's.
		return nil
	}
	return p.waitErr
}

// lineRing keeps the last n lines written to it.
type lineRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newLineRing(n int) *lineRing { return &lineRing{lines: make([]string, n)} }

func (r *lineRing) add(s string) {
	if len(r.lines) == 0 {
		return
	}
	r.mu.Lock()
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

func (r *lineRing) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	out := make([]string, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}

// stdio joins app-server's stdout and stdin into the io.ReadWriteCloser that
// rpc.Conn reads and writes. Close closes both pipes, which unblocks a
// pending Read.
type stdio struct {
	io.Reader
	io.Writer
	closeFn func() error
}

func (s stdio) Close() error { return s.closeFn() }
