package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

var seeds = []string{
	`{}`, `[]`, `""`, `"a"`, `0`, `-0`, `1.5e+3`, `-12.0E-1`, `true`, `false`, `null`,
	`{"a":1,"b":[1,2,{"c":null}],"d":"x\ny\u00e9\ud83d\ude00"}`,
	`"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`, "\"\xff\xfe\"", "\"\xed\xa0\x80\"", `"\/\b\f\r\t\\\""`,
	`01`, `1.`, `.1`, `1e`, `-`, `{"a"}`, `{"a":}`, `[1,]`, `{,}`, `"\x"`, `"\u12"`, "\"a\x01\"", `tru`, `nul`,
	`{"a" : [ 1 , 2 ] , "b" : { } }`, strings.Repeat("[", 600) + strings.Repeat("]", 600),
}

// SkipValue accepts exactly what json.Valid accepts (but for nesting
// beyond MaxDepth, which it reports as not handled).
func FuzzSkipValue(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		i := SkipSpace(b, 0)
		end, ok := SkipValue(b, i)
		if ok {
			ok = SkipSpace(b, end) == len(b)
		}
		valid := json.Valid(b)
		if ok && !valid {
			t.Fatalf("SkipValue accepts %q, which is not valid JSON", b)
		}
		if !ok && valid && !deep(b) {
			t.Fatalf("SkipValue rejects valid JSON %q", b)
		}
	})
}

func deep(b []byte) bool {
	depth, maxDepth := 0, 0
	for _, c := range b {
		switch c {
		case '[', '{':
			depth++
			maxDepth = max(maxDepth, depth)
		case ']', '}':
			depth--
		}
	}
	return maxDepth > MaxDepth
}

// AppendUnquoted decodes a string as encoding/json does.
func FuzzAppendUnquoted(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		end, plain, ok := ScanString(b, 0)
		var want string
		err := json.Unmarshal(b[:max(end, 1)], &want)
		if !ok {
			if err == nil && end == len(b) {
				t.Fatalf("ScanString rejects %q", b)
			}
			return
		}
		if err != nil {
			t.Fatalf("ScanString accepts %q: %v", b[:end], err)
		}
		got := string(AppendUnquoted(nil, b[:end]))
		if got != want {
			t.Fatalf("AppendUnquoted(%q) = %q, want %q", b[:end], got, want)
		}
		if plain && got != string(b[1:end-1]) {
			t.Fatalf("%q is plain but decodes to %q", b[:end], got)
		}
	})
}

func TestScanNumber(t *testing.T) {
	for _, tc := range []struct {
		in      string
		end     int
		integer bool
		ok      bool
	}{
		{"12,", 2, true, true}, {"-0]", 2, true, true}, {"1.25}", 4, false, true}, {"3e7", 3, false, true},
		{"-", 1, false, false}, {"1.e", 2, false, false},
	} {
		end, integer, ok := ScanNumber([]byte(tc.in), 0)
		if ok != tc.ok || ok && (end != tc.end || integer != tc.integer) {
			t.Errorf("ScanNumber(%q) = %d, %v, %v", tc.in, end, integer, ok)
		}
	}
}
