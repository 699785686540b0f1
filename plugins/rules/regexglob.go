package rules

import (
	"path"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode"
)

// A globToken is one step of a glob pattern as bash expands it into a
// name: a known rune, any one rune, or any runes but a blank.
type globToken struct {
	r    rune
	kind int // tokRune, tokAny or tokStar
}

const (
	tokRune = iota
	tokAny
	tokStar
)

// patternTokens reads the glob pattern w as bash matches names with it:
// its literal runes, ? and a bracket expression as any rune, * as any
// runes. A pattern the reading does not follow (braces, expansions,
// [[:class:]], a bracket path.Match refuses) is any runes.
func patternTokens(w string) []globToken {
	if unreadPattern(w) {
		return []globToken{{kind: tokStar}}
	}
	return readPattern(w)
}

// patternAlternatives returns the names' tokens of each word a brace
// expansion in w gives (src/{a,b}*.go: src/a*.go and src/b*.go), at
// most 16; a pattern it cannot read is any runes.
func patternAlternatives(w string) [][]globToken {
	words := braceWords(w, 16)
	if words == nil {
		return [][]globToken{patternTokens(w)}
	}
	out := make([][]globToken, len(words))
	for i, x := range words {
		out[i] = patternTokens(x)
	}
	return out
}

// braceWords expands the brace groups {a,b} of w (not nested, no ranges),
// or returns nil if w has none, or ones it does not read, or more than max
// words.
func braceWords(w string, max int) []string {
	i := strings.IndexByte(w, '{')
	if i < 0 {
		return nil
	}
	j := strings.IndexByte(w[i:], '}')
	if j < 0 || strings.ContainsAny(w[i+1:i+j], "{$`\\") || !strings.Contains(w[i+1:i+j], ",") {
		return nil
	}
	var out []string
	for _, alt := range strings.Split(w[i+1:i+j], ",") {
		rest := w[i+j+1:]
		tails := []string{rest}
		if strings.IndexByte(rest, '{') >= 0 {
			if tails = braceWords(rest, max); tails == nil {
				return nil
			}
		}
		for _, t := range tails {
			out = append(out, w[:i]+alt+t)
			if len(out) > max {
				return nil
			}
		}
	}
	return out
}

// readPattern reads a pattern without braces or expansions.
func readPattern(w string) []globToken {
	if _, err := path.Match(strings.ReplaceAll(w, "[!", "[^"), ""); err != nil {
		return []globToken{{kind: tokStar}}
	}
	var out []globToken
	rs := []rune(w)
	for k := 0; k < len(rs); k++ {
		switch rs[k] {
		case '*':
			out = append(out, globToken{kind: tokStar})
		case '?':
			out = append(out, globToken{kind: tokAny})
		case '[':
			end := k + 1
			if end < len(rs) && (rs[end] == '!' || rs[end] == '^') {
				end++
			}
			if end < len(rs) && rs[end] == ']' {
				end++
			}
			for end < len(rs) && rs[end] != ']' {
				end++
			}
			if end >= len(rs) { // no closing ]: a literal [
				out = append(out, globToken{r: '['})
				continue
			}
			out = append(out, globToken{kind: tokAny})
			k = end
		case '\\':
			if k+1 < len(rs) {
				k++
			}
			out = append(out, globToken{r: rs[k]})
		default:
			out = append(out, globToken{r: rs[k]})
		}
	}
	return out
}

// mayMatchGlobbed reports whether re may match (as regexp.MatchString)
// some text the command argv becomes once its glob patterns (the words
// isLit says are no known literals) have expanded: each to one or more
// names, separated by blanks (npm c* is npm cache clean), each name read
// by patternTokens, with * taking no white space (a name with a blank
// reads as two names). A match may start at any rune the line spells
// out, at the start of every name (make -- * is make deploy with a file
// deploy) and after a / in it (make ./*), not elsewhere in a name (ls
// *.go is no git push -f, whatever the names). It runs re's program as an NFA: any rune steps on
// every instruction that takes a rune but a blank; any runes to a fixed
// point. Assertions other than the start of the text (^, \A) hold
// everywhere: the answer errs towards "may".
func mayMatchGlobbed(re *regexp.Regexp, argv []string, isLit func(int) bool) bool {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return true
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return true
	}
	n := len(prog.Inst)
	matched := false
	var add func(set []bool, pc uint32, atStart bool)
	add = func(set []bool, pc uint32, atStart bool) {
		if set[pc] {
			return
		}
		set[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			add(set, in.Out, atStart)
			add(set, in.Arg, atStart)
		case syntax.InstCapture, syntax.InstNop:
			add(set, in.Out, atStart)
		case syntax.InstEmptyWidth:
			if syntax.EmptyOp(in.Arg)&(syntax.EmptyBeginText|syntax.EmptyBeginLine) != 0 && !atStart {
				return
			}
			add(set, in.Out, atStart)
		case syntax.InstMatch:
			matched = true
		}
	}
	start := func(set []bool, atStart bool) { add(set, uint32(prog.Start), atStart) }
	step := func(set []bool, t globToken) []bool {
		next := make([]bool, n)
		for pc, on := range set {
			if !on {
				continue
			}
			in := &prog.Inst[pc]
			switch in.Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				var ok bool
				switch t.kind {
				case tokRune:
					ok = in.MatchRune(t.r)
				case tokAny:
					ok = true
				default: // a rune of a name's * : any but white space
					ok = takesNonSpace(in)
				}
				if ok {
					add(next, in.Out, false)
				}
			}
		}
		return next
	}
	union := func(dst, src []bool) bool {
		grew := false
		for pc, on := range src {
			if on && !dst[pc] {
				dst[pc], grew = true, true
			}
		}
		return grew
	}
	// name runs the tokens of one name from set, a match possibly
	// starting at its first rune.
	name := func(set []bool, toks []globToken, atStart bool) []bool {
		start(set, atStart)
		for _, t := range toks {
			if matched {
				return set
			}
			if t.kind != tokStar {
				set = step(set, t)
				if t.kind == tokRune && t.r == '/' {
					start(set, false) // a path's next part (make ./*: make deploy)
				}
				continue
			}
			for !matched && union(set, step(set, t)) {
			}
		}
		return set
	}
	set := make([]bool, n)
	start(set, true)
	for i, w := range argv {
		if matched {
			return true
		}
		if i > 0 {
			start(set, false)
			set = step(set, globToken{r: ' '})
		}
		if isLit(i) {
			for k, c := range w {
				if k > 0 || i > 0 {
					start(set, false) // a match may start at a rune the line spells out
				}
				set = step(set, globToken{r: c})
			}
			continue
		}
		alts := patternAlternatives(w)
		names := func(from []bool, atStart bool) []bool {
			out := make([]bool, n)
			for _, toks := range alts {
				union(out, name(slices.Clone(from), toks, atStart))
			}
			return out
		}
		// One name or more, each after a blank, to a fixed point.
		all := names(set, i == 0)
		for !matched {
			if !union(all, names(step(all, globToken{r: ' '}), false)) {
				break
			}
		}
		set = all
	}
	return matched
}

// takesNonSpace reports whether the rune instruction in matches some rune
// that is not white space.
func takesNonSpace(in *syntax.Inst) bool {
	switch in.Op {
	case syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
		return true
	}
	for i := 0; i+1 < len(in.Rune); i += 2 {
		lo, hi := in.Rune[i], in.Rune[i+1]
		if hi-lo > 64 {
			return true
		}
		for r := lo; r <= hi; r++ {
			if !unicode.IsSpace(r) {
				return true
			}
		}
	}
	if len(in.Rune) == 1 { // one rune, perhaps folded
		return !unicode.IsSpace(in.Rune[0])
	}
	return false
}
