package rules

import (
	"maps"
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
	text    bool                // the line holds $( or ` as data, or decodes escapes
	decoded bool                // arithmetic reads decoded text directly
}

func newFlow() *flow {
	return &flow{built: map[string]bool{}, copies: map[string][]string{}, arith: map[string]bool{}}
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
		if n.Dollar && strings.Contains(n.Value, `\`) {
			f.text = true
		}
	case *syntax.Word:
		if t, ok, _ := literal(n); ok && (strings.Contains(t, "$(") || strings.Contains(t, "`")) {
			f.text = true
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
				if e.Value != nil && f.dangerous(e.Value) {
					f.built[name] = true
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
	case *syntax.Redirect:
		if n.Op == syntax.WordHdoc && n.Word != nil && f.dangerous(n.Word) {
			f.text = true // read z <<< "$x$y"
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
	}
	if f.decoded {
		f.decoded = false
		return "arithmetic evaluates text the line decodes ($'\\x24…')"
	}
	return ""
}

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
	switch prog {
	case "printf":
		for i := 1; i+1 < len(args); i++ {
			if args[i] == "-v" {
				f.built[strings.SplitN(args[i+1], "[", 2)[0]] = true
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
			params = true
			parts++
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				if _, ok := q.(*syntax.ParamExp); ok {
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
				f.decoded = true
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
			if identRe.MatchString(tok) {
				f.arith[tok] = true
			}
		}
		return
	}
	for _, p := range w.Parts {
		if pe, ok := p.(*syntax.ParamExp); ok && pe.Param != nil {
			f.arith[pe.Param.Value] = true
		}
		if sq, ok := p.(*syntax.SglQuoted); ok && sq.Dollar {
			f.decoded = true
		}
	}
}

// evaluated returns a variable arithmetic evaluates that may hold text
// the line builds, or "".
func (f *flow) evaluated() string {
	if f.text {
		for _, r := range f.readers {
			f.built[r] = true
		}
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
			return name
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
