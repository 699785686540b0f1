package abijson

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Nesting right at encoding/json's limit, in every entry point.
func TestDepthBoundary(t *testing.T) {
	for _, k := range []int{9998, 9999, 10000, 10001} {
		arr := strings.Repeat("[", k) + strings.Repeat("]", k)
		obj := strings.Repeat(`{"a":`, k) + "1" + strings.Repeat("}", k)
		for _, inner := range []string{arr, obj} {
			in := `{"arguments":` + inner + `,"x":` + inner + `}`
			checkDecodeToolRequests(t, []byte(in), nil)
			checkDecodeObject(t, []byte(`{"r":`+inner+`}`), nil)
			checkDecodeObject(t, []byte(`{"x":`+inner+`}`), nil)
			if got, want := Valid([]byte(inner)), json.Valid([]byte(inner)); got != want {
				t.Errorf("Valid depth %d = %v, want %v", k, got, want)
			}
			checkEncode(t, &abi.Manifest{SettingsSchema: abi.RawJSON(inner)}, AppendManifest)
			in2 := `{"questions":[{"options":[{"x":` + inner + `}]}]}`
			checkDecodeToolRequests(t, []byte(in2), nil)
		}
	}
}

func TestManifestEdges(t *testing.T) {
	raws := []string{
		" {\"a b\" : \"x\t\\\" y\" , \"<&>\":[ 1 , 2 ]}\n",
		"\"\u2028\u2029 \xe2\x80\xa8\"",
		"\"\xff\xfe bad \xe2\x80\"",
		"\"\\u2028 \\\\\" \"",
		`"\\"`, `"\\\\\\"`, `["\\", " ", "\\\""]`,
		"\"\xe2\x80\xa8\"",
		"0", "-0.0e+1", "null", "true", "  null  ",
	}
	for _, r := range raws {
		checkEncode(t, &abi.Manifest{SettingsSchema: abi.RawJSON(r)}, AppendManifest)
		checkEncode(t, &abi.Manifest{Tools: []abi.Tool{{Name: "<t>", InputSchema: abi.RawJSON(r)}}}, AppendManifest)
	}
	for _, m := range []*abi.Manifest{
		{Hooks: nil},
		{Hooks: []abi.Hook{0}},
		{Hooks: []abi.Hook{abi.HookToolCall, 1 << 31}},
		{Tools: []abi.Tool{}},
		{Tools: []abi.Tool{{InputSchema: abi.RawJSON{}}}},
		{Capabilities: abi.Capabilities{ReadDirs: []string{}}},
		{Capabilities: abi.Capabilities{Env: []string{}, ReadDirs: []string{}}},
		{Capabilities: abi.Capabilities{Env: []string{""}, Network: true}},
		{Limits: abi.Limits{MemoryPages: 1}},
		{Limits: abi.Limits{TimeoutMillis: ^uint32(0)}},
		{Features: ^abi.Features(0), ABI: ^uint32(0)},
		{Name: "\u2028<\xff>", Version: "\x00\x7f", Description: "\u2029"},
	} {
		checkEncode(t, m, AppendManifest)
	}
}

func TestToolInputResponseKeys(t *testing.T) {
	keys := []string{"", "a", "A", "a\x00", "\xff", "\xfe", "\ufffd", "<", "&", "\u2028", "é", "e\u0301", "aa", "a\xff", "z", "~", "\x7f"}
	m := map[string][]string{}
	for i, k := range keys {
		if i%3 == 0 {
			m[k] = nil
		} else {
			m[k] = []string{k, "\u2029"}
		}
	}
	for _, abstain := range []bool{false, true} {
		checkEncode(t, &abi.ToolInputResponse{Abstain: abstain, Answers: m}, func(dst []byte, v *abi.ToolInputResponse) ([]byte, error) {
			return AppendToolInputResponse(dst, v), nil
		})
	}
}

// Duplicate detection must see through escapes, and a huge object must not
// be a problem.
func TestDecodeObjectEscapedDuplicates(t *testing.T) {
	for _, in := range []string{
		`{"s":"a","\u0073":"b"}`,
		`{"\u0073":"a", "s" :"b"}`,
		`{"s":"a",` + strings.Repeat(`"pad":0,`, 10) + `"\u0073":"b"}`,
		"{\"s\":\"a\",\n\"s\"\n:\n\"b\"}",
	} {
		var v objectFields
		if err := DecodeObject([]byte(in), v.fields()); err == nil || !strings.Contains(err.Error(), "appears twice") {
			t.Errorf("%s: err %v, want appears twice", in, err)
		}
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range 200000 {
		b.WriteString(`"k`)
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(`":[1,{"a":null}],`)
	}
	b.WriteString(`"s":"end"}`)
	checkDecodeObject(t, []byte(b.String()), nil)
}
