package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// human answers every escalation with d (or err) and records what it was
// asked.
type human struct {
	d     abi.Decision
	err   error
	asked []*chain.Escalation
}

func (h *human) escalate(ctx context.Context, e *chain.Escalation) (abi.Decision, error) {
	h.asked = append(h.asked, e)
	return h.d, h.err
}

func TestChainAskEscalatesToAHuman(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     chain.Mode
		fallback abi.Decision
		chain    []plugins.Plugin
		human    *human // nil: no Escalate
		want     string // JSON of the answer codex gets
		why      string
		asked    int
	}{
		{"the human accepts", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{d: abi.Accept},
			`{"decision":"accept"}`, "human: asked by plugin a", 1},
		{"the human declines", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{d: abi.Decline},
			`{"decision":"decline"}`, "human: asked by plugin a", 1},
		{"the human cancels", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{d: abi.Cancel},
			`{"decision":"cancel"}`, "human: asked by plugin a", 1},
		{"the human accepts for the session", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{d: abi.AcceptForSession},
			`{"decision":"acceptForSession"}`, "human: asked by plugin a", 1},
		{"no one to ask: the fallback", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, nil,
			`{"decision":"decline"}`, "fallback: plugin a asked for a human: no one to ask", 0},
		{"no one to ask: a configured fallback", chain.DenyWins, abi.Cancel, []plugins.Plugin{decides("a", abi.Ask)}, nil,
			`{"decision":"cancel"}`, "fallback: plugin a asked for a human: no one to ask", 0},
		{"the prompt fails: the fallback", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{err: errors.New("terminal gone")},
			`{"decision":"decline"}`, "fallback: plugin a asked for a human: terminal gone", 1},
		{"the human abstains: the fallback", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{d: abi.Abstain},
			`{"decision":"decline"}`, `fallback: plugin a asked for a human: the answer "abstain" is not a decision`, 1},
		{"the human answers ask: the fallback", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask)}, &human{d: abi.Ask},
			`{"decision":"decline"}`, `fallback: plugin a asked for a human: the answer "ask" is not a decision`, 1},
		{"a decline beats an ask, unasked", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask), decides("b", abi.Decline)}, &human{d: abi.Accept},
			`{"decision":"decline"}`, "answer", 0},
		{"an ask beats an accept", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Accept), decides("b", abi.Ask)}, &human{d: abi.Decline},
			`{"decision":"decline"}`, "human: asked by plugin b", 1},
		{"an ask beats an acceptForSession", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask), decides("b", abi.AcceptForSession)}, &human{d: abi.Accept},
			`{"decision":"accept"}`, "human: asked by plugin a", 1},
		{"first answer: an ask stops the chain", chain.FirstAnswer, "", []plugins.Plugin{decides("a", abi.Ask), decides("b", abi.Decline)}, &human{d: abi.Accept},
			`{"decision":"accept"}`, "human: asked by plugin a", 1},
		{"a failing plugin beats an ask", chain.DenyWins, "", []plugins.Plugin{decides("a", abi.Ask), fails("b", errors.New("boom"))}, &human{d: abi.Accept},
			`{"decision":"decline"}`, "fallback: plugin b failed", 0},
		{"a monitor's ask asks no one", chain.DenyWins, "", nil, &human{d: abi.Accept},
			`{"decision":"decline"}`, "fallback: all abstained", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *chain.DecisionRecord
			opts := &chain.Options{Plugins: tc.chain, Mode: tc.mode, Fallback: tc.fallback,
				OnDecision: func(r *chain.DecisionRecord) { rec = r }}
			if tc.chain == nil {
				opts.Plugins = nil
				opts.Members = []chain.Member{{Plugin: decides("m", abi.Ask), Monitor: true}}
			}
			if tc.human != nil {
				opts.Escalate = tc.human.escalate
			}
			ch, err := chain.New(opts)
			require.NoError(t, err)
			b := serve(t, ch, commandRequest("touch x"))
			require.JSONEq(t, tc.want, string(b))
			require.NotNil(t, rec)
			assert.Equal(t, tc.why, rec.Why.String())
			assert.NotEqual(t, abi.Ask, rec.Decision, "ask is never the final decision")
			if tc.human != nil {
				require.Len(t, tc.human.asked, tc.asked)
				if tc.asked > 0 {
					e := tc.human.asked[0]
					assert.Equal(t, "touch x", e.Request.Command)
					assert.Contains(t, e.Reason, "says ask")
				}
			}
		})
	}
}

// The human's decision is derived from the request like any answer: an
// ask with extras (an amendment codex would persist) is an invalid answer,
// so nothing the human did not grant can ride along, and an
// acceptForSession codex does not offer is narrowed.
func TestChainAskCarriesNoExtras(t *testing.T) {
	ask := responds("a", &abi.ApprovalResponse{Decision: abi.Ask, Amendment: []string{"touch", "x"}, Reason: "check this"})
	h := &human{d: abi.Accept}
	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{ask}, Escalate: h.escalate,
		OnDecision: func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)
	b := serve(t, ch, commandRequest("touch x"))
	require.JSONEq(t, `{"decision":"decline"}`, string(b), "an ask with an amendment fails closed")
	assert.Equal(t, "fallback: plugin a failed", rec.Why.String())
	assert.Empty(t, h.asked)

	p, _ := json.Marshal(map[string]any{"threadId": "th", "turnId": "tu", "itemId": "it", "command": "make", "cwd": "/w",
		"availableDecisions": []any{"accept", "cancel"}})
	h = &human{d: abi.AcceptForSession}
	ch, err = chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Ask)}, Escalate: h.escalate})
	require.NoError(t, err)
	b = serve(t, ch, host.NewRequest("item/commandExecution/requestApproval", p))
	require.JSONEq(t, `{"decision":"accept"}`, string(b), "narrowed to what codex offers")
}

// The human is asked with the request's context: when it ends (the turn
// is interrupted), a prompt that honours it returns, and the fallback
// decides.
func TestChainAskEndsWithTheRequest(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	waiting := make(chan struct{})
	escalate := func(ctx context.Context, e *chain.Escalation) (abi.Decision, error) {
		close(waiting)
		<-ctx.Done()
		return "", context.Cause(ctx)
	}
	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Ask)}, Escalate: escalate,
		OnDecision: func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)
	done := make(chan json.RawMessage)
	go func() {
		b, _ := serveRaw(ctx, ch, commandRequest("touch x"))
		done <- b
	}()
	select {
	case <-waiting:
	case b := <-done:
		t.Fatalf("answered %s without asking", b)
	}
	cancel()
	b := <-done
	require.JSONEq(t, `{"decision":"decline"}`, string(b))
	assert.Equal(t, "fallback: plugin a asked for a human: context canceled", rec.Why.String())
}

func TestChainRefusesAskAsFallback(t *testing.T) {
	_, err := chain.New(&chain.Options{Fallback: abi.Ask})
	require.Error(t, err)
}
