// Package termsafe makes text that a plugin, the agent or any other
// untrusted party controls safe to print on a terminal.
//
// A terminal obeys the bytes it is sent: an escape sequence can set the
// window title (OSC 0), plant a hyperlink (OSC 8), clear the screen, move
// the cursor, or a carriage return can rewrite a line so that the reader
// sees a decision other than the one printed. codexhost therefore never
// prints untrusted text raw. Two filters cover the two kinds of output:
//
//   - [Text] and [Line] are for untrusted text inside codexhost's own
//     messages (reasons, error messages, plugin names and descriptions,
//     tool names, log lines). Every control character is shown in a
//     visible escaped form, so nothing is hidden and nothing is obeyed.
//   - [Render] is for a renderer's output, which may legitimately colour
//     its text: it keeps newlines, tabs and SGR colour sequences (ESC [ …
//     m) and removes every other control sequence and control character.
//   - [AppendJSON] is for JSON text (codex exec's --json lines): the same
//     JSON value, with every character that must not reach a terminal
//     written as a \u escape, so that nothing is obeyed and nothing is
//     lost.
//
// All functions are pure and safe for concurrent use. Their output is
// valid UTF-8: invalid bytes are shown as \xNN.
package termsafe

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Text returns s with every control character escaped except newline
// and tab: C0 controls, DEL, C1 controls (U+0080–U+009F), and the
// Unicode format characters that reorder or hide text (bidirectional
// overrides and isolates, zero-width characters). An escaped character is
// written as Go writes it in a string literal (\x1b, \r, \u202e), so the
// reader sees that it was there.
func Text(s string) string { return escape(s, false) }

// Line is [Text] for text that must stay on one line: newlines and tabs
// are escaped too (\n, \t).
func Line(s string) string { return escape(s, true) }

// Quote is [Text] of s cut at max bytes (at a character's end), saying how
// many bytes it left out: for a plugin's text an error or a decision
// quotes (its error messages, up to the size of its answer).
func Quote(s string, max int) string {
	if len(s) <= max {
		return Text(s)
	}
	return Text(strings.ToValidUTF8(s[:max], "")) + fmt.Sprintf("… (%d bytes more)", len(s)-max)
}

func escape(s string, oneLine bool) string {
	if clean(s, oneLine) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case (r == '\n' || r == '\t') && !oneLine:
			b.WriteRune(r)
		case unsafeRune(r):
			quoteRune(&b, r) // e.g. \x1b, \u202e
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// clean reports whether s needs no escaping, without allocating.
func clean(s string, oneLine bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if oneLine || (c != '\n' && c != '\t') {
					return false
				}
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafeRune(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafeRune reports whether r must never reach a terminal as itself:
// C0 (other than what the caller keeps), DEL, C1, and the characters that
// hide or reorder text: every Unicode format character (zero-width
// spaces and joiners, bidi marks, embeddings, overrides and isolates,
// invisible operators, the word joiner, the soft hyphen, the tag
// characters U+E0000–U+E007F that can carry a whole hidden ASCII string),
// the line and paragraph separators, the combining grapheme joiner, and
// the Hangul fillers, letters that print as nothing.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r < 0xad: // the rest of Latin-1 prints
		return false
	case unicode.Is(unicode.Cf, r),
		r == 0x2028, r == 0x2029, // line and paragraph separators
		r == 0x034f,                                        // combining grapheme joiner
		r == 0x115f, r == 0x1160, r == 0x3164, r == 0xffa0: // Hangul fillers
		return true
	}
	return false
}

// quoteRune writes r, which unsafeRune reports, as Go writes it in a
// string literal (\x1b, \u202e, \U000e0041); a character Go would print
// as itself (a Hangul filler) is written as \u too.
func quoteRune(b *strings.Builder, r rune) {
	q := strconv.QuoteRune(r)
	q = q[1 : len(q)-1]
	if q != string(r) {
		b.WriteString(q)
		return
	}
	const digits = "0123456789abcdef"
	if r > 0xffff {
		b.WriteString(`\U`)
		for sh := 28; sh >= 0; sh -= 4 {
			b.WriteByte(digits[r>>sh&0xf])
		}
		return
	}
	b.WriteString(`\u`)
	for sh := 12; sh >= 0; sh -= 4 {
		b.WriteByte(digits[r>>sh&0xf])
	}
}

// AppendJSON appends the JSON text b (as encoding/json writes it: C0
// controls already escaped) to buf with every character
// [Text] would escape written as a \u escape instead, JSON's whitespace
// between tokens (newline, tab, carriage return) aside: C1 controls
// (U+0080–U+009F, which encoding/json leaves raw, CSI among them) and the
// format characters that reorder or hide text. Such characters can only
// stand inside JSON strings, so the value is the same; a reader of the
// stream sees \u202e where a terminal would have obeyed U+202E. A byte
// that is not UTF-8 (encoding/json copies a json.RawMessage's strings as
// they are) is written as \ufffd, which a JSON decoder reads for it
// anyway: the output is valid UTF-8.
func AppendJSON(buf, b []byte) []byte {
	const digits = "0123456789abcdef"
	for i := 0; i < len(b); {
		if plainJSON(b[i]) {
			j := i + 1
			for j < len(b) && plainJSON(b[j]) {
				j++
			}
			buf = append(buf, b[i:j]...)
			i = j
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			// A byte that is not UTF-8: encoding/json copies the strings
			// of a json.RawMessage as they are (a plugin manifest's
			// settings schema), and a lone 0x9b is CSI to a terminal that
			// reads 8-bit controls. It can only stand inside a string: it
			// is written as \ufffd, the character a JSON decoder reads
			// there.
			buf = append(buf, `\ufffd`...)
			i++
			continue
		}
		if unsafeRune(r) {
			if r > 0xffff { // a tag character: JSON escapes it as a surrogate pair
				r1, r2 := utf16.EncodeRune(r)
				buf = append(buf, '\\', 'u', digits[r1>>12&0xf], digits[r1>>8&0xf], digits[r1>>4&0xf], digits[r1&0xf])
				r = r2
			}
			buf = append(buf, '\\', 'u', digits[r>>12&0xf], digits[r>>8&0xf], digits[r>>4&0xf], digits[r&0xf])
		} else {
			buf = append(buf, b[i:i+n]...)
		}
		i += n
	}
	return buf
}

// plainJSON reports whether c is copied as it is by AppendJSON: printable
// ASCII and JSON's whitespace (in case b is indented).
func plainJSON(c byte) bool {
	return c >= 0x20 && c < 0x7f || c == '\n' || c == '\t' || c == '\r'
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// Render filters a renderer's output for a terminal. It keeps printable
// text, newlines, tabs and SGR sequences (ESC [ params m, the colours and
// text attributes) but conceal (SGR 8); it removes every other escape
// sequence whole (CSI cursor and erase commands, OSC such as titles and
// hyperlinks, DCS, SOS, PM, APC, and two-byte escapes) and every other
// control character, carriage return included, and the format characters
// [Text] escapes. Invalid UTF-8 bytes are shown as \xNN.
//
// A string sequence (OSC, DCS, …) left open loses only its introducer,
// so that one byte of the agent's text does not hide what follows it.
// Attributes do not outlive their line: if an SGR other than a reset is
// in effect at a newline or at the end, Render writes a reset (ESC [ 0 m)
// there, so that what a command printed (black on black, say) cannot hide
// the next line, a renderer's own status line included.
func Render(s string) string { return render(s, true) }

// RenderPlain is [Render] without colours: SGR sequences are removed too
// (for --color never, NO_COLOR, or output that is not a terminal).
func RenderPlain(s string) string { return render(s, false) }

func render(s string, colour bool) string {
	if clean(s, false) {
		return s // the common case: nothing to remove, no allocation
	}
	var b strings.Builder
	b.Grow(len(s))
	open := false // an SGR other than a reset is in effect
	ends := unended{esc: len(s) + 1, c1: len(s) + 1}
	for i := 0; i < len(s); {
		c := s[i]
		if c == 0x1b {
			var sgr string
			i, sgr = renderEscape(&b, s, i, colour, &ends)
			if sgr != "" {
				open = sgr != "\x1b[m" && sgr != "\x1b[0m"
			}
			continue
		}
		if c < utf8.RuneSelf {
			if c == '\n' && open {
				b.WriteString("\x1b[0m")
				open = false
			}
			if c >= 0x20 && c != 0x7f || c == '\n' || c == '\t' {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(c))
		case r == 0x9b || r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f:
			// C1 CSI, OSC, DCS, SOS, PM, APC in their 8-bit form: drop the
			// whole sequence.
			i = skipC1(s, i+n, r, &ends)
			continue
		case unsafeRune(r):
			// other C1 controls and hiding format characters: dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	if open {
		b.WriteString("\x1b[0m")
	}
	return b.String()
}

// unended remembers, for one string, from where on no string sequence
// (OSC, DCS, SOS, PM, APC) ends: a search for the terminator that reached
// the end of the string from an index proves there is none from there on,
// so an introducer after it is known to be left open without searching
// again. Searching again from each introducer made Render quadratic (1
// MiB of "ESC ]" took minutes). esc is for the sequences ESC opens (ended
// by BEL or ESC \), c1 for their 8-bit forms (also ended by ST, U+009C);
// past the end means not known.
type unended struct{ esc, c1 int }

// renderEscape handles the escape sequence that starts at s[i] (ESC),
// writes it to b if it is SGR and colour is true (without conceal), and
// returns the index after it and the SGR it wrote, if any.
func renderEscape(b *strings.Builder, s string, i int, colour bool, ends *unended) (int, string) {
	if i+1 >= len(s) {
		return len(s), ""
	}
	switch s[i+1] {
	case '[': // CSI: parameters 0x30–0x3f, intermediates 0x20–0x2f, final 0x40–0x7e
		j := i + 2
		for j < len(s) && s[j] >= 0x30 && s[j] <= 0x3f {
			j++
		}
		params := s[i+2 : j]
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f {
			j++
		}
		if j >= len(s) {
			return len(s), ""
		}
		final := s[j]
		if final < 0x40 || final > 0x7e {
			// malformed: drop the introducer, the rest is shown as text
			return i + 2, ""
		}
		if final == 'm' && j == i+2+len(params) && sgrParams(params) && colour {
			p, ok := withoutConceal(params)
			if !ok {
				return j + 1, "" // conceal alone: nothing left to keep
			}
			sgr := "\x1b[" + p + "m"
			b.WriteString(sgr)
			return j + 1, sgr
		}
		return j + 1, ""
	case ']', 'P', 'X', '^', '_': // OSC, DCS, SOS, PM, APC: up to BEL or ST
		if i+2 < ends.esc {
			for j := i + 2; j < len(s); j++ {
				if s[j] == 0x07 {
					return j + 1, ""
				}
				if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
					return j + 2, ""
				}
			}
			ends.esc = i + 2
		}
		// Unterminated: only the introducer is dropped. Dropping to the
		// end would let one byte of the agent's text hide all that
		// follows it in the output (a renderer's later lines included).
		return i + 2, ""
	default:
		// two-byte escapes (ESC c reset, ESC 7/8 cursor save, ESC ( charset …)
		j := i + 1
		for j < len(s) && s[j] >= 0x20 && s[j] <= 0x2f { // intermediates
			j++
		}
		if j < len(s) {
			j++
		}
		return j, ""
	}
}

// withoutConceal returns the SGR parameter list p without conceal (8),
// which hides text, and whether anything is left of a p that had some
// (an empty list would be a reset). The 8 of a colour (38;5;8, 48;2;8;…)
// is a colour, not conceal.
// sgrNumber is the number an SGR parameter p stands for, as decimal
// digits without leading zeros: "008" and "8:1" are "8".
func sgrNumber(p string) string {
	p, _, _ = strings.Cut(p, ":")
	if n := strings.TrimLeft(p, "0"); n != "" || p == "" {
		return n
	}
	return "0"
}

func withoutConceal(p string) (string, bool) {
	if p == "" {
		return p, true
	}
	parts := strings.Split(p, ";")
	out := parts[:0:0]
	for k := 0; k < len(parts); k++ {
		// A terminal reads a parameter as a number (008 is 8), up to a
		// colon that starts its sub-parameters (8:1 is 8).
		switch sgrNumber(parts[k]) {
		case "8":
			continue
		case "38", "48", "58": // extended colour: 5;N or 2;R;G;B follow
			n := 0
			if k+1 < len(parts) {
				switch sgrNumber(parts[k+1]) {
				case "5":
					n = 2
				case "2":
					n = 4
				}
			}
			end := min(k+1+n, len(parts))
			out = append(out, parts[k:end]...)
			k = end - 1
			continue
		}
		out = append(out, parts[k])
	}
	if len(out) == 0 {
		return "", false
	}
	return strings.Join(out, ";"), true
}

// sgrParams reports whether p is a plain SGR parameter list: digits
// separated by ';' or ':' (colour sub-parameters).
func sgrParams(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}

// skipC1 skips an 8-bit C1 sequence whose introducer r ended at i. A
// string sequence (OSC, DCS, SOS, PM, APC) with no terminator skips only
// its introducer, as in renderEscape (ends: see unended).
func skipC1(s string, i int, r rune, ends *unended) int {
	if r == 0x9b { // CSI
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
			i++
		}
		return i
	}
	if i >= ends.c1 {
		return i
	}
	for j := i; j < len(s); {
		if s[j] == 0x07 {
			return j + 1
		}
		if s[j] == 0x1b && j+1 < len(s) && s[j+1] == '\\' {
			return j + 2
		}
		if rr, n := utf8.DecodeRuneInString(s[j:]); rr == 0x9c { // C1 ST
			return j + n
		} else {
			j += n
		}
	}
	ends.c1 = i
	return i
}
