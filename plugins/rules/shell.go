package rules

import (
	"path"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// A simpleCmd is one simple command of a command line.
type simpleCmd struct {
	argv []string
	// lit[i] reports whether argv[i] is a known literal: no expansion,
	// substitution or unquoted glob character.
	lit []bool
	// text is the command's source text.
	text string
}

// A cmdInfo is what the engine knows of a command line.
type cmdInfo struct {
	// cmds are the simple commands that run, with the shell wrappers
	// (bash -lc '…') unwrapped: an accept rule must cover each of them.
	cmds []simpleCmd
	// all are the commands that might run: cmds, the shell wrappers
	// themselves, and what wrappers such as sudo, env or xargs would run.
	// A decline rule matches if it matches any of them.
	all []simpleCmd
	// unsafe names the constructs the engine cannot vouch for.
	unsafe []string
	// writes are the file-writing redirections.
	writes []string
	// parseErr is the first parse error.
	parseErr error
	// stdinShell reports a shell that reads its script from stdin (ls | sh).
	stdinShell bool
	// budget bounds the work of an analysis, shared by the cmdInfos of the
	// scripts it finds.
	budget *budget
}

// A budget is the work an analysis may still do, in bytes of shell source
// to parse; nested wrappers and evaluators could otherwise make the
// analysis of a short line take exponential time.
type budget struct {
	left     int
	exceeded bool
}

// maxParse bounds the bytes of shell source one analysis parses.
const maxParse = 256 << 10

// maxDepth bounds the nesting of shells (bash -c "sh -c '…'") and of
// wrappers the engine unwraps.
const maxDepth = 8

func analyze(command string) *cmdInfo {
	a := &cmdInfo{budget: &budget{left: maxParse}}
	a.script(command, 0)
	if a.stdinShell {
		// What the shell reads may be any literal of the line
		// (echo 'rm x' | sh): a decline rule sees them all as scripts.
		sub := &cmdInfo{budget: a.budget}
		for _, c := range a.all {
			for i, arg := range c.argv {
				if c.lit[i] && strings.ContainsAny(arg, " \t\n;&|") {
					sub.script(arg, 1)
				}
			}
		}
		a.all = append(a.all, sub.all...)
	}
	if a.budget.exceeded {
		a.unsafe = append(a.unsafe, "command too complex")
	}
	return a
}

func (a *cmdInfo) unsafeIf(cond bool, what string) {
	if cond {
		a.unsafe = append(a.unsafe, what)
	}
}

// script adds the commands of the shell script src.
func (a *cmdInfo) script(src string, depth int) {
	if depth > maxDepth {
		a.unsafe = append(a.unsafe, "shell nesting too deep")
		return
	}
	if a.budget.left -= len(src) + 64; a.budget.left < 0 {
		a.budget.exceeded = true
		return
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(src), "")
	if err != nil {
		if a.parseErr == nil {
			a.parseErr = err
		}
		a.unsafe = append(a.unsafe, "unparsable shell")
		return
	}
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Stmt:
			a.unsafeIf(n.Background || n.Disown, "background job")
			if call, ok := n.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
				// A here-document fed to a shell is a script.
				if prog, ok, glob := literal(call.Args[0]); ok && !glob && (shells[path.Base(prog)] || path.Base(prog) == "xargs") {
					for _, r := range n.Redirs {
						if body, ok, _ := literal(r.Hdoc); ok && r.Hdoc != nil {
							sub := &cmdInfo{budget: a.budget}
							sub.script(body, depth+1)
							a.all = append(a.all, sub.all...)
						}
					}
				}
			}
			a.unsafeIf(n.Coprocess, "coprocess")
			for _, r := range n.Redirs {
				a.redirect(r)
			}
		case *syntax.CallExpr:
			a.call(n, src, depth)
		case *syntax.CmdSubst:
			a.unsafe = append(a.unsafe, "command substitution")
		case *syntax.ProcSubst:
			a.unsafe = append(a.unsafe, "process substitution")
		case *syntax.FuncDecl:
			a.unsafe = append(a.unsafe, "function definition")
		case *syntax.DeclClause:
			a.unsafe = append(a.unsafe, "declaration")
		case *syntax.LetClause, *syntax.ArithmCmd:
			a.unsafe = append(a.unsafe, "arithmetic command")
		case *syntax.CoprocClause:
			a.unsafe = append(a.unsafe, "coprocess")
		case *syntax.ExtGlob:
			a.unsafe = append(a.unsafe, "extended glob")
		}
		return true
	})
}

// harmlessTargets are files a redirection may write without writing a file.
var harmlessTargets = map[string]bool{"/dev/null": true, "/dev/stdout": true, "/dev/stderr": true}

func (a *cmdInfo) redirect(r *syntax.Redirect) {
	target, ok, glob := literal(r.Word)
	switch r.Op {
	case syntax.RdrIn, syntax.DplIn, syntax.WordHdoc:
		return
	case syntax.Hdoc, syntax.DashHdoc:
		a.unsafe = append(a.unsafe, "here-document")
		return
	case syntax.DplOut:
		// >&2 and >&- duplicate or close a descriptor; >&file writes file.
		if ok && !glob && (target == "-" || isDigits(target)) {
			return
		}
	}
	if ok && !glob && harmlessTargets[target] {
		return
	}
	a.writes = append(a.writes, r.Op.String())
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// shells are the programs whose -c script the engine unwraps.
var shells = map[string]bool{"sh": true, "bash": true, "zsh": true, "dash": true, "ksh": true, "mksh": true, "ash": true}

// evaluators run their arguments as shell code.
var evaluators = map[string]bool{"eval": true, "source": true, ".": true}

// wrappers run another program given in their arguments. A decline rule
// sees every suffix of their arguments as a command, and every argument
// as a script.
var wrappers = map[string]bool{
	"sudo": true, "doas": true, "su": true, "runuser": true, "env": true, "command": true,
	"builtin": true, "exec": true, "nohup": true, "nice": true, "time": true, "timeout": true,
	"stdbuf": true, "xargs": true, "setsid": true, "ionice": true, "chrt": true, "taskset": true,
	"chroot": true, "unbuffer": true, "watch": true, "strace": true, "ltrace": true, "flock": true,
	"find": true, "parallel": true, "busybox": true, "nsenter": true, "unshare": true, "script": true,
	"fakeroot": true, "firejail": true, "systemd-run": true, "catchsegv": true,
}

// findExec are the find actions that run a command.
var findExec = map[string]bool{"-exec": true, "-execdir": true, "-ok": true, "-okdir": true}

func (a *cmdInfo) call(n *syntax.CallExpr, src string, depth int) {
	a.unsafeIf(len(n.Assigns) > 0, "variable assignment")
	if len(n.Args) == 0 {
		return
	}
	c := simpleCmd{text: src[n.Pos().Offset():n.End().Offset()]}
	for _, w := range n.Args {
		s, ok, glob := literal(w)
		c.argv = append(c.argv, s)
		c.lit = append(c.lit, ok && !glob)
	}
	a.all = append(a.all, c)
	if !c.lit[0] {
		a.unsafe = append(a.unsafe, "program is not a literal")
		a.cmds = append(a.cmds, c)
		return
	}
	prog := path.Base(c.argv[0])
	if shells[prog] {
		if script, ok, dyn := shellScript(c); ok {
			a.script(script, depth+1)
			return
		} else if dyn {
			a.unsafe = append(a.unsafe, "shell script is not a literal")
		} else if len(c.argv) == 1 || strings.HasPrefix(c.argv[len(c.argv)-1], "-") {
			a.stdinShell = true
		}
	}
	a.cmds = append(a.cmds, c)
	switch {
	case evaluators[prog]:
		a.unsafe = append(a.unsafe, prog)
		a.scan(c.argv[1:], c.lit[1:], depth, true)
	case wrappers[prog]:
		if prog == "find" {
			for _, arg := range c.argv[1:] {
				a.unsafeIf(findExec[arg], "find "+arg)
			}
		}
		a.scan(c.argv[1:], c.lit[1:], depth, false)
	}
}

// scan adds to a.all what the arguments of a wrapper or evaluator might
// run: each suffix of them as a command, and each of them (and, for eval,
// all of them joined) as a script. Nested wrappers need no recursion: the
// suffixes cover them.
func (a *cmdInfo) scan(argv []string, lit []bool, depth int, join bool) {
	if depth >= maxDepth {
		return
	}
	sub := &cmdInfo{budget: a.budget}
	if join {
		sub.script(strings.Join(argv, " "), depth+1)
	}
	parsed := make([]bool, len(argv))
	for i := range argv {
		if !lit[i] {
			continue
		}
		c := simpleCmd{argv: argv[i:], lit: lit[i:], text: strings.Join(argv[i:], " ")}
		sub.all = append(sub.all, c)
		prog := path.Base(argv[i])
		if shells[prog] {
			if script, ok, _ := shellScript(c); ok {
				sub.script(script, depth+1)
				parsed[i+slices.Index(argv[i+1:], script)+1] = true
			}
		}
		if evaluators[prog] && !join {
			sub.script(strings.Join(argv[i+1:], " "), depth+1)
		}
		if strings.ContainsAny(argv[i], " \t\n;&|") && !parsed[i] {
			sub.script(argv[i], depth+1)
		}
	}
	a.all = append(a.all, sub.all...)
}

// shellScript returns the script of a shell called with -c. ok is false
// if c is not such a call, or its script is not a literal (dyn).
func shellScript(c simpleCmd) (script string, ok, dyn bool) {
	hasC := false
	for i := 1; i < len(c.argv); i++ {
		arg := c.argv[i]
		if !c.lit[i] {
			return "", false, hasC
		}
		switch {
		case hasC:
			return arg, true, false
		case arg == "--":
			continue
		case arg == "--login" || arg == "--noprofile" || arg == "--norc" || arg == "--posix":
			continue
		case strings.HasPrefix(arg, "--"):
			return "", false, false
		case len(arg) > 1 && (arg[0] == '-' || arg[0] == '+'):
			for _, f := range arg[1:] {
				switch {
				case f == 'c':
					hasC = true
				case f == 'o' || f == 'O':
					i++ // the option's argument
				case f < 'a' || f > 'z':
					return "", false, false
				}
			}
		default:
			// A script file, or a -c without its script before it.
			return "", false, false
		}
	}
	return "", false, false
}

// literal returns the value of w if it is a literal. glob reports unquoted
// characters that a shell expands (*, ?, [, {, ~).
func literal(w *syntax.Word) (s string, ok, glob bool) {
	if w == nil {
		return "", false, false
	}
	var b strings.Builder
	for i, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			v := p.Value
			for j := 0; j < len(v); j++ {
				switch ch := v[j]; {
				case ch == '\\' && j+1 < len(v):
					j++
					if v[j] != '\n' {
						b.WriteByte(v[j])
					}
				case strings.IndexByte("*?[{", ch) >= 0, ch == '~' && i == 0 && j == 0:
					glob = true
					b.WriteByte(ch)
				default:
					b.WriteByte(ch)
				}
			}
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false, false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false, false
			}
			for _, q := range p.Parts {
				lit, isLit := q.(*syntax.Lit)
				if !isLit {
					return "", false, false
				}
				v := lit.Value
				for j := 0; j < len(v); j++ {
					if v[j] == '\\' && j+1 < len(v) && strings.IndexByte("$`\"\\\n", v[j+1]) >= 0 {
						j++
						if v[j] == '\n' {
							continue
						}
					}
					b.WriteByte(v[j])
				}
			}
		default:
			return "", false, false
		}
	}
	return b.String(), true, glob
}
