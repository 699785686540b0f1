package host_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/transcript"
)

// toolServer serves every tool call, recording it.
type toolServer struct {
	host.SafeHandler
	calls chan string
}

func (s toolServer) Tools() []host.ToolSpec { return []host.ToolSpec{{Name: "deploy"}} }

func (s toolServer) ToolCall(_ context.Context, req *host.ToolCallRequest) (*abi.ToolCallResponse, error) {
	s.calls <- req.Tool
	return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: "deployed"}}}, nil
}

// TestOmitHandlerToolsRefusesTheirCalls: a thread started with
// OmitHandlerTools is not given the Handler's tools, and a call codex
// sends anyway for one of them is answered as failed without the
// Handler; a tool the thread was given (Tools) is served. A fork has the
// tools of the thread it copies, so a fork of such a thread refuses them
// too (the fork's id was unknown, and its calls went to the Handler).
func TestOmitHandlerToolsRefusesTheirCalls(t *testing.T) {
	for _, fork := range []bool{false, true} {
		t.Run(map[bool]string{false: "thread", true: "fork"}[fork], func(t *testing.T) {
			t.Parallel()
			on := map[bool]string{false: "th1", true: "th2"}[fork] // the fake's fork is th2
			srv := toolServer{calls: make(chan string, 2)}
			tap := &answerTap{answers: make(chan string, 1)}
			c := startLines(t, &host.Options{Handler: srv, Transcript: transcript.NewWriter(tap, transcript.Header{})},
				`{"id":41,"method":"item/tool/call","params":{"threadId":"`+on+`","turnId":"tu1","callId":"c1","tool":"deploy","arguments":{"target":"prod"}}}`,
				`{"id":42,"method":"item/tool/call","params":{"threadId":"`+on+`","turnId":"tu1","callId":"c2","tool":"mine","arguments":{}}}`,
				oddTurnCompleted)
			th, err := c.StartThread(t.Context(), &host.ThreadOptions{OmitHandlerTools: true, Tools: []host.ToolSpec{{Name: "mine"}}})
			require.NoError(t, err)
			require.Equal(t, "th1", th.ID)
			if fork {
				f, err := c.ForkThread(t.Context(), th.ID, nil)
				require.NoError(t, err)
				require.Equal(t, on, f.ID)
			}
			turn, err := c.StartTurn(t.Context(), th.ID, []host.Input{host.TextInput("go")}, nil)
			require.NoError(t, err)
			_, err = turn.Wait(t.Context())
			require.NoError(t, err)
			assert.JSONEq(t, `{"success":false,"contentItems":[{"type":"inputText","text":"codexhost: this thread was not given the tool \"deploy\""}]}`, <-tap.answers)
			assert.Equal(t, "mine", <-srv.calls)
			assert.Empty(t, srv.calls)
		})
	}
}
