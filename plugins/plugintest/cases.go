package plugintest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// The cases of each guest. The names are part of the kit's API
// (Options.Skip).
var (
	refCases = []testCase{
		{"manifest", refManifest},
		{"approval", refApproval},
		{"file-change", refFileChange},
		{"tool-input", refToolInput},
		{"tool-call", refToolCall},
		{"unknown-tool", refUnknownTool},
		{"render", refRender},
		{"plugin-error", refPluginError},
		{"panic", refPanic},
		{"bad-decision", refBadDecision},
		{"configure-failure", refConfigureFailure},
		{"timeout", refTimeout},
		{"memory-limit", refMemoryLimit},
		{"large-request", refLargeRequest},
		{"large-response", refLargeResponse},
		{"result-too-large", refResultTooLarge},
		{"concurrent", refConcurrent},
		{"close", closeCase(abi.HookApproval, command("echo hi"))},
	}
	approveAllCases = []testCase{
		{"manifest", manifestCase("approveall")},
		{"approval", fixedDecision(abi.Accept, "approve-all")},
		{"unsupported-hook", unsupportedHook(abi.Accept, "approve-all")},
		{"close", closeCase(abi.HookApproval, command("ls"))},
	}
	abstainCases = []testCase{
		{"manifest", manifestCase("abstain")},
		{"approval", fixedDecision(abi.Abstain, "")},
		{"unsupported-hook", unsupportedHook(abi.Abstain, "")},
	}
	declineAllCases = []testCase{
		{"manifest", watManifest},
		{"approval", fixedDecision(abi.Decline, "declined by a WAT guest")},
		{"unsupported-hook", unsupportedHook(abi.Decline, "declined by a WAT guest")},
		{"large-request", watLargeRequest},
		{"concurrent", watConcurrent},
		{"close", closeCase(abi.HookApproval, command("ls"))},
	}
	sleeperCases = []testCase{
		{"manifest", manifestCase("sleeper-wat")},
		{"sleep-deadline", sleepDeadline},
		{"sleep-cancel", sleepCancel},
		{"sleep-close", sleepClose},
	}
)

// --- ref -------------------------------------------------------------------

func refManifest(t *testing.T, k *kit) {
	m := k.shared(t).Manifest()
	require.NotNil(t, m)
	assert.Equal(t, abi.Version, m.ABI, "abi")
	assert.Equal(t, "ref", m.Name, "name")
	assert.Equal(t, "1.0.0", m.Version, "version")
	assert.NotEmpty(t, m.Description, "description")
	assert.Equal(t, abi.Hooks[:], m.Hooks, "ref implements every hook, listed in numeric order")
	var tools []string
	for _, tl := range m.Tools {
		tools = append(tools, tl.Name)
		assert.NotEmpty(t, tl.Description, "tool %s has a description", tl.Name)
		assert.True(t, json.Valid(tl.InputSchema), "tool %s has a JSON input schema", tl.Name)
	}
	assert.Equal(t, []string{"echo", "size"}, tools, "tools")
	assert.True(t, m.Features.Has(abi.FeatureRenderBatch), "an sdk-guest plugin has FeatureRenderBatch; features: %b", m.Features)
	assert.Empty(t, m.Capabilities, "capabilities")
}

func refApproval(t *testing.T, k *kit) {
	p := k.shared(t)
	for _, tc := range []struct {
		command  string
		decision abi.Decision
		reason   string
	}{
		{"/bin/bash -lc 'echo hello'", abi.Accept, "echo is harmless"},
		{"/bin/bash -lc 'rm -rf build'", abi.Decline, "rm is not allowed"},
		{"/bin/bash -lc 'ls -la'", abi.Abstain, ""},
	} {
		assertDecision(t, approve(t, p, tc.command), tc.decision, tc.reason)
	}
}

func refFileChange(t *testing.T, k *kit) {
	p := k.shared(t)
	req := func(paths ...string) *abi.ApprovalRequest {
		r := &abi.ApprovalRequest{Kind: abi.ApprovalFileChange, ThreadID: "thr-1", TurnID: "turn-1"}
		for _, path := range paths {
			r.Changes = append(r.Changes, abi.FileChange{Path: path, Kind: "update", Diff: "@@ -1 +1 @@\n-a\n+b\n"})
		}
		return r
	}
	r := mustCall[abi.ApprovalResponse](t, p, abi.HookApproval, req("main.go", "config/.env"))
	assertDecision(t, r, abi.Decline, "changes a .env file")
	r = mustCall[abi.ApprovalResponse](t, p, abi.HookApproval, req("main.go", "README.md"))
	assertDecision(t, r, abi.Accept, "no .env file changed")
}

func refToolInput(t *testing.T, k *kit) {
	p := k.shared(t)
	r := mustCall[abi.ToolInputResponse](t, p, abi.HookToolInput, &abi.ToolInputRequest{
		ThreadID: "thr-1",
		Questions: []abi.Question{
			{ID: "color", Question: "Which color?", Options: []abi.QuestionOption{{Label: "blue"}, {Label: "red"}}},
			{ID: "answer", Question: "The answer?", IsOther: true},
		},
	})
	assert.False(t, r.Abstain)
	assert.Equal(t, map[string][]string{"color": {"blue"}, "answer": {"42"}}, r.Answers)

	r = mustCall[abi.ToolInputResponse](t, p, abi.HookToolInput, &abi.ToolInputRequest{
		ThreadID:  "thr-1",
		Questions: []abi.Question{{ID: "abstain", Question: "Pass?"}},
	})
	assert.True(t, r.Abstain, "question id \"abstain\" makes ref abstain")
	assert.Empty(t, r.Answers)
}

func toolCall(tool string, args any) *abi.ToolCallRequest {
	raw, err := json.Marshal(args)
	if err != nil {
		panic(err)
	}
	return &abi.ToolCallRequest{ThreadID: "thr-1", TurnID: "turn-1", CallID: "call-1", Tool: tool, Arguments: raw}
}

func refToolCall(t *testing.T, k *kit) {
	p := k.shared(t)
	r := mustCall[abi.ToolCallResponse](t, p, abi.HookToolCall, toolCall("echo", map[string]string{"text": "héllo, wörld"}))
	assert.True(t, r.Success)
	assert.Equal(t, []abi.Content{{Type: "text", Text: "héllo, wörld"}}, r.Content)
}

func refUnknownTool(t *testing.T, k *kit) {
	_, err := call[abi.ToolCallResponse](t, k.shared(t), abi.HookToolCall, toolCall("no-such-tool", map[string]any{}))
	requireABIError(t, err, abi.CodeUnknownTool)
	// The plugin still works.
	assertDecision(t, approve(t, k.shared(t), "echo ok"), abi.Accept, "echo is harmless")
}

func refRender(t *testing.T, k *kit) {
	p := k.shared(t)
	r := mustCall[abi.RenderResponse](t, p, abi.HookEventRender, &abi.RenderRequest{Events: []abi.Event{
		{Kind: abi.EventTurnStarted, Method: "turn/started", Seq: 1, ThreadID: "thr-1", TurnID: "turn-1"},
		{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: 2, Delta: "Hel"},
		{Kind: abi.EventAgentMessageDelta, Method: "item/agentMessage/delta", Seq: 3, Delta: "lo"},
		{Kind: abi.EventItemCompleted, Method: "item/completed", Seq: 4, Item: &abi.Item{ID: "m1", Type: "agentMessage", Text: "Hello"}},
	}})
	want := refPrefix + "turnStarted\n" +
		refPrefix + "agentMessageDelta:Hel\n" +
		refPrefix + "agentMessageDelta:lo\n" +
		refPrefix + "itemCompleted\n" +
		"message: Hello\n"
	assert.Equal(t, want, r.Output)

	// Without settings there is no prefix.
	p2 := k.mustLoad(t, nil)
	r = mustCall[abi.RenderResponse](t, p2, abi.HookEventRender, &abi.RenderRequest{Events: []abi.Event{
		{Kind: abi.EventTurnCompleted, Method: "turn/completed", Seq: 1},
	}})
	assert.Equal(t, "turnCompleted\n", r.Output)
}

func refPluginError(t *testing.T, k *kit) {
	_, err := call[abi.ApprovalResponse](t, k.shared(t), abi.HookApproval, command("error-out"))
	ae := requireABIError(t, err, abi.CodeInternal)
	assert.Equal(t, "asked to fail", ae.Message)
	assertDecision(t, approve(t, k.shared(t), "echo ok"), abi.Accept, "echo is harmless")
}

func refPanic(t *testing.T, k *kit) {
	p := k.shared(t)
	for range 3 {
		_, err := call[abi.ApprovalResponse](t, p, abi.HookApproval, command("panic-now"))
		ae := requireABIError(t, err, abi.CodeInternal)
		assert.Contains(t, ae.Message, "panic")
		// The plugin keeps working after a recovered panic.
		assertDecision(t, approve(t, p, "echo ok"), abi.Accept, "echo is harmless")
	}
}

func refBadDecision(t *testing.T, k *kit) {
	_, err := call[abi.ApprovalResponse](t, k.shared(t), abi.HookApproval, command("bad-decision"))
	ae := requireABIError(t, err, abi.CodeInternal)
	assert.Contains(t, ae.Message, "invalid decision")
}

func refConfigureFailure(t *testing.T, k *kit) {
	p, err := k.loadGuest(t, &plugins.Options{Settings: []byte(`{"fail":true}`)})
	require.Error(t, err, "configure must refuse {\"fail\":true}")
	assert.Nil(t, p)
	requireABIError(t, err, abi.CodeBadConfig)

	_, err = k.loadGuest(t, &plugins.Options{Settings: []byte(`["not", "an", "object"]`)})
	require.Error(t, err, "configure must refuse settings that are not an object")
	requireABIError(t, err, abi.CodeBadConfig)
}

func refTimeout(t *testing.T, k *kit) {
	const timeout = 200 * time.Millisecond
	p := k.mustLoad(t, &plugins.Options{Timeout: timeout})
	for range 2 {
		start := time.Now()
		_, err := call[abi.ApprovalResponse](t, p, abi.HookApproval, command("loop-forever"))
		elapsed := time.Since(start)
		ce := requireCallError(t, err, plugins.FailTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, abi.HookApproval, ce.Hook)
		assert.GreaterOrEqual(t, elapsed, timeout*3/4, "stopped before the timeout")
		assert.Less(t, elapsed, timeout+time.Second, "a guest in an infinite loop must be stopped at the timeout")
		t.Logf("stopped after %v (timeout %v)", elapsed, timeout)
		// The next call works (on a fresh instance).
		assertDecision(t, approve(t, p, "echo ok"), abi.Accept, "echo is harmless")
	}
}

func refMemoryLimit(t *testing.T, k *kit) {
	p := k.mustLoad(t, nil)
	kinds := []plugins.FailureKind{plugins.FailMemory}
	if k.opts.MemoryLimitAsTrap {
		kinds = append(kinds, plugins.FailTrap)
	}
	_, err := call[abi.ApprovalResponse](t, p, abi.HookApproval, command("alloc-huge"))
	requireCallError(t, err, kinds...)
	assertDecision(t, approve(t, p, "echo ok"), abi.Accept, "echo is harmless")
}

func refLargeRequest(t *testing.T, k *kit) {
	p := k.shared(t)
	for _, n := range []int{10, 1 << 20} {
		args, err := json.Marshal(map[string]string{"data": strings.Repeat("x", n)})
		require.NoError(t, err)
		r := mustCall[abi.ToolCallResponse](t, p, abi.HookToolCall, &abi.ToolCallRequest{
			ThreadID: "thr-1", CallID: "call-size", Tool: "size", Arguments: args,
		})
		assert.True(t, r.Success)
		if assert.Len(t, r.Content, 1) {
			assert.Equal(t, strconv.Itoa(len(args)), r.Content[0].Text, "size of %d bytes of arguments", len(args))
		}
	}
}

func refLargeResponse(t *testing.T, k *kit) {
	r := approve(t, k.shared(t), "big-reason")
	assert.Equal(t, abi.Accept, r.Decision)
	assert.GreaterOrEqual(t, len(r.Reason), 2<<20, "a 2 MiB reason")
	assertDecision(t, approve(t, k.shared(t), "echo ok"), abi.Accept, "echo is harmless")
}

func refResultTooLarge(t *testing.T, k *kit) {
	p := k.mustLoad(t, &plugins.Options{MaxResultBytes: 1 << 20})
	_, err := call[abi.ApprovalResponse](t, p, abi.HookApproval, command("big-reason"))
	requireCallError(t, err, plugins.FailTooLarge)
	assertDecision(t, approve(t, p, "echo ok"), abi.Accept, "echo is harmless")
}

// concurrency: goroutines × calls per goroutine.
const (
	goroutines = 16
	callsEach  = 25
)

func refConcurrent(t *testing.T, k *kit) {
	p := k.mustLoad(t, &plugins.Options{Settings: refSettings})
	ctx := t.Context()
	calls := []func(t assert.TestingT, id string){
		func(t assert.TestingT, id string) {
			r, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, command("echo "+id))
			if assert.NoError(t, err) {
				assertDecision(t, r, abi.Accept, "echo is harmless")
			}
		},
		func(t assert.TestingT, id string) {
			r, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, command("rm "+id))
			if assert.NoError(t, err) {
				assertDecision(t, r, abi.Decline, "rm is not allowed")
			}
		},
		func(t assert.TestingT, id string) {
			r, err := plugins.Call[abi.ToolCallResponse](ctx, p, abi.HookToolCall, toolCall("echo", map[string]string{"text": id}))
			if assert.NoError(t, err) {
				assert.Equal(t, []abi.Content{{Type: "text", Text: id}}, r.Content)
			}
		},
		func(t assert.TestingT, id string) {
			r, err := plugins.Call[abi.RenderResponse](ctx, p, abi.HookEventRender, &abi.RenderRequest{Events: []abi.Event{
				{Kind: abi.EventAgentMessageDelta, Seq: 1, Delta: id},
			}})
			if assert.NoError(t, err) {
				assert.Equal(t, refPrefix+"agentMessageDelta:"+id+"\n", r.Output)
			}
		},
		func(t assert.TestingT, id string) {
			r, err := plugins.Call[abi.ToolInputResponse](ctx, p, abi.HookToolInput, &abi.ToolInputRequest{
				ThreadID: "thr", Questions: []abi.Question{{ID: id, Question: "?", Options: []abi.QuestionOption{{Label: id}}}},
			})
			if assert.NoError(t, err) {
				assert.Equal(t, map[string][]string{id: {id}}, r.Answers)
			}
		},
		func(t assert.TestingT, id string) {
			_, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, command("panic-now"))
			assert.ErrorIs(t, err, &abi.Error{Code: abi.CodeInternal})
		},
	}
	runConcurrently(t, func(t assert.TestingT, g, i int) {
		id := fmt.Sprintf("g%d-c%d", g, i)
		calls[(g+i)%len(calls)](t, id)
	})
}

// runConcurrently runs f from goroutines goroutines, callsEach times each.
func runConcurrently(t *testing.T, f func(t assert.TestingT, g, i int)) {
	start := time.Now()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range callsEach {
				f(t, g, i)
			}
		})
	}
	wg.Wait()
	t.Logf("%d calls from %d goroutines in %v", goroutines*callsEach, goroutines, time.Since(start))
}

// --- every guest -----------------------------------------------------------

// manifestCase checks what every single-hook approval guest declares.
func manifestCase(name string) func(t *testing.T, k *kit) {
	return func(t *testing.T, k *kit) {
		m := k.shared(t).Manifest()
		require.NotNil(t, m)
		assert.Equal(t, abi.Version, m.ABI, "abi")
		assert.Equal(t, name, m.Name, "name")
		assert.Equal(t, "1.0.0", m.Version, "version")
		assert.Equal(t, []abi.Hook{abi.HookApproval}, m.Hooks, "hooks")
		assert.NotEmpty(t, m.Description, "description")
		assert.Empty(t, m.Tools, "tools")
		assert.Empty(t, m.Capabilities, "capabilities")
	}
}

// fixedDecision checks a guest that answers every approval the same way.
func fixedDecision(d abi.Decision, reason string) func(t *testing.T, k *kit) {
	return func(t *testing.T, k *kit) {
		p := k.shared(t)
		for _, cmd := range []string{"ls", "rm -rf /", "echo hi", ""} {
			assertDecision(t, approve(t, p, cmd), d, reason)
		}
		r := mustCall[abi.ApprovalResponse](t, p, abi.HookApproval, &abi.ApprovalRequest{
			Kind: abi.ApprovalFileChange, ThreadID: "thr-1", Changes: []abi.FileChange{{Path: ".env", Kind: "add"}},
		})
		assertDecision(t, r, d, reason)
	}
}

// unsupportedHook checks that an approval-only guest answers every other
// hook with abi.CodeUnsupportedHook, and keeps answering approvals with d.
func unsupportedHook(d abi.Decision, reason string) func(t *testing.T, k *kit) {
	return func(t *testing.T, k *kit) {
		p := k.shared(t)
		for _, h := range []abi.Hook{abi.HookToolInput, abi.HookToolCall, abi.HookEventRender} {
			_, err := p.Call(t.Context(), h, []byte(`{}`))
			requireABIError(t, err, abi.CodeUnsupportedHook)
		}
		assertDecision(t, approve(t, p, "ls"), d, reason)
	}
}

// closeCase checks Close: idempotent, and calls after it fail with
// plugins.ErrClosed.
func closeCase(hook abi.Hook, req any) func(t *testing.T, k *kit) {
	return func(t *testing.T, k *kit) {
		p := k.mustLoad(t, nil)
		in, err := json.Marshal(req)
		require.NoError(t, err)
		_, err = p.Call(t.Context(), hook, in)
		require.NoError(t, err)
		require.NoError(t, p.Close(t.Context()))
		_, err = p.Call(t.Context(), hook, in)
		require.ErrorIs(t, err, plugins.ErrClosed)
		require.NoError(t, p.Close(t.Context()), "a second Close")
		_, err = p.Call(t.Context(), hook, in)
		require.ErrorIs(t, err, plugins.ErrClosed)
	}
}

// --- declineall-wat --------------------------------------------------------

func watManifest(t *testing.T, k *kit) {
	m := k.shared(t).Manifest()
	require.NotNil(t, m)
	assert.Equal(t, "declineall-wat", m.Name)
	assert.Equal(t, "1.0.0", m.Version)
	assert.Equal(t, abi.Version, m.ABI)
	assert.Equal(t, []abi.Hook{abi.HookApproval}, m.Hooks)
	assert.Empty(t, m.Tools)
	assert.Zero(t, m.Features)
	assert.NotEmpty(t, m.Description)
}

func watLargeRequest(t *testing.T, k *kit) {
	p := k.shared(t)
	for _, n := range []int{100, 5000, 1 << 20, 4 << 20} {
		r := approve(t, p, strings.Repeat("y", n))
		assertDecision(t, r, abi.Decline, "declined by a WAT guest")
	}
}

func watConcurrent(t *testing.T, k *kit) {
	p := k.mustLoad(t, nil)
	ctx := t.Context()
	runConcurrently(t, func(t assert.TestingT, g, i int) {
		if (g+i)%5 == 0 {
			_, err := p.Call(ctx, abi.HookEventRender, []byte(`{"events":[]}`))
			assert.ErrorIs(t, err, &abi.Error{Code: abi.CodeUnsupportedHook})
			return
		}
		r, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval, command(fmt.Sprintf("cmd %d %d", g, i)))
		if assert.NoError(t, err) {
			assertDecision(t, r, abi.Decline, "declined by a WAT guest")
		}
	})
}

// --- sleeper-wat ---------------------------------------------------------

// sleepDeadline: a guest asleep in WASI is woken and stopped at the call's
// deadline, and the plugin stays usable.
func sleepDeadline(t *testing.T, k *kit) {
	const timeout = 200 * time.Millisecond
	p := k.mustLoad(t, &plugins.Options{Timeout: timeout})
	for range 2 {
		start := time.Now()
		_, err := call[abi.ApprovalResponse](t, p, abi.HookApproval, command("sleep"))
		elapsed := time.Since(start)
		requireCallError(t, err, plugins.FailTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.GreaterOrEqual(t, elapsed, timeout*3/4, "stopped before the timeout")
		assert.Less(t, elapsed, timeout+time.Second, "a sleeping guest must be stopped at the timeout")
		t.Logf("stopped after %v (timeout %v)", elapsed, timeout)
		// The next call is answered (on a fresh instance).
		_, err = p.Call(t.Context(), abi.HookEventRender, []byte(`{"events":[]}`))
		assert.ErrorIs(t, err, &abi.Error{Code: abi.CodeUnsupportedHook})
	}
}

// sleepCancel: cancelling the call's context wakes and stops the guest.
func sleepCancel(t *testing.T, k *kit) {
	p := k.mustLoad(t, &plugins.Options{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(t.Context())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	start := time.Now()
	_, err := p.Call(ctx, abi.HookApproval, []byte(`{"kind":"command","command":"sleep"}`))
	elapsed := time.Since(start)
	requireCallError(t, err, plugins.FailUnavailable)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, elapsed, 5*time.Second, "the call's deadline is a minute away")
}

// sleepClose: closing the plugin with a done context stops a call asleep
// in it: Close returns at once, and the call fails with ErrClosed.
func sleepClose(t *testing.T, k *kit) {
	p := k.mustLoad(t, &plugins.Options{Timeout: time.Minute})
	done := make(chan error, 1)
	go func() {
		_, err := p.Call(context.Background(), abi.HookApproval, []byte(`{"kind":"command","command":"sleep"}`))
		done <- err
	}()
	// Close whether or not the call has begun: either way it must end
	// with ErrClosed, at once.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	require.NoError(t, p.Close(ctx))
	err := <-done
	elapsed := time.Since(start)
	require.ErrorIs(t, err, plugins.ErrClosed)
	assert.Less(t, elapsed, 5*time.Second, "the call's deadline is a minute away")
}
