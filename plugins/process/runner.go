package process

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin/runner"
)

// procRunner starts and stops a plugin process for go-plugin (its
// ClientConfig.RunnerFunc). go-plugin's own runner is replaced because it
// gives the plugin the host's stdin, knows nothing of the plugin's own
// children, and hides the process.
//
// What it does differently:
//
//   - stdin is /dev/null, and no descriptor the host inherited is passed
//     on (on Linux);
//   - a pinned binary runs from a sealed copy of the bytes verified (on
//     Linux), not from its path;
//   - on Linux the plugin leads a process group of its own and gets SIGKILL
//     when the host dies (Pdeathsig); when it exits or is killed, so is the
//     rest of its group: a child the plugin started does not outlive it;
//     when the host kills it, every descendant still attached to it is
//     killed first, in or out of its group (a child that called setsid);
//     see docs/security.md for what can escape;
//   - shortly after the plugin exits (pipeGrace), the host's ends of its
//     stdout and stderr are closed if they are still open (a descendant
//     that left the group holds them), so that go-plugin, which waits for
//     both to close before it reaps the process, never waits forever;
//   - it records the pid and how the process ended.
type procRunner struct {
	cmd            *exec.Cmd
	stdout, stderr io.ReadCloser
	exited         chan struct{} // closed when the process has exited (watch)
	stderrEnded    chan struct{} // closed when a read of stderr has failed (EOF)

	mu     sync.Mutex
	pid    int  // set by Start
	gone   bool // the process has exited: its pid may be reused once reaped
	state  *os.ProcessState
	closer *time.Timer // closes the pipes after the exit
}

var _ runner.Runner = (*procRunner)(nil)

// pipeGrace is how long after the plugin exits its stdout and stderr may
// stay open (for go-plugin to read what is left) before they are closed.
const pipeGrace = 500 * time.Millisecond

// newProcRunner prepares the plugin's command. extra, if not nil, is
// written to a pipe the plugin inherits as file descriptor 3 (tlsFD).
// image, if not nil, is what runs instead of the file at path (a sealed
// copy of the verified bytes, see Plugin.verify): the plugin inherits it as
// the next descriptor and executes it through /proc/self/fd; its argv[0]
// is still path.
func newProcRunner(path string, image *os.File, args, env []string, extra []byte) (*procRunner, error) {
	cmd := exec.Command(path, args...)
	if env == nil {
		env = []string{} // nil would mean the host's environment
	}
	cmd.Env = env
	if extra != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		// A few KiB fit in the pipe's buffer: the write does not wait
		// for the plugin. The parent's read end is closed once the
		// plugin has started (Start).
		_, err = w.Write(extra)
		_ = w.Close()
		if err != nil {
			_ = r.Close()
			return nil, err
		}
		cmd.ExtraFiles = []*os.File{r}
	}
	if image != nil {
		cmd.Path = "/proc/self/fd/" + strconv.Itoa(3+len(cmd.ExtraFiles))
		cmd.ExtraFiles = append(cmd.ExtraFiles, image)
	}
	// The descriptors the host inherited without close-on-exec are closed
	// in the plugin: a nil entry of ExtraFiles is a descriptor closed
	// when the process starts (os.ProcAttr.Files).
	for n := maxInheritable(); len(cmd.ExtraFiles) < n-2; {
		cmd.ExtraFiles = append(cmd.ExtraFiles, nil)
	}
	// cmd.Stdin stays nil: /dev/null.
	setProcAttr(cmd)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	ended := make(chan struct{})
	return &procRunner{cmd: cmd, stdout: stdout, stderr: &endReader{ReadCloser: stderr, ended: ended},
		exited: make(chan struct{}), stderrEnded: ended}, nil
}

// An endReader closes ended when a read fails: the stream has ended, and
// what it carried has been passed on.
type endReader struct {
	io.ReadCloser
	once  sync.Once
	ended chan struct{}
}

func (r *endReader) Read(b []byte) (int, error) {
	n, err := r.ReadCloser.Read(b)
	if err != nil {
		r.once.Do(func() { close(r.ended) })
	}
	return n, err
}

// waitStderr waits, at most d, until the plugin's stderr has been read to
// its end.
func (r *procRunner) waitStderr(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.stderrEnded:
	case <-t.C:
	}
}

func (r *procRunner) Start(context.Context) error {
	err := r.cmd.Start()
	for _, f := range r.cmd.ExtraFiles {
		_ = f.Close() // the plugin has its copy
	}
	if err != nil {
		if r.cmd.Path != r.cmd.Args[0] {
			// Its verified copy: say which plugin it is.
			return fmt.Errorf("start %s: %w", r.cmd.Args[0], err)
		}
		return err
	}
	r.mu.Lock()
	r.pid = r.cmd.Process.Pid
	r.mu.Unlock()
	go r.watch()
	return nil
}

// watch waits for the process to exit, without reaping it (until it is
// reaped its pid, and so its process group id, cannot be reused), kills
// what is left of its process group, and arms the closing of its pipes.
func (r *procRunner) watch() {
	defer close(r.exited)
	if !waitExited(r.pid) {
		return // unsupported: Wait reaps at once
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gone = true
	killGroup(r.pid)
	r.closer = time.AfterFunc(pipeGrace, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.state == nil {
			_ = r.stdout.Close()
			_ = r.stderr.Close()
		}
	})
}

// Wait waits for the process to exit and reaps it. go-plugin calls it once
// the plugin's stdout and stderr are closed.
func (r *procRunner) Wait(context.Context) error {
	<-r.exited
	err := r.cmd.Wait()
	r.mu.Lock()
	r.gone = true
	r.state = r.cmd.ProcessState
	if r.closer != nil {
		r.closer.Stop()
	}
	r.mu.Unlock()
	return err
}

// Kill implements runner.Runner: go-plugin calls it when the plugin does not
// exit after being asked to, and when it fails to start.
func (r *procRunner) Kill(context.Context) error {
	r.kill()
	return nil
}

// kill kills the process and its process tree (SIGKILL): its process
// group, and on Linux every descendant, those that left the group
// (setsid) included. It does not wait.
func (r *procRunner) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid <= 0 || r.gone {
		// Never started, or it has exited (and watch killed the group).
		return
	}
	killTree(r.pid)
	_ = r.cmd.Process.Kill()
	killGroup(r.pid)
}

// runningPid returns the process's pid while it runs, else 0.
func (r *procRunner) runningPid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone {
		return 0
	}
	return r.pid
}

// exitState returns how the process ended, or nil if it has not been
// reaped yet.
func (r *procRunner) exitState() *os.ProcessState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *procRunner) Stdout() io.ReadCloser { return r.stdout }
func (r *procRunner) Stderr() io.ReadCloser { return r.stderr }
func (r *procRunner) Name() string          { return r.cmd.Args[0] }

// ID is the pid, or "" before the process started: go-plugin then has
// nothing to kill.
func (r *procRunner) ID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pid <= 0 {
		return ""
	}
	return strconv.Itoa(r.pid)
}

func (r *procRunner) Diagnose(context.Context) string {
	return "a codexhost process plugin must write nothing to stdout before its handshake line " +
		"(is this a plugin built with sdk-guest for this OS and architecture?)"
}

func (r *procRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *procRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}
