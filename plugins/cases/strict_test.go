package cases_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/cases"
)

// rawAnswers answers each hook with fixed bytes.
type rawAnswers struct {
	m       abi.Manifest
	answers map[abi.Hook]string
}

func (r *rawAnswers) Manifest() *abi.Manifest     { return &r.m }
func (r *rawAnswers) Close(context.Context) error { return nil }
func (r *rawAnswers) Call(_ context.Context, h abi.Hook, _ []byte) ([]byte, error) {
	return []byte(r.answers[h]), nil
}

// A case that asks the plugin an ABI request checks the answer as the
// chain takes it: strictly. An answer the chain refuses (a member name in
// another case, a member twice, an abstain with extras) fails the case
// however its decision reads to a lenient decoder: in a chain it is the
// plugin's failure and the fallback decides, accept under --fallback
// accept, while the lenient reading said decline.
func TestDirectCasesDecodeAsTheChain(t *testing.T) {
	for _, tc := range []struct {
		name, answer, decision string
		pass                   bool
	}{
		{"a plain ask", `{"decision":"ask","reason":"a person decides"}`, "ask", true},
		{"a plain decline", `{"decision":"decline","confidence":0.9}`, "decline", true},
		{"a member in another case", `{"decision":"accept","Decision":"decline"}`, "decline", false},
		{"a member twice", `{"decision":"accept","decision":"decline"}`, "decline", false},
		{"an abstain with extras", `{"decision":"abstain","amendment":["rm","-rf","/"]}`, "abstain", false},
		{"an ask with extras", `{"decision":"ask","networkRule":{"host":"example.com","action":"allow"}}`, "ask", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "cases.toml")
			require.NoError(t, os.WriteFile(file, []byte(`
[[case]]
name = "declines rm"
[case.approval]
kind = "command"
command = "rm -rf /"
[case.expect]
decision = "`+tc.decision+`"
`), 0o644))
			suite, err := cases.ReadFile(file)
			require.NoError(t, err)
			p := &rawAnswers{m: abi.Manifest{Name: "liar", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
				answers: map[abi.Hook]string{abi.HookApproval: tc.answer}}
			r, err := cases.NewRunner(p, &cases.Options{Fallback: abi.Accept})
			require.NoError(t, err)
			res := r.Run(t.Context(), suite.Cases()[0])
			if tc.pass {
				assert.Equal(t, cases.Pass, res.Status, "the chain takes %s: %v", tc.answer, res.Problems)
				return
			}
			assert.Equal(t, cases.Fail, res.Status, "the chain refuses %s", tc.answer)
			require.NotEmpty(t, res.Problems)
			assert.Contains(t, res.Problems[0], "the host refuses the plugin's answer")
		})
	}
}
