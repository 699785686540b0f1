package bashtrace

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A Vouched command is what a rule engine says bash will execute: the argv
// of one simple command and its redirections.
type Vouched struct {
	Argv      []string
	Redirects []Redirect
}

// A Redirect is a redirection of a vouched command.
type Redirect struct {
	Fd   int
	Op   string // ">", ">>", "<", "<>", "&>", ">|", …
	Path string
}

// writes reports whether the redirection may open its file for writing.
func (rd Redirect) writes() bool { return strings.ContainsAny(rd.Op, ">") }

// Check compares a trace with what was vouched for the line and returns
// one message per violation (none: the shell did exactly that).
//
// The rules:
//   - The execve calls made by shell processes (bash or dash at their
//     system paths), in order, are the vouched argv vectors, minus those
//     whose program is a builtin of the shell (it executes nothing), with
//     each argv[0] without a slash resolved through SearchPath. Order is
//     compared as a multiset only when the line has a pipe, whose commands
//     start concurrently. An exec of a system shell that was not vouched
//     is a wrapper the engine unwrapped: it is transparent (what that
//     shell executes is checked), and a login shell's startup commands
//     (LoginBaseline) are removed once per such shell.
//   - The programs the shell executed execute nothing themselves.
//   - A shell opens for writing only the files of vouched redirections
//     (and its own here-document files in TMPDIR, and its /dev/tty probe),
//     and changes no file otherwise. Programs may write (what a vouched
//     program does with its arguments is outside the guarantee).
//   - Nobody creates a socket other than AF_UNIX (/dev/tcp, /dev/udp).
//   - The run finished before its timeout.
func (r *Runner) Check(tr *Trace, s Shell, line string, vouched []Vouched) []string {
	var v []string
	if tr.TimedOut {
		v = append(v, "the run timed out")
	}
	// Expected execs.
	var want []Exec
	for _, c := range vouched {
		if len(c.Argv) == 0 {
			continue
		}
		name := c.Argv[0]
		path := name
		if !strings.Contains(name, "/") {
			if r.Builtin(s, name) {
				continue
			}
			var ok bool
			if path, ok = lookPath(name); !ok {
				continue // command not found: bash executes nothing
			}
		}
		want = append(want, Exec{Path: path, Argv: c.Argv})
	}
	// Observed execs by shells.
	var got []Exec
	for _, e := range tr.Execs {
		if e.ByShell {
			got = append(got, e)
		} else {
			v = append(v, fmt.Sprintf("program %s executed %s", e.Caller, fmtExec(e)))
		}
	}
	// Unvouched system shells are transparent wrappers.
	var wrappers []Exec
	rest := got[:0:0]
	for _, e := range got {
		if e.Err == "" && IsShell(e.Path) && !containsExec(want, e) {
			wrappers = append(wrappers, e)
			continue
		}
		rest = append(rest, e)
	}
	got = rest
	for _, w := range wrappers {
		if !loginShell(w.Argv) {
			continue
		}
		ws := Bash
		if real, _ := filepath.EvalSymlinks(w.Path); real == DashPath {
			ws = Dash
		}
		for _, b := range r.LoginBaseline(ws) {
			if i := slices.IndexFunc(got, func(e Exec) bool { return slices.Equal(e.Argv, b) }); i >= 0 {
				got = slices.Delete(got, i, i+1)
			}
		}
	}
	// In a dash the line started, echo and the like are builtins again:
	// their execs may be missing.
	var optional []bool
	dash := slices.ContainsFunc(wrappers, func(w Exec) bool {
		real, _ := filepath.EvalSymlinks(w.Path)
		return real == DashPath
	})
	for _, w := range want {
		optional = append(optional, dash && !strings.Contains(w.Argv[0], "/") && r.Builtin(Dash, w.Argv[0]))
	}
	if !sameExecs(want, optional, got, false) {
		if !(strings.Contains(line, "|") && sameExecs(want, optional, got, true)) {
			v = append(v, fmt.Sprintf("executed %s, vouched %s", fmtExecs(got), fmtExecs(want)))
		}
	}
	// Files.
	tmp := filepath.Join(tr.Dir, "tmp") + "/"
	for _, op := range tr.FileOps {
		if !op.ByShell {
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
			if rd.writes() && rd.Path != "" && (rd.Path == path || abs(rd.Path) == abs(path)) {
				return true
			}
		}
	}
	return false
}

func containsExec(es []Exec, e Exec) bool {
	return slices.ContainsFunc(es, func(w Exec) bool { return w.Path == e.Path && slices.Equal(w.Argv, e.Argv) })
}

// sameExecs compares the paths and argv of two exec lists, in order or as
// multisets; an optional wanted exec may be missing.
func sameExecs(want []Exec, optional []bool, got []Exec, anyOrder bool) bool {
	same := func(w, g Exec) bool { return g.Err == "" && w.Path == g.Path && slices.Equal(w.Argv, g.Argv) }
	if !anyOrder {
		j := 0
		for i, w := range want {
			if j < len(got) && same(w, got[j]) {
				j++
			} else if !optional[i] {
				return false
			}
		}
		return j == len(got)
	}
	used := make([]bool, len(got))
	for i, w := range want {
		found := false
		for k, g := range got {
			if !used[k] && same(w, g) {
				used[k], found = true, true
				break
			}
		}
		if !found && !optional[i] {
			return false
		}
	}
	return !slices.Contains(used, false)
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
