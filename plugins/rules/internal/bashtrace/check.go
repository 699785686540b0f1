package bashtrace

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// A Vouched command is what a rule engine says bash will execute: the argv
// of one simple command and its redirections.
type Vouched struct {
	Argv []string
	// Inner is the index in Argv of the program a wrapper runs (env,
	// timeout, nice, …: the wrapper executes Argv[Inner:]; exec and
	// command: the shell itself does); 0 when Argv[0] is no wrapper.
	Inner int
	// Patterns are the indices in Argv of glob patterns: bash replaces
	// each by the names it matches, in byte order (LANG=C), or leaves it
	// as it is when none matches.
	Patterns  []int
	Redirects []Redirect
}

// A Redirect is a redirection of a vouched command.
type Redirect struct {
	Fd   int
	Op   string // ">", ">>", "<", "&>", ">|", …
	Path string
	// Writes: the engine vouched that the shell opens Path for writing.
	Writes bool
}

// wantExec is what one vouched command lets the shell execute.
type wantExec struct {
	v        Vouched
	first    int  // the smallest k with Argv[k:] a form bash may execute
	optional bool // a builtin in a dash the line started: may be missing
}

// path is where the shell finds the program of argv, and whether it does.
func progPath(argv []string) (string, bool) {
	if strings.Contains(argv[0], "/") {
		return argv[0], true
	}
	return lookPath(argv[0])
}

// matches reports whether the exec e is this command's (Argv[k:] for a k
// the shell may execute), and which k.
func (w wantExec) matches(e Exec) (int, bool) {
	if e.Err != "" {
		return 0, false
	}
	last := 0 // a program: the shell executes Argv itself
	if w.first > 0 {
		last = w.v.Inner // exec, command: the shell executes Argv[k:]
	}
	for k := w.first; k <= last && k < len(w.v.Argv); k++ {
		if p, ok := progPath(w.v.Argv[k:]); ok && samePath(p, e.Path) && argvMatch(w.v, k, e.Argv) {
			return k, true
		}
	}
	return 0, false
}

// Check compares a trace with what was vouched for the line and returns
// one message per violation (none: the shell did exactly that).
//
// The rules:
//   - The execve calls made by shell processes (bash or dash at their
//     system paths), in order, are the vouched argv vectors, minus those
//     whose program is a builtin of the shell (it executes nothing), with
//     each argv[0] without a slash resolved through SearchPath. Order is
//     compared as a multiset only when the line has a pipe, whose commands
//     start concurrently. When the line has && or ||, or the command has
//     a redirection (which may fail), a vouched command may be missing
//     (never replaced or reordered). An exec of a system shell that was not vouched
//     is a wrapper the engine unwrapped: it is transparent (what that
//     shell executes is checked), and a login shell's startup commands
//     (LoginBaseline) are removed once per such shell.
//   - A vouched wrapper (Inner > 0) that is a shell builtin (exec,
//     command) makes the shell execute Argv[k:] for some 0 < k <= Inner;
//     a wrapper program executes, in its own process, Argv[k:] for
//     0 < k <= Inner (a PATH search may fail first). Any other exec by a
//     program the shell executed is a violation.
//   - A shell opens for writing only the files of vouched redirections
//     that write (and its own here-document files in TMPDIR, and its
//     /dev/tty probe), and changes no file otherwise. A program changes no
//     file outside the repository's .git directory: what a vouched program
//     does with its arguments is outside the engine's guarantee, but the
//     rules files of these tests allow only programs that write nothing
//     (git updates its index), so a write is an option the engine missed.
//   - Nobody creates a socket other than AF_UNIX (/dev/tcp, /dev/udp).
//   - The run finished before its timeout.
func (r *Runner) Check(tr *Trace, s Shell, line string, vouched []Vouched) []string {
	var v []string
	if tr.TimedOut {
		v = append(v, "the run timed out")
	}
	// Observed execs by shells; unvouched system shells are transparent
	// wrappers.
	var got, progs, wrappers []Exec
	for _, e := range tr.Execs {
		switch {
		case !e.ByShell:
			progs = append(progs, e)
		case e.Err == "" && IsShell(e.Path) && !slices.ContainsFunc(vouched, func(c Vouched) bool {
			return len(c.Argv) > 0 && slices.Equal(c.Argv, e.Argv)
		}):
			wrappers = append(wrappers, e)
		default:
			got = append(got, e)
		}
	}
	for _, w := range wrappers {
		if !loginShell(w.Argv) {
			continue
		}
		for _, b := range r.LoginBaseline(shellOf(w.Path)) {
			if i := slices.IndexFunc(got, func(e Exec) bool { return slices.Equal(e.Argv, b) }); i >= 0 {
				got = slices.Delete(got, i, i+1)
			}
		}
	}
	// In a dash the line started, echo and the like are builtins again:
	// their execs may be missing.
	dash := slices.ContainsFunc(wrappers, func(w Exec) bool { return shellOf(w.Path) == Dash })
	// After && and || a command may not run; it may never run in another
	// order, or be replaced.
	conditional := strings.Contains(line, "&&") || strings.Contains(line, "||")
	var want []wantExec
	for _, c := range vouched {
		if len(c.Argv) == 0 {
			continue
		}
		w := wantExec{v: c}
		name := c.Argv[0]
		if !strings.Contains(name, "/") && r.Builtin(s, name) {
			if c.Inner == 0 {
				continue // a builtin: the shell executes nothing
			}
			w.first = 1 // exec, command: the shell executes the program
			if _, ok := progPath(c.Argv[min(c.Inner, len(c.Argv)-1):]); !ok {
				continue // not found: the shell executes nothing
			}
		} else if _, ok := progPath(c.Argv); !ok {
			continue // command not found: bash executes nothing
		}
		w.optional = dash && !strings.Contains(name, "/") && r.Builtin(Dash, name) || conditional || len(c.Redirects) > 0
		want = append(want, w)
	}
	match, ok := matchExecs(want, got, false)
	if !ok && strings.Contains(line, "|") {
		match, ok = matchExecs(want, got, true)
	}
	if !ok {
		v = append(v, fmt.Sprintf("executed %s, vouched %s", fmtExecs(got), fmtWant(want)))
	}
	// What the programs executed: only a vouched wrapper's inner program.
	for _, e := range progs {
		if m, found := tr.nearest(match, e.Pid); found && innerExec(m.w.v, m.k, e) {
			continue
		}
		v = append(v, fmt.Sprintf("program %s executed %s", e.Caller, fmtExec(e)))
	}
	// Files.
	tmp := filepath.Join(tr.Dir, "tmp") + "/"
	for _, op := range tr.FileOps {
		if !op.ByShell {
			if w := programWrite(tr.Dir, op); w != "" {
				v = append(v, w)
			}
			continue
		}
		if shellInternal(op, tmp) {
			continue
		}
		if isOpen(op.Syscall) && len(op.Paths) == 1 && redirected(tr.Dir, op.Paths[0], vouched) {
			continue
		}
		v = append(v, fmt.Sprintf("shell %s: %s(%q, %s)%s not vouched", op.Caller, op.Syscall, op.Paths, op.Flags, errSuffix(op.Err)))
	}
	for _, so := range tr.Sockets {
		if so.Domain != "AF_UNIX" {
			v = append(v, fmt.Sprintf("%s created a socket %s%s", so.Caller, so.Domain, errSuffix(so.Err)))
		}
	}
	return v
}

// programWrite describes a file a program changed outside its
// repository's .git directory (and /dev/null and /dev/tty), or returns "".
// The guarantee is about what the shell does; the rules files of the
// differential tests allow only programs that write nothing, so a write
// is an option the engine should have known (sort -o, tree -o, …).
func programWrite(dir string, op FileOp) string {
	if op.Err != "" {
		return ""
	}
	git := filepath.Join(dir, ".git") + "/"
	for _, p := range op.Paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p) // the programs run in the workspace
		}
		if p == "/dev/null" || p == "/dev/tty" || strings.HasPrefix(p, git) {
			continue
		}
		return fmt.Sprintf("program %s: %s(%q, %s) wrote a file", op.Caller, op.Syscall, op.Paths, op.Flags)
	}
	return ""
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " (failed: " + e + ")"
}

func isOpen(name string) bool {
	return name == "open" || name == "openat" || name == "openat2" || name == "creat"
}

// shellInternal: the shell's probe of its controlling terminal, and its
// here-document temporary files.
func shellInternal(op FileOp, tmp string) bool {
	if isOpen(op.Syscall) && len(op.Paths) == 1 && op.Paths[0] == "/dev/tty" &&
		strings.Contains(op.Flags, "O_NONBLOCK") && !strings.Contains(op.Flags, "O_CREAT") && !strings.Contains(op.Flags, "O_TRUNC") {
		return true
	}
	for _, p := range op.Paths {
		if !strings.HasPrefix(p, tmp+"sh-thd") {
			return false
		}
	}
	return len(op.Paths) > 0 && (isOpen(op.Syscall) || op.Syscall == "unlink" || op.Syscall == "unlinkat")
}

// redirected reports whether path (as opened, relative to the workspace)
// is the file of a vouched writing redirection.
func redirected(dir, path string, vouched []Vouched) bool {
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return filepath.Clean(p)
		}
		return filepath.Join(dir, p)
	}
	for _, c := range vouched {
		for _, rd := range c.Redirects {
			if rd.Writes && rd.Path != "" && (rd.Path == path || abs(rd.Path) == abs(path)) {
				return true
			}
		}
	}
	return false
}

// matched is the vouched command (and the k of its Argv[k:]) whose exec
// a process made.
type matched struct {
	w wantExec
	k int
}

// matchExecs matches the shell's execs with the vouched commands, in order
// or as multisets; an optional command may be missing. It returns the
// match by pid. It searches every matching, not the first one found: an
// optional command may look like a later required one (cat < missing |
// cat: the first cat's redirection fails, and the exec is the second's).
func matchExecs(want []wantExec, got []Exec, anyOrder bool) (map[int]matched, bool) {
	m := map[int]matched{}
	if !anyOrder {
		// Ordered: want[i:] against got[j:], with failures remembered.
		failed := map[[2]int]bool{}
		var walk func(i, j int) bool
		walk = func(i, j int) bool {
			if i == len(want) {
				return j == len(got)
			}
			if failed[[2]int{i, j}] {
				return false
			}
			if j < len(got) {
				if k, ok := want[i].matches(got[j]); ok && walk(i+1, j+1) {
					m[got[j].Pid] = matched{want[i], k}
					return true
				}
			}
			if want[i].optional && walk(i+1, j) {
				return true
			}
			failed[[2]int{i, j}] = true
			return false
		}
		if !walk(0, 0) {
			return nil, false
		}
		return m, true
	}
	// Any order: a maximum bipartite matching (augmenting paths), the
	// required commands first, so that they stay matched; it must cover
	// every required command and every exec.
	owner := make([]int, len(got)) // the want index matched to got[g], or -1
	for g := range owner {
		owner[g] = -1
	}
	var augment func(w int, seen []bool) bool
	augment = func(w int, seen []bool) bool {
		for g := range got {
			if _, ok := want[w].matches(got[g]); !ok || seen[g] {
				continue
			}
			seen[g] = true
			if owner[g] < 0 || augment(owner[g], seen) {
				owner[g] = w
				return true
			}
		}
		return false
	}
	for _, optional := range []bool{false, true} {
		for w := range want {
			if want[w].optional == optional && !augment(w, make([]bool, len(got))) && !optional {
				return nil, false
			}
		}
	}
	for g, w := range owner {
		if w < 0 {
			return nil, false
		}
		k, _ := want[w].matches(got[g])
		m[got[g].Pid] = matched{want[w], k}
	}
	return m, true
}

// innerExec reports whether e, made by the process that executed
// c.Argv[k:], is c's wrapper executing c.Argv[j:] for k < j <= Inner (or
// a PATH search for it failing).
func innerExec(c Vouched, k int, e Exec) bool {
	for j := k + 1; j <= c.Inner && j < len(c.Argv); j++ {
		if !argvMatch(c, j, e.Argv) {
			continue
		}
		if e.Err != "" {
			return true
		}
		if p, ok := progPath(c.Argv[j:]); ok && samePath(p, e.Path) {
			return true
		}
	}
	return false
}

// argvMatch reports whether got is c.Argv[k:] once bash has expanded the
// glob patterns of c.Patterns.
func argvMatch(c Vouched, k int, got []string) bool {
	want := c.Argv[k:]
	if len(c.Patterns) == 0 {
		return slices.Equal(want, got)
	}
	if len(got) > 100_000 {
		return false
	}
	pat := make([]bool, len(want))
	for _, i := range c.Patterns {
		if i-k >= 0 && i-k < len(want) {
			pat[i-k] = true
		}
	}
	var rec func(i, j int) bool
	rec = func(i, j int) bool {
		if i == len(want) {
			return j == len(got)
		}
		if !pat[i] {
			return j < len(got) && want[i] == got[j] && rec(i+1, j+1)
		}
		if j < len(got) && got[j] == want[i] && rec(i+1, j+1) {
			return true // no file matched: the pattern stays
		}
		for n := j; n < len(got) && globMatch(want[i], got[n]) && (n == j || got[n-1] < got[n]); n++ {
			if rec(i+1, n+1) {
				return true
			}
		}
		return false
	}
	return rec(0, 0)
}

// globMatch reports whether bash's pattern matches name: * ? [...] within
// one path component, and a leading dot only matched by a dot.
func globMatch(pattern, name string) bool {
	pc, nc := strings.Split(pattern, "/"), strings.Split(name, "/")
	if len(pc) != len(nc) {
		return false
	}
	for i := range pc {
		if strings.HasPrefix(nc[i], ".") && !strings.HasPrefix(pc[i], ".") {
			return false
		}
		ok, err := path.Match(strings.ReplaceAll(pc[i], "[!", "[^"), nc[i])
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// samePath reports whether two paths name the same file (/bin/ls is
// /usr/bin/ls where /bin links to usr/bin).
func samePath(a, b string) bool {
	if a == b {
		return true
	}
	ra, err1 := filepath.EvalSymlinks(a)
	rb, err2 := filepath.EvalSymlinks(b)
	return err1 == nil && err2 == nil && ra == rb
}

// nearest finds the match of pid or of its nearest ancestor that has one
// (a wrapper such as timeout forks before it executes the program).
func (tr *Trace) nearest(m map[int]matched, pid int) (matched, bool) {
	for range 1000 {
		if x, ok := m[pid]; ok {
			return x, true
		}
		parent, ok := tr.Parents[pid]
		if !ok {
			break
		}
		pid = parent
	}
	return matched{}, false
}

func shellOf(path string) Shell {
	if real, _ := filepath.EvalSymlinks(path); real == DashPath {
		return Dash
	}
	return Bash
}

func fmtWant(ws []wantExec) string {
	if len(ws) == 0 {
		return "nothing"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%q", w.v.Argv)
		if w.v.Inner > 0 {
			parts[i] += fmt.Sprintf(" (inner %d)", w.v.Inner)
		}
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// loginShell reports whether a shell's argv makes a login shell: argv[0]
// starting with "-", --login, or an l in a cluster of short options before
// the script.
func loginShell(argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	if strings.HasPrefix(argv[0], "-") {
		return true
	}
	for i := 1; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			return false
		case a == "--login":
			return true
		case a == "--rcfile" || a == "--init-file":
			i++
		case strings.HasPrefix(a, "--"):
		case strings.HasPrefix(a, "-") || strings.HasPrefix(a, "+"):
			if len(a) > 1 && (a[1:] == "o" || a[1:] == "O") {
				i++
				continue
			}
			if a[0] == '-' && strings.ContainsRune(a[1:], 'l') {
				return true
			}
		default:
			return false
		}
	}
	return false
}

// lookPath finds name in SearchPath as bash would (the first executable
// regular file).
func lookPath(name string) (string, bool) {
	for _, d := range filepath.SplitList(SearchPath) {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

func fmtExec(e Exec) string {
	s := fmt.Sprintf("%s %q", e.Path, e.Argv)
	if e.Err != "" {
		s += " (failed: " + e.Err + ")"
	}
	return s
}

func fmtExecs(es []Exec) string {
	if len(es) == 0 {
		return "nothing"
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = fmtExec(e)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// Outside lists what a run did beyond allowed: the execs of the shell
// whose program and argv allow rejects (system shells are transparent and
// a login shell's startup commands are left out, as in Check), every exec
// by a program, every file the shell wrote or changed (but /dev/null and
// its own files), every file a program wrote outside .git, every socket
// other than AF_UNIX, and a command the shell did not find. It tells
// whether a line is hostile; an empty result means the run stayed within
// allowed.
func (r *Runner) Outside(tr *Trace, allow func(path string, argv []string) bool) []string {
	var out []string
	var got []Exec
	for _, e := range tr.Execs {
		switch {
		case !e.ByShell:
			out = append(out, fmt.Sprintf("program %s executed %s", e.Caller, fmtExec(e)))
		case e.Err == "" && IsShell(e.Path):
			if loginShell(e.Argv) {
				for _, b := range r.LoginBaseline(shellOf(e.Path)) {
					got = append(got, Exec{Path: "(baseline)", Argv: b})
				}
			}
		default:
			got = append(got, e)
		}
	}
	// Remove the baselines, once each.
	for i := 0; i < len(got); i++ {
		if got[i].Path != "(baseline)" {
			continue
		}
		b := got[i].Argv
		got = slices.Delete(got, i, i+1)
		i--
		if j := slices.IndexFunc(got, func(e Exec) bool { return e.Path != "(baseline)" && slices.Equal(e.Argv, b) }); j >= 0 {
			got = slices.Delete(got, j, j+1)
			if j <= i {
				i--
			}
		}
	}
	for _, e := range got {
		if e.Err != "" || !allow(e.Path, e.Argv) {
			out = append(out, "shell executed "+fmtExec(e))
		}
	}
	tmp := filepath.Join(tr.Dir, "tmp") + "/"
	for _, op := range tr.FileOps {
		if len(op.Paths) == 1 && op.Paths[0] == "/dev/null" || shellInternal(op, tmp) && op.ByShell {
			continue
		}
		if !op.ByShell {
			inGit := true
			for _, p := range op.Paths {
				if !strings.Contains(p, "/.git/") && !strings.HasPrefix(p, ".git/") {
					inGit = false
				}
			}
			if inGit || op.Err != "" {
				continue
			}
		}
		out = append(out, fmt.Sprintf("%s: %s(%q, %s)%s", op.Caller, op.Syscall, op.Paths, op.Flags, errSuffix(op.Err)))
	}
	for _, so := range tr.Sockets {
		if so.Domain != "AF_UNIX" {
			out = append(out, fmt.Sprintf("%s created a socket %s%s", so.Caller, so.Domain, errSuffix(so.Err)))
		}
	}
	if strings.Contains(string(tr.Stderr), "command not found") {
		out = append(out, "a command was not found")
	}
	if tr.TimedOut {
		out = append(out, "the run timed out")
	}
	return out
}
