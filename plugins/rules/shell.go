package rules

import (
	"context"
	"path"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// The loose analysis finds, for decline and cancel rules, every command a
// line might run, over-approximating where it cannot be sure: it reads
// whatever parses, unwraps every shell by base name, and looks behind
// every wrapper. Its work is bounded: it parses at most maxParse bytes of
// shell source in all, and adds at most maxSuffixArgs arguments' worth of
// "any suffix may be a command" candidates; past either it stops adding
// (the strict analysis has already refused such a line, so no accept rule
// can match it).
//
// Where it cannot read everything (a script that does not parse, which
// bash still runs up to the syntax error; a budget spent; a line too long
// to parse; the context ended), it says so in unsure, and every rule that
// declines or cancels then matches the line (review, round 13): what it
// did not read might run anything.

// maxParse bounds the bytes of shell source one loose analysis parses.
const maxParse = 256 << 10

// maxLex bounds the bytes of a line too long to parse that the quick
// lexer reads.
const maxLex = 1 << 20

// maxSuffixArgs bounds the arguments of the suffix candidates of the
// wrappers whose grammar the engine does not know.
const maxSuffixArgs = 1 << 16

// A candidate is a command that might run.
type candidate struct {
	argv []string
	// lit[i] reports whether argv[i] is a known literal: no expansion,
	// substitution or unquoted glob character.
	lit []bool
}

// A loose analysis.
type loose struct {
	ctx   context.Context
	cands []candidate
	// parseLeft is the budget of bytes of shell source still to parse;
	// suffixLeft that of suffix arguments.
	parseLeft, suffixLeft int
	// stdinShell reports a shell that reads its script from stdin (ls | sh).
	stdinShell bool
	// parsed reports that the line itself parsed.
	parsed bool
	// unsure says why the analysis may have missed commands: "" if it
	// read everything.
	unsure string
	steps  int
	// flow follows built text into arithmetic across every script of the
	// line (eval "w=\$z" copies too): see flow.go.
	flow *flow
	// parser (bash) and posix (sh) are reused for the scripts found in the
	// line, which wait in queue.
	parser, posix *syntax.Parser
	queue         []pending
}

func looseAnalyze(ctx context.Context, command string, f *syntax.File) *loose {
	l := &loose{ctx: ctx, parseLeft: maxParse, suffixLeft: maxSuffixArgs, flow: newFlow()}
	switch {
	case f != nil:
		l.parseLeft -= len(command)
		l.parsed = true
		l.file(f, 0)
	case len(command) > MaxLineBytes:
		// Too long for the strict analysis, so never accepted: a quick
		// lexer finds the commands for the decline rules, in the first
		// maxLex bytes; it reads roughly, so the line is unsure.
		l.lex(command[:min(len(command), maxLex)])
		l.unsureOf("the line is longer than the engine parses (65536 bytes)")
	default:
		l.parsed = l.queueScript(pending{src: command, sure: true})
	}
	l.drain()
	if l.stdinShell {
		// What the shell reads may be any text of the line, or made by
		// it (echo rm x | sh, base64 -d <<< … | sh): each literal that
		// looks like a script is read, and the analysis is unsure.
		l.unsureOf("a shell reads its script from stdin or a process substitution")
		n := len(l.cands)
		for _, c := range l.cands[:n] {
			for i, arg := range c.argv {
				if c.lit[i] && strings.ContainsAny(arg, " \t\n;&|") {
					l.queueScript(pending{src: arg, depth: 1, posix: true})
				}
			}
		}
		l.drain()
	}
	if why := l.flow.evaluated(); why != "" {
		// bash evaluates a variable's value as an arithmetic expression,
		// a[$(cmd)] included, and the line may have put such text in it:
		// x='a[$'; y='(rm x)]'; z=$x$y; echo $((z)), or echo 'a[$(rm x)]'
		// | while read x; do echo $((x)); done. (A value a program prints,
		// x=$(wc -l <f), is the program's business, as a script file is,
		// unless the line builds such text.)
		l.unsureOf(why)
	}
	return l
}

// parseLine parses a line as bash for both analyses, if it is within the
// strict budget.
func parseLine(command string) *syntax.File {
	if len(command) > MaxLineBytes || tooDeep(command) {
		return nil
	}
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash), syntax.KeepComments(true)).Parse(strings.NewReader(command), "")
	if err != nil {
		return nil
	}
	return f
}

// unsureOf records why the analysis may have missed commands (the first
// reason).
func (l *loose) unsureOf(why string) {
	if l.unsure == "" {
		l.unsure = why
	}
}

func (l *loose) alive() bool {
	if l.steps++; l.steps%256 == 0 && l.ctx != nil && l.ctx.Err() != nil {
		l.parseLeft, l.suffixLeft = 0, 0
		l.unsureOf("the analysis ran out of time")
	}
	return l.parseLeft > 0
}

// suffixBudget takes n from the suffix budget; false, and the analysis is
// unsure, when it is spent.
func (l *loose) suffixBudget(n int) bool {
	if l.suffixLeft < n {
		l.unsureOf("the line has more wrapper arguments than the engine reads")
		return false
	}
	l.suffixLeft -= n
	return true
}

// A pending script is one found in the line, to parse after the walk of
// the script it was found in (the parser is reused). posix: a shell other
// than bash may run it, so it is read as POSIX sh too (dash reads
// true &>f rm x as true &, then >f rm x).
type pending struct {
	src   string
	depth int
	posix bool
	// sure: a shell surely runs it (the line, a -c script, eval's text, a
	// here-document fed to a shell), so a parse failure makes the
	// analysis unsure; the other scripts are guesses (text that looks
	// like a script), which may be prose.
	sure bool
	// doc: text bash may evaluate later (a quoted subscript): only its
	// expansions are code, read as a here-document's body is.
	doc bool
}

// script queues the shell script src, within the budget; false if over
// it (the analysis is then unsure).
func (l *loose) script(src string, depth int) bool {
	return l.queueScript(pending{src: src, depth: depth})
}

func (l *loose) queueScript(p pending) bool {
	if p.depth > maxDepth {
		l.unsureOf("scripts are nested deeper than the engine reads")
		return false
	}
	if !l.alive() {
		l.unsureOf("the line holds more shell source than the engine reads (256 KiB)")
		return false
	}
	if l.parseLeft -= len(p.src) + 64; l.parseLeft < 0 {
		l.unsureOf("the line holds more shell source than the engine reads (256 KiB)")
		return false
	}
	l.queue = append(l.queue, p)
	return true
}

// drain parses and walks the queued scripts, and those they queue.
func (l *loose) drain() {
	for len(l.queue) > 0 {
		p := l.queue[0]
		l.queue = l.queue[1:]
		if l.parser == nil {
			l.parser = syntax.NewParser(syntax.Variant(syntax.LangBash))
		}
		l.parseWalk(l.parser, p, "bash")
		if p.posix {
			if l.posix == nil {
				l.posix = syntax.NewParser(syntax.Variant(syntax.LangPOSIX))
			}
			l.parseWalk(l.posix, p, "sh")
		}
	}
}

// parseWalk parses p with parser and walks it; a script that does not
// parse makes the analysis unsure: bash runs a line's commands up to the
// syntax error, and reads on past what mvdan/sh refuses.
func (l *loose) parseWalk(parser *syntax.Parser, p pending, dialect string) {
	if p.doc {
		if w, err := parser.Document(strings.NewReader(p.src)); err == nil {
			l.file(w, p.depth)
		}
		return
	}
	if tooDeep(p.src) {
		// Not parsed (see maxNesting): the quick lexer finds the
		// commands of the line for the decline rules, roughly.
		if p.depth == 0 {
			l.lex(p.src[:min(len(p.src), maxLex)])
		}
		l.unsureOf("( and { nest deeper than the engine parses (" + strconv.Itoa(maxNesting) + " levels)")
		return
	}
	f, err := parser.Parse(strings.NewReader(p.src), "")
	if err != nil {
		if p.sure {
			what := "the line"
			if p.depth > 0 {
				what = "a script in the line"
			}
			l.unsureOf(what + " does not parse as " + dialect + ": " + err.Error())
		}
		return
	}
	if p.depth == 0 {
		l.parsed = true
	}
	l.file(f, p.depth)
}

// lex adds the simple commands of a line too long to parse, read
// roughly: words split at unquoted blanks, commands at unquoted ; & | ( )
// and newlines, quotes removed; a word with $, ` or a glob character is
// not a literal.
func (l *loose) lex(src string) {
	var c candidate
	var b strings.Builder
	// A word is src[start:i] while it is plain (no quotes, no escapes),
	// and built in b once it is not.
	start, inWord, plain, lit := 0, false, true, true
	begin := func(i int) {
		if !inWord {
			start, inWord, plain, lit = i, true, true, true
		}
	}
	unplain := func(i int) {
		if plain {
			b.Reset()
			b.WriteString(src[start:i])
			plain = false
		}
	}
	endWord := func(i int) {
		if inWord {
			w := src[start:i]
			if !plain {
				w = b.String()
			}
			c.argv = append(c.argv, w)
			c.lit = append(c.lit, lit)
		}
		inWord = false
	}
	endCmd := func(i int) {
		endWord(i)
		if len(c.argv) > 0 {
			l.call(c, 1)
		}
		c = candidate{}
	}
	for i := 0; i < len(src); i++ {
		switch ch := src[i]; ch {
		case ' ', '\t':
			endWord(i)
		case '\n', ';', '&', '|', '(', ')':
			endCmd(i)
		case '\\':
			begin(i)
			unplain(i)
			if i+1 < len(src) {
				i++
				b.WriteByte(src[i])
			}
		case '\'', '"':
			begin(i)
			unplain(i)
			j := strings.IndexByte(src[i+1:], ch)
			if j < 0 {
				j = len(src) - i - 1
			}
			part := src[i+1 : i+1+j]
			if ch == '"' && strings.ContainsAny(part, "$`\\") {
				lit = false
			}
			b.WriteString(part)
			i += j + 1
		default:
			begin(i)
			if strings.IndexByte("$`*?[{~<>", ch) >= 0 {
				lit = false
			}
			if !plain {
				b.WriteByte(ch)
			}
		}
	}
	endCmd(len(src))
}

func (l *loose) file(f syntax.Node, depth int) {
	var bodies map[*syntax.Word]bool // here-document bodies: data, unless fed to a shell (below)
	var shifted map[*syntax.CallExpr]bool
	// plain holds the arguments of programs that do not make bash
	// evaluate them (not builtins), unless the script defines a function
	// or an alias, which may be named like one.
	var plain map[*syntax.Word]bool
	defines := false
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.FuncDecl:
			defines = true
		case *syntax.CallExpr:
			if len(n.Args) > 0 {
				if prog, ok, _ := literal(n.Args[0]); ok && path.Base(prog) == "alias" {
					defines = true
				}
			}
		}
		return !defines
	})
	fl := l.flow
	// open holds, for each node being walked, whether it is a $(…);
	// substs counts those.
	var open []bool
	substs := 0
	syntax.Walk(f, func(n syntax.Node) bool {
		if n == nil { // Walk is done with the children of the last node opened
			if open[len(open)-1] {
				substs--
			}
			open = open[:len(open)-1]
			return true
		}
		_, isSubst := n.(*syntax.CmdSubst)
		open = append(open, isSubst)
		if isSubst {
			substs++
		}
		if u := fl.visit(n); u != "" {
			l.unsureOf(u)
		}
		switch n := n.(type) {
		case *syntax.UnaryTest:
			if n.Op == syntax.TsVarSet || n.Op == syntax.TsRefVar {
				w, _ := n.X.(*syntax.Word)
				if _, ok, _ := literal(w); !ok {
					l.unsureOf("[[ -v ]] names a variable the line computes (bash evaluates its subscript)")
				}
			}
		case *syntax.ParamExp:
			if n.Excl && n.Names == 0 && !allIndex(n.Index) || n.Exp != nil && n.Exp.Op == syntax.OtherParamOps && n.Exp.Word != nil && strings.Contains(n.Exp.Word.Lit(), "P") {
				// ${!v} and ${v@P} evaluate the value: a subscript in it,
				// a $(…) for @P.
				l.unsureOf("an expansion evaluates a variable's value (${!v}, ${v@P})")
			}
		case *syntax.DeclClause:
			l.declNames(n)
		case *syntax.Redirect:
			if n.Hdoc != nil {
				if bodies == nil {
					bodies = map[*syntax.Word]bool{}
				}
				bodies[n.Hdoc] = true
				// Inside $(…), bash ends a here-document at a line that
				// starts with its delimiter followed by ), where mvdan/sh
				// reads on: the rest of the body is code to bash.
				if substs > 0 {
					if delim, ok, _ := literal(n.Word); ok && heredocEndsEarly(n.Hdoc, delim) {
						l.unsureOf("a here-document in $(…) that bash ends early (a line starting with " + delim + ")")
					}
				}
			}
		case *syntax.Stmt:
			if call, ok := n.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
				// dash reads the digits of 12<x as an argument: the
				// command's words may shift (timeout -k 12<x 5 rm y
				// runs rm), so every suffix may be a command.
				for _, r := range n.Redirs {
					if r.N != nil && len(r.N.Value) > 1 {
						if shifted == nil {
							shifted = map[*syntax.CallExpr]bool{}
						}
						shifted[call] = true
					}
				}
				// A here-document fed to a shell is a script.
				if prog, ok, glob := literal(call.Args[0]); ok && !glob && (shellNames[path.Base(prog)] || path.Base(prog) == "xargs") {
					for _, r := range n.Redirs {
						w := r.Hdoc
						if r.Op == syntax.WordHdoc {
							w = r.Word // bash <<< 'rm x'
						}
						if w == nil {
							continue
						}
						if body, ok, _ := literal(w); ok {
							l.queueScript(pending{src: body, depth: depth + 1, posix: path.Base(prog) != "bash", sure: shellNames[path.Base(prog)]})
						} else if shellNames[path.Base(prog)] {
							l.unsureOf("a shell's here-document is not a literal (bash expands it first)")
						}
					}
				}
				// A shell or source reading a process substitution runs
				// what the line makes (bash <(echo rm x)).
				if prog, ok, _ := literal(call.Args[0]); ok && (shellNames[path.Base(prog)] || evaluators[path.Base(prog)]) {
					for _, w := range call.Args[1:] {
						for _, part := range w.Parts {
							if _, ps := part.(*syntax.ProcSubst); ps {
								l.unsureOf(path.Base(prog) + " reads a process substitution")
							}
						}
					}
				}
			}
		case *syntax.Word:
			// Text that bash may evaluate later, quoted now: an array
			// subscript ('a[$(rm x)]' for test -v, printf -v, let,
			// [[ -v ]], declare -n, arithmetic on a variable) or a string
			// a builtin runs.
			if bodies[n] || plain[n] {
				break
			}
			if s, ok, _ := literal(n); ok && (strings.Contains(s, "$(") || strings.Contains(s, "`")) && l.alive() {
				l.queueScript(pending{src: s, depth: depth + 1, doc: true})
			}
		case *syntax.CallExpr:
			if len(n.Args) > 0 && !defines {
				if prog, ok, _ := literal(n.Args[0]); ok && !mayEvaluate[prog] {
					if plain == nil {
						plain = map[*syntax.Word]bool{}
					}
					for _, w := range n.Args[1:] {
						plain[w] = true
					}
				}
			}
			if len(n.Args) > 0 && l.alive() {
				c := candidate{argv: make([]string, len(n.Args)), lit: make([]bool, len(n.Args))}
				for i, w := range n.Args {
					s, ok, glob := literal(w)
					c.argv[i], c.lit[i] = s, ok && !glob
				}
				l.builtinNames(c)
				l.call(c, depth)
				if shifted[n] {
					l.suffixes(c, 0, depth)
				}
			}
		}
		return true
	})
}

// allIndex reports whether an index is @ or * (${!a[@]} lists keys).
func allIndex(x syntax.ArithmExpr) bool {
	w, _ := x.(*syntax.Word)
	v, ok, _ := literal(w)
	return ok && (v == "@" || v == "*")
}

// closes reports whether a ] follows in rest (the rest of the current
// part) or in the later parts of a word.
func closes(parts []syntax.WordPart, rest string) bool {
	if strings.IndexByte(rest, ']') >= 0 {
		return true
	}
	for _, p := range parts[1:] {
		var b strings.Builder
		syntax.NewPrinter().Print(&b, p)
		if strings.IndexByte(b.String(), ']') >= 0 {
			return true
		}
	}
	return false
}

// declNames makes the analysis unsure when declare, local, export,
// readonly or typeset gets a name the line computes ("$v", whose value
// may hold a[$(cmd)]), a nameref (-n) to one, or an integer (-i)
// variable of a value it computes.
func (l *loose) declNames(d *syntax.DeclClause) {
	special := false
	for _, a := range d.Args {
		if a.Naked && a.Value != nil {
			if v, ok, _ := literal(a.Value); ok {
				if strings.HasPrefix(v, "-") && strings.ContainsAny(v, "ni") {
					special = true
				}
				continue
			}
			l.unsureOf(d.Variant.Value + " gets a name the line computes (bash evaluates its subscript)")
			return
		}
		if a.Name == nil && a.Value != nil {
			if _, ok, _ := literal(a.Value); !ok {
				l.unsureOf(d.Variant.Value + " gets a name the line computes (bash evaluates its subscript)")
				return
			}
		}
	}
	if special {
		for _, a := range d.Args {
			if !a.Naked && a.Value != nil {
				if _, ok, _ := literal(a.Value); !ok {
					l.unsureOf(d.Variant.Value + " -n or -i of a value the line computes (bash evaluates it)")
					return
				}
			}
		}
	}
}

// heredocEndsEarly reports whether a line of body starts with delim
// followed by ")".
func heredocEndsEarly(body *syntax.Word, delim string) bool {
	text, ok, _ := literal(body)
	if !ok {
		var b strings.Builder
		syntax.NewPrinter().Print(&b, body)
		text = b.String()
	}
	for line := range strings.SplitSeq(text, "\n") {
		// bash 5.2 ends it at a line starting with the delimiter with a )
		// anywhere after (EOF ), EOF#), EOFx) …).
		if rest, ok := strings.CutPrefix(strings.TrimLeft(line, "\t"), delim); ok && strings.Contains(rest, ")") {
			return true
		}
	}
	return false
}

// mayEvaluate are the builtins that evaluate text of their arguments
// later (an array subscript: test -v 'a[$(rm x)]', printf -v, let,
// unset, read, declare's names), and so are the unknown names: a quoted
// argument of any other program is data to bash.
var mayEvaluate = map[string]bool{
	"test": true, "[": true, "printf": true, "let": true, "declare": true, "typeset": true,
	"local": true, "readonly": true, "export": true, "read": true, "unset": true, "mapfile": true,
	"readarray": true, "wait": true, "getopts": true, "eval": true, "source": true, ".": true,
	"builtin": true, "command": true, "trap": true, "complete": true, "compgen": true, "bind": true,
	"fc": true, "enable": true, "caller": true, "shift": true, "exit": true, "return": true,
	"break": true, "continue": true, "ulimit": true, "umask": true, "kill": true, "hash": true,
	"type": true, "cd": true, "pushd": true, "popd": true, "dirs": true, "shopt": true, "set": true,
	"jobs": true, // jobs -x runs a command, builtins included
}

// evaluators run their arguments as shell code.
var evaluators = map[string]bool{"eval": true, "source": true, ".": true}

// call adds c and what it might run. Each wrapper of a chain (nice nice
// … ls) costs a candidate from the suffix budget, but the program at the
// end of the chain is always added; the suffixes of the first wrapper
// whose grammar the engine does not know cover all the later ones.
func (l *loose) call(c candidate, depth int) {
	l.cands = append(l.cands, c)
	suffixed := false
	i, added := 0, 0
	// add adds the command starting at i, once.
	add := func(force bool) {
		if cost := len(c.argv) - i; i != added && (force || l.suffixBudget(cost)) {
			if force {
				l.suffixLeft -= cost
			}
			l.cands = append(l.cands, candidate{argv: c.argv[i:], lit: c.lit[i:]})
			added = i
		}
	}
	for i < len(c.argv) && c.lit[i] {
		prog := path.Base(c.argv[i])
		switch {
		case shellNames[prog]:
			add(true)
			l.shellArgs(c, i, depth)
			return
		case evaluators[prog]:
			add(true)
			l.evaluate(c, i, depth)
			return
		case prog == "alias":
			// An alias's value replaces the word that names it, later in
			// the line (shopt -s expand_aliases; alias ll=rm; ll x).
			for k := i + 1; k < len(c.argv); k++ {
				if !c.lit[k] {
					l.unsureOf("an alias value is not a literal")
					continue
				}
				if _, v, ok := strings.Cut(c.argv[k], "="); ok {
					l.queueScript(pending{src: v, depth: depth + 1, sure: true})
				}
			}
		case prog == "find":
			add(true)
			l.find(c, i, depth)
			return
		}
		// By base name: ./env and /x/../usr/bin/env may be env too; and
		// command and exec as builtins anywhere (more candidates).
		next, reason := unwrapWrapper(prog, c.argv, i, true)
		other := runsAnother(prog)
		if next == i && !other && reason == "" {
			break
		}
		add(false)
		if reason != "" || other {
			if !suffixed {
				l.suffixes(c, i, depth)
				suffixed = true
			}
			next = firstOperand(c.argv, i)
		}
		if next >= len(c.argv) {
			return
		}
		i = next
	}
	add(true)
}

// firstOperand returns the index of the first argument after i that is
// not an option or an assignment: the likely program of a wrapper.
func firstOperand(argv []string, i int) int {
	for i++; i < len(argv); i++ {
		if !strings.HasPrefix(argv[i], "-") && !strings.Contains(argv[i], "=") {
			break
		}
	}
	return i
}

// suffixes adds each suffix of the wrapper c.argv[i]'s arguments as a
// command, within the budget, and each argument that looks like a script
// as one.
func (l *loose) suffixes(c candidate, i, depth int) {
	for k := i + 1; k < len(c.argv); k++ {
		if !c.lit[k] {
			continue
		}
		if l.suffixBudget(len(c.argv) - k) {
			l.cands = append(l.cands, candidate{argv: c.argv[k:], lit: c.lit[k:]})
			if shellNames[path.Base(c.argv[k])] {
				l.shellArgs(c, k, depth)
			}
		}
		if strings.ContainsAny(c.argv[k], " \t\n;&|") {
			l.script(c.argv[k], depth+1)
		}
		l.attached(c, k, depth)
	}
}

// attached adds what an option's attached value may run: the value of
// --opt=VALUE or -xVALUE (env -S'rm x', script -qc'rm x') as a script,
// and as the program of the rest of the arguments (env -Srm x).
func (l *loose) attached(c candidate, k, depth int) {
	a := c.argv[k]
	if !c.lit[k] || len(a) < 3 || a[0] != '-' {
		return
	}
	var vals []string
	if _, v, ok := strings.Cut(a, "="); ok {
		vals = append(vals, v)
	}
	if a[1] != '-' {
		// A cluster: the value may start after any letter (-qcVALUE),
		// within reason.
		for j := 2; j < len(a) && j < 2+maxCluster; j++ {
			vals = append(vals, a[j:])
		}
	}
	for _, v := range vals {
		if v == "" {
			continue
		}
		if strings.ContainsAny(v, " \t\n;&|") {
			l.script(v, depth+1)
		}
		if l.suffixBudget(len(c.argv) - k) {
			argv := append([]string{v}, c.argv[k+1:]...)
			lit := append([]bool{true}, c.lit[k+1:]...)
			l.cands = append(l.cands, candidate{argv: argv, lit: lit})
		}
	}
}

// maxCluster bounds the letters of an option cluster that attached reads
// a value after.
const maxCluster = 8

// shellArgs adds the scripts a shell c.argv[i] may run: each literal
// argument that is not a plain option. The first operand after -c (-lc,
// -ec, …) surely is one; the others are guesses (a script file, $0, $1).
// A shell with no operand reads its script from stdin.
func (l *loose) shellArgs(c candidate, i, depth int) {
	shell := path.Base(c.argv[i])
	k := i + 1
	if shell == "busybox" && k < len(c.argv) && c.lit[k] && shellNames[c.argv[k]] {
		shell, k = c.argv[k], k+1 // busybox sh -c …
	}
	scripts, hasC, first := 0, false, true
	for ; k < len(c.argv); k++ {
		arg := c.argv[k]
		if c.lit[k] && (arg == "" || (arg[0] == '-' || arg[0] == '+') && !strings.ContainsAny(arg, " \t\n;&|")) {
			if len(arg) > 1 && arg[1] != '-' && strings.ContainsRune(arg[1:], 'c') {
				hasC = true
			}
			if len(arg) > 1 && arg[1] != '-' && strings.ContainsRune(arg[1:], 's') {
				l.stdinShell = true // -s: the script is stdin, the operands its arguments
			}
			switch arg {
			case "-o", "+o", "-O", "+O", "--rcfile", "--init-file":
				k++ // the option's value
			}
			continue
		}
		if c.lit[k] && !hasC && first && (strings.HasPrefix(path.Clean(arg), "/dev/") || strings.HasPrefix(path.Clean(arg), "/proc/")) {
			l.stdinShell = true // bash /dev/stdin
		}
		scripts++
		sure := hasC && first
		first = false
		if !c.lit[k] {
			if sure {
				l.unsureOf("the script of " + shell + " -c is not a literal (bash expands it first)")
			}
			continue
		}
		l.queueScript(pending{src: arg, depth: depth + 1, posix: shell != "bash", sure: sure})
	}
	if scripts == 0 {
		l.stdinShell = true
	}
}

// builtinNames makes the analysis unsure when a builtin that evaluates a
// variable's name (a subscript in it: 'a[$(rm x)]') gets one the line
// computes: printf -v, test -v/-R, read, unset, mapfile, wait -p,
// getopts.
func (l *loose) builtinNames(c candidate) {
	if !c.lit[0] {
		return
	}
	prog := c.argv[0]
	operand := 0 // operands seen (getopts: the second is the name)
	for k := 1; k < len(c.argv); k++ {
		prev := ""
		if c.lit[k-1] {
			prev = c.argv[k-1]
		}
		if c.lit[k] {
			if !strings.HasPrefix(c.argv[k], "-") {
				operand++
			}
			continue
		}
		operand++
		switch prog {
		case "printf":
			if prev != "-v" {
				continue
			}
		case "test", "[":
			if prev != "-v" && prev != "-R" {
				continue
			}
		case "wait":
			if prev != "-p" {
				continue
			}
		case "getopts":
			if operand != 2 {
				continue
			}
		case "read":
			// The values of -d, -i, -n, -N, -p, -t and -u are not names.
			if len(prev) == 2 && prev[0] == '-' && strings.IndexByte("dinNptu", prev[1]) >= 0 {
				continue
			}
		case "mapfile", "readarray":
			if len(prev) == 2 && prev[0] == '-' && strings.IndexByte("CcdnOsu", prev[1]) >= 0 {
				continue
			}
		case "unset":
		default:
			return
		}
		l.unsureOf(prog + " gets a variable name the line computes (bash evaluates its subscript)")
		return
	}
}

// evaluate adds what eval, source or . (c.argv[i]) runs: eval's arguments
// joined are a script; source reads a file, which is the line's own text
// when it is stdin or a device.
func (l *loose) evaluate(c candidate, i, depth int) {
	prog := path.Base(c.argv[i])
	for k := i + 1; k < len(c.argv); k++ {
		if !c.lit[k] {
			l.unsureOf(prog + "'s argument is not a literal (bash expands it first)")
			return
		}
	}
	if prog == "eval" {
		l.queueScript(pending{src: strings.Join(c.argv[i+1:], " "), depth: depth + 1, sure: true})
		return
	}
	if i+1 < len(c.argv) {
		f := path.Clean(c.argv[i+1])
		if f == "-" || strings.HasPrefix(f, "/dev/") || strings.HasPrefix(f, "/proc/") {
			l.unsureOf(prog + " reads " + c.argv[i+1] + ", the line's own text")
		}
	}
	l.script(strings.Join(c.argv[i+1:], " "), depth+1)
}

// findExec are the find actions that run a command.
var findExec = map[string]bool{"-exec": true, "-execdir": true, "-ok": true, "-okdir": true}

func (l *loose) find(c candidate, i, depth int) {
	for k := i + 1; k < len(c.argv); k++ {
		if findExec[c.argv[k]] && k+1 < len(c.argv) {
			// The command ends at ";", or at "+" right after "{}" (env -u +
			// rm x \; runs env with a "+").
			end := k + 1
			for end < len(c.argv) && c.argv[end] != ";" && !(c.argv[end] == "+" && c.argv[end-1] == "{}") {
				end++
			}
			// What -exec runs, and what that runs (timeout 5 rm, sh -c).
			l.call(candidate{argv: c.argv[k+1 : end], lit: c.lit[k+1 : end]}, depth)
			k = end
		}
	}
}

// literal returns the value of w if it is a literal, for the loose
// analysis. glob reports unquoted characters that a shell expands (*, ?,
// [, {, ~).
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
				case ch == '[' && !closes(w.Parts[i:], v[j+1:]):
					// No ] follows: bash matches nothing, [ is a
					// character ([ -f x ] is the test builtin).
					b.WriteByte(ch)
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
