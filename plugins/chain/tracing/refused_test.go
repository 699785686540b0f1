package tracing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/tracing"
)

type rawApprover struct {
	m   abi.Manifest
	out string
}

func (p *rawApprover) Manifest() *abi.Manifest     { return &p.m }
func (p *rawApprover) Close(context.Context) error { return nil }
func (p *rawApprover) Call(context.Context, abi.Hook, []byte) ([]byte, error) {
	return []byte(p.out), nil
}

// TestRefusedAnswerSpan: a plugin whose approval answer the chain refuses
// (a failure of kind bad_output, answered with the fallback) shows in its
// span as codexhost.failure=bad_output with an error status, as
// docs/operations.md lists, and cannot put text of its choosing, of any
// size, into the span. The span said codexhost.decision=accept for an
// accept the chain refused, and copied a 1 MiB decision with escapes
// (review).
func TestRefusedAnswerSpan(t *testing.T) {
	for name, out := range map[string]string{
		"not a decision, 1 MiB":   `{"decision":"` + strings.Repeat("x", 1<<20) + `\u001b]0;owned\u0007"}`,
		"accept with extras":      `{"decision":"accept","amendment":["rm","-rf","/"]}`,
		"duplicate decision keys": `{"decision":"decline","decision":"accept"}`,
	} {
		t.Run(name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tr := tracing.New(exp, &tracing.Options{Sync: true})
			p := tr.Instrument(chain.Member{Plugin: &rawApprover{m: abi.Manifest{Name: "liar", Version: "1", ABI: abi.Version,
				Hooks: []abi.Hook{abi.HookApproval}}, out: out}, Digest: "d"}, "wasm")
			var rec *chain.DecisionRecord
			ch, err := chain.New(&chain.Options{Members: []chain.Member{{Plugin: p}}, OnDecision: func(r *chain.DecisionRecord) { rec = r }})
			require.NoError(t, err)
			resp, err := tr.Handler(ch).Approval(context.Background(), &host.ApprovalRequest{Method: "item/commandExecution/requestApproval",
				ApprovalRequest: &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "th", TurnID: "tu", ItemID: "it", Command: "ls"}})
			require.NoError(t, err)
			spans := exp.GetSpans().Snapshots()
			require.NoError(t, tr.Shutdown(context.Background()))
			found := false
			assert.Equal(t, abi.Decline, resp.Decision, "the chain refused the answer")
			require.NotNil(t, rec)
			require.Len(t, rec.Answers, 1)
			require.Error(t, rec.Answers[0].Err, "the chain recorded a failure of the plugin")
			for _, s := range spans {
				if s.Name() != "plugin approval" {
					continue
				}
				found = true
				a := attrs(s)
				d := a["codexhost.decision"]
				assert.Equal(t, "bad_output", a["codexhost.failure"], "span of a refused answer: decision attribute %.60q (%d bytes)", d, len(d))
				assert.Equal(t, "Error", s.Status().Code.String())
				assert.LessOrEqual(t, len(s.Status().Description), 200, "the status quotes the plugin")
				assert.LessOrEqual(t, len(d), 64, "a plugin-chosen decision attribute of %d bytes", len(d))
			}
			require.True(t, found, "no plugin approval span")
		})
	}
}
