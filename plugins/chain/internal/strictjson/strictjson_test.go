package strictjson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

func TestUnmarshal(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		err      string // "" for success
	}{
		{"exact names", `{"decision":"accept","reason":"ok","networkRule":{"host":"h","action":"allow"}}`, ""},
		{"unknown members are ignored", `{"decision":"accept","extra":{"Decision":1},"Extra":[{"a":1}]}`, ""},
		{"a duplicate inside an unknown member is refused too", `{"decision":"accept","extra":{"a":1,"a":2}}`, `member "a" appears twice in extra`},
		{"a member spelled in another case", `{"Decision":"accept"}`, `member "Decision" of the answer must be spelled "decision"`},
		{"a nested member in another case", `{"decision":"accept","networkRule":{"HOST":"h","action":"allow"}}`, `member "HOST" of networkRule must be spelled "host"`},
		{"a duplicate member", `{"decision":"decline","decision":"accept"}`, `member "decision" appears twice in the answer`},
		// encoding/json folds names with Unicode's simple folding: ſ
		// (U+017F) is s and the Kelvin sign (U+212A) k to it, and the last
		// spelling would win.
		{"a member spelled with a Unicode fold", `{"decision":"decline","deci\u017fion":"accept"}`, `member "deciſion" of the answer must be spelled "decision"`},
		{"a nested member spelled with the Kelvin sign", `{"decision":"accept","networ\u212aRule":{"host":"h","action":"allow"}}`, `must be spelled "networkRule"`},
		{"a duplicate nested member", `{"decision":"accept","granted":{"network":false,"network":true}}`, `member "network" appears twice in granted`},
		{"a duplicate inside a raw member is refused too", `{"decision":"accept","granted":{"raw":{"a":1,"a":2}}}`, `member "a" appears twice in granted.raw`},
		{"names inside a raw member are free", `{"decision":"accept","granted":{"raw":{"Network":1}}}`, ""},
		{"trailing data", `{"decision":"accept"} {}`, "data after the value"},
		// The path of a member after siblings that went deeper: each
		// level is popped on the way out.
		{"a path after deep siblings", `{"decision":"accept","x":[{"a":[1,{"b":2}]},{"c":{"d":3}},{"e":{"f":1,"f":2}}]}`, `member "f" appears twice in x[2].e`},
		{"nesting deeper than encoding/json takes", `{"decision":"accept","x":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, "exceeded max depth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r abi.ApprovalResponse
			err := Unmarshal([]byte(tc.in), &r)
			if tc.err == "" {
				require.NoError(t, err)
				assert.Equal(t, abi.Accept, r.Decision)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// Members of a map and of slices of structs are checked too.
func TestUnmarshalNested(t *testing.T) {
	var r abi.ToolCallResponse
	err := Unmarshal([]byte(`{"success":true,"content":[{"type":"text","Text":"x"}]}`), &r)
	require.ErrorContains(t, err, `member "Text" of content[0] must be spelled "text"`)
	var in abi.ToolInputResponse
	require.NoError(t, Unmarshal([]byte(`{"answers":{"Q":["a"],"q":["b"]}}`), &in), "map keys are data, not member names")
	assert.Equal(t, []string{"a"}, in.Answers["Q"])
	require.ErrorContains(t, Unmarshal([]byte(`{"answers":{"q":["a"],"q":["b"]}}`), &in), `member "q" appears twice in answers`)
}

// An answer's values are bounded before the token walk: commas and colons
// in strings do not count.
func TestMaxValues(t *testing.T) {
	var v struct {
		Decision string `json:"decision"`
	}
	many := `{"decision":"abstain","x":[` + strings.Repeat("0,", MaxValues) + `0]}`
	require.ErrorContains(t, Unmarshal([]byte(many), &v), "more than 200000 values")
	inString := `{"decision":"` + strings.Repeat(",:", MaxValues) + `"}`
	require.NoError(t, Unmarshal([]byte(inString), &v))
	escaped := `{"decision":"\\\",` + strings.Repeat("a", 10) + `"}`
	require.NoError(t, Unmarshal([]byte(escaped), &v))
	require.Equal(t, 3, values([]byte(`{"a":"x,y","b":1}`), 10)) // two colons, one comma
}
