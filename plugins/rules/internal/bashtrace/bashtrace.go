// Package bashtrace runs a command line under a real shell (bash, or
// dash) traced by strace(1) and reports what the shell executed, which
// files were opened for writing and which sockets were created. It is the
// oracle of the rule engine's differential tests: an accept of the engine
// is checked against what bash really does.
//
// # What is run
//
// A line runs as `bash --noprofile --norc -c LINE` (or `dash -c LINE`) in
// a fresh copy of a small workspace (a git repository with a few files, a
// subdirectory sub/, an executable file named bash and one named ls that
// run a marker command, and an empty home directory), with a fixed
// environment: HOME in the workspace, PATH=/usr/local/bin:/usr/bin:/bin,
// LANG=C, TMPDIR in the workspace, and BASH_ENV (below). Nothing of the
// caller's environment is passed on.
//
// codex runs commands as `bash -lc LINE`. The top-level shell here is not
// a login shell on purpose: a login shell first runs /etc/profile, whose
// own commands (Debian's runs `id -u`) are the machine's and not the
// line's. Startup files are the environment, not the line; the line is
// parsed and executed the same way. A login shell that the line itself
// starts (`bash -lc 'git status'`) does read /etc/profile; what that
// executes is measured once per Runner (LoginBaseline) so that a caller
// can tell it apart.
//
// # Builtins
//
// A builtin executes no program, so a trace cannot show its argv. To make
// the argv of the common builtins that also exist as programs observable,
// BASH_ENV names a file that runs `enable -n echo printf test [ true false
// pwd kill`: in bash (also in the bash processes the line starts) these
// words then execute /usr/bin/echo and so on, with exactly the argv the
// builtin would have had. Their output and exit status are the same. Every
// other builtin (cd, exit, :, …, and all of dash's) still executes nothing;
// Builtin reports which words those are.
//
// # Safety
//
// The line is something a rule engine accepted: it should be harmless, but
// the point of the trace is to catch the cases where it is not. When the
// process runs as root, the line runs as the user nobody (strace -u), so
// that a wrong accept can only touch what nobody may touch. Every run has a
// timeout, after which the whole process group is killed, and the trace,
// stdout and stderr have size limits.
package bashtrace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// ErrNoStrace is returned (wrapped) when strace or the shell is not
// installed, or strace cannot trace (ptrace forbidden).
var ErrNoStrace = errors.New("bashtrace: strace is not installed")

// ErrTraceTooLarge is returned (wrapped) when the trace exceeds its size
// limit: the run cannot be judged.
var ErrTraceTooLarge = errors.New("bashtrace: trace over its size limit")

// Shell selects the interpreter of the line.
type Shell int

const (
	// Bash runs the line with `bash --noprofile --norc -c`.
	Bash Shell = iota
	// Dash runs the line with `dash -c` (the POSIX sh of Debian).
	Dash
)

func (s Shell) String() string {
	if s == Dash {
		return "dash"
	}
	return "bash"
}

// Path is the system path of the shell.
const (
	BashPath = "/usr/bin/bash"
	DashPath = "/usr/bin/dash"
)

// The fixed search path of every run.
const SearchPath = "/usr/local/bin:/usr/bin:/bin"

// disabledBuiltins are the bash builtins BASH_ENV disables so that their
// argv appears in the trace as an execve of the program of the same name.
var disabledBuiltins = []string{"echo", "printf", "test", "[", "true", "false", "pwd", "kill"}

// Options configure a Runner; nil means the defaults.
type Options struct {
	// Timeout bounds each run; default 10s.
	Timeout time.Duration
	// TraceLimit bounds the strace output of a run; default 8 MiB.
	TraceLimit int64
	// OutputLimit bounds the stdout and the stderr kept of a run; default
	// 64 KiB each (the rest is discarded).
	OutputLimit int
}

// A Runner runs lines under strace. It owns a workspace template on disk;
// Close removes it. Run is safe for concurrent use.
type Runner struct {
	opts     Options
	root     string // private to the Runner (0700): template, BASH_ENV
	template string
	bashEnv  string
	cred     *syscall.Credential // nobody, when running as root
	baseline map[Shell][][]string
	builtins map[Shell]map[string]bool
}

// Available reports whether strace and the shells are installed and
// strace can trace here (a container may forbid ptrace); the error wraps
// ErrNoStrace. The answer is computed once.
func Available() error { return available() }

var available = sync.OnceValue(func() error {
	for _, p := range []string{"strace", BashPath, DashPath} {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrNoStrace, p, err)
		}
	}
	out, err := exec.Command("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=execve", BashPath, "--noprofile", "--norc", "-c", ":").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: strace cannot trace here: %v: %s", ErrNoStrace, err, bytes.TrimSpace(out))
	}
	return nil
})

// NewRunner prepares a workspace template and measures the login
// baselines. The caller must Close it.
func NewRunner(ctx context.Context, o *Options) (*Runner, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	r := &Runner{}
	if o != nil {
		r.opts = *o
	}
	if r.opts.Timeout <= 0 {
		r.opts.Timeout = 10 * time.Second
	}
	if r.opts.TraceLimit <= 0 {
		r.opts.TraceLimit = 8 << 20
	}
	if r.opts.OutputLimit <= 0 {
		r.opts.OutputLimit = 64 << 10
	}
	root, err := os.MkdirTemp("", "bashtrace-")
	if err != nil {
		return nil, err
	}
	r.root = root
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("bashtrace: running as root needs the user nobody: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		r.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := r.setup(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close removes the Runner's files.
func (r *Runner) Close() error {
	return os.RemoveAll(r.root)
}

// LoginBaseline returns the argv vectors a login shell of this kind
// executes from the startup files before its -c script (for Debian's
// /etc/profile: [id -u]).
func (r *Runner) LoginBaseline(s Shell) [][]string { return r.baseline[s] }

// Builtin reports whether word, as a command name, runs a builtin of the
// shell that executes no program in these runs (so that no execve shows
// its argv). For bash the disabled builtins (echo, …) are not builtins.
func (r *Runner) Builtin(s Shell, word string) bool { return r.builtins[s][word] }

func (r *Runner) setup(ctx context.Context) error {
	r.template = filepath.Join(r.root, "template")
	r.bashEnv = filepath.Join(r.root, "bash_env")
	if err := os.Chmod(r.root, 0o755); err != nil { // nobody must read bash_env
		return err
	}
	if err := os.WriteFile(r.bashEnv, []byte("enable -n "+strings.Join(disabledBuiltins, " ")+"\n"), 0o644); err != nil {
		return err
	}
	if err := makeTemplate(ctx, r.template); err != nil {
		return err
	}
	r.builtins = map[Shell]map[string]bool{}
	for _, s := range []Shell{Bash, Dash} {
		names, err := r.listBuiltins(ctx, s)
		if err != nil {
			return err
		}
		r.builtins[s] = names
	}
	r.baseline = map[Shell][][]string{}
	for _, s := range []Shell{Bash, Dash} {
		sh := BashPath
		if s == Dash {
			sh = DashPath
		}
		tr, err := r.Run(ctx, s, sh+" -lc :")
		if err != nil {
			return fmt.Errorf("bashtrace: measuring the login baseline of %s: %w", s, err)
		}
		var base [][]string
		for _, e := range tr.Execs {
			if e.Path == sh {
				continue
			}
			base = append(base, e.Argv)
		}
		r.baseline[s] = base
	}
	return nil
}

// listBuiltins asks the shell itself for its builtins.
func (r *Runner) listBuiltins(ctx context.Context, s Shell) (map[string]bool, error) {
	names := map[string]bool{}
	var cmd *exec.Cmd
	if s == Bash {
		cmd = exec.CommandContext(ctx, BashPath, "--noprofile", "--norc", "-c", "enable -n "+strings.Join(disabledBuiltins, " ")+"; compgen -b; compgen -k")
	} else {
		// dash has no list; these are the builtins of Debian's dash 0.5.
		for _, w := range strings.Fields(": . [ alias bg break cd chdir command continue echo eval exec exit export false fc fg getopts hash jobs kill local printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait ! { } case do done elif else esac fi for if in then until while") {
			names[w] = true
		}
		return names, nil
	}
	cmd.Env = []string{"PATH=" + SearchPath, "LANG=C"}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bashtrace: listing the builtins of bash: %w", err)
	}
	for _, w := range strings.Fields(string(out)) {
		names[w] = true
	}
	for _, w := range disabledBuiltins {
		delete(names, w)
	}
	return names, nil
}

// makeTemplate creates the workspace every run starts from.
func makeTemplate(ctx context.Context, dir string) error {
	files := map[string]string{
		"README.md":       "# demo\n\nA workspace for traced lines.\n",
		"a.txt":           "alpha\n",
		"b.txt":           "beta\n",
		"notes.txt":       "one\ntwo\nthree\n",
		"src/main.go":     "package main\n\nfunc main() {}\n",
		"src/util.go":     "package main\n",
		"sub/file.txt":    "in sub\n",
		"docs/guide.md":   "# guide\n",
		"Makefile":        "all:\n\ttrue\n",
		"script.sh":       "touch PWNED-script\n",
		".env":            "SECRET=1\n",
		"home/.keep":      "",
		"tmp/.keep":       "",
		"with space.txt":  "spaced\n",
		"-rf":             "a file named -rf\n",
		"x":               "x\n",
		"out":             "previous output\n",
		"CHANGELOG.md":    "- first\n",
		"package.json":    "{}\n",
		"go.mod":          "module demo\n",
		"sub/deeper/f.md": "deep\n",
	}
	// Executables that impersonate a shell or a program from the
	// workspace: running them shows up as the marker command `touch`.
	execs := map[string]string{
		"bash":     "#!/bin/sh\ntouch PWNED-bash\n",
		"ls":       "#!/bin/sh\ntouch PWNED-ls\n",
		"git":      "#!/bin/sh\ntouch PWNED-git\n",
		"sub/bash": "#!/bin/sh\ntouch PWNED-subbash\n",
	}
	for name, body := range files {
		if err := writeFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
	}
	for name, body := range execs {
		if err := writeFile(filepath.Join(dir, name), body, 0o755); err != nil {
			return err
		}
	}
	git := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + SearchPath, "HOME=" + filepath.Join(dir, "home"), "LANG=C", "GIT_CONFIG_NOSYSTEM=1"}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("bashtrace: git %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	if _, err := exec.LookPath("git"); err == nil {
		if err := git("init", "-q"); err != nil {
			return err
		}
		if err := git("add", "-A"); err != nil {
			return err
		}
		if err := git("commit", "-q", "-m", "first"); err != nil {
			return err
		}
		// A change, so that git diff and git status have something to say.
		if err := writeFile(filepath.Join(dir, "a.txt"), "alpha\nchanged\n", 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeFile(name, body string, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	return os.WriteFile(name, []byte(body), mode)
}

// copyTree copies the template into dst, owned by uid/gid if cred is set.
func copyTree(src, dst string, cred *syscall.Credential) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if rel != "." {
				if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
					return err
				}
			}
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, info.Mode().Perm()); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if err := os.Symlink(l, target); err != nil {
				return err
			}
		}
		if cred != nil {
			return os.Lchown(target, int(cred.Uid), int(cred.Gid))
		}
		return nil
	})
}

// An Exec is one execve(2) (or execveat) in the trace.
type Exec struct {
	Pid  int
	Path string   // the file name passed to execve, as passed
	Argv []string // the argv passed
	// Err is the errno name of a failed execve; empty on success.
	Err string
	// ByShell: the calling process was running a shell (bash or dash at
	// its system path) when it called execve: the shell executed this.
	// Otherwise a program the shell executed did.
	ByShell bool
	// Caller is the program the calling process was running.
	Caller string
}

// A FileOp is a system call that can change the file system: an open for
// writing (or creating, truncating), creat, rename, unlink, mkdir, link,
// symlink, truncate, chmod.
type FileOp struct {
	Pid     int
	Syscall string
	Paths   []string // as passed, relative to the process's directory
	Flags   string   // the open flags, for opens
	Err     string   // the errno name on failure
	ByShell bool
	Caller  string
}

// A Socket is a socket(2) call.
type Socket struct {
	Pid     int
	Domain  string // AF_INET, AF_UNIX, …
	Err     string
	ByShell bool
	Caller  string
}

// A Trace is what a run did.
type Trace struct {
	// Dir is the workspace the line ran in (removed after Run returns).
	Dir string
	// Execs lists every execve after the top-level shell's own, in the
	// order they started.
	Execs []Exec
	// FileOps lists the calls that may change files, in order.
	FileOps []FileOp
	// Sockets lists the sockets created, in order.
	Sockets []Socket
	// Stdout and Stderr are the line's output, cut at the output limit.
	Stdout, Stderr []byte
	// Parents maps the pid of each process forked during the run to its
	// parent's.
	Parents map[int]int
	// ExitCode is the shell's exit status (-1 when it was killed).
	ExitCode int
	// TimedOut is set when the run was killed at its timeout.
	TimedOut bool
}

// Run runs line under the shell in a fresh copy of the workspace and
// returns its trace. It fails (ErrTraceTooLarge, a malformed trace, a
// missing strace) rather than return a trace it cannot vouch for.
func (r *Runner) Run(ctx context.Context, s Shell, line string) (*Trace, error) {
	ws, err := os.MkdirTemp("", "bashtrace-ws-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(ws)
	if err := os.Chmod(ws, 0o755); err != nil {
		return nil, err
	}
	if err := copyTree(r.template, ws, r.cred); err != nil {
		return nil, err
	}
	outDir, err := os.MkdirTemp(r.root, "trace-") // 0700: the line cannot write here
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(outDir)
	traceFile := filepath.Join(outDir, "trace")

	args := []string{
		"-f", "-qq", "-xx", "-s", "65536", "--seccomp-bpf", "-e", "signal=none",
		"-e", "trace=execve,execveat,clone,clone3,fork,vfork,open,openat,openat2,creat,socket,rename,renameat,renameat2,unlink,unlinkat,mkdir,mkdirat,rmdir,link,linkat,symlink,symlinkat,truncate,chmod,fchmodat",
		"-o", traceFile,
	}
	if r.cred != nil {
		args = append(args, "-u", "nobody")
	}
	if s == Dash {
		args = append(args, DashPath, "-c", line)
	} else {
		args = append(args, BashPath, "--noprofile", "--norc", "-c", line)
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "strace", args...)
	cmd.Dir = ws
	cmd.Env = []string{
		"PATH=" + SearchPath,
		"HOME=" + filepath.Join(ws, "home"),
		"TMPDIR=" + filepath.Join(ws, "tmp"),
		"LANG=C",
		"BASH_ENV=" + r.bashEnv,
		"GIT_CONFIG_NOSYSTEM=1",
	}
	stdout := &limitedBuffer{max: r.opts.OutputLimit}
	stderr := &limitedBuffer{max: r.opts.OutputLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = procAttr()
	var timedOut atomic.Bool
	cmd.Cancel = func() error {
		timedOut.Store(true)
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A process the line leaves behind may hold stdout open: Wait stops
	// waiting for it after WaitDelay, and the group is killed below.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoStrace, err)
	}
	werr := cmd.Wait()
	// Whatever the line left running in the group goes too.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	tr := &Trace{Dir: ws, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), ExitCode: cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) && !errors.Is(werr, exec.ErrWaitDelay) {
		return nil, werr
	}
	tr.TimedOut = timedOut.Load()
	f, err := os.Open(traceFile)
	if err != nil {
		return nil, fmt.Errorf("bashtrace: strace wrote no trace: %v: %s", err, stderr.Bytes())
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > r.opts.TraceLimit {
		return nil, fmt.Errorf("%w: %d bytes", ErrTraceTooLarge, fi.Size())
	}
	calls, err := parseTrace(io.LimitReader(f, r.opts.TraceLimit), tr.TimedOut)
	if err != nil {
		return nil, err
	}
	if err := tr.fill(calls); err != nil {
		return nil, err
	}
	return tr, nil
}

// IsShell reports whether an execve of path runs a system shell: an
// absolute path that resolves to bash or dash. A relative path never does
// (a file named bash in the workspace is not the shell).
func IsShell(path string) bool {
	if !filepath.IsAbs(path) {
		return false
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return false
	}
	return real == BashPath || real == DashPath
}

// fill attributes the calls to processes and fills the trace.
func (tr *Trace) fill(calls []call) error {
	if len(calls) == 0 {
		return fmt.Errorf("%w: empty trace", errMalformed)
	}
	top := calls[0].pid
	// Successful execs per pid (by start index), and clones.
	type image struct {
		idx  int
		path string
	}
	execs := map[int][]image{}
	type fork struct {
		parent, idx int
	}
	forks := map[int]fork{}
	for _, c := range calls {
		switch c.name {
		case "execve", "execveat":
			if c.ret == "0" {
				p := execPath(c)
				execs[c.pid] = append(execs[c.pid], image{c.idx, p})
			}
		case "clone", "clone3", "fork", "vfork":
			if child, err := strconv.Atoi(c.ret); err == nil && child > 0 {
				forks[child] = fork{c.pid, c.idx}
			}
		}
	}
	tr.Parents = map[int]int{}
	for child, f := range forks {
		tr.Parents[child] = f.parent
	}
	var imageAt func(pid, idx, depth int) string
	imageAt = func(pid, idx, depth int) string {
		if depth > 10000 {
			return ""
		}
		img := ""
		found := false
		for _, im := range execs[pid] {
			if im.idx < idx {
				img, found = im.path, true
			}
		}
		if found {
			return img
		}
		if f, ok := forks[pid]; ok {
			return imageAt(f.parent, f.idx, depth+1)
		}
		return ""
	}
	first := true
	for _, c := range calls {
		caller := imageAt(c.pid, c.idx, 0)
		byShell := IsShell(caller)
		switch c.name {
		case "execve", "execveat":
			if first && c.pid == top {
				first = false // strace starting the top-level shell
				if c.ret != "0" {
					return fmt.Errorf("bashtrace: the shell did not start: %s", c.err)
				}
				continue
			}
			e := Exec{Pid: c.pid, Path: execPath(c), ByShell: byShell, Caller: caller}
			ai := 1
			if c.name == "execveat" {
				ai = 2
			}
			if ai >= len(c.args) || c.args[ai].trunc {
				return fmt.Errorf("%w: execve argv not shown in full", errMalformed)
			}
			e.Argv = c.args[ai].list
			if c.args[ai].raw == "NULL" {
				e.Argv = nil
			}
			if c.ret != "0" {
				e.Err = errName(c)
			}
			tr.Execs = append(tr.Execs, e)
		case "socket":
			d := ""
			if len(c.args) > 0 {
				d = c.args[0].raw
			}
			tr.Sockets = append(tr.Sockets, Socket{Pid: c.pid, Domain: d, Err: errName(c), ByShell: byShell, Caller: caller})
		case "open", "openat", "openat2", "creat":
			pi, fi := 0, 1
			if c.name != "open" && c.name != "creat" {
				pi, fi = 1, 2
			}
			if pi >= len(c.args) || !c.args[pi].isStr() {
				continue // a NULL or bad pointer: opens nothing
			}
			flags := ""
			if fi < len(c.args) {
				flags = c.args[fi].raw
			}
			if c.name == "creat" || flagWrites(flags) {
				tr.FileOps = append(tr.FileOps, FileOp{Pid: c.pid, Syscall: c.name, Paths: []string{*c.args[pi].str}, Flags: flags, Err: errName(c), ByShell: byShell, Caller: caller})
			}
		default:
			if !mutating[c.name] {
				continue
			}
			var paths []string
			for _, a := range c.args {
				if a.isStr() {
					paths = append(paths, *a.str)
				}
			}
			tr.FileOps = append(tr.FileOps, FileOp{Pid: c.pid, Syscall: c.name, Paths: paths, Err: errName(c), ByShell: byShell, Caller: caller})
		}
	}
	return nil
}

var mutating = map[string]bool{
	"rename": true, "renameat": true, "renameat2": true, "unlink": true, "unlinkat": true,
	"mkdir": true, "mkdirat": true, "rmdir": true, "link": true, "linkat": true,
	"symlink": true, "symlinkat": true, "truncate": true, "chmod": true, "fchmodat": true,
}

func execPath(c call) string {
	i := 0
	if c.name == "execveat" {
		i = 1
	}
	if i < len(c.args) && c.args[i].isStr() {
		return *c.args[i].str
	}
	return ""
}

func errName(c call) string {
	if c.ret == "?" {
		return "?"
	}
	if strings.HasPrefix(c.ret, "-") {
		if c.err == "" {
			return "E?"
		}
		return c.err
	}
	return ""
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (b *limitedBuffer) Bytes() []byte { return slices.Clone(b.buf.Bytes()) }
