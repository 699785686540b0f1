package hosttest_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/codexhost/codexhost/host/hosttest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	Name string
	Data map[string]any
	Raw  string
}

// parseSSE parses a complete event stream, checking the wire format: each
// event is "event: NAME\ndata: JSON\n\n" and NAME equals the JSON "type".
func parseSSE(t *testing.T, stream string) []sseEvent {
	t.Helper()
	var evs []sseEvent
	for _, block := range strings.SplitAfter(stream, "\n\n") {
		if block == "" {
			continue
		}
		require.True(t, strings.HasSuffix(block, "\n\n"), "unterminated event %q", block)
		lines := strings.Split(strings.TrimSuffix(block, "\n\n"), "\n")
		require.Len(t, lines, 2, "event %q", block)
		require.True(t, strings.HasPrefix(lines[0], "event: "), "event line %q", lines[0])
		require.True(t, strings.HasPrefix(lines[1], "data: "), "data line %q", lines[1])
		ev := sseEvent{Name: strings.TrimPrefix(lines[0], "event: "), Raw: strings.TrimPrefix(lines[1], "data: ")}
		require.NoError(t, json.Unmarshal([]byte(ev.Raw), &ev.Data), "data %q", ev.Raw)
		require.Equal(t, ev.Name, ev.Data["type"])
		evs = append(evs, ev)
	}
	return evs
}

func names(evs []sseEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

// startModel starts a model with script and closes it at the end of the test.
func startModel(t *testing.T, script hosttest.Script) *hosttest.Model {
	t.Helper()
	m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// requestBody builds a responses request body with these input items.
func requestBody(t *testing.T, items ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"model":  "mock-model",
		"stream": true,
		"input":  items,
		"tools": []any{
			map[string]any{"type": "function", "name": "exec_command"},
			map[string]any{"type": "custom", "name": "apply_patch"},
			map[string]any{"type": "web_search"},
		},
	})
	require.NoError(t, err)
	return b
}

func userMsg(text string) map[string]any {
	return map[string]any{"type": "message", "role": "user", "content": []any{map[string]any{"type": "input_text", "text": text}}}
}

func toolOutput(callID, output string) map[string]any {
	return map[string]any{"type": "function_call_output", "call_id": callID, "output": output}
}

// post sends a responses request and returns the response (body unread).
func post(t *testing.T, ctx context.Context, m *hosttest.Model, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.URL()+"/responses", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return resp
}

// stream posts a request and returns the parsed complete event stream.
func stream(t *testing.T, m *hosttest.Model, body []byte) []sseEvent {
	t.Helper()
	resp := post(t, context.Background(), m, body)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return parseSSE(t, string(data))
}

// readEvent reads one event from a live stream.
func readEvent(t *testing.T, r *bufio.Reader) sseEvent {
	t.Helper()
	var block strings.Builder
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		block.WriteString(line)
		if line == "\n" {
			break
		}
	}
	evs := parseSSE(t, block.String())
	require.Len(t, evs, 1)
	return evs[0]
}

func item(ev sseEvent) map[string]any {
	it, _ := ev.Data["item"].(map[string]any)
	return it
}
