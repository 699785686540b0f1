package host_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// An answer to the agent's questions is checked in time linear in them:
// the agent chooses how many it asks, a plugin (the judge among them)
// answers each, and each answer's question was looked up in the list one
// by one, at every derivation of the answer (each plugin's answer is
// checked, and the one sent derived again). The bound only catches the
// quadratic check, with room for a loaded machine.
func TestUserInputAnswerIsLinear(t *testing.T) {
	const n = 80000
	qs := make([]abi.Question, n)
	answers := make(map[string][]string, n)
	for i := range qs {
		qs[i] = abi.Question{ID: fmt.Sprintf("question-%06d", i), Question: "?"}
		answers[qs[i].ID] = []string{"yes"}
	}
	req := &host.UserInputRequest{Method: "item/tool/requestUserInput", ToolInputRequest: &abi.ToolInputRequest{Questions: qs}}
	var out json.RawMessage
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, err = req.Answer(&abi.ToolInputResponse{Answers: answers})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("an answer to %d questions was not derived within 20 s", n)
	}
	require.NoError(t, err)
	var got struct {
		Answers map[string]struct{ Answers []string } `json:"answers"`
	}
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got.Answers, n)
	require.Equal(t, []string{"yes"}, got.Answers["question-079999"].Answers)

	// And a question with many options, answered many times over.
	opts := make([]abi.QuestionOption, n)
	many := make([]string, n)
	for i := range opts {
		opts[i] = abi.QuestionOption{Label: fmt.Sprintf("option-%06d", i)}
	}
	for i := range many {
		many[i] = opts[n-1-i].Label // the last options first: a search from the front is the longest
	}
	req = &host.UserInputRequest{Method: "item/tool/requestUserInput", ToolInputRequest: &abi.ToolInputRequest{
		Questions: []abi.Question{{ID: "pick", Question: "?", Options: opts}}}}
	done = make(chan struct{})
	go func() {
		defer close(done)
		out, err = req.Answer(&abi.ToolInputResponse{Answers: map[string][]string{"pick": many}})
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%d answers among %d options were not checked within 20 s", n, n)
	}
	require.NoError(t, err)
}
