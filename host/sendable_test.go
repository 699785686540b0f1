package host_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// derivesThen derives the answer of its response, then returns it changed
// by change (or as it is, if change is nil).
type derivesThen struct {
	host.SafeHandler
	change  func(*abi.ApprovalResponse) *abi.ApprovalResponse
	derived json.RawMessage
}

func (d *derivesThen) Approval(_ context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	resp := &abi.ApprovalResponse{Decision: abi.Accept}
	b, err := req.Answer(resp)
	if err != nil {
		return nil, err
	}
	d.derived = b
	if d.change != nil {
		return d.change(resp), nil
	}
	return resp, nil
}

// The host sends the answer the handler derived for the response it
// returns; a response changed after it was derived, or another one, is
// derived again: the bytes sent always follow the response returned.
func TestAnswerSentFollowsTheResponse(t *testing.T) {
	params := json.RawMessage(`{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"command":"ls","cwd":"/w"}`)
	for _, tc := range []struct {
		name   string
		change func(*abi.ApprovalResponse) *abi.ApprovalResponse
		want   string
	}{
		{"the response derived", nil, `{"decision":"accept"}`},
		{"changed after it was derived", func(r *abi.ApprovalResponse) *abi.ApprovalResponse { r.Decision = abi.Decline; return r }, `{"decision":"decline"}`},
		{"another response", func(*abi.ApprovalResponse) *abi.ApprovalResponse { return &abi.ApprovalResponse{Decision: abi.Cancel} }, `{"decision":"cancel"}`},
	} {
		h := &derivesThen{change: tc.change}
		got, err := host.NewRequest("item/commandExecution/requestApproval", params).Serve(context.Background(), h)
		require.NoError(t, err, tc.name)
		assert.JSONEq(t, tc.want, string(got), tc.name)
		assert.JSONEq(t, `{"decision":"accept"}`, string(h.derived), tc.name)
	}
}
