package termsafe

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		// An unterminated string sequence loses only its introducer: one
		// byte of the agent's text must not hide all that follows it.
		{"unterminated \x1b]0;forever", "unterminated 0;forever"},
		{"all good\x1b]\nexit 1\n", "all good\nexit 1\n"},
		{"notes\u009d.md\n+ authorized_keys", "notes.md\n+ authorized_keys"},
		{"a\x1bPdcs\x1b_apc\u0098sos\u009epm\u009fapc b", "adcsapcsospmapc b"},
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

// Attributes a renderer leaves set are reset at the end of its line and
// of its output, so that they do not apply to what the terminal prints
// next (a renderer's own status line after a command's output, say), and
// conceal is removed: it hides the rest of its line.
func TestRenderResetsAttributesLeftSet(t *testing.T) {
	for in, want := range map[string]string{
		"ok\x1b[8m\x1b[30;40m":                   "ok\x1b[30;40m\x1b[0m",
		"\x1b[1mbold\x1b[0m done":                "\x1b[1mbold\x1b[0m done",
		"\x1b[31mred\x1b[m":                      "\x1b[31mred\x1b[m",
		"\x1b[31mred\x1b[0m\x1b[8m!":             "\x1b[31mred\x1b[0m!",
		"a\x1b]0;title\x07b":                     "ab",
		"\x1b[2Jx\x1b[0m":                        "x\x1b[0m",
		"exit 0\n\x1b[30;40m\nfailed (exit 1)\n": "exit 0\n\x1b[30;40m\x1b[0m\nfailed (exit 1)\n",
		"\x1b[1;8;31mx\x1b[0m":                   "\x1b[1;31mx\x1b[0m",
		"\x1b[38;5;8mgrey\x1b[0m":                "\x1b[38;5;8mgrey\x1b[0m",
		"\x1b[48;2;8;8;8;8mx\x1b[0m":             "\x1b[48;2;8;8;8mx\x1b[0m",
		"\x1b[31mred\nnext":                      "\x1b[31mred\x1b[0m\nnext",
		// A terminal reads parameters as numbers, up to a colon (review
		// 16): 008, 0008 and 8:1 are conceal too.
		"\x1b[008mdecline\x1b[0m accept":    "decline\x1b[0m accept",
		"\x1b[1;0008mdecline\x1b[0m accept": "\x1b[1mdecline\x1b[0m accept",
		"\x1b[8:1mx\x1b[0m":                 "x\x1b[0m",
		"\x1b[038;5;8mgrey\x1b[0m":          "\x1b[038;5;8mgrey\x1b[0m",
		"\x1b[0;31mred\x1b[0m":              "\x1b[0;31mred\x1b[0m",
	} {
		if got := Render(in); got != want {
			t.Errorf("Render(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"\x1b[31mred\x1b[0m \x1b]0;t\x07ok\n": "red ok\n",
		"plain":                               "plain",
	} {
		if got := RenderPlain(in); got != want {
			t.Errorf("RenderPlain(%q) = %q, want %q", in, got, want)
		}
	}
}

// AppendJSON keeps the JSON value and leaves no character a terminal
// would obey or that hides text.
func TestAppendJSON(t *testing.T) {
	in := map[string]string{
		"reason":  "declined\u202e\u2066 detpecca \u200b",
		"summary": "touch x # \u202eevil\u009b2J\u009dtitle\u0007",
		"esc":     "\x1b]0;t\x07\r\x7f",
		"ok":      "héllo wörld – ✓",
	}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	out := AppendJSON([]byte("prefix "), b)
	require.True(t, strings.HasPrefix(string(out), "prefix "))
	out = out[len("prefix "):]
	var back map[string]string
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, in, back, "the same value")
	for _, r := range string(out) {
		assert.False(t, unsafeRune(r) && r != '\n', "%U left raw in %s", r, out)
	}
	assert.Contains(t, string(out), `\u202e`)
	assert.Contains(t, string(out), `\u009b`)
	assert.Contains(t, string(out), "héllo wörld – ✓", "other characters as they are")
	assert.Equal(t, "{\n\t\"a\": 1\r\n}", string(AppendJSON(nil, []byte("{\n\t\"a\": 1\r\n}"))), "JSON's whitespace kept")
	assert.Equal(t, `"\u001b\u007f"`, string(AppendJSON(nil, []byte("\"\x1b\x7f\""))), "raw C0 and DEL escaped too")
}

// A raw invalid byte in the JSON text (encoding/json copies a
// json.RawMessage's strings as they are: a plugin manifest's settings
// schema) is written as \ufffd, what a JSON decoder reads there: the
// output is valid UTF-8, and a lone 0x9b (CSI to a terminal that reads
// 8-bit controls) does not reach the terminal.
func TestAppendJSONInvalidUTF8(t *testing.T) {
	in := []byte("{\"title\":\"a\x9b2J\xc2\xff\"}")
	out := AppendJSON(nil, in)
	assert.True(t, utf8.Valid(out), "%q is not valid UTF-8", out)
	assert.Equal(t, `{"title":"a\ufffd2J\ufffd\ufffd"}`, string(out))
	var want, got map[string]string
	require.NoError(t, json.Unmarshal(in, &want))
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, want, got, "the value a JSON decoder reads is the same")
}

// Every format character that hides text is escaped, not only the
// zero-width spaces: the word joiner and invisible operators, the
// Mongolian vowel separator, the deprecated format controls, the soft
// hyphen, the tag characters (which carry a whole hidden ASCII string,
// "ASCII smuggling"), and letters that print as nothing (Hangul fillers).
// AppendJSON writes the same characters as \u escapes, a surrogate pair
// above U+FFFF, and the JSON value is unchanged.
func TestInvisibleCharactersAreEscaped(t *testing.T) {
	for _, r := range []rune{0x00ad, 0x034f, 0x115f, 0x180e, 0x2060, 0x2061, 0x2064, 0x206a, 0x206f, 0x3164, 0xfff9, 0xffa0,
		0xe0001, 0xe0041, 0xe007f} {
		s := "rm notes" + string(r) + ".txt"
		for _, got := range []string{Line(s), Text(s), Render(s)} {
			if strings.ContainsRune(got, r) {
				t.Errorf("U+%04X is printed raw: %q", r, got)
			}
		}
		if got := Line(s); !strings.HasPrefix(got, "rm notes\\") || !strings.HasSuffix(got, ".txt") {
			t.Errorf("Line(%q) = %q: want the character escaped in place", s, got)
		}
		js, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		out := AppendJSON(nil, js)
		if strings.ContainsRune(string(out), r) {
			t.Errorf("AppendJSON: U+%04X is written raw: %s", r, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil || back != s {
			t.Errorf("AppendJSON(%s) = %s: decodes to %q, %v; want the same value", js, out, back, err)
		}
	}
	// Letters, marks and symbols that print stay as they are.
	for _, s := range []string{"café", "naïve", "日本語", "한글", "✅ done", "⚠️ careful", "𝕏"} {
		if got := Line(s); got != s {
			t.Errorf("Line(%q) = %q: want it unchanged", s, got)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote("a\x1bb", 10); got != `a\x1bb` {
		t.Errorf("Quote short: %q", got)
	}
	got := Quote(strings.Repeat("\x1b", 100)+"é", 101)
	if strings.ContainsRune(got, '\x1b') || !strings.HasSuffix(got, "… (1 bytes more)") {
		t.Errorf("Quote long: %q", got)
	}
}
