package chain_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// asked is an approval plugin that records the commands it is asked about
// and answers each with resp.
type asked struct {
	goPlugin
	mu       sync.Mutex
	commands []string
}

func newAsked(name string, resp abi.ApprovalResponse) *asked {
	a := &asked{}
	a.goPlugin = goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(r *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			a.mu.Lock()
			a.commands = append(a.commands, r.Command)
			a.mu.Unlock()
			out := resp
			return &out, nil
		}}
	return a
}

func (a *asked) asked() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.commands...)
}

// rulesFile is codex's persisted exec policy; "" if it does not exist.
func rulesFile(t *testing.T, home string) string {
	b, err := os.ReadFile(filepath.Join(home, "rules", "default.rules"))
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(t, err)
	return string(b)
}

// On the real codex: an accept carrying an amendment codex did not
// propose reaches codex as a decline, persists nothing, and a later
// session under a decline-all policy is still asked about the command the
// amendment named, and declines it. The control shows the test can see
// the difference: the proposed amendment is persisted, and the later
// session is not asked about the command it covers.
func TestRealUnrelatedAmendmentIsNotPersisted(t *testing.T) {
	e2e.RequireCodex(t)
	for _, tc := range []struct {
		name      string
		amendment []string
		persisted bool
	}{
		{"an unrelated amendment", []string{"rm", "-rf"}, false},
		{"the proposed amendment (control)", []string{"touch", "first.txt"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var recs e2e.Decisions
			lax := newAsked("lax", abi.ApprovalResponse{Decision: abi.Accept, Amendment: tc.amendment})
			first := e2e.Start(t, e2e.Config{
				Script: hosttest.Turn(hosttest.ExecCommand("touch first.txt"), hosttest.Text("done")),
				Chain:  chain.Options{Plugins: []plugins.Plugin{lax}, OnDecision: recs.Record},
			})
			before := rulesFile(t, first.Home)
			first.Run(t, "make a file")
			require.Len(t, lax.asked(), 1)
			require.Len(t, recs.All(), 1)
			rec := recs.All()[0]
			after := rulesFile(t, first.Home)
			_, statErr := os.Stat(filepath.Join(first.Work, "first.txt"))
			if !tc.persisted {
				assert.Equal(t, `{"decision":"decline"}`, string(rec.Answer), "codex got a plain decline")
				assert.Equal(t, "fallback: plugin lax failed", rec.Why.String())
				assert.Equal(t, before, after, "rules/default.rules is unchanged")
				assert.ErrorIs(t, statErr, os.ErrNotExist, "the command did not run")
			} else {
				assert.JSONEq(t, `{"decision":{"acceptWithExecpolicyAmendment":{"execpolicy_amendment":["touch","first.txt"]}}}`, string(rec.Answer))
				assert.Contains(t, after, `"touch", "first.txt"`, "codex persisted the proposed amendment")
				assert.NoError(t, statErr, "the command ran")
			}
			require.NoError(t, first.Client.Close())
			require.NoError(t, first.Client.Wait())

			// A later session on the same CODEX_HOME, under a policy that
			// declines everything, runs the command the amendment named.
			later := "rm -rf victim"
			if tc.persisted {
				later = "touch first.txt"
			}
			strict := newAsked("strict", abi.ApprovalResponse{Decision: abi.Decline, Reason: "nothing runs"})
			work := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(work, "victim"), 0o755))
			second := e2e.Start(t, e2e.Config{
				Script:    hosttest.Turn(hosttest.ExecCommand(later), hosttest.Text("done")),
				Chain:     chain.Options{Plugins: []plugins.Plugin{strict}},
				CodexHome: first.Home,
				Work:      work,
			})
			second.Run(t, "clean up")
			if !tc.persisted {
				require.Len(t, strict.asked(), 1, "codex asked about the command")
				assert.True(t, strings.Contains(strict.asked()[0], "rm -rf victim"), strict.asked()[0])
				assert.DirExists(t, filepath.Join(work, "victim"), "the declined command did not run")
			} else {
				assert.Empty(t, strict.asked(), "the persisted amendment let the command run without asking")
				assert.FileExists(t, filepath.Join(work, "first.txt"))
			}
		})
	}
}
