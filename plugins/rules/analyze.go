package rules

import (
	"context"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"
)

// MaxLineBytes is the longest command line Analyze vouches for; a longer
// line is "not vouched: line longer than MaxLineBytes bytes".
const MaxLineBytes = 64 << 10

// maxDepth bounds the nesting of shells (bash -c "sh -c '…'") the engine
// unwraps.
const maxDepth = 8

// An Analysis is what Analyze found a command line will make its shell do.
type Analysis struct {
	// Vouched reports that every construct of the line is on the syntax
	// allow-list: Commands are then exactly the programs the shell will
	// execute (in the order the line lists them; && and || may skip some).
	Vouched bool
	// Reason says, when !Vouched, what the engine would not vouch for and
	// where, e.g. "not vouched: arithmetic expansion at column 12".
	// Columns and lines are those of the analysed line (for a script of
	// bash -c '…' too), counted in bytes from 1.
	Reason string
	// Commands are the simple commands the shell will execute, in order,
	// after unwrapping known shells: the wrapper shell's own exec is not
	// listed, only the innermost programs. Complete and exact only when
	// Vouched; otherwise they are the commands found before the first
	// construct the engine would not vouch for.
	Commands []Command

	// glob reports that the construct not vouched for is a glob pattern
	// (a rule with allow_globs may accept the line).
	glob bool
}

// A Command is one simple command a vouched line executes.
type Command struct {
	// Argv is, after quote removal, exactly what execve receives (argv[0]
	// as written; the shell searches PATH for it when it has no slash, or
	// runs its builtin of that name).
	Argv []string
	// Redirects are the command's redirections, in order.
	Redirects []Redirect
	// Inner is the index in Argv of the program a transparent wrapper
	// (timeout, nice, nohup, command, exec, stdbuf, env) runs: Argv[Inner:]
	// is what that wrapper executes, and what rules match. 0 when Argv[0]
	// is not such a wrapper. (exec and command are shell builtins: the
	// shell itself executes Argv[Inner:].)
	Inner int
	// Patterns are the indices in Argv of glob patterns (src/*.go), which
	// bash replaces by the names of the files they match (or leaves as
	// they are when none does). Only in the analysis for rules with
	// allow_globs (see README.md); Analyze never vouches for a pattern.
	Patterns []int
}

// Resolved is the argv the command's program runs with once the
// transparent wrappers are unwrapped: Argv[Inner:].
func (c *Command) Resolved() []string { return c.Argv[c.Inner:] }

// resolvedPatterns returns Patterns as indices in Resolved().
func (c *Command) resolvedPatterns() []int {
	out := make([]int, 0, len(c.Patterns))
	for _, p := range c.Patterns {
		if p >= c.Inner {
			out = append(out, p-c.Inner)
		}
	}
	return out
}

// A Redirect is one redirection of a Command.
type Redirect struct {
	// Fd is the file descriptor redirected (1 for &> and &>>, which also
	// redirect 2).
	Fd int
	// Op is the operator: ">", ">>", ">|", "&>", "&>>", "<", ">&" and "<&"
	// (duplications, Path is the descriptor or "-"), "<<" and "<<-" (a
	// here-document, Path is empty), "<<<" (a here-string, Path is empty).
	Op string
	// Path is the file opened (or the descriptor duplicated).
	Path string
}

// Writes reports whether the redirection opens a file for writing.
func (r Redirect) Writes() bool {
	switch r.Op {
	case ">", ">>", ">|", "&>", "&>>":
		return true
	}
	return false
}

// shellDialects are the shells the engine unwraps, by exact system path
// or bare name, and the dialect it reads their scripts in. zsh, ksh and
// the rest are not among them: a different dialect is not vouched for.
var shellDialects = map[string]syntax.LangVariant{
	"bash": syntax.LangBash, "/bin/bash": syntax.LangBash, "/usr/bin/bash": syntax.LangBash,
	"sh": syntax.LangPOSIX, "/bin/sh": syntax.LangPOSIX, "/usr/bin/sh": syntax.LangPOSIX,
	"dash": syntax.LangPOSIX, "/bin/dash": syntax.LangPOSIX, "/usr/bin/dash": syntax.LangPOSIX,
}

// shellNames are base names of programs that run shell scripts. A
// program so named that the engine does not unwrap (./bash, zsh, bash
// reading stdin) is not vouched for.
var shellNames = map[string]bool{
	"sh": true, "bash": true, "dash": true, "zsh": true, "ksh": true, "mksh": true, "ash": true,
	"yash": true, "posh": true, "fish": true, "csh": true, "tcsh": true, "busybox": true, "rbash": true,
	"ksh93": true, "pdksh": true, "oksh": true, "loksh": true, "elvish": true, "nu": true, "xonsh": true,
}

// shellStateBuiltins are builtins that evaluate code or change what later
// commands of the line mean (the variables, the PATH lookup, options,
// aliases, traps, control flow): a line using them is not vouched.
var shellStateBuiltins = map[string]bool{
	"eval": true, "source": true, ".": true, "alias": true, "unalias": true, "bind": true,
	"builtin": true, "declare": true, "typeset": true, "local": true, "readonly": true,
	"export": true, "unset": true, "enable": true, "hash": true, "set": true, "shopt": true,
	"trap": true, "read": true, "readarray": true, "mapfile": true, "getopts": true, "let": true,
	"shift": true, "fc": true, "history": true, "compgen": true, "complete": true, "compopt": true,
	"exit": true, "return": true, "break": true, "continue": true, "logout": true,
	"disown": true, "suspend": true, "coproc": true, "select": true, "function": true,
	"fg": true, "bg": true, "wait": true, "kill": true, "ulimit": true, "caller": true,
	"[[": true, "]]": true,
}

// otherWrappers run another program in a way the engine does not follow
// (with other privileges, arguments read from stdin, a new root, a
// remote host, a string split into words): not vouched.
var otherWrappers = map[string]bool{
	"sudo": true, "doas": true, "su": true, "runuser": true, "pkexec": true, "xargs": true,
	"parallel": true, "chroot": true, "nsenter": true, "unshare": true, "setsid": true,
	"flock": true, "strace": true, "ltrace": true, "watch": true, "script": true,
	"fakeroot": true, "firejail": true, "systemd-run": true, "catchsegv": true, "ionice": true,
	"chrt": true, "taskset": true, "unbuffer": true, "time": true, "ssh": true, "setpriv": true,
	"prlimit": true, "cgexec": true, "jobs": true, "numactl": true, "bwrap": true, "proot": true, "expect": true,
	// nohup also writes nohup.out when its output is a terminal.
	"nohup": true, "setarch": true, "linux32": true, "linux64": true, "x86_64": true, "i386": true, "aarch64": true,
	"uname26": true, "sg": true, "newgrp": true, "run-parts": true, "choom": true,
	"start-stop-daemon": true, "dbus-run-session": true, "dbus-launch": true, "ld.so": true,
	"valgrind": true, "gdb": true, "perf": true, "nsjail": true, "systemd-nspawn": true,
	"ssh-agent": true, "capsh": true, "logsave": true, "fakeroot-sysv": true, "fakeroot-tcp": true,
	"dpkg-architecture": true, "memusage": true, "sotruss": true, "heaptrack": true, "tmux": true,
	"screen": true, "xvfb-run": true, "eatmydata": true, "torsocks": true, "proxychains": true,
	"proxychains4": true, "faketime": true, "firejail-run": true, "sandbox-exec": true,
	// gettext's msgexec runs a command per message, msgfilter pipes each
	// through one; the others run their arguments under a new clamp,
	// inhibitor lock, journal stream, socket, SELinux context, terminal
	// converter, database cluster or progress display (review, round 7).
	"msgexec": true, "msgfilter": true, "uclampset": true, "systemd-inhibit": true,
	"systemd-cat": true, "systemd-socket-activate": true, "runcon": true, "luit": true,
	"pg_virtualenv": true, "debconf-apt-progress": true, "chronic": true, "ifne": true,
	"sem": true, "daemonize": true, "rlwrap": true, "nocache": true, "busybox": true,
	"toybox": true, "cpulimit": true, "tsp": true, "entr": true, "dtach": true, "abduco": true,
	"byobu": true, "sudoedit": true, "scalar": true, "scriptlive": true, "scriptreplay": true,
	"dotenv": true, "npx": true, "pnpx": true, "bunx": true,
	// systemd 256's run0 (sudo through systemd-run), the other
	// privilege tools, the sandbox escapes of flatpak and toolbox
	// containers, and uv's npx (uvx: uv tool run) (round 27).
	"run0": true, "ksu": true, "gksu": true, "gksudo": true, "kdesu": true, "kdesudo": true, "beesu": true,
	"flatpak-spawn": true, "host-spawn": true, "distrobox-enter": true, "distrobox-host-exec": true, "uvx": true,
	// nix-shell runs a shell (reading stdin) or its --run/--command
	// COMMAND, with the packages of -p or shell.nix (round 28).
	"nix-shell": true,
	// .NET 10's dnx runs a NuGet tool's program, as npx (round 28).
	"dnx": true,
	// at and batch read commands from stdin or -f FILE, which atd runs
	// later; crontab installs a table of commands cron runs (FILE, or -:
	// stdin), and crontab -e runs the editor (round 29).
	"at": true, "batch": true, "crontab": true,
	// The database shells and the editors run shell commands read from
	// their arguments, files and stdin, as sqlite3: psql's \!, mysql's
	// and mariadb's system, ed's, ex's and vim's !, GNU dc's !, emacs's
	// --eval (round 29).
	"psql": true, "mysql": true, "mariadb": true, "ed": true, "ex": true, "vi": true, "vim": true, "nvim": true,
	"view": true, "vimdiff": true, "gvim": true, "dc": true, "emacs": true, "emacsclient": true,
	// moreutils' pee, mispipe, zrun and vipe; compiler wrappers (round 10).
	"pee": true, "mispipe": true, "zrun": true, "vipe": true, "ccache": true, "distcc": true,
	"icecc": true, "sccache": true,
	// moreutils' lckdo, debconf, the GnuPG agents (round 11).
	"lckdo": true, "debconf": true, "gpg-agent": true, "gpg-connect-agent": true,
	// sqlite3's shell runs shell commands from its dot commands (.system,
	// .shell, .once |…) and its edit() function, read from its arguments,
	// -init files or stdin (rounds 11 and 12): an interpreter.
	"sqlite3": true,
	// Builtins (refused as such first) whose arguments run code: the
	// loose reading looks at each suffix and script of their arguments.
	"builtin": true, "trap": true, "mapfile": true, "readarray": true, "complete": true,
}

// runsAnother reports whether the program named base runs another
// program in a way the engine does not follow: otherWrappers, and the
// dynamic loaders (ld-linux-x86-64.so.2 /usr/bin/rm).
func runsAnother(base string) bool {
	return otherWrappers[base] || strings.HasPrefix(base, "ld-linux") || strings.HasPrefix(base, "ld-musl")
}

// Analyze reads command as the shell that will run it (bash) and returns
// what that shell will execute. It never runs anything. ctx bounds the
// work: when ctx ends, or the line is over budget, the result is not
// vouched. Safe for concurrent use.
func Analyze(ctx context.Context, command string) *Analysis {
	return analyzeLine(ctx, command, nil, false)
}

// analyzeLine is Analyze on an already parsed line (f may be nil).
func analyzeLine(ctx context.Context, command string, f *syntax.File, globs bool) *Analysis {
	v := &vouch{ctx: ctx, line: command, a: &Analysis{}, globs: globs}
	if len(command) > MaxLineBytes {
		v.a.Reason = fmt.Sprintf("not vouched: line longer than %d bytes", MaxLineBytes)
		return v.a
	}
	if command != "" && (command[0] == '-' || command[0] == '+') {
		// codex runs the line as bash -lc LINE, and bash reads a LINE
		// that starts so as options: nothing of it runs.
		v.fail(nil, 0, "a line starting with %q (bash -c reads it as options)", command[0])
	} else if v.prescan(command, nil) && v.ctxOK() {
		if f == nil {
			f = v.parse(command, syntax.LangBash, nil)
		}
		if f != nil {
			v.file(f, command, nil, 0)
		}
	}
	v.a.Vouched = v.a.Reason == ""
	return v.a
}

// A vouch is one strict analysis. It stops at the first construct it
// would not vouch for.
type vouch struct {
	ctx  context.Context
	line string
	a    *Analysis
	// steps counts the commands seen, to look at ctx now and then.
	steps int
	// cd reports that a command changed the directory: relative
	// redirections after it are relative to a directory Evaluate does not
	// know.
	cd bool
	// exec reports an exec: the shell runs nothing after it.
	exec bool
	// globs allows glob patterns in arguments (for rules with
	// allow_globs).
	globs bool
	// src is the script being read; posix reports that it is read in
	// the POSIX dialect (an sh or dash script).
	src   string
	posix bool
}

// offsets maps a byte offset of a nested script to the offset in the
// analysed line it came from; nil is the identity (the line itself).
type offsets []int32

func (m offsets) at(off int) int {
	if m == nil {
		return off
	}
	if off >= len(m) {
		if len(m) == 0 {
			return 0
		}
		return int(m[len(m)-1]) + 1
	}
	return int(m[off])
}

// where formats the line offset off as "column C" or "line L, column C".
func (v *vouch) where(off int) string {
	if off > len(v.line) {
		off = len(v.line)
	}
	line := 1 + strings.Count(v.line[:off], "\n")
	col := off - (strings.LastIndexByte(v.line[:off], '\n') + 1) + 1
	if line == 1 {
		return fmt.Sprintf("column %d", col)
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// fail records the first reason, at the script offset off.
func (v *vouch) fail(m offsets, off int, format string, args ...any) bool {
	if v.a.Reason == "" {
		v.a.Reason = "not vouched: " + fmt.Sprintf(format, args...) + " at " + v.where(m.at(off))
	}
	return false
}

func (v *vouch) failPos(m offsets, p syntax.Pos, format string, args ...any) bool {
	return v.fail(m, int(p.Offset()), format, args...)
}

func (v *vouch) ctxOK() bool {
	if v.ctx == nil {
		return true
	}
	if err := v.ctx.Err(); err != nil {
		if v.a.Reason == "" {
			v.a.Reason = "not vouched: " + err.Error()
		}
		return false
	}
	return true
}

// prescan rejects bytes the parser and the shell might read differently:
// invalid UTF-8, NUL, CR and other control characters but tab and
// newline.
func (v *vouch) prescan(src string, m offsets) bool {
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\r':
				return v.fail(m, i, "carriage return")
			case c == 0:
				return v.fail(m, i, "NUL byte")
			case c < 0x20 && c != '\t' && c != '\n', c == 0x7f:
				return v.fail(m, i, "control character U+%04X", c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(src[i:])
		if r == utf8.RuneError && n <= 1 {
			return v.fail(m, i, "invalid UTF-8")
		}
		if r >= 0x80 && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff {
			return v.fail(m, i, "control character U+%04X", r)
		}
		i += n
		if i < len(src) && strings.IndexByte(legacyTrail, src[i]) >= 0 {
			return v.fail(m, i, "%q right after a non-ASCII character: bash in a double-byte locale (GBK, Big5, Shift_JIS) reads the two as one character", src[i])
		}
	}
	return true
}

// legacyPair returns the index in s of a legacyTrail byte, or a ^ (a
// regular expression's), right after a non-ASCII character, or -1.
func legacyPair(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= utf8.RuneSelf && strings.IndexByte(legacyTrail+"^", s[i]) >= 0 {
			return i
		}
	}
	return -1
}

// trailPair returns the index in s of a byte a double-byte encoding (GBK,
// Big5, Shift_JIS) may take as the second byte of a character (0x40 to
// 0x7E) right after a non-ASCII character, or -1.
func trailPair(s string) int {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= utf8.RuneSelf && s[i] >= 0x40 && s[i] <= 0x7e {
			return i
		}
	}
	return -1
}

// legacyTrail are the shell's special characters that a double-byte
// encoding (GBK, Big5, Shift_JIS) can take as the second byte of a
// character: after a non-ASCII byte, bash in such a locale may not see
// them at all (a backslash then no longer escapes what follows it).
const legacyTrail = "\\`|{}[]"

func dialectName(lang syntax.LangVariant) string {
	if lang == syntax.LangPOSIX {
		return "POSIX sh"
	}
	return "bash"
}

// maxNesting bounds how deeply ( and { may nest in a script the engine
// parses: mvdan.cc/sh's parser recurses once per level, and a 64 KiB line
// of nested parentheses grew its stack to ~250 MB per analysis (an agent
// chooses the line, and approvals run in parallel).
const maxNesting = 256

// tooDeep reports whether ( and { nest deeper than maxNesting in src,
// counted without regard to quoting: a line that has more than
// maxNesting unclosed ones inside quotes is declined too, which no real
// command does.
func tooDeep(src string) bool {
	d := 0
	for i := 0; i < len(src); i++ {
		switch src[i] {
		case '(', '{':
			if d++; d > maxNesting {
				return true
			}
		case ')', '}':
			d = max(d-1, 0)
		}
	}
	return false
}

// parse parses src in the dialect lang, failing the analysis on an error.
func (v *vouch) parse(src string, lang syntax.LangVariant, m offsets) *syntax.File {
	if tooDeep(src) {
		v.fail(m, 0, "( and { nest deeper than %d levels (not parsed)", maxNesting)
		return nil
	}
	f, err := syntax.NewParser(syntax.Variant(lang), syntax.KeepComments(true)).Parse(strings.NewReader(src), "")
	if err != nil {
		var pe syntax.ParseError
		var le syntax.LangError
		if asParseError(err, &pe) {
			v.fail(m, int(pe.Pos.Offset()), "%s does not parse it (%s)", dialectName(lang), pe.Text)
		} else if errors.As(err, &le) {
			v.fail(m, int(le.Pos.Offset()), "%s does not have %s", dialectName(lang), le.Feature)
		} else {
			v.fail(m, 0, "%s does not parse it (%v)", dialectName(lang), err)
		}
		return nil
	}
	return f
}

func asParseError(err error, pe *syntax.ParseError) bool {
	switch e := err.(type) {
	case syntax.ParseError:
		*pe = e
		return true
	case *syntax.ParseError:
		*pe = *e
		return true
	}
	return false
}

func (v *vouch) file(f *syntax.File, src string, m offsets, depth int) bool {
	outer := v.src
	v.src = src
	defer func() { v.src = outer }()
	if !v.comments(f.Last, m) {
		return false
	}
	for _, st := range f.Stmts {
		if !v.stmt(st, m, depth) {
			return false
		}
	}
	return true
}

func (v *vouch) comments(cs []syntax.Comment, m offsets) bool {
	for _, c := range cs {
		// bash starts a comment only at the start of a word; mvdan/sh
		// also after some words ('EOF'# of a here-document).
		if at := int(c.Hash.Offset()); at > 0 && at <= len(v.src) && !blankBefore(v.src, at) {
			return v.fail(m, at, "# glued to the word before it")
		}
		// bash ends a comment at the newline, even after a backslash.
		if i := strings.IndexByte(c.Text, '\\'); i >= 0 {
			return v.fail(m, int(c.Hash.Offset())+1+i, "backslash in a comment")
		}
	}
	return true
}

// blankBefore reports whether src[at-1] is a blank that ends a word: a
// space, tab or newline not escaped by a backslash (a backslash-newline
// joins the lines).
func blankBefore(src string, at int) bool {
	if strings.IndexByte(" \t\n", src[at-1]) < 0 {
		return false
	}
	n := 0
	for k := at - 2; k >= 0 && src[k] == '\\'; k-- {
		n++
	}
	return n%2 == 0
}

// compoundNames names the commands that are not on the allow-list.
func compoundName(c syntax.Command) string {
	switch c := c.(type) {
	case *syntax.Subshell:
		return "subshell ( )"
	case *syntax.Block:
		return "command group { }"
	case *syntax.IfClause:
		return "if clause"
	case *syntax.WhileClause:
		if c.Until {
			return "until loop"
		}
		return "while loop"
	case *syntax.ForClause:
		if c.Select {
			return "select clause"
		}
		return "for loop"
	case *syntax.CaseClause:
		return "case clause"
	case *syntax.FuncDecl:
		return "function definition"
	case *syntax.ArithmCmd:
		return "arithmetic command (( ))"
	case *syntax.TestClause:
		return "test clause [[ ]]"
	case *syntax.DeclClause:
		return "declaration " + c.Variant.Value
	case *syntax.LetClause:
		return "let clause"
	case *syntax.TimeClause:
		return "time keyword"
	case *syntax.CoprocClause:
		return "coprocess"
	case *syntax.TestDecl:
		return "test declaration"
	}
	return fmt.Sprintf("command %T", c)
}

func (v *vouch) stmt(st *syntax.Stmt, m offsets, depth int) bool {
	if !v.comments(st.Comments, m) {
		return false
	}
	switch {
	case st.Negated:
		return v.failPos(m, st.Position, "negation !")
	case st.Background:
		return v.failPos(m, st.Semicolon, "background job &")
	case st.Coprocess, st.Disown:
		return v.failPos(m, st.Semicolon, "coprocess")
	}
	switch c := st.Cmd.(type) {
	case nil:
		return v.failPos(m, st.Position, "redirection without a command")
	case *syntax.CallExpr:
		return v.call(c, st.Redirs, m, depth)
	case *syntax.BinaryCmd:
		if len(st.Redirs) > 0 {
			return v.failPos(m, st.Redirs[0].Pos(), "redirection of a list")
		}
		switch c.Op {
		case syntax.AndStmt, syntax.OrStmt, syntax.Pipe:
		default:
			return v.failPos(m, c.OpPos, "operator %s", c.Op)
		}
		return v.stmt(c.X, m, depth) && v.stmt(c.Y, m, depth)
	default:
		return v.failPos(m, c.Pos(), "%s", compoundName(c))
	}
}

// A wordVal is a word after quote removal, with the script offset of each
// of its bytes when asked for.
type wordVal struct {
	s   string
	off []int32
	// pattern reports unquoted glob characters (only where allowed).
	pattern bool
}

// globMode says where a word may be a glob pattern.
type globMode int

const (
	noGlob globMode = iota
	// globIfPrefixed: a pattern whose expansion starts with a literal
	// byte that is not '-' (src/*.go), so it cannot become an option.
	globIfPrefixed
	// globOperand: any pattern (after a literal --).
	globOperand
)

// word returns w's value if it is a literal after quote removal: plain
// text, single quotes, double quotes with only plain text in them.
func (v *vouch) word(w *syntax.Word, m offsets, withOffsets bool) (wordVal, bool) {
	return v.wordGlob(w, m, withOffsets, noGlob)
}

// wordGlob is word, where the word may be a glob pattern as gm says.
func (v *vouch) wordGlob(w *syntax.Word, m offsets, withOffsets bool, gm globMode) (wordVal, bool) {
	var b strings.Builder
	pattern := false
	globOK := func() bool {
		switch gm {
		case globOperand:
			return true
		case globIfPrefixed:
			return b0(&b) != 0 && b0(&b) != '-'
		}
		return false
	}
	var off []int32
	put := func(c byte, at int) {
		b.WriteByte(c)
		if withOffsets {
			off = append(off, int32(m.at(at)))
		}
	}
	// Brace expansion needs an unquoted {, then an unquoted , or .., then
	// an unquoted }.
	braceOpen, braceSep := -1, false
	lastUnquoted := byte(0)        // the previous unquoted byte, 0 if quoted or none
	bracketAt, bracketOff := -1, 0 // the first unquoted [, in the value and the script
	for i, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			val, base := p.Value, int(p.ValuePos.Offset())
			src := 0 // offset in the source, approximately, of val[j]
			for j := 0; j < len(val); j, src = j+1, src+1 {
				c := val[j]
				at := base + src
				switch c {
				case '\\':
					if j+1 >= len(val) {
						return wordVal{}, v.fail(m, at, "trailing backslash")
					}
					if val[j+1] == '\n' {
						// A line continuation the parser left in the word:
						// it does so after an escaped backslash (a\\\⏎b),
						// where bash removes it. Its reading of such a word
						// is not bash's.
						return wordVal{}, v.fail(m, at, "backslash-newline after a backslash")
					}
					j, src = j+1, src+1
					put(val[j], base+src)
					lastUnquoted = 0
					continue
				case '$':
					return wordVal{}, v.fail(m, at, "dollar sign")
				case '`':
					return wordVal{}, v.fail(m, at, "command substitution")
				case '*', '?':
					if !globOK() {
						v.a.glob = v.a.Reason == ""
						return wordVal{}, v.fail(m, at, "glob character %q", c)
					}
					pattern = true
				case '[':
					// A pattern only if a ] follows in the word.
					if bracketAt < 0 && !globOK() {
						bracketAt, bracketOff = b.Len(), at
					}
					pattern = pattern || globOK()
				case '~':
					if (i == 0 && j == 0) || lastUnquoted == '=' || lastUnquoted == ':' {
						return wordVal{}, v.fail(m, at, "tilde expansion")
					}
				case '{':
					if braceOpen < 0 {
						braceOpen = at
					}
				case ',':
					braceSep = braceSep || braceOpen >= 0
				case '.':
					if braceOpen >= 0 && j+1 < len(val) && val[j+1] == '.' {
						braceSep = true
					}
				case '}':
					if braceOpen >= 0 && braceSep {
						return wordVal{}, v.fail(m, braceOpen, "brace expansion")
					}
				case '(', ')', '<', '>', '|', '&', ';', '"', '\'':
					return wordVal{}, v.fail(m, at, "unquoted %q", c)
				}
				put(c, at)
				lastUnquoted = c
			}
		case *syntax.SglQuoted:
			if p.Dollar {
				return wordVal{}, v.failPos(m, p.Left, "ANSI-C quoting $'…'")
			}
			base := int(p.Left.Offset()) + 1
			for j := 0; j < len(p.Value); j++ {
				put(p.Value[j], base+j)
			}
			lastUnquoted = 0
		case *syntax.DblQuoted:
			if p.Dollar {
				return wordVal{}, v.failPos(m, p.Left, `locale quoting $"…"`)
			}
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					return wordVal{}, v.failPos(m, q.Pos(), "%s in double quotes", partName(q))
				}
				base := int(lit.ValuePos.Offset())
				for j := 0; j < len(lit.Value); j++ {
					switch c := lit.Value[j]; c {
					case '\\':
						return wordVal{}, v.fail(m, base+j, "backslash in double quotes")
					case '$':
						return wordVal{}, v.fail(m, base+j, "dollar sign in double quotes")
					case '`':
						return wordVal{}, v.fail(m, base+j, "command substitution")
					}
					put(lit.Value[j], base+j)
				}
			}
			lastUnquoted = 0
		default:
			return wordVal{}, v.failPos(m, p.Pos(), "%s", partName(p))
		}
	}
	val := b.String()
	if bracketAt >= 0 && strings.IndexByte(val[bracketAt+1:], ']') >= 0 {
		v.a.glob = v.a.Reason == ""
		return wordVal{}, v.fail(m, bracketOff, "glob character '['")
	}
	return wordVal{s: val, off: off, pattern: pattern}, true
}

// b0 returns the first byte written to b, 0 if none.
func b0(b *strings.Builder) byte {
	if b.Len() == 0 {
		return 0
	}
	return b.String()[0]
}

func partName(p syntax.WordPart) string {
	switch p := p.(type) {
	case *syntax.ParamExp:
		return "parameter expansion"
	case *syntax.CmdSubst:
		return "command substitution"
	case *syntax.ArithmExp:
		if p.Bracket {
			return "arithmetic expansion $[ ]"
		}
		return "arithmetic expansion"
	case *syntax.ProcSubst:
		return "process substitution"
	case *syntax.ExtGlob:
		return "extended glob"
	case *syntax.BraceExp:
		return "brace expansion"
	case *syntax.SglQuoted:
		return "single quotes"
	case *syntax.DblQuoted:
		return "double quotes"
	}
	return fmt.Sprintf("word part %T", p)
}

func (v *vouch) call(c *syntax.CallExpr, redirs []*syntax.Redirect, m offsets, depth int) bool {
	if v.steps++; v.steps%64 == 0 && !v.ctxOK() {
		return false
	}
	if len(c.Assigns) > 0 {
		return v.failPos(m, c.Assigns[0].Pos(), "assignment prefix")
	}
	if v.exec {
		return v.failPos(m, c.Pos(), "command after exec")
	}
	if lit := c.Args[0].Lit(); reservedWords[lit] {
		// The parser reads some reserved words in command position as a
		// command name (in, else); bash and dash refuse the line.
		return v.failPos(m, c.Args[0].Pos(), "reserved word %s in command position (the shell refuses the line)", lit)
	}
	argv := make([]string, len(c.Args))
	var patterns []int
	dashdash := false
	for i, w := range c.Args {
		gm := noGlob
		switch {
		case !v.globs || i == 0:
		case dashdash:
			gm = globOperand
		default:
			gm = globIfPrefixed
		}
		wv, ok := v.wordGlob(w, m, false, gm)
		if !ok {
			return false
		}
		argv[i] = wv.s
		// Whether a "--" really ends the options of the program is
		// decided below, once wrappers are unwrapped.
		dashdash = dashdash || i > 0 && wv.s == "--" && !wv.pattern
		if wv.pattern {
			patterns = append(patterns, i)
		}
	}
	cmd := Command{Argv: argv, Patterns: patterns}
	for _, r := range redirs {
		if r.N == nil {
			// {a[SUB]}>x: the parser reads a word and >x (in POSIX sh,
			// and in bash when SUB is quoted), bash a redirection to a
			// new descriptor whose number it assigns to a[SUB], which
			// evaluates SUB (a quoted $(…) runs). A word that ends in }
			// right before a redirection is not vouched.
			for i, w := range c.Args {
				if w.End().Offset() == r.OpPos.Offset() && strings.HasSuffix(argv[i], "}") {
					return v.failPos(m, w.Pos(), "%s right before a redirection: bash may read {NAME}%s as a named-descriptor redirection, which evaluates an array subscript", argv[i], r.Op)
				}
			}
		}
		rd, ok := v.redirect(r, m)
		if !ok {
			return false
		}
		cmd.Redirects = append(cmd.Redirects, rd)
	}
	wordOff := func(i int) int { return int(c.Args[i].Pos().Offset()) }
	if lang, ok := shellDialects[argv[0]]; ok {
		if len(redirs) > 0 {
			return v.failPos(m, redirs[0].Pos(), "redirection of a shell")
		}
		si, reason := shellScriptIndex(argv, lang)
		if reason != "" {
			return v.fail(m, wordOff(0), "%s", reason)
		}
		if depth >= maxDepth {
			return v.fail(m, wordOff(si), "shell nesting deeper than %d", maxDepth)
		}
		wv, _ := v.word(c.Args[si], m, true)
		inner := offsets(wv.off)
		if !v.prescan(wv.s, inner) {
			return false
		}
		f := v.parse(wv.s, lang, inner)
		outer := v.posix
		v.posix = lang == syntax.LangPOSIX
		defer func() { v.posix = outer }()
		return f != nil && v.file(f, wv.s, inner, depth+1)
	}
	// Transparent wrappers, builtins and programs the engine will not vouch
	// for. builtins: the shell may run argv[i] as a builtin (the first
	// word, or the one after the builtin command).
	for i, builtins := 0, true; ; {
		name := argv[i]
		base := path.Base(name)
		switch {
		case base != strings.ToLower(base):
			// On a case-insensitive file system (macOS's default) BASH
			// runs bash and GIT git, which the engine knows only by
			// their names: no upper-case name is vouched.
			return v.fail(m, wordOff(i), "program %s: an upper-case name may run %s on a case-insensitive file system", name, strings.ToLower(base))
		case i == 0 && v.posix && bashAssignment(name):
			// Read as sh, NAME+=VALUE and NAME[… are words; but where sh
			// is bash (Fedora, Arch, macOS), bash in POSIX mode still
			// reads them as an assignment (BASH_ENV+=/dev/stdin bash …)
			// or an array subscript, which it evaluates (a[x ]=1).
			return v.fail(m, wordOff(i), "%s under sh: where sh is bash, it is an assignment, not a program", name)
		case strings.HasPrefix(base, "git-"):
			// git's exec path holds git under each builtin's name, and
			// git run as git-NAME runs its builtin NAME: git-grep -O…,
			// git-diff --output=…, whose options the engine checks only
			// for git. Other git-* programs are programs of their own.
			return v.fail(m, wordOff(i), "program %s: git-NAME may be git running its builtin NAME; write git %s", name, strings.TrimPrefix(base, "git-"))
		case !isASCII(base):
			// Case folding and Unicode normalization go beyond ASCII:
			// on macOS "ſh" (long s) folds to sh and "Kill" (Kelvin
			// sign) to kill, and a name may be composed or decomposed.
			// The engine knows programs by their ASCII names.
			return v.fail(m, wordOff(i), "program %q: a name with characters outside ASCII may name another program on a file system that folds case or normalizes Unicode", name)
		case shellNames[base]:
			if i > 0 {
				return v.fail(m, wordOff(i), "shell %s behind a wrapper", name)
			}
			return v.fail(m, wordOff(i), "shell %s not unwrapped (only bash, sh and dash at their system paths, with -c)", name)
		case !strings.Contains(name, "/") && shellStateBuiltins[name]:
			return v.fail(m, wordOff(i), "builtin %s", name)
		case !strings.Contains(name, "/") && name == "printf" && i+1 < len(argv) && strings.HasPrefix(argv[i+1], "-v"):
			return v.fail(m, wordOff(i+1), "printf -v")
		case !strings.Contains(name, "/") && name == "umask" && slices.ContainsFunc(argv[i+1:], func(a string) bool { return a != "-p" && a != "-S" }):
			// umask MODE sets the mode of every file a later command of
			// the line makes (umask 0: files any user may write), as
			// ulimit sets their limits; umask, -p and -S only print it
			// (round 27).
			return v.fail(m, wordOff(i), "builtin umask with a mode: it changes the permissions of the files later commands make")
		case name == "test" || name == "[":
			// test -v 'a[$(id)]' evaluates the subscript. test reads
			// operators anywhere and takes no "--", so a glob pattern
			// in its arguments (-[v], -?) may become -v: none is vouched.
			for k := i + 1; k < len(argv); k++ {
				if argv[k] == "-v" || argv[k] == "-R" {
					return v.fail(m, wordOff(k), "%s %s", name, argv[k])
				}
				if slices.Contains(patterns, k) {
					return v.fail(m, wordOff(k), "glob pattern %s in the arguments of %s, which may expand to its -v", argv[k], name)
				}
			}
		case runsAnother(base):
			return v.fail(m, wordOff(i), "%s runs another program", name)
		}
		next, reason := unwrapWrapper(name, argv, i, builtins)
		if reason != "" {
			return v.fail(m, wordOff(min(next, len(argv)-1)), "%s", reason)
		}
		if next == i && wrapperNames[base] && !(base == "command" && builtins && !strings.Contains(name, "/") && commandQuery(argv, i)) {
			// Not unwrapped, yet it runs its arguments: env, nice,
			// timeout or stdbuf at a path the engine does not follow
			// (/usr/bin/./env, ../usr/bin/env), or command or exec where
			// the shell runs a program of that name (/usr/bin/command on
			// Fedora and macOS runs its arguments).
			return v.fail(m, wordOff(i), "%s runs its arguments as a program, and the engine follows it only by its bare name, its system path, or as the shell's builtin", name)
		}
		if next == i {
			break
		}
		builtins = builtins && name == "command"
		i = next
		cmd.Inner = i
	}
	if len(patterns) > 0 && patterns[0] <= cmd.Inner {
		return v.fail(m, wordOff(patterns[0]), "glob pattern in a wrapper's arguments")
	}
	// A pattern without a literal prefix is an operand only after a "--"
	// of the program itself: a wrapper's (timeout -- 5 sort *) ends the
	// wrapper's options, not the program's.
	for _, p := range patterns {
		if !prefixedPattern(argv[p]) && !operandAfterDashDash(argv, cmd.Inner, p) {
			return v.fail(m, wordOff(p), "glob pattern %s may expand to an option of %s", argv[p], argv[cmd.Inner])
		}
	}
	if len(patterns) > 0 {
		if _, isShell := shellDialects[argv[0]]; isShell {
			return v.fail(m, wordOff(patterns[0]), "glob pattern in a shell's arguments")
		}
	}
	// What the raw line's check (vouchChars) refuses, for the words after
	// quote removal: 's/中''\/x/' gives sed the word s/中\/x/, and GNU
	// sed in a GBK locale reads 中\ as one character (review, round 7).
	sed := path.Base(argv[cmd.Inner]) == "sed"
	for k, a := range argv {
		j := legacyPair(a)
		if sed && k > cmd.Inner {
			// sed takes any byte as the s command's delimiter: in GBK a
			// delimiter right after 中 (s@中@x@) is read into it, and what
			// follows is another command (review, round 8).
			j = trailPair(a)
		}
		if j >= 0 {
			return v.fail(m, wordOff(k), "%q right after a non-ASCII character in the argument %q: a program in a double-byte locale (GBK, Big5, Shift_JIS) reads the two as one character", a[j], a)
		}
	}
	for _, name := range argv[:cmd.Inner+1] {
		switch name {
		case "cd", "pushd", "popd", "chdir": // dash's chdir is cd
			v.cd = true
		case "exec":
			v.exec = true
		}
	}
	v.a.Commands = append(v.a.Commands, cmd)
	return true
}

// prefixedPattern reports whether the glob pattern p starts with a
// literal byte that is not '-' (src/*.go): no name it matches is an
// option. (A quoted glob character as the first byte counts as a glob.)
func prefixedPattern(p string) bool {
	return p != "" && strings.IndexByte("-*?[", p[0]) < 0
}

// operandAfterDashDash reports whether argv[p] comes after a "--" that
// surely ends the options of the program argv[prog]: its first "--", with
// no option before it (any option might take that "--" as its argument,
// some take several words: tree -LP 1 -- *).
func operandAfterDashDash(argv []string, prog, p int) bool {
	for d := prog + 1; d < p; d++ {
		if d == prog+1 && path.Base(argv[prog]) == "tar" && !strings.HasPrefix(argv[d], "-") {
			// tar's old style: the first word is a cluster of options
			// whose values are the next words (tar tf -- *: the archive
			// is "--", and * may expand to --checkpoint-action=…).
			return false
		}
		if argv[d] == "--" {
			return true
		}
		if optionLike(argv[d]) {
			return false
		}
	}
	return false
}

// harmlessShellOptions are the set -o options a wrapper shell may be given.
var harmlessShellOptions = map[string]bool{
	"errexit": true, "nounset": true, "pipefail": true, "xtrace": true, "verbose": true,
	"noclobber": true, "noglob": true,
}

// shellScriptIndex returns the index in argv of the script of a known
// shell called with -c, following the shell's option grammar:
//
//	bash [long options] [-abefhkmnptuvxBCHP...] [-o opt] [+o opt] -c [options] script [name [args]]
//
// Only options the engine fully understands and that do not change what
// the script means are accepted; anything else is a reason.
func shellScriptIndex(argv []string, lang syntax.LangVariant) (int, string) {
	name := argv[0]
	isBash := lang == syntax.LangBash
	short := "euxvlhCPf"
	if !isBash {
		short = "euxvlCf"
	}
	hasC, seenShort := false, false
	i := 1
	for ; i < len(argv); i++ {
		arg := argv[i]
		if arg == "--" || arg == "-" {
			i++ // a lone - ends the options in bash and dash alike
			break
		}
		if arg == "+" {
			seenShort = true // an empty cluster of + options
			continue
		}
		if strings.HasPrefix(arg, "--") {
			if !isBash {
				return 0, fmt.Sprintf("%s option %s", name, arg)
			}
			if seenShort {
				return 0, fmt.Sprintf("%s long option %s after a short one", name, arg)
			}
			switch arg {
			case "--login", "--noprofile", "--norc", "--verbose", "--noediting":
				continue
			}
			return 0, fmt.Sprintf("%s option %s", name, arg)
		}
		if len(arg) < 2 || arg[0] != '-' && arg[0] != '+' {
			break // the first operand
		}
		seenShort = true
		want := 0 // arguments the cluster's o options take
		for _, f := range arg[1:] {
			switch {
			case f == 'c' && arg[0] == '-':
				hasC = true
			case f == 'o':
				want++
			case f < utf8.RuneSelf && strings.IndexByte(short, byte(f)) >= 0:
			default:
				return 0, fmt.Sprintf("%s option %c%c", name, arg[0], f)
			}
		}
		for ; want > 0; want-- {
			i++
			if i >= len(argv) {
				return 0, fmt.Sprintf("%s option -o without its argument", name)
			}
			if !harmlessShellOptions[argv[i]] || argv[i] == "pipefail" && !isBash {
				return 0, fmt.Sprintf("%s option -o %s", name, argv[i])
			}
		}
	}
	if !hasC {
		return 0, fmt.Sprintf("shell %s without -c (it reads its script from a file or stdin)", name)
	}
	if i >= len(argv) {
		return 0, fmt.Sprintf("%s -c without a script", name)
	}
	return i, ""
}

// commandQuery reports whether the builtin command argv[i] is asked, by
// -v or -V among its options (-p, -v and -V, alone or joined, then
// perhaps "--"), what its operands are: a builtin, a function, a
// program's path. It runs nothing then, so the builtin itself is the
// program, which a rule may name.
func commandQuery(argv []string, i int) bool {
	query := false
	for j := i + 1; j < len(argv); j++ {
		a := argv[j]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			break
		}
		if strings.Trim(a[1:], "pvV") != "" {
			return false
		}
		query = query || strings.ContainsAny(a, "vV")
	}
	return query
}

// unwrapWrapper returns the index of the program that the transparent
// wrapper argv[i] runs, i itself if argv[i] is no such wrapper, or a
// reason (and the index of the word it is about) when it is one whose
// arguments the engine does not fully understand. builtins says whether
// the shell may run argv[i] as a builtin: only the command's first word,
// or the word after the builtin command, is looked up among the
// builtins; after exec or a program (env, timeout, nice, stdbuf), a
// command or exec is a program of that name on PATH, not a wrapper.
func unwrapWrapper(name string, argv []string, i int, builtins bool) (int, string) {
	if strings.Contains(name, "/") && !inSystemDir(name) {
		return i, ""
	}
	base := path.Base(name)
	builtin := builtins && !strings.Contains(name, "/")
	j := i + 1
	opt := func() string {
		if j < len(argv) {
			return argv[j]
		}
		return ""
	}
	bad := func(format string, args ...any) (int, string) {
		return j, fmt.Sprintf(format, args...)
	}
	switch {
	case base == "exec" && builtin:
		if opt() == "--" {
			// bash's exec ends its options there; dash's has none and
			// runs a program named --.
			return bad("exec --")
		}
		if strings.HasPrefix(opt(), "-") {
			return bad("%s option %s", base, opt())
		}
	case base == "command" && builtin:
		if commandQuery(argv, i) {
			return i, ""
		}
		for opt() == "-p" {
			j++
		}
		if opt() == "--" {
			j++
		}
		if strings.HasPrefix(opt(), "-") {
			return bad("command option %s", opt())
		}
	case base == "env":
		if opt() == "--" {
			j++
		}
		if strings.HasPrefix(opt(), "-") {
			return bad("env option %s", opt())
		}
		if strings.Contains(opt(), "=") {
			return bad("environment assignment %s", opt())
		}
	case base == "nice":
		switch a := opt(); {
		case a == "-n":
			j += 2
		case strings.HasPrefix(a, "--adjustment="):
			if !isInt(strings.TrimPrefix(a, "--adjustment=")) {
				return bad("nice adjustment %s", a) // nice refuses it and runs nothing
			}
			j++
		case len(a) > 1 && a[0] == '-' && isInt(a[1:]), strings.HasPrefix(a, "-n") && isInt(a[2:]):
			j++
		}
		if j > len(argv) || j < len(argv) && j >= 2 && argv[j-2] == "-n" && !isInt(argv[j-1]) {
			return bad("nice adjustment")
		}
		if opt() == "--" {
			j++
		}
		if strings.HasPrefix(opt(), "-") {
			return bad("nice option %s", opt())
		}
	case base == "timeout":
		// Each value is checked as timeout checks it: a value it refuses
		// (timeout -ks 5, timeout sh -c …) makes it run nothing, not the
		// program the engine would vouch for.
		for strings.HasPrefix(opt(), "-") && opt() != "--" {
			a := opt()
			var val string
			var ok func(string) bool
			switch {
			case a == "--preserve-status", a == "--foreground", a == "-v", a == "--verbose":
				j++
				continue
			case a == "-s", a == "-k":
				j++
				val, ok = opt(), isSignal
				if a == "-k" {
					ok = isDuration
				}
			case strings.HasPrefix(a, "-s"), strings.HasPrefix(a, "--signal="):
				val, ok = strings.TrimPrefix(strings.TrimPrefix(a, "--signal="), "-s"), isSignal
			case strings.HasPrefix(a, "-k"), strings.HasPrefix(a, "--kill-after="):
				val, ok = strings.TrimPrefix(strings.TrimPrefix(a, "--kill-after="), "-k"), isDuration
			default:
				return bad("timeout option %s", a)
			}
			if !ok(val) {
				return bad("timeout option %s %s", a, val)
			}
			j++
		}
		if opt() == "--" {
			j++
		}
		if !isDuration(opt()) {
			return bad("timeout duration %q", opt())
		}
		j++ // the duration
	case base == "stdbuf":
		n := 0
		for strings.HasPrefix(opt(), "-") && opt() != "--" {
			a := opt()
			var stream byte // i, o or e
			var mode string
			switch {
			case a == "-i", a == "-o", a == "-e":
				stream = a[1]
				j++
				mode = opt()
			case len(a) > 2 && a[0] == '-' && a[1] != '-' && (a[1] == 'i' || a[1] == 'o' || a[1] == 'e'):
				stream, mode = a[1], a[2:]
			case strings.HasPrefix(a, "--input="), strings.HasPrefix(a, "--output="), strings.HasPrefix(a, "--error="):
				k, v, _ := strings.Cut(a, "=")
				stream, mode = k[2], v
			default:
				return bad("stdbuf option %s", a)
			}
			// stdbuf refuses another mode (stdbuf -oX, -o --) and runs
			// nothing; L is for output streams only.
			if !(mode == "L" && stream != 'i' || isBufferSize(mode)) {
				return bad("stdbuf mode %s for -%c", mode, stream)
			}
			j++
			n++
		}
		if opt() == "--" {
			j++
		}
		if n == 0 {
			return bad("stdbuf without an option")
		}
	default:
		return i, ""
	}
	if j >= len(argv) {
		return min(j, len(argv)), fmt.Sprintf("%s without a program to run", base)
	}
	return j, ""
}

// reservedWords are the reserved words that the shells refuse, unquoted,
// where a command name goes.
var reservedWords = map[string]bool{"in": true, "else": true, "elif": true, "then": true, "fi": true,
	"do": true, "done": true, "esac": true, "}": true, "]]": true}

// wrapperNames are the base names of the programs and builtins that run
// their arguments and that unwrapWrapper follows.
var wrapperNames = map[string]bool{"env": true, "nice": true, "timeout": true, "stdbuf": true, "command": true, "exec": true}

// durationRE is a duration timeout takes: a decimal number with an
// optional unit.
var durationRE = regexp.MustCompile(`^([0-9]+\.?[0-9]*|\.[0-9]+)[smhd]?$`)

func isDuration(s string) bool { return durationRE.MatchString(s) }

// signalNames are the signals timeout -s takes by name (coreutils, on
// Linux; with or without SIG, in any case): a name outside the list is
// not vouched, even where the system knows it.
var signalNames = map[string]bool{
	"HUP": true, "INT": true, "QUIT": true, "ILL": true, "TRAP": true, "ABRT": true, "IOT": true, "BUS": true,
	"FPE": true, "KILL": true, "USR1": true, "SEGV": true, "USR2": true, "PIPE": true, "ALRM": true, "TERM": true,
	"STKFLT": true, "CHLD": true, "CLD": true, "CONT": true, "STOP": true, "TSTP": true, "TTIN": true, "TTOU": true,
	"URG": true, "XCPU": true, "XFSZ": true, "VTALRM": true, "PROF": true, "WINCH": true, "POLL": true, "IO": true,
	"PWR": true, "SYS": true, "RTMIN": true, "RTMAX": true,
}

// isSignal reports whether timeout -s takes s: a name of signalNames or a
// number from 1 to 64.
func isSignal(s string) bool {
	if isDigits(s) {
		n, err := strconv.Atoi(s)
		return err == nil && n >= 1 && n <= 64
	}
	u := strings.ToUpper(s)
	return signalNames[u] || len(u) > 3 && strings.HasPrefix(u, "SIG") && signalNames[u[3:]]
}

// isBufferSize reports whether stdbuf takes s as a buffer size: digits
// with an optional unit (K or k, M, G, T, P, E, each alone or followed by
// B or iB) that fits in 64 bits, or 0 (unbuffered).
func isBufferSize(s string) bool {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return false
	}
	unit := s[i:]
	if unit == "" {
		return true
	}
	pow := strings.IndexByte("KMGTPE", unit[0]) + 1
	if unit[0] == 'k' {
		pow = 1
	}
	if pow == 0 {
		return false
	}
	base := uint64(1024)
	switch unit[1:] {
	case "", "iB":
	case "B":
		base = 1000
	default:
		return false
	}
	for range pow {
		if n > ^uint64(0)/base {
			return false
		}
		n *= base
	}
	return true
}

// isInt reports whether s is a decimal integer with at most one sign.
func isInt(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	return s != "" && isDigits(s)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// redirect returns r as a Redirect if it is on the allow-list.
func (v *vouch) redirect(r *syntax.Redirect, m offsets) (Redirect, bool) {
	var rd Redirect
	fdSet := false
	if r.N != nil {
		if !isDigits(r.N.Value) || len(r.N.Value) > 4 {
			return rd, v.failPos(m, r.N.Pos(), "named file descriptor")
		}
		if v.posix && len(r.N.Value) > 1 {
			// dash takes one digit: "12" of 12<x is an argument.
			return rd, v.failPos(m, r.N.Pos(), "descriptor %s of more than one digit in an sh script (dash reads it as an argument)", r.N.Value)
		}
		rd.Fd, _ = strconv.Atoi(r.N.Value)
		fdSet = true
	}
	setFd := func(fd int) {
		if !fdSet {
			rd.Fd = fd
		}
	}
	// bash and dash remove a backslash-newline before they read
	// operators; the parser joins it in words only: <<\⏎-A is bash's
	// <<- with the delimiter A, the parser's << with the delimiter -A
	// (review, round 26).
	if r.Word != nil {
		from, to := int(r.OpPos.Offset())+len(r.Op.String()), int(r.Word.Pos().Offset())
		if from <= to && to <= len(v.src) {
			if k := strings.IndexByte(v.src[from:to], '\\'); k >= 0 {
				return rd, v.fail(m, from+k, "backslash-newline right after the redirection %s (bash joins it into the operator: <<\\⏎- is <<-)", r.Op)
			}
		}
	}
	switch r.Op {
	case syntax.RdrOut, syntax.AppOut, syntax.RdrClob:
		setFd(1)
	case syntax.RdrAll, syntax.AppAll:
		if fdSet {
			return rd, v.failPos(m, r.Pos(), "redirection %s with a descriptor", r.Op)
		}
		setFd(1)
	case syntax.RdrIn:
		setFd(0)
	case syntax.DplOut, syntax.DplIn:
		if r.Op == syntax.DplOut {
			setFd(1)
		} else {
			setFd(0)
		}
		wv, ok := v.word(r.Word, m, false)
		if !ok {
			return rd, false
		}
		if wv.s != "-" && !isDigits(wv.s) {
			return rd, v.failPos(m, r.Word.Pos(), "duplication %s to a file", r.Op)
		}
		// bash's lexer returns an unquoted - right after <& or >& as a
		// token of its own: in >&-'' the '' is the command's next
		// argument, an empty one, where the parser reads one word -
		// (review, round 26).
		if lit, ok := r.Word.Parts[0].(*syntax.Lit); ok && strings.HasPrefix(lit.Value, "-") && (len(r.Word.Parts) > 1 || lit.Value != "-") {
			return rd, v.failPos(m, r.Word.Pos(), "%s- followed by more of the word (bash reads the - alone, and the rest as the next argument)", r.Op)
		}
		rd.Op, rd.Path = r.Op.String(), wv.s
		return rd, true
	case syntax.Hdoc, syntax.DashHdoc:
		setFd(0)
		rd.Op = r.Op.String()
		// Where the body ends must be beyond doubt: a plain delimiter.
		wv, ok := v.word(r.Word, m, false)
		if !ok {
			return rd, false
		}
		if !plainDelimiter(wv.s) {
			return rd, v.failPos(m, r.Word.Pos(), "here-document delimiter %q", wv.s)
		}
		if hdocQuoted(r.Word) {
			return rd, true
		}
		// bash joins a backslash-newline of an unquoted body before it
		// compares a line with the delimiter (EO\<newline>F ends the body
		// there), where the parser keeps reading: refuse any backslash
		// from the delimiter word to the body's end.
		if r.Hdoc != nil {
			from, to := int(r.Word.End().Offset()), int(r.Hdoc.End().Offset())
			if from <= to && to <= len(v.src) {
				if k := strings.IndexByte(v.src[from:to], '\\'); k >= 0 {
					return rd, v.fail(m, from+k, "%q in a here-document with an unquoted delimiter", '\\')
				}
			}
			for _, p := range r.Hdoc.Parts {
				lit, ok := p.(*syntax.Lit)
				if !ok {
					return rd, v.failPos(m, p.Pos(), "%s in a here-document", partName(p))
				}
				if k := strings.IndexAny(lit.Value, "$`\\"); k >= 0 {
					return rd, v.fail(m, int(lit.ValuePos.Offset())+k, "%q in a here-document with an unquoted delimiter", lit.Value[k])
				}
			}
		}
		return rd, true
	case syntax.WordHdoc:
		setFd(0)
		if _, ok := v.word(r.Word, m, false); !ok {
			return rd, false
		}
		rd.Op = r.Op.String()
		return rd, true
	default:
		return rd, v.failPos(m, r.OpPos, "redirection %s", r.Op)
	}
	rd.Op = r.Op.String()
	wv, ok := v.word(r.Word, m, false)
	if !ok {
		return rd, false
	}
	if wv.s == "" {
		return rd, v.failPos(m, r.Word.Pos(), "empty redirection target")
	}
	if special(wv.s) {
		return rd, v.failPos(m, r.Word.Pos(), "redirection %s %s", r.Op, wv.s)
	}
	if v.cd && !path.IsAbs(wv.s) {
		return rd, v.failPos(m, r.Word.Pos(), "relative redirection after cd")
	}
	rd.Path = wv.s
	return rd, true
}

// special reports a path a redirection must not open: a device other
// than /dev/null (bash itself opens /dev/tcp/…, /dev/udp/… and
// /dev/fd/…), or a file of /proc or /sys.
func special(p string) bool {
	c := path.Clean(p)
	if c == "/dev/null" && !strings.Contains(p, "//") {
		return false
	}
	for _, d := range []string{"/dev", "/proc", "/sys"} {
		if c == d || strings.HasPrefix(c, d+"/") || strings.Contains(p, d+"/") {
			return true
		}
	}
	return false
}

// plainDelimiter reports whether a here-document delimiter has only
// letters, digits, '_' and '-'.
func plainDelimiter(d string) bool {
	for i := 0; i < len(d); i++ {
		c := d[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return d != ""
}

// hdocQuoted reports whether a here-document's delimiter is quoted (its
// body is then not expanded).
func hdocQuoted(w *syntax.Word) bool {
	if w == nil {
		return false
	}
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.SglQuoted, *syntax.DblQuoted:
			return true
		case *syntax.Lit:
			if strings.Contains(p.Value, `\`) {
				return true
			}
		}
	}
	return false
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// bashAssignment reports whether bash reads the word w at the start of a
// command as an assignment that POSIX sh reads as a word: NAME+=… or
// NAME[….
func bashAssignment(w string) bool {
	i := 0
	for i < len(w) && (w[i] == '_' || 'a' <= w[i] && w[i] <= 'z' || 'A' <= w[i] && w[i] <= 'Z' || i > 0 && '0' <= w[i] && w[i] <= '9') {
		i++
	}
	return i > 0 && (strings.HasPrefix(w[i:], "+=") || strings.HasPrefix(w[i:], "["))
}
