// Command answer is a codexhost tool-input plugin: it answers the questions
// the agent asks the user (codex's request_user_input) when nobody is there
// to answer, as in CI. A question gets the operator's answer for its id
// from the settings, else the first option offered (codex lists the
// recommended one first). A free-form question with neither is left to the
// next plugin, and at the end of the chain gets an empty answer.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o answer.wasm ./examples/answer
//
// Settings (optional): {"answers": {"<question id>": "<answer>"}}.
package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// configured are the operator's answers by question id.
var configured map[string]string

func init() {
	guest.Info("answer", "1.0.0", "answers the agent's questions: configured answers, else the first option")
	guest.OnConfigure(func(settings []byte) error {
		var s struct {
			Answers map[string]string `json:"answers"`
		}
		if string(settings) != "null" {
			if err := json.Unmarshal(settings, &s); err != nil {
				return fmt.Errorf(`settings: want {"answers": {"<question id>": "<answer>"}}: %v`, err)
			}
		}
		configured = s.Answers
		return nil
	})
	guest.OnToolInput(answer)
}

func answer(ctx context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
	answers := map[string][]string{}
	for _, q := range req.Questions {
		switch a, ok := configured[q.ID]; {
		case ok:
			answers[q.ID] = []string{a}
		case len(q.Options) > 0:
			answers[q.ID] = []string{q.Options[0].Label}
		}
	}
	if len(answers) == 0 {
		return &abi.ToolInputResponse{Abstain: true}, nil
	}
	return &abi.ToolInputResponse{Answers: answers}, nil
}

func main() { guest.Main() }
