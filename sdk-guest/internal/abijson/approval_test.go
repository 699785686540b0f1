package abijson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/stretchr/testify/require"
)

// A realistic command approval, about 1 KB.
const sampleRequest = `{"kind":"command","threadId":"019a6f3e-5b1c-7d2a-9e4f-0c1b2a3d4e5f","turnId":"019a6f3e-6c2d-7e3b-8f50-1d2c3b4e5f60","itemId":"call_Zx8KqV3mN2pL7rT4sW9yB1cD","reason":"The tests need a clean build directory, so remove the stale artifacts before running \"make test\" again.","cwd":"/home/dev/src/github.com/acme/widgets","command":"/bin/bash -lc 'rm -rf build/ \u0026\u0026 mkdir -p build \u0026\u0026 make -C build test 2\u003e\u00261 | tee build/test.log'","actions":[{"type":"unknown","command":"rm -rf build/"},{"type":"unknown","command":"mkdir -p build"},{"type":"unknown","command":"make -C build test"},{"type":"read","command":"tee build/test.log","path":"build/test.log"}],"proposedAmendment":["rm","-rf","build/"],"network":{"host":"proxy.golang.org","protocol":"https"},"grantRoot":"/home/dev/src/github.com/acme/widgets/build","permissions":{"readPaths":["/home/dev/src/github.com/acme/widgets","/usr/share/zoneinfo"],"writePaths":["/home/dev/src/github.com/acme/widgets/build"],"network":true,"raw":{"fileSystem":{"read":["/"],"write":["build"]},"network":{"enabled":true}}}}`

// decodeTable holds inputs whose decoding must match encoding/json's,
// error or value.
var decodeTable = []string{
	sampleRequest,
	`{}`, `null`, ` null `, `{"kind":"command"}`, "\t{ \"kind\" : \"command\" , \"legacy\" : true }\r\n",
	// Errors: syntax, types, trailing data, empty input.
	``, ` `, `{`, `}`, `[]`, `"x"`, `1`, `true`, `{"kind":1}`, `{"kind":true}`, `{"kind":{}}`, `{"kind":[]}`,
	`{"legacy":"true"}`, `{"legacy":1}`, `{"legacy":null}`, `{"legacy":tru}`, `{"legacy":truex}`,
	`{"kind":"a",}`, `{,}`, `{"kind" "a"}`, `{"kind":"a"}{}`, `{"kind":"a"} x`, `{"kind":"a"`, `{"kind":"a`,
	`{"kind":"\x01"}`, "{\"kind\":\"a\tb\"}", `{"kind":"\q"}`, `{"kind":"\u12"}`, `{"kind":"\u12G4"}`, `{'kind':"a"}`,
	`{"actions":{}}`, `{"actions":[1]}`, `{"actions":["x"]}`, `{"actions":[{"type":1}]}`, `{"actions":[{},]}`, `{"actions":[,]}`,
	`{"network":[]}`, `{"network":"x"}`, `{"permissions":{"raw":}}`, `{"permissions":{"raw":[1,}}`, `{"permissions":{"readPaths":"x"}}`,
	`{"proposedAmendment":[1]}`, `{"proposedAmendment":["a" "b"]}`, `{"proposedAmendment":"a"}`,
	// Unknown fields of every kind are skipped.
	`{"x":1,"y":-0.5e+10,"z":[true,false,null,{"a":[]}],"w":"\u00e9","kind":"command"}`,
	`{"x":01}`, `{"x":1.}`, `{"x":-}`, `{"x":1e}`, `{"x":.5}`, `{"x":+1}`, `{"x":0x1}`, `{"x":1E+2}`, `{"x":-0}`, `{"x":NaN}`,
	// null leaves scalars unchanged and clears slices and pointers.
	`{"kind":null,"threadId":null,"actions":null,"network":null,"permissions":null,"proposedAmendment":null}`,
	`{"proposedAmendment":["a",null,"b"]}`, `{"actions":[null,{"type":"read"}]}`,
	// Empty arrays become empty, non-nil slices.
	`{"actions":[],"proposedAmendment":[],"changes":[],"permissions":{"readPaths":[],"writePaths":[]}}`,
	// Case-insensitive keys, exact match first, escapes in keys.
	`{"KIND":"a","ThreadID":"b","turnid":"c","proposedamendment":["x"]}`,
	`{"kind":"exact","KIND":"folded"}`, `{"KIND":"folded","kind":"exact"}`,
	"{\"\\u006bind\":\"escaped key\"}", "{\"\u212aind\":\"kelvin sign\"}", "{\"rea\u017fon\":\"long s\"}",
	// Duplicate keys: last wins; objects merge into existing pointers and
	// slice elements.
	`{"command":"a","command":"b"}`, `{"command":"a","command":null}`,
	`{"network":{"host":"h"},"network":{"protocol":"p"}}`,
	`{"actions":[{"type":"a","path":"p"},{"type":"x"}],"actions":[{"type":"b"}]}`,
	`{"actions":[{"type":"a"},{"type":"b"},{"type":"c"}],"actions":[{"query":"q"}],"actions":[{},{},{}]}`,
	`{"permissions":{"raw":{"a":1}},"permissions":{"raw":null}}`,
	// Strings: escapes, surrogates, invalid UTF-8, HTML characters.
	`{"command":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac\ud83d\ude00"}`,
	`{"command":"\ud83d"}`, `{"command":"\ud83dx"}`, `{"command":"\ude00\ud83d"}`, `{"command":"\ud83d\ud83d\ude00"}`,
	`{"command":"\ud83d\u0041"}`, `{"command":"\uDBFF\uDFFF"}`, `{"command":"\u0000"}`,
	"{\"command\":\"bad \xff utf8 \xe2\x80 \xed\xa0\x80 end\"}", "{\"command\":\"bad \xff and \\n escape\"}",
	"{\"command\":\"\u2028\u2029<>&\U0001F600 caf\u00e9\"}", "{\"command\":\"\x7f\"}",
	// Raw JSON is kept verbatim, whitespace and all.
	`{"permissions":{"raw": { "a" : [ 1 , "<" ] } }}`, `{"permissions":{"raw":"str"}}`, `{"permissions":{"raw":null}}`,
	`{"permissions":{"raw":12.5e-3}}`,
	// File changes.
	`{"kind":"fileChange","threadId":"t","changes":[{"path":"a.go","kind":"update","diff":"@@ -1 +1 @@\n-a\n+b\n"},{"path":"b","kind":"add","movePath":"c"}]}`,
	// Nesting at and beyond encoding/json's limit.
	`{"x":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"x":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	`{"permissions":{"raw":` + strings.Repeat("[", 9998) + strings.Repeat("]", 9998) + `}}`,
	// Mixed nesting deeper than skip's 64-level bit stack, valid and not.
	`{"x":` + strings.Repeat(`[{"a":`, 100) + `1` + strings.Repeat(`}]`, 100) + `}`,
	`{"x":` + strings.Repeat(`[{"a":`, 100) + `1` + strings.Repeat(`}]`, 30) + `]}` + strings.Repeat(`}]`, 69) + `}`,
	`{"x":` + strings.Repeat(`[{"a":`, 100) + `1` + strings.Repeat(`}]`, 99) + `]}`,
	`{"x":` + strings.Repeat(`{"a":[`, 70) + `1,{"b":null},[]` + strings.Repeat(`]}`, 70) + `}`,
	`{"permissions":{"raw":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}}`,
}

func TestDecodeApprovalRequestMatchesEncodingJSON(t *testing.T) {
	for _, in := range decodeTable {
		name := in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			checkDecodeRequest(t, []byte(in), nil)
			// Into a filled value, to check merging.
			checkDecodeRequest(t, []byte(in), []byte("prefill seed 0123456789 abcdefghijklmnopqrstuvwxyz"))
		})
	}
}

func TestDecodeApprovalResponseMatchesEncodingJSON(t *testing.T) {
	inputs := []string{
		`{"decision":"accept"}`, `{"decision":"decline","reason":"no \"rm\" \u003c"}`, `null`, `{}`, `[]`, `{"decision":1}`,
		`{"decision":"accept","amendment":["rm","-rf"],"networkRule":{"host":"h","action":"allow"},"granted":{"readPaths":["/"],"network":true,"raw":{}}}`,
		`{"DECISION":"cancel","Amendment":null,"networkrule":{"HOST":"x"},"granted":null}`,
		`{"networkRule":{"host":"a"},"networkRule":{"action":"deny"}}`, `{"granted":{"raw":[1,2]},"granted":{"network":false}}`,
		`{"networkRule":[]}`, `{"granted":"x"}`, `{"decision":"accept","extra":{"a":[1,{"b":null}]}}`,
	}
	for _, in := range inputs {
		t.Run(in, func(t *testing.T) {
			checkDecodeResponse(t, []byte(in), nil)
			checkDecodeResponse(t, []byte(in), []byte("prefill"))
		})
	}
}

func TestAppendMatchesEncodingJSON(t *testing.T) {
	var full abi.ApprovalRequest
	require.NoError(t, json.Unmarshal([]byte(sampleRequest), &full))
	requests := []*abi.ApprovalRequest{
		{}, &full,
		{Kind: "fileChange", Legacy: true, ThreadID: "t", Changes: []abi.FileChange{{Path: "a", Kind: "add", Diff: "x\n<y>"}, {}}},
		{Actions: []abi.CommandAction{}, ProposedAmendment: []string{}, Changes: []abi.FileChange{}},
		{ProposedAmendment: []string{"", "\xff", "\u2028"}, Network: &abi.NetworkAccess{}, Permissions: &abi.Permissions{}},
		{Permissions: &abi.Permissions{Raw: abi.RawJSON(" { \"a\" : \"<&>\u2029\" , \"b\":[ ] } ")}},
		{Permissions: &abi.Permissions{Raw: abi.RawJSON("null")}},
		{Permissions: &abi.Permissions{Raw: abi.RawJSON("{")}},        // invalid: an error
		{Permissions: &abi.Permissions{Raw: abi.RawJSON("  ")}},       // invalid: an error
		{Permissions: &abi.Permissions{Raw: abi.RawJSON("1 2")}},      // invalid: an error
		{Permissions: &abi.Permissions{Raw: abi.RawJSON("\"\xff\"")}}, // raw bytes are kept
		{Command: "ctl \x00\x01\x1f\x7f tab\t nl\n quote\" bs\\ html<>& é 日本 😀 \xed\xa0\x80 \xe2\x80"},
	}
	for _, v := range requests {
		want, wantErr := json.Marshal(v)
		got, err := AppendApprovalRequest([]byte("prefix"), v)
		if wantErr != nil {
			require.Error(t, err, "encoding/json: %v", wantErr)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got))
	}
	responses := []*abi.ApprovalResponse{
		{}, {Decision: abi.Accept}, {Decision: abi.Decline, Reason: "no <rm>"},
		{Decision: "x", Amendment: []string{}, Granted: &abi.Permissions{}},
		{Decision: abi.Accept, Amendment: []string{"rm", "-rf"}, NetworkRule: &abi.NetworkRule{Host: "h", Action: "allow"},
			Granted: &abi.Permissions{ReadPaths: []string{"/a"}, WritePaths: []string{"/b"}, Network: true, Raw: abi.RawJSON(`{"x": 1}`)}},
		{Granted: &abi.Permissions{WritePaths: []string{"/b"}}}, {Granted: &abi.Permissions{Network: true}},
		{Granted: &abi.Permissions{Raw: abi.RawJSON(`[1,`)}},
	}
	for _, v := range responses {
		want, wantErr := json.Marshal(v)
		got, err := AppendApprovalResponse(nil, v)
		if wantErr != nil {
			require.Error(t, err, "encoding/json: %v", wantErr)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	for _, e := range []*abi.Error{{}, {Code: abi.CodeBadRequest, Message: "bad <input> \"x\""}, {Code: -7}} {
		want, err := json.Marshal(e)
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendError(nil, e)))
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	var all strings.Builder
	for c := 0; c < 256; c++ {
		all.WriteByte(byte(c))
	}
	for _, s := range []string{
		"", "a", "plain ascii text that is longer than eight bytes", all.String(),
		"\u2028\u2029", "x\u2028", "é", "\xe2\x80", "\xe2\x80\xa8", "\xe2\x80\xa9x", "日本語のテキスト", "😀😀😀",
		strings.Repeat("<", 17), strings.Repeat("ab\"", 9),
	} {
		want, err := json.Marshal(s)
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendString(nil, s)), "%q", s)
	}
}

// checkDecodeRequest decodes in with both decoders into values generated
// from prefill and requires the same outcome.
func checkDecodeRequest(t *testing.T, in, prefill []byte) {
	t.Helper()
	want := genApprovalRequest(prefill)
	got := genApprovalRequest(prefill)
	wantErr := json.Unmarshal(in, want)
	err := DecodeApprovalRequest(in, got)
	if wantErr != nil {
		if err == nil {
			t.Fatalf("input %q: encoding/json fails (%v), abijson accepts it: %+v", in, wantErr, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("input %q: encoding/json accepts it, abijson fails: %v", in, err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("input %q:\nencoding/json: %#v\nabijson:       %#v", in, want, got)
	}
	if len(prefill) == 0 {
		fresh, err := NewApprovalRequest(in)
		if err != nil || !reflect.DeepEqual(want, fresh) {
			t.Fatalf("NewApprovalRequest(%q) = %#v, %v; want %#v", in, fresh, err, want)
		}
	}
	// The decoded value re-encodes identically too.
	wantOut, wantErr := json.Marshal(want)
	gotOut, err := AppendApprovalRequest(nil, got)
	if (wantErr != nil) != (err != nil) || string(wantOut) != string(gotOut) && wantErr == nil {
		t.Fatalf("re-encode of %q:\nencoding/json: %s (%v)\nabijson:       %s (%v)", in, wantOut, wantErr, gotOut, err)
	}
}

func checkDecodeResponse(t *testing.T, in, prefill []byte) {
	t.Helper()
	want := genApprovalResponse(prefill)
	got := genApprovalResponse(prefill)
	wantErr := json.Unmarshal(in, want)
	err := DecodeApprovalResponse(in, got)
	if wantErr != nil {
		if err == nil {
			t.Fatalf("input %q: encoding/json fails (%v), abijson accepts it: %+v", in, wantErr, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("input %q: encoding/json accepts it, abijson fails: %v", in, err)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("input %q:\nencoding/json: %#v\nabijson:       %#v", in, want, got)
	}
}

// FuzzDecodeApprovalRequest feeds arbitrary bytes to both decoders, into a
// value generated from prefill, and requires the same outcome.
func FuzzDecodeApprovalRequest(f *testing.F) {
	for _, in := range decodeTable {
		if len(in) < 4096 {
			f.Add([]byte(in), []byte(nil))
		}
	}
	f.Add([]byte(`{"actions":[{"type":"x"}],"network":{"host":"y"},"permissions":{"raw":[]}}`), []byte("some prefill"))
	f.Fuzz(func(t *testing.T, in, prefill []byte) {
		checkDecodeRequest(t, in, prefill)
	})
}

func FuzzDecodeApprovalResponse(f *testing.F) {
	f.Add([]byte(`{"decision":"accept","reason":"r","amendment":["a"],"networkRule":{"host":"h","action":"allow"},"granted":{"raw":{}}}`), []byte(nil))
	f.Add([]byte(`{"Decision":null,"granted":{"readPaths":[null,"x"]}}`), []byte("prefill"))
	f.Fuzz(func(t *testing.T, in, prefill []byte) {
		checkDecodeResponse(t, in, prefill)
	})
}

// FuzzApprovalRoundTrip generates random approval requests and responses
// from the fuzzer's bytes and round-trips them both ways: abijson encodes
// byte-for-byte like encoding/json, and each decoder decodes the other's
// output to the same value.
func FuzzApprovalRoundTrip(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("a simple seed"))
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\xff\xfe\xfd\xfc"))
	f.Add([]byte(strings.Repeat("\xff\x13\x07\x80", 40)))
	f.Fuzz(func(t *testing.T, seed []byte) {
		req := genApprovalRequest(seed)
		want, wantErr := json.Marshal(req)
		got, err := AppendApprovalRequest(nil, req)
		if (wantErr != nil) != (err != nil) {
			t.Fatalf("encode %#v: encoding/json error %v, abijson error %v", req, wantErr, err)
		}
		if wantErr == nil {
			if string(want) != string(got) {
				t.Fatalf("encode %#v:\nencoding/json: %s\nabijson:       %s", req, want, got)
			}
			checkDecodeRequest(t, want, nil)
			checkDecodeRequest(t, want, seed)
		}

		resp := genApprovalResponse(seed)
		want, wantErr = json.Marshal(resp)
		got, err = AppendApprovalResponse(nil, resp)
		if (wantErr != nil) != (err != nil) {
			t.Fatalf("encode %#v: encoding/json error %v, abijson error %v", resp, wantErr, err)
		}
		if wantErr == nil {
			if string(want) != string(got) {
				t.Fatalf("encode %#v:\nencoding/json: %s\nabijson:       %s", resp, want, got)
			}
			checkDecodeResponse(t, want, nil)
		}
	})
}

// gen turns bytes into values deterministically: the same bytes always
// give the same value, so a test can make two independent copies.
type gen struct{ b []byte }

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *gen) bool() bool { return g.byte()&1 == 1 }

// fragments are the pieces random strings are made of: the characters
// that exercise escaping, UTF-8 handling and the SWAR fast paths.
var fragments = []string{
	"a", "rm ", "echo", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\t", "\r", "\b", "\f", "\x00", "\x1f", "\x7f",
	"é", "日本", "😀", "\u2028", "\u2029", "\ufffd", "\xff", "\xe2\x80", "\xed\xa0\x80", "\xf0\x9f",
	"0123456789abcdef", "long plain run of text", "\\u0041", "\\ud83d",
}

func (g *gen) str() string {
	n := int(g.byte() % 8)
	var sb strings.Builder
	for range n {
		sb.WriteString(fragments[int(g.byte())%len(fragments)])
	}
	return sb.String()
}

func (g *gen) strs() []string {
	switch n := g.byte() % 6; n {
	case 0:
		return nil
	case 1:
		return []string{}
	default:
		s := make([]string, n-1)
		for i := range s {
			s[i] = g.str()
		}
		return s
	}
}

var raws = []string{
	"", "null", "{}", "[]", `{"a":1}`, ` { "a" : [ 1 , 2.5e3 , "<&>" , true ] } `, `"\u00e9\n"`, "\"\u2028\"", "-0.0",
	"{", "  ", "1 2", `{"a":}`, "\"\xff\"", "[" + strings.Repeat(`{"k":"v"},`, 5) + "null]",
}

func (g *gen) raw() abi.RawJSON {
	c := g.byte()
	if c < 240 {
		r := raws[int(c)%len(raws)]
		if r == "" {
			return nil
		}
		return abi.RawJSON(r)
	}
	return abi.RawJSON(g.str()) // most likely invalid JSON
}

func (g *gen) permissions() *abi.Permissions {
	if g.byte()%3 == 0 {
		return nil
	}
	return &abi.Permissions{ReadPaths: g.strs(), WritePaths: g.strs(), Network: g.bool(), Raw: g.raw()}
}

func genApprovalRequest(seed []byte) *abi.ApprovalRequest {
	g := &gen{b: seed}
	if len(seed) == 0 {
		return new(abi.ApprovalRequest)
	}
	kinds := []abi.ApprovalKind{abi.ApprovalCommand, abi.ApprovalFileChange, abi.ApprovalPermissions, ""}
	v := &abi.ApprovalRequest{
		Kind: kinds[g.byte()%4], Legacy: g.bool(), ThreadID: g.str(), TurnID: g.str(), ItemID: g.str(),
		Reason: g.str(), Cwd: g.str(), Command: g.str(), ProposedAmendment: g.strs(), GrantRoot: g.str(),
	}
	switch n := g.byte() % 5; n {
	case 0:
	case 1:
		v.Actions = []abi.CommandAction{}
	default:
		for range n - 1 {
			v.Actions = append(v.Actions, abi.CommandAction{Type: g.str(), Command: g.str(), Path: g.str(), Query: g.str()})
		}
	}
	if g.bool() {
		v.Network = &abi.NetworkAccess{Host: g.str(), Protocol: g.str()}
	}
	switch n := g.byte() % 5; n {
	case 0:
	case 1:
		v.Changes = []abi.FileChange{}
	default:
		for range n - 1 {
			v.Changes = append(v.Changes, abi.FileChange{Path: g.str(), Kind: g.str(), MovePath: g.str(), Diff: g.str()})
		}
	}
	v.Permissions = g.permissions()
	return v
}

func genApprovalResponse(seed []byte) *abi.ApprovalResponse {
	g := &gen{b: seed}
	if len(seed) == 0 {
		return new(abi.ApprovalResponse)
	}
	decisions := []abi.Decision{abi.Abstain, abi.Accept, abi.AcceptForSession, abi.Decline, abi.Cancel, "", "maybe"}
	v := &abi.ApprovalResponse{Decision: decisions[int(g.byte())%len(decisions)], Reason: g.str(), Amendment: g.strs()}
	if g.bool() {
		v.NetworkRule = &abi.NetworkRule{Host: g.str(), Action: g.str()}
	}
	v.Granted = g.permissions()
	return v
}
