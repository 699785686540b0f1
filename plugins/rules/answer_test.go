package rules

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

const answersFile = `[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[answer]]
name = "banner"
question_id_regex = '^colou?r$'
question_regex = '(?i)banner'
answers = ["Blue"]

[[answer]]
name = "ci-branch"
question_id_regex = '^branch$'
thread_id_regex = '^ci-'
answers = ["main"]

[[answer]]
name = "any-colour"
question_id_regex = '^colou?r$'
answers = ["Red"]
`

// Each question gets the answers of the first [[answer]] whose conditions
// it meets; a request with a question no answer covers, or a secret one,
// is left to others whole.
func TestAnswerQuestions(t *testing.T) {
	pol, err := Parse("rules.toml", []byte(answersFile))
	require.NoError(t, err)
	assert.Equal(t, []string{"banner", "ci-branch", "any-colour"}, pol.Answers())
	assert.Equal(t, []string{"no-rm"}, pol.Rules())
	banner := abi.Question{ID: "color", Question: "Which colour should the banner be?"}
	other := abi.Question{ID: "colour", Question: "Which colour for the logo?"}
	branch := abi.Question{ID: "branch", Question: "Which branch?"}
	for _, tc := range []struct {
		name   string
		thread string
		qs     []abi.Question
		want   map[string][]string // nil: abstain
	}{
		{"first match wins", "th", []abi.Question{banner}, map[string][]string{"color": {"Blue"}}},
		{"question_regex", "th", []abi.Question{other}, map[string][]string{"colour": {"Red"}}},
		{"thread_id_regex", "ci-7", []abi.Question{branch, banner}, map[string][]string{"branch": {"main"}, "color": {"Blue"}}},
		{"thread_id_regex does not match", "dev", []abi.Question{branch}, nil},
		{"one uncovered question", "th", []abi.Question{banner, {ID: "size", Question: "How big?"}}, nil},
		{"a secret", "th", []abi.Question{{ID: "color", Question: "banner colour?", IsSecret: true}}, nil},
		{"no questions", "th", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := pol.Answer(&abi.ToolInputRequest{ThreadID: tc.thread, Questions: tc.qs})
			if tc.want == nil {
				assert.True(t, resp.Abstain)
				assert.Empty(t, resp.Answers)
				return
			}
			assert.False(t, resp.Abstain)
			assert.Equal(t, tc.want, resp.Answers)
		})
	}
	assert.Equal(t, "banner", pol.AnsweredBy(&abi.ToolInputRequest{ThreadID: "th"}, &banner))
	assert.Equal(t, "", pol.AnsweredBy(&abi.ToolInputRequest{ThreadID: "th"}, &branch))

	// A file of answers alone is a policy too; its approvals abstain.
	only, err := Parse("answers.toml", []byte(answersFile[strings.Index(answersFile, "[[answer]]"):]))
	require.NoError(t, err)
	assert.Empty(t, only.Rules())
	assert.Equal(t, abi.Abstain, only.Evaluate(t.Context(), cmd("ls")).Decision)
}

func TestAnswerParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"no question_id_regex", "[[answer]]\nname = \"a\"\nanswers = [\"x\"]\n", `rules.toml:1: answer "a": question_id_regex: missing`},
		{"no answers", "[[answer]]\nname = \"a\"\nquestion_id_regex = 'x'\n", `rules.toml:1: answer "a": answers: missing`},
		{"empty answers", "[[answer]]\nname = \"a\"\nquestion_id_regex = 'x'\nanswers = []\n", `rules.toml:4: answer "a": answers: want a non-empty list`},
		{"bad regex", "[[rule]]\nname = \"r\"\ndecision = \"decline\"\n[rule.match]\nprogram = \"rm\"\n\n[[answer]]\nname = \"a\"\nquestion_id_regex = '('\nanswers = [\"x\"]\n",
			`rules.toml:9: answer "a": question_id_regex: invalid regex "("`},
		{"unknown field", "[[answer]]\nname = \"a\"\nquestion_id_regex = 'x'\nanswers = [\"x\"]\ndecision = \"accept\"\n", `rules.toml:5: answer "a": unknown field "decision"`},
		{"no name", "[[answer]]\nquestion_id_regex = 'x'\nanswers = [\"x\"]\n", `rules.toml:1: answer #1: name: missing`},
		{"duplicate", "[[answer]]\nname = \"a\"\nquestion_id_regex = 'x'\nanswers = [\"x\"]\n[[answer]]\nname = \"a\"\nquestion_id_regex = 'y'\nanswers = [\"y\"]\n", `rules.toml:6: answer "a": duplicate answer name "a"`},
		{"nothing", "", "no rules (want at least one [[rule]] or [[answer]] table)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("rules.toml", []byte(tc.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
