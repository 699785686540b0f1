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
