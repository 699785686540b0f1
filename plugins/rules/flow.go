package rules

import (
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// A flow follows, in one script the loose reading walks, which variables
// may hold text the line builds and which ones arithmetic evaluates: bash
// evaluates a variable's value as an arithmetic expression, and an array
// subscript in it runs its command substitution (z='a[$(rm x)]';
// echo $((z))). The text may be spelt out ('a[$(…)]'), assembled (z=$x$y,
// z+=…, printf -v z '%s%s' …), or decoded ($'\x24', printf '\x24'); it
// may reach the variable by an assignment, a copy (w=z, w=$z), read,
// mapfile, for or set --. A value a program prints (n=$(nproc)) is the
// program's business, as a script file is.
type flow struct {
	built   map[string]bool     // assigned text the line builds
	copies  map[string][]string // name -> the names its value may evaluate or copy
	readers []string            // assigned from stdin, a loop or set --
	arith   map[string]bool     // evaluated by arithmetic
	funcs   map[string]bool     // functions the line defines
	// text: the line holds text that may be or form a command
	// substitution (substText); without it no value can hold one but a
	// program's output, which is the program's business.
	text bool
	// joined: arithmetic joins or decodes text itself ($(($x$y)),
	// $(($'…'))).
	joined bool
}

func newFlow() *flow {
	return &flow{built: map[string]bool{}, copies: map[string][]string{}, arith: map[string]bool{}, funcs: map[string]bool{}}
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$|^[0-9]$`)

// visit records what node n says of the flow; it returns why the
// analysis is unsure at once, if it is.
func (f *flow) visit(n syntax.Node) string {
	switch n := n.(type) {
	case *syntax.ArithmExp:
		f.arithOf(n.X)
	case *syntax.ArithmCmd:
		f.arithOf(n.X)
	case *syntax.LetClause:
		for _, x := range n.Exprs {
			f.arithOf(x)
		}
	case *syntax.CStyleLoop:
		f.arithOf(n.Init)
		f.arithOf(n.Cond)
		f.arithOf(n.Post)
	case *syntax.BinaryTest:
		switch n.Op {
		case syntax.TsEql, syntax.TsNeq, syntax.TsLss, syntax.TsLeq, syntax.TsGtr, syntax.TsGeq:
			// -eq … -ge evaluate their operands; == and =~ compare text.
			if w, ok := n.X.(*syntax.Word); ok {
				f.arithWord(w)
			}
			if w, ok := n.Y.(*syntax.Word); ok {
				f.arithWord(w)
			}
		}
	case *syntax.ParamExp:
		if n.Index != nil && !allIndex(n.Index) {
			f.arithOf(n.Index)
		}
		if n.Slice != nil {
			f.arithOf(n.Slice.Offset)
			f.arithOf(n.Slice.Length)
		}
	case *syntax.SglQuoted:
		if n.Dollar && escapesDollar(n.Value) {
			f.text = true
		}
	case *syntax.Word:
		if t, ok, _ := literal(n); ok && substText(t) {
			f.text = true
		}
		// A word joined with an expansion is no literal, but its quoted
		// and plain pieces are the line's text ('a[$(rm x)]'$y).
		for _, p := range n.Parts {
			switch p := p.(type) {
			case *syntax.Lit:
				f.text = f.text || substText(p.Value)
			case *syntax.SglQuoted:
				f.text = f.text || !p.Dollar && substText(p.Value)
			case *syntax.DblQuoted:
				for _, q := range p.Parts {
					if l, ok := q.(*syntax.Lit); ok {
						f.text = f.text || substText(l.Value)
					}
				}
			}
		}
	case *syntax.DeclClause:
		integer := false
		for _, a := range n.Args {
			if v, ok, _ := literal(a.Value); ok && a.Naked && strings.HasPrefix(v, "-") && strings.ContainsAny(v, "in") {
				integer = true // -i: assignments evaluate; -n: a reference
			}
		}
		for _, a := range n.Args {
			if integer && a.Name != nil {
				f.arith[a.Name.Value] = true
			}
		}
	case *syntax.Assign:
		if n.Index != nil {
			f.arithOf(n.Index)
		}
		if n.Name == nil {
			break
		}
		name := n.Name.Value
		switch {
		case n.Append && n.Value != nil && numeric(n.Value):
			// n+=1: a number added (declare -i) or appended: no text.
		case n.Append:
			f.built[name] = true
		case n.Array != nil:
			for _, e := range n.Array.Elems {
				if e.Value == nil {
					continue
				}
				if f.dangerous(e.Value) {
					f.built[name] = true
				} else if src := copyOf(e.Value); src != "" {
					f.copies[name] = append(f.copies[name], src)
				}
			}
		case n.Value != nil:
			if f.dangerous(n.Value) {
				f.built[name] = true
			} else if src := copyOf(n.Value); src != "" {
				f.copies[name] = append(f.copies[name], src)
			} else if hasSubst(n.Value) {
				// A program's output: its business, unless the line
				// itself holds the text (y=$(echo 'a[$(rm x)]')).
				f.readers = append(f.readers, name)
			}
		}

	case *syntax.ForClause:
		if wi, ok := n.Loop.(*syntax.WordIter); ok {
			for _, w := range wi.Items {
				if f.dangerous(w) {
					f.built[wi.Name.Value] = true
				}
			}
			f.readers = append(f.readers, wi.Name.Value)
		}
	case *syntax.CallExpr:
		f.call(n)
	case *syntax.FuncDecl:
		f.funcs[n.Name.Value] = true
	}
	return ""
}

// substText reports whether literal text may be, or form, a command
// substitution: it holds $( or a backquote, ends with $ (x='a[$' joined
// with y='(rm x)]'), holds $ with [ or ( (x='a[$q' and ${x/q/$y}), or
// spells $ or ` as an escape (printf '\x24', $'\044').
func substText(t string) bool {
	return strings.Contains(t, "$(") || strings.Contains(t, "`") || strings.HasSuffix(t, "$") ||
		strings.Contains(t, "$") && strings.ContainsAny(t, "[(") || escapesDollar(t)
}

// escapesDollar reports whether t spells $ or ` as an escape sequence:
// octal (\44, \044, and printf %b's and echo -e's \0044), hex (\x24),
// Unicode with any number of digits (\u24, \U0024), or sed's \o44 and
// \d36.
func escapesDollar(t string) bool {
	return escapeRe.MatchString(t)
}

var escapeRe = regexp.MustCompile(`\\(0*(44|140)|[xXuU]0*(24|60)|o0*(44|140)|d0*(36|96))`)

// call records the variables a builtin assigns: printf -v NAME builds
// its value from its format; read and mapfile read theirs; set -- sets
// the positional parameters.
func (f *flow) call(c *syntax.CallExpr) {
	if len(c.Args) == 0 {
		return
	}
	prog, ok, _ := literal(c.Args[0])
	if !ok {
		return
	}
	args := make([]string, len(c.Args))
	for i, w := range c.Args {
		args[i], _, _ = literal(w)
	}
	if shellNames[path.Base(prog)] || f.funcs[prog] {
		for _, w := range c.Args[1:] {
			if f.dangerous(w) {
				// A function, or bash -c, gets it as $1 … (f "$x$y").
				for k := 1; k <= 9; k++ {
					f.built[string(rune('0'+k))] = true
				}
				f.built["@"], f.built["*"] = true, true
				break
			}
		}
	}
	switch prog {
	case "printf":
		for i := 1; i < len(args); i++ {
			switch {
			case args[i] == "-v" && i+1 < len(args):
				f.built[strings.SplitN(args[i+1], "[", 2)[0]] = true
			case strings.HasPrefix(args[i], "-v") && len(args[i]) > 2:
				f.built[strings.SplitN(args[i][2:], "[", 2)[0]] = true // -vz is -v z
			}
		}
	case "read", "mapfile", "readarray":
		for _, a := range args[1:] {
			if identRe.MatchString(a) {
				f.readers = append(f.readers, a)
			}
		}
	case "set":
		for i, a := range args[1:] {
			if a == "--" || i == 0 && !strings.HasPrefix(a, "-") {
				for k := 1; k <= 9; k++ {
					f.readers = append(f.readers, string(rune('0'+k)))
				}
				for _, w := range c.Args[1:] {
					if f.dangerous(w) {
						f.text = true
					}
				}
				break
			}
		}
	}
}

// dangerous reports whether w's value may be text the line builds: it
// holds $( or ` as text, decodes escapes ($'…', printf '\x24'), or joins
// an expansion with something else.
func (f *flow) dangerous(w *syntax.Word) bool {
	if t, ok, _ := literal(w); ok {
		return strings.Contains(t, "$(") || strings.Contains(t, "`")
	}
	params, parts := false, 0
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.SglQuoted:
			if p.Dollar && strings.Contains(p.Value, `\`) {
				return true
			}
			parts++
		case *syntax.ParamExp:
			if joins(p) {
				return true
			}
			params = true
			parts++
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if pe, ok := q.(*syntax.ParamExp); ok {
					if joins(pe) {
						return true
					}
					params = true
				}
				if _, ok := q.(*syntax.CmdSubst); ok && decodes(q) {
					return true
				}
				parts++
			}
		case *syntax.CmdSubst:
			if decodes(p) {
				return true
			}
			parts++
		default:
			parts++
		}
	}
	return params && parts > 1
}

// decodes reports whether a command substitution's text decodes escapes
// (printf '\x24', echo -e '\044'): its output may be any text.
func decodes(n syntax.Node) bool {
	var b strings.Builder
	syntax.NewPrinter().Print(&b, n)
	t := b.String()
	return strings.Contains(t, `\x`) || strings.Contains(t, `\0`) || strings.Contains(t, `\u`) || strings.Contains(t, `\U`)
}

// copyOf returns the variable w copies or names (w=$z, w=z: $((w))
// evaluates z), or "".
func copyOf(w *syntax.Word) string {
	if t, ok, _ := literal(w); ok && identRe.MatchString(t) {
		return t
	}
	parts := w.Parts
	if len(parts) == 1 {
		if dq, ok := parts[0].(*syntax.DblQuoted); ok && len(dq.Parts) == 1 {
			parts = dq.Parts
		}
	}
	if len(parts) == 1 {
		if pe, ok := parts[0].(*syntax.ParamExp); ok && pe.Param != nil && !pe.Length {
			return pe.Param.Value
		}
	}
	return ""
}

// arithOf records the variables an arithmetic expression evaluates.
func (f *flow) arithOf(x syntax.ArithmExpr) {
	if x == nil {
		return
	}
	syntax.Walk(x, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Word:
			f.arithWord(n)
		case *syntax.ParamExp:
			if n.Param != nil {
				f.arith[n.Param.Value] = true
			}
		case *syntax.SglQuoted:
			if n.Dollar {
				f.joined = true
			}
		}
		return true
	})
}

func (f *flow) arithWord(w *syntax.Word) {
	if t, ok, _ := literal(w); ok {
		for _, tok := range strings.FieldsFunc(t, func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			if identRe.MatchString(tok) && (tok[0] < '0' || tok[0] > '9') {
				f.arith[tok] = true // a name; digits are a number here ($1 is a ParamExp)
			}
		}
		return
	}
	if f.dangerous(w) {
		// The arithmetic itself joins text: $(($x$y)), $(("${a[*]}")).
		f.joined = true
	}
	for _, p := range w.Parts {
		if pe, ok := p.(*syntax.ParamExp); ok && pe.Param != nil {
			f.arith[pe.Param.Value] = true
		}
		if sq, ok := p.(*syntax.SglQuoted); ok && sq.Dollar {
			f.joined = true
		}
	}
}

// evaluated returns why arithmetic may evaluate text the line builds, or
// "".
func (f *flow) evaluated() string {
	if !f.text {
		return ""
	}
	if f.joined {
		return "arithmetic joins or decodes text ($(($x$y)), $'…'), and the line holds the material of a command substitution"
	}
	// The text may reach what a program prints or a loop or read assigns
	// (z=$(echo "$x$y"), echo … | while read z).
	for _, r := range f.readers {
		f.built[r] = true
	}
	for changed := true; changed; {
		changed = false
		for name, srcs := range f.copies {
			for _, src := range srcs {
				if f.built[src] && !f.built[name] {
					f.built[name], changed = true, true
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.arith)) {
		if f.built[name] {
			return "arithmetic evaluates " + name + ", which may hold text the line builds"
		}
	}
	return ""
}

// numeric reports whether w is a literal of digits and arithmetic
// operators only.
func numeric(w *syntax.Word) bool {
	t, ok, _ := literal(w)
	return ok && strings.Trim(t, "0123456789+-*/% ") == ""
}

// hasSubst reports whether w holds a command substitution.
func hasSubst(w *syntax.Word) bool {
	found := false
	syntax.Walk(w, func(n syntax.Node) bool {
		if _, ok := n.(*syntax.CmdSubst); ok {
			found = true
		}
		return !found
	})
	return found
}

// joins reports whether one expansion joins text: a replacement or a
// default value (${x/q/$y}, ${x:-$y}), or all the elements or
// parameters ("${a[*]}", "$*", joined with IFS).
func joins(pe *syntax.ParamExp) bool {
	if pe.Repl != nil {
		return true
	}
	if pe.Exp != nil && pe.Exp.Word != nil {
		switch pe.Exp.Op {
		case syntax.AlternateUnset, syntax.AlternateUnsetOrNull, syntax.DefaultUnset, syntax.DefaultUnsetOrNull,
			syntax.AssignUnset, syntax.AssignUnsetOrNull:
			return true // ${x:-$y} may be another value; # % ^ , only trim or change case
		}
	}
	if pe.Param != nil && (pe.Param.Value == "*" || pe.Param.Value == "@") {
		return true
	}
	if pe.Exp != nil && pe.Exp.Op == syntax.OtherParamOps {
		return true // ${x@E} decodes escapes (\x24), ${x@P} expands
	}
	return allIndex(pe.Index) && pe.Index != nil
}
