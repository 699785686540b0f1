package judge_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/judge"
)

func TestParseVerdict(t *testing.T) {
	for _, tc := range []struct {
		text string
		want abi.Decision
		err  string
	}{
		{`{"decision":"accept","reason":"safe"}`, abi.Accept, ""},
		{"  \n{\"decision\": \"decline\", \"reason\": \"rm\"}\n", abi.Decline, ""},
		{`{"decision":"abstain"}`, abi.Abstain, ""},
		{`Sure! {"decision":"accept"}`, "", "not a single JSON object"},
		{"```json\n{\"decision\":\"accept\"}\n```", "", "not a single JSON object"},
		{`{"decision":"accept"} {"decision":"decline"}`, "", "more than one JSON value"},
		{`{"decision":"accept",}`, "", "not valid JSON"},
		{`{"decision":"yes"}`, "", "is not a decision"},
		{`{"reason":"no decision"}`, "", `no "decision"`},
		{`{"decision":"accept","confidence":0.9}`, "", "not valid JSON"},
		{`I think this is fine.`, "", "not a single JSON object"},
	} {
		v, err := judge.ParseVerdict(tc.text)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.text)
			continue
		}
		require.NoError(t, err, tc.text)
		assert.Equal(t, tc.want, v.Decision)
	}
}

func TestParseAnswers(t *testing.T) {
	qs := []abi.Question{
		{ID: "color", Question: "Which color?", Options: []abi.QuestionOption{{Label: "Blue"}, {Label: "Red"}}},
		{ID: "name", Question: "Which name?"},
	}
	for _, tc := range []struct {
		text string
		want map[string][]string
		err  string
	}{
		{`{"answers":{"color":["Blue"],"name":["banner"]}}`, map[string][]string{"color": {"Blue"}, "name": {"banner"}}, ""},
		{" \n{\"answers\": {\"color\": [\"Red\"], \"name\": [\"x\", \"y\"]}}\n", map[string][]string{"color": {"Red"}, "name": {"x", "y"}}, ""},
		{`{"answers":{"color":["Green"],"name":["x"]}}`, nil, `"Green" to question "color" is not one of its options`},
		{`{"answers":{"color":["Blue"]}}`, nil, `question "name" has no answer`},
		{`{"answers":{"color":["Blue"],"name":[" "]}}`, nil, `question "name" has an empty answer`},
		{`{"answers":{"color":["Blue"],"name":["x"],"age":["3"]}}`, nil, `question "age", which was not asked`},
		{`{"answers":{"color":["Blue"],"name":["x"]},"confidence":1}`, nil, "not valid JSON"},
		{`Blue, I think.`, nil, "not a single JSON object"},
		{`{"answers":{}} {"answers":{}}`, nil, "more than one JSON value"},
	} {
		resp, err := judge.ParseAnswers(tc.text, qs)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.text)
			continue
		}
		require.NoError(t, err, tc.text)
		assert.Equal(t, tc.want, resp.Answers, tc.text)
		assert.False(t, resp.Abstain)
	}
	// A question that takes a free answer accepts one beside its options.
	free := []abi.Question{{ID: "color", Question: "Which color?", IsOther: true, Options: []abi.QuestionOption{{Label: "Blue"}}}}
	resp, err := judge.ParseAnswers(`{"answers":{"color":["Green"]}}`, free)
	require.NoError(t, err)
	assert.Equal(t, []string{"Green"}, resp.Answers["color"])
}
