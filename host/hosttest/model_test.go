package hosttest_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

func TestURL(t *testing.T) {
	m := startModel(t, nil)
	assert.True(t, strings.HasPrefix(m.URL(), "http://127.0.0.1:"), m.URL())
	assert.True(t, strings.HasSuffix(m.URL(), "/v1"), m.URL())
}

func TestRequestsRecorded(t *testing.T) {
	m := startModel(t, nil)
	body1 := requestBody(t, userMsg("context"), userMsg("first"))
	stream(t, m, body1)
	body2 := requestBody(t, userMsg("first"),
		map[string]any{"type": "function_call", "name": "exec_command", "call_id": "c1", "arguments": "{}"},
		toolOutput("c1", "ran it"),
		map[string]any{"type": "custom_tool_call_output", "call_id": "c2", "output": []any{
			map[string]any{"type": "input_text", "text": "a"}, map[string]any{"type": "input_text", "text": "b"},
		}},
	)
	stream(t, m, body2)

	reqs := m.Requests()
	require.Len(t, reqs, 2)

	r := reqs[0]
	assert.Equal(t, 0, r.Seq)
	assert.Equal(t, "/v1/responses", r.Path)
	assert.Equal(t, "text/event-stream", r.Header.Get("Accept"))
	assert.Equal(t, body1, r.Body)
	assert.NoError(t, r.ParseError)
	assert.Equal(t, "mock-model", r.Model)
	assert.Len(t, r.Input, 2)
	assert.Equal(t, []string{"exec_command", "apply_patch", "web_search"}, r.Tools)
	assert.True(t, r.HasTool("apply_patch"))
	assert.False(t, r.HasTool("request_user_input"))
	assert.False(t, r.IsToolFollowUp())
	assert.Equal(t, hosttest.InputItem{Type: "message", Role: "user"}, r.LastInput())
	assert.Equal(t, []string{"context", "first"}, r.UserTexts())
	assert.Equal(t, "first", r.LastUserText())
	assert.Empty(t, r.ToolOutputs())

	r = reqs[1]
	assert.Equal(t, 1, r.Seq)
	assert.True(t, r.IsToolFollowUp())
	assert.Equal(t, "custom_tool_call_output", r.LastInput().Type)
	assert.Equal(t, "exec_command", r.Item(1).Name)
	assert.Equal(t, hosttest.InputItem{}, r.Item(99))
	outs := r.ToolOutputs()
	require.Len(t, outs, 2)
	assert.Equal(t, "function_call_output", outs[0].Type)
	assert.Equal(t, "ran it", outs[0].Text())
	o, ok := r.ToolOutput("c2")
	require.True(t, ok)
	assert.Equal(t, "a\nb", o.Text())
	_, ok = r.ToolOutput("nope")
	assert.False(t, ok)

	// Requests returns copies.
	reqs[0].Body[0] = 'X'
	reqs[0].Input[0] = nil
	again := m.Requests()
	assert.Equal(t, body1, again[0].Body)
	assert.NotNil(t, again[0].Input[0])
}

func TestScriptSeesParsedRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	m := startModel(t, hosttest.ScriptFunc(func(req *hosttest.ModelRequest) hosttest.Reply {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, req.LastUserText())
		req.Body = nil // must not affect the record
		return hosttest.Text("echo: " + req.LastUserText())
	}))
	evs := stream(t, m, requestBody(t, userMsg("ping")))
	assert.Equal(t, "echo: ping", evs[2].Data["delta"])
	mu.Lock()
	assert.Equal(t, []string{"ping"}, seen)
	mu.Unlock()
	assert.NotEmpty(t, m.Requests()[0].Body)
}

func TestMalformedBody(t *testing.T) {
	m := startModel(t, nil)
	evs := stream(t, m, []byte("not json"))
	assert.Len(t, evs, 5)
	r := m.Requests()[0]
	assert.Error(t, r.ParseError)
	assert.Equal(t, []byte("not json"), r.Body)
	assert.False(t, r.IsToolFollowUp())
}

func TestGzipBody(t *testing.T) {
	m := startModel(t, nil)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(requestBody(t, userMsg("zipped")))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	req, err := http.NewRequest(http.MethodPost, m.URL()+"/responses", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "zipped", m.Requests()[0].LastUserText())
}

func TestOtherEndpoints(t *testing.T) {
	m := startModel(t, nil)
	resp, err := http.Get(m.URL() + "/models")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	var v map[string]any
	require.NoError(t, json.Unmarshal(body, &v))
	assert.Equal(t, []any{}, v["models"])

	resp, err = http.Get(m.URL() + "/other")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Empty(t, m.Requests())
}

func TestTurnScript(t *testing.T) {
	m := startModel(t, hosttest.Turn(hosttest.ExecCommand("touch a"), hosttest.ApplyPatch("p"), hosttest.Text("done")))
	first := requestBody(t, userMsg("go"))
	follow := requestBody(t, userMsg("go"), toolOutput("c", "ok"))

	assert.Equal(t, "exec_command", item(stream(t, m, first)[1])["name"])
	assert.Equal(t, "apply_patch", item(stream(t, m, follow)[1])["name"])
	assert.Equal(t, "done", stream(t, m, follow)[2].Data["delta"])
	assert.Equal(t, hosttest.DefaultText, stream(t, m, follow)[2].Data["delta"])
	// A new turn starts over.
	assert.Equal(t, "exec_command", item(stream(t, m, first)[1])["name"])
	assert.Equal(t, "apply_patch", item(stream(t, m, follow)[1])["name"])
}

func TestTurnsScript(t *testing.T) {
	m := startModel(t, hosttest.Turns(
		hosttest.Turn(hosttest.ExecCommand("x"), hosttest.Text("one")),
		hosttest.Text("two"),
	))
	first := requestBody(t, userMsg("go"))
	follow := requestBody(t, userMsg("go"), toolOutput("c", "ok"))
	assert.Equal(t, "exec_command", item(stream(t, m, first)[1])["name"])
	assert.Equal(t, "one", stream(t, m, follow)[2].Data["delta"])
	assert.Equal(t, "two", stream(t, m, first)[2].Data["delta"])
	assert.Equal(t, "two", stream(t, m, first)[2].Data["delta"]) // last one repeats
}

func TestTurnsStartingWithFollowUp(t *testing.T) {
	m := startModel(t, hosttest.Turns(hosttest.Text("a"), hosttest.Text("b")))
	assert.Equal(t, "a", stream(t, m, requestBody(t, toolOutput("c", "ok")))[2].Data["delta"])
	assert.Equal(t, "a", stream(t, m, requestBody(t, toolOutput("c", "ok")))[2].Data["delta"])
	assert.Equal(t, "b", stream(t, m, requestBody(t, userMsg("x")))[2].Data["delta"])
}

func TestSequenceScript(t *testing.T) {
	m := startModel(t, hosttest.Sequence(hosttest.Text("a"), hosttest.Text("b")))
	body := requestBody(t, userMsg("x"))
	assert.Equal(t, "a", stream(t, m, body)[2].Data["delta"])
	assert.Equal(t, "b", stream(t, m, body)[2].Data["delta"])
	assert.Equal(t, hosttest.DefaultText, stream(t, m, body)[2].Data["delta"])
}

func TestSlowStreamIsSlow(t *testing.T) {
	m := startModel(t, hosttest.TextDeltas(5).WithDelay(20*time.Millisecond))
	start := time.Now()
	evs := stream(t, m, requestBody(t, userMsg("x")))
	// 9 events, 8 pauses.
	assert.Len(t, evs, 9)
	assert.GreaterOrEqual(t, time.Since(start), 8*20*time.Millisecond)
}

func TestSlowStreamDeliversEventsAsTheyCome(t *testing.T) {
	m := startModel(t, hosttest.TextDeltas(1000).WithDelay(10*time.Millisecond))
	resp := post(t, t.Context(), m, requestBody(t, userMsg("x")))
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	assert.Equal(t, "response.created", readEvent(t, r).Name)
	assert.Equal(t, "response.output_item.added", readEvent(t, r).Name)
	ev := readEvent(t, r)
	assert.Equal(t, "response.output_text.delta", ev.Name)
	assert.Equal(t, "d0 ", ev.Data["delta"])
}

func TestCloseEndsSlowStream(t *testing.T) {
	for _, reply := range []hosttest.Reply{
		hosttest.TextDeltas(1000).WithDelay(time.Hour),
		hosttest.Hang(),
	} {
		m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: reply})
		require.NoError(t, err)
		resp := post(t, context.Background(), m, requestBody(t, userMsg("x")))
		r := bufio.NewReader(resp.Body)
		assert.Equal(t, "response.created", readEvent(t, r).Name)

		readErr := make(chan error, 1)
		go func() {
			_, err := io.ReadAll(r)
			readErr <- err
		}()
		start := time.Now()
		require.NoError(t, m.Close())
		// The replies last an hour or for ever: these bounds catch a Close
		// or a client that waits for them, and are wide so that a loaded
		// machine does not fail them.
		assert.Less(t, time.Since(start), 30*time.Second)
		select {
		case <-readErr:
		case <-time.After(30 * time.Second):
			t.Fatal("client still reading after Close")
		}
		resp.Body.Close()
		require.NoError(t, m.Close()) // idempotent
	}
}

// endLogger collects the "how" of "hosttest: stream ended" debug records.
type endLogger struct{ ended chan string }

func (h endLogger) Enabled(context.Context, slog.Level) bool { return true }
func (h endLogger) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h endLogger) WithGroup(string) slog.Handler            { return h }
func (h endLogger) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "hosttest: stream ended" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "how" {
				h.ended <- a.Value.String()
			}
			return true
		})
	}
	return nil
}

func TestClientDisconnectEndsSlowStream(t *testing.T) {
	for _, reply := range []hosttest.Reply{
		hosttest.TextDeltas(1000).WithDelay(time.Hour),
		hosttest.Hang(),
	} {
		ended := make(chan string, 10)
		m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: reply, Logger: slog.New(endLogger{ended})})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		resp := post(t, ctx, m, requestBody(t, userMsg("x")))
		r := bufio.NewReader(resp.Body)
		assert.Equal(t, "response.created", readEvent(t, r).Name)
		cancel()
		resp.Body.Close()
		select {
		case how := <-ended:
			assert.Equal(t, "client gone", how)
		case <-time.After(30 * time.Second): // the reply lasts an hour or for ever
			t.Error("stream did not end when the client went away")
		}
		require.NoError(t, m.Close())
	}
}

func TestStreamEndReasons(t *testing.T) {
	ended := make(chan string, 10)
	m, err := hosttest.StartModel(&hosttest.ModelOptions{
		Script: hosttest.Sequence(hosttest.Text("x"), hosttest.Hang()),
		Logger: slog.New(endLogger{ended}),
	})
	require.NoError(t, err)
	stream(t, m, requestBody(t, userMsg("x")))
	assert.Equal(t, "done", <-ended)
	resp := post(t, context.Background(), m, requestBody(t, userMsg("x")))
	defer resp.Body.Close()
	assert.Equal(t, "response.created", readEvent(t, bufio.NewReader(resp.Body)).Name)
	require.NoError(t, m.Close())
	assert.Equal(t, "server closing", <-ended)
}

func TestRequestAfterClose(t *testing.T) {
	m, err := hosttest.StartModel(nil)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	_, err = http.Post(m.URL()+"/responses", "application/json", strings.NewReader("{}"))
	assert.Error(t, err)
}

func TestConcurrentRequests(t *testing.T) {
	m := startModel(t, hosttest.Text("x").InDeltas(1))
	const n = 20
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(m.URL()+"/responses", "application/json",
				bytes.NewReader(requestBody(t, userMsg("x"))))
			if !assert.NoError(t, err) {
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			_ = m.Requests()
		}()
	}
	wg.Wait()
	reqs := m.Requests()
	require.Len(t, reqs, n)
	for i, r := range reqs {
		assert.Equal(t, i, r.Seq)
	}
}

// WaitRequests blocks until the n-th request is recorded (here: a request
// whose reply hangs, so the request is in flight while the test checks),
// and gives up with ctx's error.
func TestWaitRequests(t *testing.T) {
	m := startModel(t, hosttest.Hang())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reqs, err := m.WaitRequests(ctx, 1)
	require.ErrorIs(t, err, context.Canceled, "no request yet: waits until ctx ends")
	assert.Nil(t, reqs)

	reqs, err = m.WaitRequests(context.Background(), 0)
	require.NoError(t, err)
	assert.Empty(t, reqs)

	postCtx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, err := http.NewRequestWithContext(postCtx, http.MethodPost, m.URL()+"/responses",
			bytes.NewReader(requestBody(t, userMsg("wait for me"))))
		if !assert.NoError(t, err) {
			return
		}
		if r, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
		}
	}()
	reqs, err = m.WaitRequests(context.Background(), 1)
	require.NoError(t, err)
	require.Len(t, reqs, 1)
	assert.Equal(t, "wait for me", reqs[0].LastUserText())
	stop()
	<-done
}
