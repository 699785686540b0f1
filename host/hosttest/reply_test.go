package hosttest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

func TestTextStream(t *testing.T) {
	m := startModel(t, hosttest.Text("hello world"))
	evs := stream(t, m, requestBody(t, userMsg("hi")))

	require.Equal(t, []string{
		"response.created",
		"response.output_item.added",
		"response.output_text.delta",
		"response.output_item.done",
		"response.completed",
	}, names(evs))
	assert.Equal(t, "resp_0", evs[0].Data["response"].(map[string]any)["id"])
	added := item(evs[1])
	assert.Equal(t, "message", added["type"])
	assert.Equal(t, "assistant", added["role"])
	assert.Equal(t, "hello world", evs[2].Data["delta"])
	assert.Equal(t, added["id"], evs[2].Data["item_id"])
	done := item(evs[3])
	assert.Equal(t, added["id"], done["id"])
	assert.Equal(t, []any{map[string]any{"type": "output_text", "text": "hello world"}}, done["content"])
	resp := evs[4].Data["response"].(map[string]any)
	assert.Equal(t, "resp_0", resp["id"])
	assert.NotNil(t, resp["usage"])
}

func TestDefaultScriptIsReady(t *testing.T) {
	m, err := hosttest.StartModel(nil)
	require.NoError(t, err)
	defer m.Close()
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	require.Len(t, evs, 5)
	assert.Equal(t, hosttest.DefaultText, evs[2].Data["delta"])
}

func deltas(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		if e.Name == "response.output_text.delta" {
			out = append(out, e.Data["delta"].(string))
		}
	}
	return out
}

func TestTextDeltas(t *testing.T) {
	const n = 1000
	m := startModel(t, hosttest.TextDeltas(n))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	ds := deltas(evs)
	require.Len(t, ds, n)
	for i, d := range ds {
		require.Equal(t, fmt.Sprintf("d%d ", i), d)
	}
	done := item(evs[len(evs)-2])
	assert.Equal(t, hosttest.DeltaText(n), done["content"].([]any)[0].(map[string]any)["text"])
	assert.Equal(t, strings.Join(ds, ""), hosttest.DeltaText(n))
}

func TestInDeltas(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want []string
	}{
		{"abcdef", 3, []string{"ab", "cd", "ef"}},
		{"abcdefg", 3, []string{"abc", "de", "fg"}},
		{"héllo✓", 3, []string{"hé", "ll", "o✓"}},
		{"ab", 5, []string{"a", "b"}},
		{"abc", 1, []string{"abc"}},
		{"", 4, []string{""}},
	} {
		m := startModel(t, hosttest.Text(tc.text).InDeltas(tc.n))
		evs := stream(t, m, requestBody(t, userMsg("hi")))
		assert.Equal(t, tc.want, deltas(evs), "%q in %d", tc.text, tc.n)
	}
}

func TestDeltasExact(t *testing.T) {
	m := startModel(t, hosttest.Deltas("a", "b", "c"))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	assert.Equal(t, []string{"a", "b", "c"}, deltas(evs))
}

func args(t *testing.T, it map[string]any) map[string]any {
	t.Helper()
	var a map[string]any
	require.NoError(t, json.Unmarshal([]byte(it["arguments"].(string)), &a))
	return a
}

func TestExecCommand(t *testing.T) {
	m := startModel(t, hosttest.ExecCommand("touch approved.txt"))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	require.Equal(t, []string{"response.created", "response.output_item.done", "response.completed"}, names(evs))
	it := item(evs[1])
	assert.Equal(t, "function_call", it["type"])
	assert.Equal(t, "exec_command", it["name"])
	assert.Equal(t, "call_0_0", it["call_id"])
	a := args(t, it)
	assert.Equal(t, "touch approved.txt", a["cmd"])
	assert.Equal(t, "require_escalated", a["sandbox_permissions"])
	assert.NotEmpty(t, a["justification"])
}

func TestApplyPatch(t *testing.T) {
	patch := hosttest.AddFilePatch("dir/hello.txt", "one\ntwo\n")
	assert.Equal(t, "*** Begin Patch\n*** Add File: dir/hello.txt\n+one\n+two\n*** End Patch\n", patch)
	assert.Equal(t, "*** Begin Patch\n*** Add File: a\n+x\n*** End Patch\n", hosttest.AddFilePatch("a", "x"))

	m := startModel(t, hosttest.ApplyPatch(patch))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	require.Equal(t, []string{"response.created", "response.output_item.done", "response.completed"}, names(evs))
	it := item(evs[1])
	assert.Equal(t, "custom_tool_call", it["type"])
	assert.Equal(t, "apply_patch", it["name"])
	assert.Equal(t, patch, it["input"])
	assert.Equal(t, "call_0_0", it["call_id"])
}

func TestRequestUserInput(t *testing.T) {
	m := startModel(t, hosttest.RequestUserInput(hosttest.Question{
		ID: "color", Header: "Color", Question: "Which?",
		Options: []hosttest.Option{{Label: "Red", Description: "warm"}},
	}))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	it := item(evs[1])
	assert.Equal(t, "request_user_input", it["name"])
	assert.Equal(t, map[string]any{"questions": []any{map[string]any{
		"id": "color", "header": "Color", "question": "Which?",
		"options": []any{map[string]any{"label": "Red", "description": "warm"}},
	}}}, args(t, it))
}

func TestFunctionCall(t *testing.T) {
	m := startModel(t, hosttest.Sequence(
		hosttest.FunctionCall("lookup", map[string]string{"key": "abc"}).InNamespace("kv").WithCallID("my-call"),
		hosttest.FunctionCall("raw", `{"x":1}`),
		hosttest.FunctionCall("none", nil),
	))
	it := item(stream(t, m, requestBody(t, userMsg("hi")))[1])
	assert.Equal(t, "lookup", it["name"])
	assert.Equal(t, "kv", it["namespace"])
	assert.Equal(t, "my-call", it["call_id"])
	assert.Equal(t, map[string]any{"key": "abc"}, args(t, it))

	it = item(stream(t, m, requestBody(t, userMsg("hi")))[1])
	assert.Equal(t, `{"x":1}`, it["arguments"])
	assert.NotContains(t, it, "namespace")
	assert.Equal(t, "call_1_0", it["call_id"])

	it = item(stream(t, m, requestBody(t, userMsg("hi")))[1])
	assert.Equal(t, "{}", it["arguments"])
}

func TestAndCombinesItems(t *testing.T) {
	r := hosttest.Text("Let me check.").And(hosttest.ExecCommand("ls"))
	assert.Equal(t, "call_3_1", r.CallID(3, 1))
	assert.Equal(t, "", r.CallID(3, 0))
	m := startModel(t, r)
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	require.Equal(t, []string{
		"response.created",
		"response.output_item.added", "response.output_text.delta", "response.output_item.done",
		"response.output_item.done",
		"response.completed",
	}, names(evs))
	assert.Equal(t, float64(0), evs[1].Data["output_index"])
	assert.Equal(t, float64(1), evs[4].Data["output_index"])
	assert.Equal(t, "call_0_1", item(evs[4])["call_id"])
}

func TestHTTPError(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		ctype  string
	}{
		{400, `{"error":{"message":"bad"}}`, "application/json"},
		{503, "overloaded", "text/plain; charset=utf-8"},
	} {
		m := startModel(t, hosttest.HTTPError(tc.status, tc.body))
		resp := post(t, t.Context(), m, requestBody(t, userMsg("hi")))
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, tc.status, resp.StatusCode)
		assert.Equal(t, tc.body, string(body))
		assert.Equal(t, tc.ctype, resp.Header.Get("Content-Type"))
		assert.Len(t, m.Requests(), 1)
	}
}

func TestFailedAndTruncated(t *testing.T) {
	m := startModel(t, hosttest.Sequence(
		hosttest.Failed("server_error", "boom"),
		hosttest.Text("partial").Truncated(),
		hosttest.Events(map[string]any{"type": "response.created", "response": map[string]any{"id": "x"}}, json.RawMessage(`{"type":"custom.event"}`)),
	))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	require.Equal(t, []string{"response.created", "response.failed"}, names(evs))
	assert.Equal(t, map[string]any{"code": "server_error", "message": "boom"},
		evs[1].Data["response"].(map[string]any)["error"])

	evs = stream(t, m, requestBody(t, userMsg("hi")))
	assert.Equal(t, []string{
		"response.created", "response.output_item.added", "response.output_text.delta", "response.output_item.done",
	}, names(evs))

	evs = stream(t, m, requestBody(t, userMsg("hi")))
	assert.Equal(t, []string{"response.created", "custom.event"}, names(evs))
}

func TestEventsForHTTPErrorIsNil(t *testing.T) {
	r := hosttest.HTTPError(http.StatusTeapot, "x")
	status, ok := r.IsHTTPError()
	assert.True(t, ok)
	assert.Equal(t, http.StatusTeapot, status)
	assert.Nil(t, r.EventsFor(0))
	_, ok = hosttest.Text("x").IsHTTPError()
	assert.False(t, ok)
	assert.Equal(t, "event: a\ndata: {}\n\n", hosttest.Event{Name: "a", Data: json.RawMessage(`{}`)}.String())
}

// Reasoning streams a reasoning item with its summary, as the Responses
// API does, before the items joined to it.
func TestReasoningStream(t *testing.T) {
	m := startModel(t, hosttest.Reasoning("thinking it over").And(hosttest.Text("done")))
	evs := stream(t, m, requestBody(t, userMsg("hi")))
	require.Equal(t, []string{
		"response.created",
		"response.output_item.added",
		"response.reasoning_summary_part.added",
		"response.reasoning_summary_text.delta",
		"response.output_item.done",
		"response.output_item.added",
		"response.output_text.delta",
		"response.output_item.done",
		"response.completed",
	}, names(evs))
	added := item(evs[1])
	assert.Equal(t, "reasoning", added["type"])
	assert.Equal(t, added["id"], evs[3].Data["item_id"])
	assert.Equal(t, "thinking it over", evs[3].Data["delta"])
	done := item(evs[4])
	assert.Equal(t, []any{map[string]any{"type": "summary_text", "text": "thinking it over"}}, done["summary"])
	assert.Equal(t, "done", evs[6].Data["delta"])
}
