package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/judge"
)

// judgeScript answers the judge's turns with verdict and plays the agent
// otherwise: one command needing approval, then text.
func judgeScript(verdict hosttest.Reply) hosttest.Script {
	agent := hosttest.Turn(hosttest.ExecCommand("touch judged.txt"), hosttest.Text("done"))
	return hosttest.ScriptFunc(func(r *hosttest.ModelRequest) hosttest.Reply {
		if strings.Contains(r.LastUserText(), judge.Marker) {
			return verdict
		}
		return agent.Reply(r)
	})
}

// The judge runs on the real codex with the fake model playing the judge:
// a valid verdict decides; prose, malformed JSON and a timeout fall back to
// decline; composed after a plugin that abstains, it gets the decision.
func TestJudgeOnRealCodex(t *testing.T) {
	for _, tc := range []struct {
		name    string
		verdict hosttest.Reply
		timeout time.Duration
		runs    bool
		reason  string
		// fallbackFor is judge.Options.FallbackFor.
		fallbackFor map[abi.ApprovalKind]abi.Decision
	}{
		{"valid accept", hosttest.Text(`{"decision":"accept","reason":"touching a file in the project is fine"}`), 0, true, "touching a file", nil},
		{"valid decline", hosttest.Text(`{"decision":"decline","reason":"not needed"}`), 0, false, "not needed", nil},
		{"prose", hosttest.Text(`Looks fine to me, I would accept it.`), 0, false, "not a single JSON object", nil},
		{"embedded JSON", hosttest.Text(`Verdict: {"decision":"accept"}`), 0, false, "not a single JSON object", nil},
		{"malformed JSON", hosttest.Text(`{"decision": accept}`), 0, false, "not valid JSON", nil},
		{"timeout", hosttest.Hang(), 2 * time.Second, false, "no verdict within 2s", nil},
		// A per-kind fallback: commands fall back to accept (say, in a
		// throwaway sandbox), so the malformed verdict lets it run.
		{"fallback per kind", hosttest.Text(`{"decision": accept}`), 0, true, "not valid JSON",
			map[abi.ApprovalKind]abi.Decision{abi.ApprovalCommand: abi.Accept, abi.ApprovalPermissions: abi.Cancel}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var decisions e2e.Decisions
			// The judge needs the client, and the client needs the chain:
			// a late-bound plugin breaks the cycle.
			late := &lateJudge{}
			env := e2e.Start(t, e2e.Config{
				Script: judgeScript(tc.verdict),
				Chain:  chain.Options{Plugins: []plugins.Plugin{abstainer{}, late}, OnDecision: decisions.Record},
			})
			j, err := judge.New(&judge.Options{Client: env.Client, Timeout: tc.timeout, FallbackFor: tc.fallbackFor})
			require.NoError(t, err)
			late.j = j
			start := time.Now()
			env.Run(t, "make judged.txt")
			_, statErr := os.Stat(filepath.Join(env.Work, "judged.txt"))
			if tc.runs {
				require.NoError(t, statErr, "the judge accepted and the command ran")
			} else {
				require.ErrorIs(t, statErr, os.ErrNotExist, "the command did not run")
			}
			recs := decisions.All()
			require.Len(t, recs, 1)
			require.Len(t, recs[0].Answers, 2, "the abstaining plugin and then the judge were asked")
			assert.Equal(t, abi.Abstain, recs[0].Answers[0].Decision)
			assert.Equal(t, "llm-judge", recs[0].Answers[1].Plugin)
			assert.Contains(t, recs[0].Answers[1].Reason, tc.reason)
			if tc.timeout > 0 {
				assert.Less(t, time.Since(start), tc.timeout+30*time.Second)
			}
		})
	}
}

type abstainer struct{}

func (abstainer) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "rules", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}
}
func (abstainer) Close(ctx context.Context) error { return nil }
func (abstainer) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	return []byte(`{"decision":"abstain","reason":"no rule matched"}`), nil
}

// A lateJudge is a judge set after the client starts; its hooks default
// to the approval hook.
type lateJudge struct {
	j     *judge.Judge
	hooks []abi.Hook
}

func (l *lateJudge) Manifest() *abi.Manifest {
	hooks := l.hooks
	if hooks == nil {
		hooks = []abi.Hook{abi.HookApproval}
	}
	return &abi.Manifest{Name: "llm-judge", ABI: abi.Version, Hooks: hooks}
}
func (l *lateJudge) Close(ctx context.Context) error { return nil }
func (l *lateJudge) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	return l.j.Call(ctx, hook, req)
}
