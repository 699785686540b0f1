package abijson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/stretchr/testify/require"
)

// objectFields is what DecodeObject is compared on: the struct
// encoding/json decodes into, and the same members as Fields.
type objectFields struct {
	S string      `json:"s"`
	B bool        `json:"b"`
	I int         `json:"i"`
	L []string    `json:"l"`
	R abi.RawJSON `json:"r"`
}

func (v *objectFields) fields() []Field {
	return []Field{{Name: "s", String: &v.S}, {Name: "b", Bool: &v.B}, {Name: "i", Int: &v.I}, {Name: "l", Strings: &v.L}, {Name: "r", Raw: &v.R}}
}

var objectTable = []string{
	``, ` `, `null`, ` null `, `{}`, `{"s":"a","b":true,"i":-12,"l":["x","y"],"r":{ "a" : [1] }}`,
	`{"s":null,"b":null,"i":null,"l":null,"r":null}`, `{"l":[]}`, `{"l":[null,"a"]}`,
	`{"other":{"deep":[1,2,{"x":null}]},"s":"\u00e9\ud83d\ude00 <&>"}`, "{\"s\":\"bad \xff utf8\"}",
	`{"i":1.5}`, `{"i":1e3}`, `{"i":9223372036854775808}`, `{"i":-9223372036854775808}`, `{"i":"1"}`, `{"b":"true"}`,
	`{"s":1}`, `{"l":"x"}`, `{"l":[1]}`, `{"r":}`, `{"s":"a",}`, `{"s":"a"} x`, `{"s":"a"`, `[]`, `"s"`, `1`, `nul`, "\x00",
	`{"x":01}`, `{"s":"\q"}`,
}

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	for _, in := range objectTable {
		checkDecodeObject(t, []byte(in), []byte("prefill"))
		checkDecodeObject(t, []byte(in), nil)
	}
}

// DecodeObject is stricter than encoding/json on purpose.
func TestDecodeObjectStricter(t *testing.T) {
	for _, in := range []string{`{"s":"a","s":"b"}`, `{"i":1,"x":0,"i":null}`} {
		var v objectFields
		err := DecodeObject([]byte(in), v.fields())
		require.ErrorContains(t, err, "appears twice", in)
	}
	// Names match exactly: "S" is another member, skipped.
	var v objectFields
	require.NoError(t, DecodeObject([]byte(`{"S":"upper","s":"lower"}`), v.fields()))
	require.Equal(t, "lower", v.S)
	require.ErrorContains(t, DecodeObject([]byte(`{"i":"x"}`), v.fields()), `member "i": `)
	require.EqualError(t, DecodeObject([]byte(`[1]`), v.fields()), "not a JSON object")
}

func FuzzDecodeObject(f *testing.F) {
	for _, in := range objectTable {
		f.Add([]byte(in), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, in, prefill []byte) { checkDecodeObject(t, in, prefill) })
}

// checkDecodeObject requires DecodeObject and json.Unmarshal to agree on
// in, except where DecodeObject is stricter (a listed member twice) or
// matches names exactly (encoding/json folds case).
func checkDecodeObject(t *testing.T, in, prefill []byte) {
	t.Helper()
	g := &gen{b: prefill}
	start := objectFields{S: g.str(), B: g.bool(), I: int(g.byte()), L: g.strs(), R: g.raw()}
	want, got := start, start
	want.L, got.L = cloneStrings(start.L), cloneStrings(start.L)
	wantErr := json.Unmarshal(in, &want)
	err := DecodeObject(in, got.fields())
	if err != nil && strings.Contains(err.Error(), "appears twice") {
		return
	}
	if foldsCase(in) {
		return
	}
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("input %q: encoding/json fails (%v), DecodeObject accepts it: %+v", in, wantErr, got)
	case wantErr == nil && err != nil:
		t.Fatalf("input %q: encoding/json accepts it, DecodeObject fails: %v", in, err)
	case wantErr == nil && !reflect.DeepEqual(want, got):
		t.Fatalf("input %q:\nencoding/json: %#v\nDecodeObject:  %#v", in, want, got)
	}
}

// foldsCase reports whether in is an object with a member name that only
// matches a field case-insensitively.
func foldsCase(in []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(in, &m) != nil {
		return false
	}
	for k := range m {
		switch k {
		case "s", "b", "i", "l", "r":
		default:
			if strings.EqualFold(k, "s") || strings.EqualFold(k, "b") || strings.EqualFold(k, "i") || strings.EqualFold(k, "l") || strings.EqualFold(k, "r") ||
				strings.ContainsAny(k, "\u017f\u212a") { // ſ and K fold to s and k
				return true
			}
		}
	}
	return false
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}
