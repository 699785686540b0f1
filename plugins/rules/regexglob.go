package rules

import (
	"regexp"
	"regexp/syntax"
)

// A globToken is one step of a command's text as a decline rule's
// command_regex may see it once bash has expanded its patterns: a known
// rune, any one rune, or any runes.
type globToken struct {
	r    rune
	kind int // tokRune, tokAny or tokStar
}

const (
	tokRune = iota
	tokAny
	tokStar
)

// globTokens returns the text of argv joined with spaces, a pattern
// (lit false) read as bash expands it: its literal runes, ? and a bracket
// expression as any rune, * as any runes, then any runes more (a pattern
// may expand to several names: npm c* is npm cache clean). A pattern the
// reading does not follow (braces, expansions, [[:class:]]) is any runes.
func globTokens(argv []string, isLit func(int) bool) []globToken {
	var out []globToken
	for i, w := range argv {
		if i > 0 {
			out = append(out, globToken{r: ' '})
		}
		if isLit(i) {
			for _, c := range w {
				out = append(out, globToken{r: c})
			}
			continue
		}
		if !mayExpandTo(w, "\x00") { // a pattern mayExpandTo reads
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
		}
		out = append(out, globToken{kind: tokStar})
	}
	return out
}

// mayMatchGlobbed reports whether re may match (as regexp.MatchString,
// starting at a rune the line spells out) some text the command argv
// becomes once its patterns have expanded (globTokens). It runs re's program as an NFA
// over the tokens: any rune steps on every instruction that takes a rune,
// any runes to a fixed point. Assertions other than the start of the
// text (^, \A) hold everywhere: the answer errs towards "may".
func mayMatchGlobbed(re *regexp.Regexp, argv []string, isLit func(int) bool) bool {
	parsed, err := syntax.Parse(re.String(), syntax.Perl)
	if err != nil {
		return true
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return true
	}
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
	step := func(set []bool, t globToken) []bool {
		next := make([]bool, len(prog.Inst))
		for pc, on := range set {
			if !on {
				continue
			}
			in := &prog.Inst[pc]
			switch in.Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				if t.kind != tokRune || in.MatchRune(t.r) {
					add(next, in.Out, false)
				}
			}
		}
		return next
	}
	set := make([]bool, len(prog.Inst))
	add(set, uint32(prog.Start), true)
	for i, t := range globTokens(argv, isLit) {
		if matched {
			return true
		}
		if t.kind == tokRune {
			if i > 0 {
				// A match may start at a rune the line spells out, not
				// inside what a pattern expands to: there the regex would
				// see a file's name as an argument (ls *.go is no git
				// push, whatever the names).
				add(set, uint32(prog.Start), false)
			}
			set = step(set, t)
			continue
		}
		if t.kind == tokAny {
			set = step(set, t)
			continue
		}
		// Any runes: the states reachable by any number of any-rune
		// steps, this one included.
		for {
			next := step(set, globToken{kind: tokAny})
			grew := false
			for pc, on := range next {
				if on && !set[pc] {
					set[pc], grew = true, true
				}
			}
			if !grew || matched {
				break
			}
		}
	}
	return matched
}
