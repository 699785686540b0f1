package chain_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// records collects decision records by item id.
type records struct {
	mu   sync.Mutex
	byID map[string][]*chain.DecisionRecord
	n    int
}

func (r *records) record(rec *chain.DecisionRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID == nil {
		r.byID = map[string][]*chain.DecisionRecord{}
	}
	r.byID[rec.ItemID] = append(r.byID[rec.ItemID], rec)
	r.n++
}

func (r *records) get(id string) []*chain.DecisionRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// A steady stream of approvals from app-server while the policy is
// swapped mid-session: every request is answered exactly once, requests
// switch from the old policy to the new one, and a request that was in
// flight on the old set during the swap finishes on the old set, which is
// retired only after it.
func TestChainSwapMidStream(t *testing.T) {
	const total, slow = 200, 50
	entered, release := make(chan struct{}), make(chan struct{})
	old := &goPlugin{m: abi.Manifest{Name: "old", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(r *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			if r.Command == fmt.Sprintf("cmd-%d", slow) {
				close(entered)
				<-release
			}
			return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "old policy"}, nil
		}}
	var newAnswered atomic.Int32
	twentyNew := make(chan struct{}) // closed by the new set's 20th answer
	newer := &goPlugin{m: abi.Manifest{Name: "new", ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}},
		approval: func(r *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			if newAnswered.Add(1) == 20 {
				close(twentyNew)
			}
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "new policy"}, nil
		}}
	var recs records
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{old}, OnDecision: recs.record})
	require.NoError(t, err)
	c := startFake(t, "approvals", 0, &host.Options{Handler: ch,
		// The requests after the slow one wait until the swap is done:
		// they reached the chain after it however slowly the test runs (a
		// stream paced by the clock alone could end before a starved test
		// swapped, leaving the new set nothing to answer).
		Env: []string{fmt.Sprintf("FAKE_APPROVALS=%d", total), "FAKE_INTERVAL_MS=2", fmt.Sprintf("FAKE_APPROVALS_HOLD=%d", slow)}})

	type turnResult struct {
		events []*host.Event
		err    error
	}
	done := make(chan turnResult, 1)
	go func() {
		var r turnResult
		for ev, err := range c.Events(t.Context(), "go", nil) {
			if err != nil {
				r.err = err
				break
			}
			r.events = append(r.events, ev)
		}
		done <- r
	}()

	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the slow request never reached the old policy")
	}
	retired, err := ch.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: newer}}})
	require.NoError(t, err)
	assert.Equal(t, uint64(2), ch.Generation())
	assert.Equal(t, uint64(1), retired.Generation())
	require.NoError(t, c.Call(t.Context(), "codexhost/test/resume", nil, nil), "the rest of the stream")
	// Let the new set answer a good part of the stream while the old
	// set's request is still in flight.
	select {
	case <-twentyNew:
	case <-time.After(30 * time.Second):
		t.Fatalf("the new set answered %d requests in 30s, want 20", newAnswered.Load())
	}
	select {
	case <-retired.Done():
		t.Fatal("the old set was retired while a request was still using it")
	default:
	}
	require.Empty(t, recs.get(fmt.Sprintf("c%d", slow)), "the slow request is still in flight")
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, retired.Wait(ctx), "the old set drains once its last request is answered")

	var res turnResult
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the turn did not complete")
	}
	require.NoError(t, res.err)

	// Every request was answered exactly once, with the decision of the
	// set that took it.
	answered := map[int]string{}
	for _, ev := range res.events {
		if ev.Method != "codexhost/test/answer" {
			continue
		}
		var a struct {
			ID     int `json:"id"`
			Result struct {
				Decision string `json:"decision"`
			} `json:"result"`
		}
		require.NoError(t, json.Unmarshal(ev.Params, &a))
		_, dup := answered[a.ID]
		require.False(t, dup, "request %d answered twice", a.ID)
		answered[a.ID] = a.Result.Decision
	}
	require.Len(t, answered, total, "no request dropped")
	perGen := map[uint64]int{}
	for i := range total {
		rs := recs.get(fmt.Sprintf("c%d", i))
		require.Len(t, rs, 1, "request %d decided once", i)
		rec := rs[0]
		perGen[rec.Generation]++
		require.Len(t, rec.Answers, 1)
		switch rec.Generation {
		case 1:
			assert.Equal(t, "old", rec.Answers[0].Plugin)
			assert.Equal(t, abi.Accept, rec.Decision)
		case 2:
			assert.Equal(t, "new", rec.Answers[0].Plugin)
			assert.Equal(t, abi.Decline, rec.Decision)
		default:
			t.Fatalf("request %d: generation %d", i, rec.Generation)
		}
		assert.Equal(t, string(rec.Decision), answered[i], "request %d: codex got the recorded decision", i)
	}
	slowRec := recs.get(fmt.Sprintf("c%d", slow))[0]
	assert.Equal(t, uint64(1), slowRec.Generation, "the in-flight request finished on the old set")
	assert.Equal(t, "accept", answered[slow])
	assert.GreaterOrEqual(t, perGen[1], slow, "the old policy answered everything before the swap")
	assert.GreaterOrEqual(t, perGen[2], 20, "the new policy answered after it")
	t.Logf("answers per generation: %v", perGen)
}

// An invalid set is refused: the chain keeps its current one.
func TestChainSwapInvalidKeepsOld(t *testing.T) {
	tool := func(name string) *goPlugin {
		return &goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval, abi.HookToolCall}, Tools: []abi.Tool{{Name: "lookup"}}},
			approval: func(*abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
				return &abi.ApprovalResponse{Decision: abi.Accept}, nil
			}}
	}
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("old", abi.Accept)}})
	require.NoError(t, err)
	for _, set := range []*chain.PluginSet{
		{Members: []chain.Member{{Plugin: tool("a")}, {Plugin: tool("b")}}},
		{Members: []chain.Member{{Plugin: decides("new", abi.Decline)}}, Fallback: abi.AcceptForSession},
		{Members: []chain.Member{{}}},
	} {
		retired, err := ch.Swap(set)
		require.Error(t, err)
		assert.Nil(t, retired)
	}
	assert.Equal(t, uint64(1), ch.Generation())
	var rec *chain.DecisionRecord
	ch2, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("old", abi.Accept)}, OnDecision: func(r *chain.DecisionRecord) { rec = r }})
	require.NoError(t, err)
	_, err = ch2.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: tool("a")}, {Plugin: tool("b")}}})
	require.ErrorContains(t, err, `tool "lookup" is declared by both "a" and "b"`)
	ans, err := serveRaw(t.Context(), ch2, commandRequest("touch x"))
	require.NoError(t, err)
	b, _ := json.Marshal(ans)
	require.JSONEq(t, `{"decision":"accept"}`, string(b))
	assert.Equal(t, "old", rec.Answers[0].Plugin)
	assert.Equal(t, uint64(1), rec.Generation)
}

// Tools follow the set: a tool the new set no longer serves is answered
// with a failure that says so; a new one is served (and registered with
// threads started from now on).
func TestChainSwapTools(t *testing.T) {
	tool := func(plugin, name, text string) *goPlugin {
		return &goPlugin{m: abi.Manifest{Name: plugin, ABI: abi.Version, Hooks: []abi.Hook{abi.HookToolCall}, Tools: []abi.Tool{{Name: name}}},
			tool: func(r *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
				return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: text}}}, nil
			}}
	}
	call := func(name string) *host.Request {
		return host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"`+name+`","arguments":{}}`))
	}
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{tool("p1", "lookup", "v1")}})
	require.NoError(t, err)
	require.Equal(t, "lookup", ch.Tools()[0].Name)
	_, err = ch.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: tool("p2", "search", "v2")}}})
	require.NoError(t, err)
	require.Len(t, ch.Tools(), 1)
	assert.Equal(t, "search", ch.Tools()[0].Name)

	ans, err := serveRaw(t.Context(), ch, call("lookup"))
	require.NoError(t, err)
	r := toolResult(t, ans)
	assert.False(t, r.Success)
	assert.Contains(t, r.ContentItems[0].Text, `no plugin serves the tool "lookup"`)
	assert.Contains(t, r.ContentItems[0].Text, "reload")
	ans, err = serveRaw(t.Context(), ch, call("search"))
	require.NoError(t, err)
	assert.True(t, toolResult(t, ans).Success)
}

// A plugin in monitor mode is asked and recorded, but never changes the
// answer: not when it declines, not when it fails.
func TestChainMonitorMode(t *testing.T) {
	for _, tc := range []struct {
		name     string
		monitor  plugins.Plugin
		enforced plugins.Plugin
		want     abi.Decision
		monDec   abi.Decision
		monErr   bool
	}{
		{"monitor declines, command accepted", decides("strict", abi.Decline), decides("lenient", abi.Accept), abi.Accept, abi.Decline, false},
		{"monitor accepts, enforced decline stands", decides("strict", abi.Accept), decides("lenient", abi.Decline), abi.Decline, abi.Accept, false},
		{"failing monitor changes nothing", fails("strict", &plugins.CallError{Plugin: "strict", Kind: plugins.FailTrap}), decides("lenient", abi.Accept), abi.Accept, abi.Decline, true},
		{"monitor alone: fallback", decides("strict", abi.Accept), nil, abi.Decline, abi.Accept, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rec *chain.DecisionRecord
			members := []chain.Member{{Plugin: tc.monitor, Monitor: true}}
			if tc.enforced != nil {
				members = append(members, chain.Member{Plugin: tc.enforced})
			}
			ch, err := chain.New(&chain.Options{Members: members, OnDecision: func(r *chain.DecisionRecord) { rec = r }})
			require.NoError(t, err)
			ans, err := serveRaw(t.Context(), ch, commandRequest("touch x"))
			require.NoError(t, err)
			b, _ := json.Marshal(ans)
			require.JSONEq(t, `{"decision":"`+string(tc.want)+`"}`, string(b))
			require.NotNil(t, rec)
			assert.Equal(t, tc.want, rec.Decision)
			var mon *chain.PluginAnswer
			for i := range rec.Answers {
				if rec.Answers[i].Monitor {
					mon = &rec.Answers[i]
				}
			}
			require.NotNil(t, mon, "the record has the monitor's answer")
			assert.Equal(t, "strict", mon.Plugin)
			assert.Equal(t, tc.monDec, mon.Decision)
			assert.Equal(t, tc.monErr, mon.Err != nil)
			if tc.enforced != nil {
				assert.Equal(t, "answer", rec.Why.String())
			}

			// The audit log marks it.
			line, err := json.Marshal(audit.NewEntry(rec))
			require.NoError(t, err)
			assert.Contains(t, string(line), `"plugin":"strict","decision":"`+string(tc.monDec)+`"`)
			assert.Contains(t, string(line), `"monitor":true`)
		})
	}
}

// trapper fails with a trap on every call and counts the calls.
type trapper struct {
	goPlugin
	calls atomic.Int32
	kind  plugins.FailureKind
}

func newTrapper(name string, kind plugins.FailureKind) *trapper {
	return &trapper{goPlugin: goPlugin{m: abi.Manifest{Name: name, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval, abi.HookToolCall}, Tools: []abi.Tool{{Name: "t"}}}}, kind: kind}
}

func (p *trapper) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	p.calls.Add(1)
	return nil, &plugins.CallError{Plugin: p.m.Name, Hook: hook, Kind: p.kind, Err: errors.New("wasm error: unreachable")}
}

// A plugin that keeps trapping is disabled after its budget: it is not
// called any more, its part falls back (fail closed), and the status and
// the record say why. A new set enables it again.
func TestChainCrashBudget(t *testing.T) {
	bad := newTrapper("crashy", plugins.FailTrap)
	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{
		Members:     []chain.Member{{Plugin: decides("ok", abi.Accept)}, {Plugin: bad, Digest: "abc", Source: "crashy.wasm"}},
		CrashBudget: chain.CrashBudget{Failures: 3, Window: time.Minute},
		OnDecision:  func(r *chain.DecisionRecord) { rec = r },
	})
	require.NoError(t, err)
	decide := func() string {
		ans, err := serveRaw(t.Context(), ch, commandRequest("touch x"))
		require.NoError(t, err)
		b, _ := json.Marshal(ans)
		return string(b)
	}
	for i := range 3 {
		assert.JSONEq(t, `{"decision":"decline"}`, decide(), "call %d fails closed", i)
		assert.Equal(t, "fallback: plugin crashy failed", rec.Why.String())
	}
	st := ch.Status()
	require.Len(t, st, 2)
	assert.Equal(t, chain.PluginDisabled, st[1].State)
	assert.Equal(t, uint64(3), st[1].Failures)
	assert.Contains(t, st[1].DisabledWhy, "3 failures within 1m0s")
	assert.Equal(t, "abc", st[1].Digest)
	assert.Equal(t, chain.PluginEnabled, st[0].State)

	for range 5 {
		assert.JSONEq(t, `{"decision":"decline"}`, decide(), "a disabled plugin still fails closed")
	}
	assert.Equal(t, int32(3), bad.calls.Load(), "a disabled plugin is not called")
	assert.Equal(t, "fallback: plugin crashy disabled (crash budget)", rec.Why.String())
	require.Len(t, rec.Answers, 2)
	assert.ErrorIs(t, rec.Answers[1].Err, chain.ErrPluginDisabled)
	assert.Equal(t, abi.Decline, rec.Answers[1].Decision)

	// Its tool fails at once with the reason.
	ans, err := serveRaw(t.Context(), ch, host.NewRequest("item/tool/call", json.RawMessage(`{"threadId":"th","turnId":"tu","callId":"c","tool":"t","arguments":{}}`)))
	require.NoError(t, err)
	assert.Contains(t, toolResult(t, ans).ContentItems[0].Text, "disabled after repeated failures")
	assert.Equal(t, int32(3), bad.calls.Load())

	// A reload brings it back (here as a member that works).
	_, err = ch.Swap(&chain.PluginSet{Members: []chain.Member{{Plugin: decides("ok", abi.Accept)}, {Plugin: decides("crashy", abi.Accept)}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"decision":"accept"}`, decide())
	assert.Equal(t, chain.PluginEnabled, ch.Status()[1].State)
}

// What counts against the budget: runtime failures and internal errors,
// not an unavailable process plugin, not the plugin's own refusal, not
// failures within the window only when they are spread out.
func TestChainCrashBudgetCounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		disabled bool
	}{
		{"timeout", &plugins.CallError{Kind: plugins.FailTimeout, Err: context.DeadlineExceeded}, true},
		{"memory", &plugins.CallError{Kind: plugins.FailMemory}, true},
		{"bad output", &plugins.CallError{Kind: plugins.FailBadOutput}, true},
		{"recovered panic", &abi.Error{Code: abi.CodeInternal, Message: "panic: x"}, true},
		{"unavailable", &plugins.CallError{Kind: plugins.FailUnavailable}, false},
		{"bad request", &abi.Error{Code: abi.CodeBadRequest, Message: "no"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{fails("p", tc.err)},
				CrashBudget: chain.CrashBudget{Failures: 2, Window: time.Minute}})
			require.NoError(t, err)
			for range 2 {
				_, err := serveRaw(t.Context(), ch, commandRequest("x"))
				require.NoError(t, err)
			}
			assert.Equal(t, tc.disabled, ch.Status()[0].State == chain.PluginDisabled)
		})
	}
	t.Run("never", func(t *testing.T) {
		ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{fails("p", &plugins.CallError{Kind: plugins.FailTrap})},
			CrashBudget: chain.CrashBudget{Failures: -1}})
		require.NoError(t, err)
		for range 10 {
			_, err := serveRaw(t.Context(), ch, commandRequest("x"))
			require.NoError(t, err)
		}
		st := ch.Status()[0]
		assert.Equal(t, chain.PluginEnabled, st.State)
		assert.Equal(t, uint64(10), st.Failures)
	})
	// On the fake clock of a synctest bubble: the failures are exactly
	// 80ms apart, more than the 50ms window.
	t.Run("window", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{fails("p", &plugins.CallError{Kind: plugins.FailTrap})},
				CrashBudget: chain.CrashBudget{Failures: 2, Window: 50 * time.Millisecond}})
			require.NoError(t, err)
			for range 3 {
				_, err := serveRaw(t.Context(), ch, commandRequest("x"))
				require.NoError(t, err)
				time.Sleep(80 * time.Millisecond)
			}
			assert.Equal(t, chain.PluginEnabled, ch.Status()[0].State, "failures spread over more than the window")
		})
	})
}

// Swap costs microseconds and never waits for requests in flight.
func BenchmarkChainSwap(b *testing.B) {
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Accept)}})
	require.NoError(b, err)
	set := &chain.PluginSet{Members: []chain.Member{{Plugin: decides("b", abi.Accept)}, {Plugin: decides("c", abi.Decline)}}}
	for b.Loop() {
		if _, err := ch.Swap(set); err != nil {
			b.Fatal(err)
		}
	}
}

// HandleRequest with swaps happening concurrently: the price of the
// snapshot's reference count on the hot path.
func BenchmarkChainHandleDuringSwaps(b *testing.B) {
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{decides("a", abi.Accept)}})
	require.NoError(b, err)
	set := &chain.PluginSet{Members: []chain.Member{{Plugin: decides("b", abi.Accept)}}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_, _ = ch.Swap(set)
				time.Sleep(100 * time.Microsecond)
			}
		}
	})
	req := commandRequest("touch x")
	ctx := context.Background()
	for b.Loop() {
		if _, err := serveRaw(ctx, ch, req); err != nil {
			b.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
