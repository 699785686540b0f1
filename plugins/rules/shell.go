package rules

import (
	"context"
	"path"
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
	// parser (bash) and posix (sh) are reused for the scripts found in the
	// line, which wait in queue.
	parser, posix *syntax.Parser
	queue         []pending
}

func looseAnalyze(ctx context.Context, command string, f *syntax.File) *loose {
	l := &loose{ctx: ctx, parseLeft: maxParse, suffixLeft: maxSuffixArgs}
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
		l.parsed = l.script(command, 0)
	}
	l.drain()
	if l.stdinShell {
		// What the shell reads may be any literal of the line
		// (echo 'rm x' | sh): each one that looks like a script is one.
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
	return l
}

// parseLine parses a line as bash for both analyses, if it is within the
// strict budget.
func parseLine(command string) *syntax.File {
	if len(command) > MaxLineBytes {
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
	f, err := parser.Parse(strings.NewReader(p.src), "")
	if err != nil {
		what := "the line"
		if p.depth > 0 {
			what = "a script in the line"
		}
		l.unsureOf(what + " does not parse as " + dialect + ": " + err.Error())
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

func (l *loose) file(f *syntax.File, depth int) {
	var bodies map[*syntax.Word]bool // here-document bodies: data, unless fed to a shell (below)
	var shifted map[*syntax.CallExpr]bool
	syntax.Walk(f, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Redirect:
			if n.Hdoc != nil {
				if bodies == nil {
					bodies = map[*syntax.Word]bool{}
				}
				bodies[n.Hdoc] = true
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
						if body, ok, _ := literal(w); ok && w != nil {
							l.queueScript(pending{src: body, depth: depth + 1, posix: path.Base(prog) != "bash"})
						}
					}
				}
			}
		case *syntax.Word:
			// Text that bash may evaluate later, quoted now: an array
			// subscript ('a[$(rm x)]' for test -v, printf -v, let,
			// [[ -v ]], declare -n, arithmetic on a variable) or a string
			// a builtin runs.
			if bodies[n] {
				break
			}
			if s, ok, _ := literal(n); ok && (strings.Contains(s, "$(") || strings.Contains(s, "`")) && l.alive() {
				l.script(s, depth+1)
			}
		case *syntax.CallExpr:
			if len(n.Args) > 0 && l.alive() {
				c := candidate{argv: make([]string, len(n.Args)), lit: make([]bool, len(n.Args))}
				for i, w := range n.Args {
					s, ok, glob := literal(w)
					c.argv[i], c.lit[i] = s, ok && !glob
				}
				l.call(c, depth)
				if shifted[n] {
					l.suffixes(c, 0, depth)
				}
			}
		}
		return true
	})
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
			l.script(strings.Join(c.argv[i+1:], " "), depth+1)
			return
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
// argument that is not a plain option.
func (l *loose) shellArgs(c candidate, i, depth int) {
	scripts := 0
	for k := i + 1; k < len(c.argv); k++ {
		arg := c.argv[k]
		if !c.lit[k] || strings.HasPrefix(arg, "-") && !strings.ContainsAny(arg, " \t\n;&|") || arg == "" {
			continue
		}
		scripts++
		l.queueScript(pending{src: arg, depth: depth + 1, posix: path.Base(c.argv[i]) != "bash"})
	}
	if scripts == 0 {
		l.stdinShell = true
	}
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
