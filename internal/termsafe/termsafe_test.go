package termsafe

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestText(t *testing.T) {
	cases := []struct{ in, text, line string }{
		{"plain reason", "plain reason", "plain reason"},
		{"two\nlines\tand tab", "two\nlines\tand tab", `two\nlines\tand tab`},
		{"\x1b]0;pwned\x07title", `\x1b]0;pwned\atitle`, `\x1b]0;pwned\atitle`},
		{"accepted\rdeclined", `accepted\rdeclined`, `accepted\rdeclined`},
		{"\x1b[2J\x1b[Hclear", `\x1b[2J\x1b[Hclear`, `\x1b[2J\x1b[Hclear`},
		{"del\x7f", `del\x7f`, `del\x7f`},
		{"c1 \u009b31m", `c1 \u009b31m`, `c1 \u009b31m`},
		{"rlo \u202eeno", `rlo \u202eeno`, `rlo \u202eeno`},
		{"zw\u200bsp", `zw\u200bsp`, `zw\u200bsp`},
		{"bad \xff utf8", `bad \xff utf8`, `bad \xff utf8`},
		{"nul\x00", `nul\x00`, `nul\x00`},
		{"émoji ✓ 日本", "émoji ✓ 日本", "émoji ✓ 日本"},
	}
	for _, c := range cases {
		assert.Equal(t, c.text, Text(c.in), "Text(%q)", c.in)
		assert.Equal(t, c.line, Line(c.in), "Line(%q)", c.in)
	}
}

func TestRender(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain\n", "plain\n"},
		{"\x1b[1;31mred\x1b[0m\n", "\x1b[1;31mred\x1b[0m\n"},
		{"\x1b[38:2:255:0:0mtrue\x1b[m", "\x1b[38:2:255:0:0mtrue\x1b[m"},
		{"\x1b]0;title\x07after", "after"},
		{"\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", "link"},
		{"\x1b[2J\x1b[Hcleared", "cleared"},
		{"\x1b[?25lhidden cursor", "hidden cursor"},
		{"\x1bPdcs payload\x1b\\x", "x"},
		{"\x1bcreset", "reset"},
		{"\x1b(Bcharset", "charset"},
		{"accept\rdecline", "acceptdecline"},
		{"bell\x07", "bell"},
		{"\u009b2Jc1csi", "c1csi"},
		{"\u009d0;t\u009cc1osc", "c1osc"},
		{"unterminated \x1b]0;forever", "unterminated "},
		{"trailing esc\x1b", "trailing esc"},
		{"\x1b[>0;1mprivate", "private"},
		{"tab\tok", "tab\tok"},
		{"rlo\u202e", "rlo"},
		{"\xffbad", `\xffbad`},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, Render(c.in), "Render(%q)", c.in)
	}
}

// The outputs never contain a byte a terminal obeys, whatever the input.
func FuzzFilters(f *testing.F) {
	for _, s := range []string{"\x1b]0;x\x07", "\x1b[31mx\x1b[0m", "a\rb", "\u009b2J", "\xff\xfe", "\x1b[", "\x1bP"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, out := range map[string]string{"Text": Text(s), "Line": Line(s)} {
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q: invalid UTF-8", name, s, out)
			}
			for _, r := range out {
				if unsafeRune(r) && !(name == "Text" && (r == '\n' || r == '\t')) {
					t.Fatalf("%s(%q) = %q: contains %U", name, s, out, r)
				}
			}
		}
		out := Render(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Render(%q) = %q: invalid UTF-8", s, out)
		}
		// Every ESC left must start an SGR sequence.
		for i := 0; i < len(out); i++ {
			c := out[i]
			if c == 0x1b {
				j := strings.IndexByte(out[i:], 'm')
				if j < 0 || out[i+1] != '[' || !sgrParams(out[i+2:i+j]) {
					t.Fatalf("Render(%q) = %q: non-SGR escape at %d", s, out, i)
				}
				i += j
				continue
			}
			if (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f {
				t.Fatalf("Render(%q) = %q: control %#x at %d", s, out, c, i)
			}
		}
		for _, r := range out {
			if r >= 0x80 && unsafeRune(r) {
				t.Fatalf("Render(%q) = %q: contains %U", s, out, r)
			}
		}
	})
}

func BenchmarkTextClean(b *testing.B) {
	s := strings.Repeat("an ordinary reason with nothing to escape ", 4)
	b.ReportAllocs()
	for b.Loop() {
		_ = Text(s)
	}
}

// Attributes a renderer leaves set are reset at the end of its output, so
// that they do not apply to what the terminal prints next.
func TestRenderResetsAttributesLeftSet(t *testing.T) {
	for in, want := range map[string]string{
		"ok\x1b[8m\x1b[30;40m":       "ok\x1b[8m\x1b[30;40m\x1b[0m",
		"\x1b[1mbold\x1b[0m done":    "\x1b[1mbold\x1b[0m done",
		"\x1b[31mred\x1b[m":          "\x1b[31mred\x1b[m",
		"\x1b[31mred\x1b[0m\x1b[8m!": "\x1b[31mred\x1b[0m\x1b[8m!\x1b[0m",
		"a\x1b]0;title\x07b":         "ab",
		"\x1b[2Jx\x1b[0m":            "x\x1b[0m",
	} {
		if got := Render(in); got != want {
			t.Errorf("Render(%q) = %q, want %q", in, got, want)
		}
	}
}
