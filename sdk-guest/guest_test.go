package guest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/load"
	guest "github.com/codexhost/codexhost/sdk-guest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func approve(d abi.Decision, reason string) func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	return func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return &abi.ApprovalResponse{Decision: d, Reason: reason}, nil
	}
}

func echoTool(_ context.Context, req *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
	return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: string(req.Arguments)}}}, nil
}

func render(_ context.Context, req *abi.RenderRequest) (*abi.RenderResponse, error) {
	var b strings.Builder
	for _, e := range req.Events {
		fmt.Fprintf(&b, "%d %s %s\n", e.Seq, e.Kind, e.Delta)
	}
	return &abi.RenderResponse{Output: b.String()}, nil
}

// requireError decodes an error result and checks its code and message.
func requireError(t *testing.T, status abi.Status, out []byte, code abi.ErrorCode, message string) {
	t.Helper()
	require.Equal(t, abi.StatusError, status, "payload %s", out)
	var e abi.Error
	require.NoError(t, json.Unmarshal(out, &e), "payload %s", out)
	assert.Equal(t, code, e.Code, "payload %s", out)
	assert.Equal(t, message, e.Message)
}

func TestManifest(t *testing.T) {
	guest.UseFreshRegistry(t)
	env := []string{"HOME"}
	guest.Info("everything", "1.2.3", "registers every hook")
	guest.Capabilities(abi.Capabilities{Env: env, ReadDirs: []string{"/etc"}})
	env[0] = "CHANGED" // Capabilities copied it
	// Registered out of order; the manifest lists hooks in numeric order.
	guest.OnRender(render)
	guest.AddTool(abi.Tool{Name: "b", Description: "second"}, echoTool)
	guest.AddTool(abi.Tool{Name: "a", Description: "first", InputSchema: abi.RawJSON(`{"type":"object"}`)}, echoTool)
	guest.AddTool(abi.Tool{Name: "b", Description: "second, replaced"}, echoTool)
	guest.OnToolInput(func(context.Context, *abi.ToolInputRequest) (*abi.ToolInputResponse, error) { return nil, nil })
	guest.OnApproval(approve(abi.Abstain, ""))

	m := guest.Manifest()
	require.Equal(t, abi.Manifest{
		Name:     "everything",
		Version:  "1.2.3",
		ABI:      abi.Version,
		Features: abi.FeatureRenderBatch,
		Hooks:    []abi.Hook{abi.HookApproval, abi.HookToolInput, abi.HookToolCall, abi.HookEventRender},
		Tools: []abi.Tool{
			{Name: "b", Description: "second, replaced"},
			{Name: "a", Description: "first", InputSchema: abi.RawJSON(`{"type":"object"}`)},
		},
		Capabilities: abi.Capabilities{Env: []string{"HOME"}, ReadDirs: []string{"/etc"}},
		Description:  "registers every hook",
	}, m)
	require.NoError(t, plugins.CheckManifest(&m, m.Capabilities))

	// The manifest is a copy.
	m.Tools[0].Name = "mutated"
	m.Capabilities.Env[0] = "mutated"
	require.Equal(t, "b", guest.Manifest().Tools[0].Name)
	require.Equal(t, "HOME", guest.Manifest().Capabilities.Env[0])

	b, err := json.Marshal(guest.Manifest())
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"everything","version":"1.2.3","abi":1,"features":1,
		"hooks":["approval","tool-input","tool-call","event-render"],
		"tools":[{"name":"b","description":"second, replaced"},{"name":"a","description":"first","inputSchema":{"type":"object"}}],
		"capabilities":{"env":["HOME"],"readDirs":["/etc"]},"description":"registers every hook"}`, string(b))
}

func TestManifestSettingsSchemaAndLimits(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.Info("configured", "1", "")
	guest.OnApproval(approve(abi.Accept, ""))
	guest.SettingsSchema(`{"type":"object","required":["n"]}`)
	guest.Limits(abi.Limits{MemoryPages: 100, TimeoutMillis: 50})
	m := guest.Manifest()
	require.Equal(t, abi.RawJSON(`{"type":"object","required":["n"]}`), m.SettingsSchema)
	require.Equal(t, abi.Limits{MemoryPages: 100, TimeoutMillis: 50}, m.Limits)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.JSONEq(t, `{"name":"configured","version":"1","abi":1,"features":1,"hooks":["approval"],
		"settingsSchema":{"type":"object","required":["n"]},"limits":{"memoryPages":100,"timeoutMillis":50}}`, string(b))
	require.NoError(t, load.CheckSettings(&m, json.RawMessage(`{"n":1}`)))
	require.ErrorIs(t, load.CheckSettings(&m, json.RawMessage(`{}`)), load.ErrBadSettings)
	require.PanicsWithValue(t, "guest: SettingsSchema: the schema is not valid JSON", func() { guest.SettingsSchema("{") })
}

func TestMergeDeltas(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.Info("renderer", "1", "")
	guest.MergeDeltas()
	require.Equal(t, abi.FeatureRenderBatch, guest.Manifest().Features, "declared only with a render hook")
	guest.OnRender(render)
	require.Equal(t, abi.FeatureRenderBatch|abi.FeatureRenderMergeDeltas, guest.Manifest().Features)
}

func TestManifestHooksFollowRegistrations(t *testing.T) {
	guest.UseFreshRegistry(t)
	m := guest.Manifest()
	require.Equal(t, []abi.Hook{}, m.Hooks)
	require.ErrorIs(t, plugins.CheckManifest(&m, abi.Capabilities{}), plugins.ErrBadManifest) // no name, no hook

	guest.Info("approver", "1", "")
	guest.OnApproval(approve(abi.Accept, ""))
	m = guest.Manifest()
	require.Equal(t, []abi.Hook{abi.HookApproval}, m.Hooks)
	require.Nil(t, m.Tools)
	require.NoError(t, plugins.CheckManifest(&m, abi.Capabilities{}))
}

func TestRegistrationPanics(t *testing.T) {
	guest.UseFreshRegistry(t)
	require.PanicsWithValue(t, "guest: OnApproval with a nil function", func() { guest.OnApproval(nil) })
	require.PanicsWithValue(t, "guest: OnToolInput with a nil function", func() { guest.OnToolInput(nil) })
	require.PanicsWithValue(t, "guest: OnRender with a nil function", func() { guest.OnRender(nil) })
	require.PanicsWithValue(t, "guest: OnConfigure with a nil function", func() { guest.OnConfigure(nil) })
	require.PanicsWithValue(t, "guest: AddTool with a nil function", func() { guest.AddTool(abi.Tool{Name: "x"}, nil) })
	require.PanicsWithValue(t, "guest: AddTool with an empty tool name", func() { guest.AddTool(abi.Tool{}, echoTool) })
	require.PanicsWithValue(t, `guest: AddTool "x": InputSchema is not valid JSON`, func() {
		guest.AddTool(abi.Tool{Name: "x", InputSchema: abi.RawJSON(`{`)}, echoTool)
	})
}

func TestHandleApproval(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.OnApproval(func(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		switch {
		case strings.Contains(req.Command, "rm "):
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "no <rm>"}, nil
		case req.Kind == abi.ApprovalFileChange:
			return &abi.ApprovalResponse{Decision: abi.Accept, Reason: req.Changes[0].Path}, nil
		case req.Network != nil:
			return &abi.ApprovalResponse{Decision: abi.Accept, NetworkRule: &abi.NetworkRule{Host: req.Network.Host, Action: "allow"}}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	})
	for _, tc := range []struct{ req, want string }{
		{`{"kind":"command","threadId":"t","command":"rm -rf /"}`, `{"decision":"decline","reason":"no \u003crm\u003e"}`},
		{`{"kind":"command","threadId":"t","command":"ls"}`, `{"decision":"abstain"}`},
		{`{"kind":"fileChange","threadId":"t","changes":[{"path":"a.go","kind":"add"}]}`, `{"decision":"accept","reason":"a.go"}`},
		{`{"kind":"command","threadId":"t","network":{"host":"example.com"}}`, `{"decision":"accept","networkRule":{"host":"example.com","action":"allow"}}`},
		{"null", `{"decision":"abstain"}`},
	} {
		status, out := guest.Handle(t.Context(), abi.HookApproval, []byte(tc.req))
		require.Equal(t, abi.StatusOK, status, "%s: %s", tc.req, out)
		require.Equal(t, tc.want, string(out), tc.req)
	}
}

func TestHandleEveryHook(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.OnToolInput(func(_ context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
		answers := map[string][]string{}
		for _, q := range req.Questions {
			answers[q.ID] = []string{q.Options[0].Label}
		}
		return &abi.ToolInputResponse{Answers: answers}, nil
	})
	guest.AddTool(abi.Tool{Name: "echo"}, echoTool)
	guest.AddTool(abi.Tool{Name: "empty"}, func(context.Context, *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
		return &abi.ToolCallResponse{Success: true}, nil
	})
	guest.OnRender(render)

	for _, tc := range []struct {
		hook      abi.Hook
		req, want string
	}{
		{abi.HookToolInput, `{"threadId":"t","questions":[{"id":"q1","question":"?","options":[{"label":"yes"},{"label":"no"}]}]}`, `{"answers":{"q1":["yes"]}}`},
		{abi.HookToolCall, `{"threadId":"t","callId":"c","tool":"echo","arguments":{"text":"hi"}}`, `{"success":true,"content":[{"type":"text","text":"{\"text\":\"hi\"}"}]}`},
		// A nil Content is sent as an empty array.
		{abi.HookToolCall, `{"threadId":"t","callId":"c","tool":"empty"}`, `{"success":true,"content":[]}`},
		{abi.HookEventRender, `{"events":[{"kind":"agentMessageDelta","method":"m","seq":1,"delta":"Hel"},{"kind":"agentMessageDelta","method":"m","seq":2,"delta":"lo"}]}`, `{"output":"1 agentMessageDelta Hel\n2 agentMessageDelta lo\n"}`},
	} {
		status, out := guest.Handle(t.Context(), tc.hook, []byte(tc.req))
		require.Equal(t, abi.StatusOK, status, "%s: %s", tc.hook, out)
		require.Equal(t, tc.want, string(out), tc.hook.String())
	}
}

type panicky struct{}

func (panicky) Error() string { panic("no message") }

func TestHandleErrors(t *testing.T) {
	type approvalFn = func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error)
	failing := func(err error) approvalFn {
		return func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { return nil, err }
	}
	responding := func(resp *abi.ApprovalResponse) approvalFn {
		return func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { return resp, nil }
	}
	const req = `{"kind":"command","threadId":"t","command":"ls"}`
	for _, tc := range []struct {
		name     string
		approval approvalFn
		hook     abi.Hook
		req      string
		code     abi.ErrorCode
		message  string
	}{
		{"abi.Error passes through", failing(&abi.Error{Code: abi.CodeBadConfig, Message: "not now"}), abi.HookApproval, req, abi.CodeBadConfig, "not now"},
		{"wrapped abi.Error passes through", failing(fmt.Errorf("context: %w", &abi.Error{Code: abi.CodeUnknownTool, Message: "x"})), abi.HookApproval, req, abi.CodeUnknownTool, "x"},
		{"plain error", failing(errors.New("disk on fire")), abi.HookApproval, req, abi.CodeInternal, "disk on fire"},
		{"nil *abi.Error", failing((*abi.Error)(nil)), abi.HookApproval, req, abi.CodeInternal, "handler returned a nil *abi.Error"},
		{"error whose Error panics", failing(panicky{}), abi.HookApproval, req, abi.CodeInternal, "(message unavailable: its String or Error method panicked)"},
		{"panic", func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { panic("boom") }, abi.HookApproval, req, abi.CodeInternal, "panic: boom"},
		{"panic with an error", func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { panic(errors.New("bad")) }, abi.HookApproval, req, abi.CodeInternal, "panic: bad"},
		{"panic with a Stringer", func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { panic(abi.HookToolCall) }, abi.HookApproval, req, abi.CodeInternal, "panic: tool-call"},
		{"panic with a float", func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { panic(1.5) }, abi.HookApproval, req, abi.CodeInternal, "panic: 1.5"},
		{"panic with a struct", func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error) { panic(struct{ A int }{1}) }, abi.HookApproval, req, abi.CodeInternal, "panic: (a value that is not a string, an error, a Stringer or a number)"},
		{"runtime panic", func(_ context.Context, r *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
			return &abi.ApprovalResponse{Reason: r.Network.Host}, nil // nil pointer
		}, abi.HookApproval, req, abi.CodeInternal, "panic: runtime error: invalid memory address or nil pointer dereference"},
		{"nil response", responding(nil), abi.HookApproval, req, abi.CodeInternal, "handler returned a nil response and a nil error"},
		{"invalid decision", responding(&abi.ApprovalResponse{Decision: "maybe"}), abi.HookApproval, req, abi.CodeInternal, `invalid decision "maybe"`},
		{"empty decision", responding(&abi.ApprovalResponse{}), abi.HookApproval, req, abi.CodeInternal, `invalid decision ""`},
		{"unencodable response", responding(&abi.ApprovalResponse{Decision: abi.Accept, Granted: &abi.Permissions{Raw: abi.RawJSON("{")}}), abi.HookApproval, req, abi.CodeInternal, "encode approval response: abijson: unexpected end of JSON input"},
		{"bad request JSON", responding(&abi.ApprovalResponse{Decision: abi.Accept}), abi.HookApproval, `{"kind":`, abi.CodeBadRequest, "decode approval request: abijson: unexpected end of JSON input"},
		{"bad request type", responding(&abi.ApprovalResponse{Decision: abi.Accept}), abi.HookApproval, `{"legacy":"yes"}`, abi.CodeBadRequest, "decode approval request: abijson: cannot unmarshal string into Go value of type bool (offset 10)"},
		{"empty request", responding(&abi.ApprovalResponse{Decision: abi.Accept}), abi.HookApproval, ``, abi.CodeBadRequest, "decode approval request: abijson: unexpected end of JSON input"},
		{"unsupported hook", responding(&abi.ApprovalResponse{Decision: abi.Accept}), abi.HookToolInput, `{}`, abi.CodeUnsupportedHook, `plugin "errors" does not implement the tool-input hook`},
		{"unknown hook", responding(&abi.ApprovalResponse{Decision: abi.Accept}), abi.Hook(99), `{}`, abi.CodeUnsupportedHook, `plugin "errors" does not implement the hook(99) hook`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			guest.UseFreshRegistry(t)
			guest.Info("errors", "1", "")
			guest.OnApproval(tc.approval)
			status, out := guest.Handle(t.Context(), tc.hook, []byte(tc.req))
			requireError(t, status, out, tc.code, tc.message)
		})
	}
}

func TestHandleOtherHookErrors(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.Info("tools", "1", "")
	guest.AddTool(abi.Tool{Name: "echo"}, echoTool)
	guest.AddTool(abi.Tool{Name: "fail"}, func(context.Context, *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
		return nil, errors.New("tool failed")
	})
	guest.AddTool(abi.Tool{Name: "panic"}, func(context.Context, *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
		panic(42)
	})
	guest.OnRender(func(context.Context, *abi.RenderRequest) (*abi.RenderResponse, error) { return nil, nil })

	status, out := guest.Handle(t.Context(), abi.HookToolCall, []byte(`{"threadId":"t","callId":"c","tool":"nope"}`))
	requireError(t, status, out, abi.CodeUnknownTool, `plugin "tools" has no tool "nope"`)
	status, out = guest.Handle(t.Context(), abi.HookToolCall, []byte(`{"threadId":"t","callId":"c","tool":"fail"}`))
	requireError(t, status, out, abi.CodeInternal, "tool failed")
	status, out = guest.Handle(t.Context(), abi.HookToolCall, []byte(`{"threadId":"t","callId":"c","tool":"panic"}`))
	requireError(t, status, out, abi.CodeInternal, "panic: 42")
	status, out = guest.Handle(t.Context(), abi.HookToolCall, []byte(`{"tool":1}`))
	requireError(t, status, out, abi.CodeBadRequest, "decode tool-call request: abijson: cannot unmarshal number into Go value of type string (offset 8)")
	status, out = guest.Handle(t.Context(), abi.HookEventRender, []byte(`{"events":[]}`))
	requireError(t, status, out, abi.CodeInternal, "handler returned a nil response and a nil error")
	status, out = guest.Handle(t.Context(), abi.HookEventRender, []byte(`{"events":{}}`))
	require.Equal(t, abi.StatusError, status)
	require.Contains(t, string(out), `"code":3`)
}

func TestConfigure(t *testing.T) {
	guest.UseFreshRegistry(t)
	// Without OnConfigure, settings are ignored.
	status, out := guest.Configure([]byte(`{"x":1}`))
	require.Equal(t, abi.StatusOK, status)
	require.Empty(t, out)

	var got [][]byte
	guest.OnConfigure(func(settings []byte) error {
		got = append(got, settings)
		var s struct{ Fail string }
		if err := json.Unmarshal(settings, &s); err != nil {
			return err
		}
		switch s.Fail {
		case "plain":
			return errors.New("settings rejected")
		case "abi":
			return &abi.Error{Code: abi.CodeInternal, Message: "as is"}
		case "panic":
			panic("in configure")
		}
		return nil
	})
	in := []byte(`{"ok":true}`)
	status, out = guest.Configure(in)
	require.Equal(t, abi.StatusOK, status)
	require.Empty(t, out)
	copy(in, "XXXXXXXXXXX") // the function may keep settings: they were copied
	status, _ = guest.Configure(nil)
	require.Equal(t, abi.StatusOK, status)
	require.Equal(t, []string{`{"ok":true}`, `null`}, []string{string(got[0]), string(got[1])})

	status, out = guest.Configure([]byte(`{"Fail":"plain"}`))
	requireError(t, status, out, abi.CodeBadConfig, "settings rejected")
	status, out = guest.Configure([]byte(`[]`))
	requireError(t, status, out, abi.CodeBadConfig, "json: cannot unmarshal array into Go value of type struct { Fail string }")
	status, out = guest.Configure([]byte(`{"Fail":"abi"}`))
	requireError(t, status, out, abi.CodeInternal, "as is")
	status, out = guest.Configure([]byte(`{"Fail":"panic"}`))
	requireError(t, status, out, abi.CodeInternal, "panic: in configure")
}

// The request a handler gets does not alias the caller's buffer, which
// the Wasm host reuses for the next call.
func TestHandleDoesNotRetainRequest(t *testing.T) {
	guest.UseFreshRegistry(t)
	var kept []*abi.ApprovalRequest
	guest.OnApproval(func(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		kept = append(kept, req)
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	})
	sample, err := os.ReadFile("testdata/approval-request.json")
	require.NoError(t, err)
	var want abi.ApprovalRequest
	require.NoError(t, json.Unmarshal(sample, &want))

	buf := append([]byte(nil), sample...)
	status, _ := guest.Handle(t.Context(), abi.HookApproval, buf)
	require.Equal(t, abi.StatusOK, status)
	for i := range buf {
		buf[i] = ' '
	}
	require.Equal(t, &want, kept[0])
}

type ctxKey struct{}

func TestHandlePassesContext(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.OnApproval(func(ctx context.Context, _ *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: ctx.Value(ctxKey{}).(string)}, nil
	})
	ctx := context.WithValue(t.Context(), ctxKey{}, "from the caller")
	_, out := guest.Handle(ctx, abi.HookApproval, []byte(`{}`))
	require.Equal(t, `{"decision":"accept","reason":"from the caller"}`, string(out))
}

func TestHandleConcurrent(t *testing.T) {
	guest.UseFreshRegistry(t)
	guest.OnApproval(func(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: req.Command}, nil
	})
	guest.OnRender(render)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				cmd := fmt.Sprintf("cmd %d/%d", g, i)
				_, out := guest.Handle(context.Background(), abi.HookApproval, []byte(`{"command":"`+cmd+`"}`))
				assert.Equal(t, `{"decision":"accept","reason":"`+cmd+`"}`, string(out))
				_, out = guest.Handle(context.Background(), abi.HookEventRender, []byte(`{"events":[{"kind":"other","seq":7}]}`))
				assert.Equal(t, `{"output":"7 other \n"}`, string(out))
			}
		})
	}
	wg.Wait()
}

// Handle answers every hook exactly as the same handler behind
// encoding/json would: the same status, the same bytes.
func TestHandleCodecMatchesEncodingJSON(t *testing.T) {
	guest.UseFreshRegistry(t)
	approval := func(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		b, err := json.Marshal(req)
		if err != nil {
			return nil, err
		}
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: string(b), Amendment: req.ProposedAmendment, Granted: req.Permissions}, nil
	}
	render := func(_ context.Context, req *abi.RenderRequest) (*abi.RenderResponse, error) {
		b, err := json.Marshal(req)
		return &abi.RenderResponse{Output: string(b)}, err
	}
	toolInput := func(_ context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
		b, err := json.Marshal(req)
		ans := map[string][]string{"echo": {string(b)}}
		for _, q := range req.Questions {
			ans[q.ID] = []string{q.Question, q.Header}
		}
		return &abi.ToolInputResponse{Answers: ans}, err
	}
	toolCall := func(_ context.Context, req *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
		b, err := json.Marshal(req)
		return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: string(b)}, {Type: "image", ImageURL: "<u>"}}}, err
	}
	guest.OnApproval(approval)
	guest.OnRender(render)
	guest.OnToolInput(toolInput)
	guest.AddTool(abi.Tool{Name: "t"}, toolCall)

	sample, err := os.ReadFile("testdata/approval-request.json")
	require.NoError(t, err)
	cases := []struct {
		hook abi.Hook
		reqs []string
	}{
		{abi.HookApproval, []string{string(sample), `{}`, `null`, `{"command":"\u00e9\ud83d\ude00 \"q\" <&>"}`, `{"legacy":1}`, `[`, `{"permissions":{"raw":"<\u2028>"}}`}},
		{abi.HookEventRender, []string{
			`{"events":[{"kind":"itemCompleted","method":"m","seq":3,"item":{"id":"i","type":"agentMessage","text":"<hi>","exitCode":0,"success":false,"arguments":{"a": 1}}}]}`,
			`{"events":[{"kind":"tokenUsage","seq":1,"usage":{"last":{"input":1,"total":1},"total":{"input":2,"total":2}}},{"kind":"turnCompleted","turn":{"id":"u","state":"completed","durationMs":5}}]}`,
			`{"events":[]}`, `{}`, `{"events":[{"seq":1.5}]}`, `{"events":`,
		}},
		{abi.HookToolInput, []string{
			`{"threadId":"t","questions":[{"id":"q","header":"<h>","question":"which?","options":[{"label":"a"}],"isOther":true}]}`,
			`{"questions":[{"id":"a"},{"id":"b","question":"\u2028"}]}`, `{}`, `null`, `{"questions":[1]}`, `{"questions":`,
		}},
		{abi.HookToolCall, []string{
			`{"threadId":"t","callId":"c","tool":"t","arguments":{ "text" : "a <b>" }}`,
			`{"tool":"t"}`, `{"tool":"t","arguments":null}`, `{"tool":"t","arguments":[1,}`, `{"tool":1}`,
		}},
	}
	for _, c := range cases {
		for _, req := range c.reqs {
			status, out := guest.Handle(t.Context(), c.hook, []byte(req))
			var wantOut []byte
			var wantErr error
			switch c.hook {
			case abi.HookApproval:
				wantOut, wantErr = viaEncodingJSON(req, approval)
			case abi.HookEventRender:
				wantOut, wantErr = viaEncodingJSON(req, render)
			case abi.HookToolInput:
				wantOut, wantErr = viaEncodingJSON(req, toolInput)
			case abi.HookToolCall:
				wantOut, wantErr = viaEncodingJSON(req, toolCall)
			}
			if wantErr != nil {
				require.Equal(t, abi.StatusError, status, "%s %s: encoding/json: %v; Handle: %s", c.hook, req, wantErr, out)
				continue
			}
			require.Equal(t, abi.StatusOK, status, "%s %s: %s", c.hook, req, out)
			require.Equal(t, string(wantOut), string(out), "%s %s", c.hook, req)
		}
	}
}

// viaEncodingJSON serves req with fn, decoding and encoding with
// encoding/json.
func viaEncodingJSON[Req, Resp any](req string, fn func(context.Context, *Req) (*Resp, error)) ([]byte, error) {
	in := new(Req)
	if err := json.Unmarshal([]byte(req), in); err != nil {
		return nil, err
	}
	resp, err := fn(context.Background(), in)
	if err != nil {
		return nil, err
	}
	return json.Marshal(resp)
}

func TestLog(t *testing.T) {
	if os.Getenv("GUEST_TEST_HELPER") == "log" {
		guest.Log(abi.LogWarn, "careful")
		os.Exit(0)
	}
	out, err := helper(t, "log", "TestLog")
	require.NoError(t, err)
	require.Equal(t, "WARN careful\n", out)
}

// On the host OS, started by hand rather than by codexhost, Main says how to
// use the plugin and fails.
func TestMainOnHostOS(t *testing.T) {
	if os.Getenv("GUEST_TEST_HELPER") == "main" {
		guest.Info("deny-rm", "1.0.0", "")
		guest.Main()
		os.Exit(0) // not reached
	}
	out, err := helper(t, "main", "TestMainOnHostOS")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	require.Equal(t, 1, exit.ExitCode())
	require.Equal(t, "codexhost plugin deny-rm: load this binary with codexhost's process runtime (plugins/process), "+
		"or build the same source for the Wasm sandbox with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared\n", out)
}

// helper runs this test binary's test named run with GUEST_TEST_HELPER set
// and returns its stderr.
func helper(t *testing.T, mode, run string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^"+run+"$")
	cmd.Env = append(os.Environ(), "GUEST_TEST_HELPER="+mode)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}

// DecodeObject fills every kind of field, and says which member is wrong.
func TestDecodeObject(t *testing.T) {
	var (
		s    string
		b    bool
		i    int
		list []string
		raw  abi.RawJSON
	)
	fields := []guest.Field{guest.StringField("s", &s), guest.BoolField("b", &b), guest.IntField("i", &i),
		guest.StringsField("list", &list), guest.RawField("raw", &raw)}
	require.NoError(t, guest.DecodeObject([]byte(`{"s":"x","b":true,"i":-3,"list":["a"],"raw":{ "k" : [1] },"other":null}`), fields...))
	require.Equal(t, "x", s)
	require.True(t, b)
	require.Equal(t, -3, i)
	require.Equal(t, []string{"a"}, list)
	require.Equal(t, `{ "k" : [1] }`, string(raw))
	require.EqualError(t, guest.DecodeObject(nil, fields...), "unexpected end of JSON input", "empty is not JSON")
	require.EqualError(t, guest.DecodeObject([]byte(" \n"), fields...), "unexpected end of JSON input")
	require.NoError(t, guest.DecodeObject([]byte("null"), fields...))
	require.Equal(t, "x", s, "null sets nothing")
	require.EqualError(t, guest.DecodeObject([]byte(`{"b":1}`), fields...), `member "b": cannot unmarshal number into Go value of type bool (offset 5)`)
	require.EqualError(t, guest.DecodeObject([]byte(`{"i":1,"i":2}`), fields...), `member "i" appears twice`)
	require.EqualError(t, guest.DecodeObject([]byte(`{"s":"x"`), fields...), `unexpected end of JSON input`)
}
