package rpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/rpc"
)

// scenario runs against a fresh Conn whose far end is a raw peer.
type scenario struct {
	name string
	opts func(t *testing.T, e *env) *rpc.Options // nil: default options
	run  func(t *testing.T, c *rpc.Conn, p *peer, e *env)
	// bubble runs the scenario in a synctest bubble, where synctest.Wait
	// observes that its goroutines are blocked.
	bubble bool
}

// env carries values a scenario's opts hands to its run.
type env struct {
	logs *logBuf
	rec  *recorder
	ch   []chan struct{}
}

func TestScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			run := func(t *testing.T) {
				var e env
				var opts *rpc.Options
				if sc.opts != nil {
					opts = sc.opts(t, &e)
				}
				c, p := newPeer(t, opts)
				sc.run(t, c, p, &e)
			}
			if sc.bubble {
				synctest.Test(t, run)
			} else {
				run(t)
			}
		})
	}
}

// echo answers every call with its params.
var echo = rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
	return req.Params, nil
})

var scenarios = []scenario{
	{
		name: "call returns result",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			var sum int
			done := goCall(t.Context(), c, "add", []int{2, 3}, &sum)
			req := p.recv()
			assert.Equal(t, "add", req.Method)
			assert.JSONEq(t, `[2,3]`, string(req.Params))
			var id int64
			require.NoError(t, json.Unmarshal(req.ID, &id), "client ids are integers")
			p.send(fmt.Sprintf(`{"id":%d,"result":5}`, id))
			require.NoError(t, await(t, done))
			assert.Equal(t, 5, sum)
		},
	},
	{
		name: "call ids increase and nil params are omitted",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			var ids []string
			for range 3 {
				done := goCall(t.Context(), c, "ping", nil, nil)
				req := p.recv()
				assert.NotContains(t, req.Raw, "params")
				ids = append(ids, string(req.ID))
				p.send(`{"id":` + string(req.ID) + `,"result":{}}`)
				require.NoError(t, await(t, done))
			}
			assert.Equal(t, []string{"1", "2", "3"}, ids)
		},
	},
	{
		name: "null result leaves result untouched",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			res := map[string]int{"kept": 1}
			done := goCall(t.Context(), c, "m", nil, &res)
			req := p.recv()
			p.send(`{"id":` + string(req.ID) + `,"result":null}`)
			require.NoError(t, await(t, done))
			assert.Equal(t, map[string]int{"kept": 1}, res)
		},
	},
	{
		name: "notify writes a notification",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			done := make(chan error, 1)
			go func() { done <- c.Notify(t.Context(), "note", map[string]int{"x": 1}) }()
			n := p.recv()
			require.NoError(t, await(t, done))
			assert.Nil(t, n.ID, "a notification has no id")
			assert.Equal(t, "note", n.Method)
			assert.JSONEq(t, `{"x":1}`, string(n.Params))
			assert.Equal(t, `{"method":"note","params":{"x":1}}`, n.Raw)
		},
	},
	{
		name: "incoming string and integer ids are echoed exactly",
		opts: func(*testing.T, *env) *rpc.Options { return &rpc.Options{Handler: echo} },
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"id":"abc","method":"echo","params":"s"}`)
			p.send(`{"id":42,"method":"echo","params":42}`)
			p.send(`{"id":"","method":"echo","params":"empty"}`)
			p.send(`{"id":-7,"method":"echo","params":-7}`)
			got := map[string]string{}
			for range 4 {
				r := p.recv()
				got[string(r.ID)] = string(r.Result)
			}
			assert.Equal(t, map[string]string{`"abc"`: `"s"`, `42`: `42`, `""`: `"empty"`, `-7`: `-7`}, got)
		},
	},
	{
		name: "error response matches by code",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			done := goCall(t.Context(), c, "m", nil, nil)
			req := p.recv()
			p.send(`{"id":` + string(req.ID) + `,"error":{"code":-32601,"message":"no such thing","data":{"k":1}}}`)
			err := await(t, done)
			require.ErrorIs(t, err, rpc.ErrMethodNotFound)
			assert.NotErrorIs(t, err, rpc.ErrInternal)
			var we *rpc.WireError
			require.ErrorAs(t, err, &we)
			assert.Equal(t, "no such thing", we.Message)
			assert.JSONEq(t, `{"k":1}`, string(we.Data))
			assert.Equal(t, "rpc: no such thing (code -32601)", err.Error())
		},
	},
	{
		name: "application error code",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			done := goCall(t.Context(), c, "m", nil, nil)
			req := p.recv()
			p.send(`{"id":` + string(req.ID) + `,"error":{"code":123,"message":"custom"}}`)
			err := await(t, done)
			assert.ErrorIs(t, err, rpc.NewError(123, "any text"))
			assert.NotErrorIs(t, err, rpc.ErrInternal)
		},
	},
	{
		name: "cancelled call returns at once and its late response is dropped quietly",
		opts: func(t *testing.T, e *env) *rpc.Options {
			log, lb := newLogger()
			t.Cleanup(func() {
				if t.Failed() {
					t.Log(lb.String())
				}
			})
			e.logs = lb
			return &rpc.Options{Logger: log}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			ctx, cancel := context.WithCancel(t.Context())
			done := goCall(ctx, c, "slow", nil, nil)
			req := p.recv()
			cancel()
			err := await(t, done)
			require.ErrorIs(t, err, context.Canceled)
			assert.Contains(t, err.Error(), `"slow"`)

			p.send(`{"id":` + string(req.ID) + `,"result":"late"}`)
			// The next call proves the late response was read and the
			// connection still works.
			var got string
			done = goCall(t.Context(), c, "next", nil, &got)
			req2 := p.recv()
			p.send(`{"id":` + string(req2.ID) + `,"result":"ok"}`)
			require.NoError(t, await(t, done))
			assert.Equal(t, "ok", got)
			out := e.logs.String()
			assert.NotContains(t, out, "level=WARN")
			assert.Contains(t, out, "level=DEBUG")
			assert.Contains(t, out, "late response")
			assert.NoError(t, c.Err())
		},
	},
	{
		name: "deadline exceeded",
		// In a bubble, the deadline passes only once the call has been
		// written and nothing else can run: not before the write, on a
		// loaded machine.
		bubble: true,
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			done := goCall(ctx, c, "slow", nil, nil)
			p.recv()
			assert.ErrorIs(t, await(t, done), context.DeadlineExceeded)
		},
	},
	{
		name: "already cancelled context sends nothing",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			require.ErrorIs(t, c.Call(ctx, "m", nil, nil), context.Canceled)
			require.ErrorIs(t, c.Notify(ctx, "n", nil), context.Canceled)
			// The next line the peer sees is the next call, with id 1.
			done := goCall(t.Context(), c, "m", nil, nil)
			req := p.recv()
			assert.Equal(t, "1", string(req.ID))
			p.send(`{"id":1,"result":true}`)
			require.NoError(t, await(t, done))
		},
	},
	{
		name: "out-of-order responses reach the right calls",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			const n = 5
			results := make([]string, n)
			dones := make([]<-chan error, n)
			for i := range n {
				dones[i] = goCall(t.Context(), c, fmt.Sprintf("m%d", i), nil, &results[i])
			}
			reqs := make([]wire, n)
			for i := range n {
				reqs[i] = p.recv()
			}
			for i := n - 1; i >= 0; i-- {
				p.send(`{"id":` + string(reqs[i].ID) + `,"result":"` + reqs[i].Method + `"}`)
			}
			for i := range n {
				require.NoError(t, await(t, dones[i]))
				assert.Equal(t, fmt.Sprintf("m%d", i), results[i])
			}
		},
	},
	{
		name: "peer request while a call is pending",
		opts: func(*testing.T, *env) *rpc.Options {
			return &rpc.Options{Handler: rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
				return "answer to " + req.Method, nil
			})}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			var got string
			done := goCall(t.Context(), c, "outer", nil, &got)
			outer := p.recv()
			p.send(`{"id":"s1","method":"approve","params":{}}`)
			inner := p.recv()
			assert.Equal(t, `"s1"`, string(inner.ID))
			assert.JSONEq(t, `"answer to approve"`, string(inner.Result))
			select {
			case err := <-done:
				t.Fatalf("call finished before its response: %v", err)
			default:
			}
			p.send(`{"id":` + string(outer.ID) + `,"result":"outer done"}`)
			require.NoError(t, await(t, done))
			assert.Equal(t, "outer done", got)
		},
	},
	{
		name: "nil handler answers method not found",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"id":9,"method":"nope"}`)
			r := p.recv()
			assert.Equal(t, "9", string(r.ID))
			require.NotNil(t, r.Error)
			assert.ErrorIs(t, r.Error, rpc.ErrMethodNotFound)
			assert.Contains(t, r.Error.Message, "nope")
			assert.Nil(t, r.Result)
		},
	},
	{
		name: "handler errors become wire errors",
		opts: func(*testing.T, *env) *rpc.Options {
			return &rpc.Options{Handler: rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
				switch req.Method {
				case "plain":
					return nil, errors.New("boom")
				case "wrapped":
					return nil, fmt.Errorf("context: %w", rpc.NewError(-32602, "bad params"))
				case "unmarshalable":
					return make(chan int), nil
				case "nil":
					return nil, nil
				case "baddata":
					return nil, &rpc.WireError{Code: 1, Message: "m", Data: json.RawMessage(`{`)}
				case "typednil":
					var we *rpc.WireError
					return nil, we
				}
				return nil, rpc.ErrMethodNotFound
			})}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			for _, tc := range []struct {
				method string
				want   string
			}{
				{"plain", `{"code":-32603,"message":"boom"}`},
				{"wrapped", `{"code":-32602,"message":"bad params"}`},
				{"unmarshalable", ``},
				{"other", `{"code":-32601,"message":"method not found"}`},
				{"typednil", `{"code":-32603,"message":"handler returned a nil *WireError"}`},
				{"baddata", `{"code":-32603,"message":"rpc: encode error data: unexpected end of JSON input"}`},
			} {
				p.send(`{"id":1,"method":"` + tc.method + `"}`)
				r := p.recv()
				require.NotNil(t, r.Error, tc.method)
				if tc.want == "" {
					assert.Equal(t, int64(-32603), r.Error.Code, tc.method)
					assert.Contains(t, r.Error.Message, "marshal", tc.method)
					continue
				}
				b, err := json.Marshal(r.Error)
				require.NoError(t, err)
				assert.JSONEq(t, tc.want, string(b), tc.method)
			}
			p.send(`{"id":2,"method":"nil"}`)
			assert.Equal(t, `{"id":2,"result":null}`, p.recv().Raw)
		},
	},
	{
		name: "handler panic is answered and the connection survives",
		opts: func(t *testing.T, e *env) *rpc.Options {
			log, _ := newLogger()
			return &rpc.Options{Logger: log, Handler: rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
				if req.Method == "panic" {
					panic("kaboom")
				}
				return "fine", nil
			})}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"id":1,"method":"panic"}`)
			r := p.recv()
			require.NotNil(t, r.Error)
			assert.ErrorIs(t, r.Error, rpc.ErrInternal)
			p.send(`{"id":2,"method":"ok"}`)
			assert.JSONEq(t, `"fine"`, string(p.recv().Result))
			assert.NoError(t, c.Err())
		},
	},
	{
		name: "notification handler panic is logged and delivery goes on",
		opts: func(t *testing.T, e *env) *rpc.Options {
			log, lb := newLogger()
			e.logs = lb
			rec := &recorder{added: make(chan struct{}, 10)}
			e.rec = rec
			return &rpc.Options{Logger: log, Notifications: rpc.NotificationHandlerFunc(func(ctx context.Context, n *rpc.Request) {
				if n.Method == "panic" {
					panic("kaboom")
				}
				rec.HandleNotification(ctx, n)
			})}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"method":"panic"}`)
			p.send(`{"method":"after"}`)
			await(t, e.rec.added)
			assert.Equal(t, "after", e.rec.snapshot()[0].Method)
			assert.Contains(t, e.logs.String(), "kaboom")
		},
	},
	{
		name: "jsonrpc member is accepted when present",
		opts: func(t *testing.T, e *env) *rpc.Options {
			rec := &recorder{added: make(chan struct{}, 10)}
			e.rec = rec
			return &rpc.Options{Handler: echo, Notifications: rec}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			var got int
			done := goCall(t.Context(), c, "m", nil, &got)
			req := p.recv()
			p.send(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":7}`)
			require.NoError(t, await(t, done))
			assert.Equal(t, 7, got)

			p.send(`{"jsonrpc":"2.0","method":"note","params":[1]}`)
			await(t, e.rec.added)
			assert.Equal(t, "note", e.rec.snapshot()[0].Method)

			p.send(`{"jsonrpc":"2.0","id":5,"method":"echo","params":"x"}`)
			r := p.recv() // recv asserts the answer carries no jsonrpc
			assert.Equal(t, `{"id":5,"result":"x"}`, r.Raw)
		},
	},
	{
		name: "response to an unknown id is logged and the connection continues",
		opts: func(t *testing.T, e *env) *rpc.Options {
			log, lb := newLogger()
			e.logs = lb
			return &rpc.Options{Logger: log}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"id":99,"result":1}`)
			p.send(`{"id":"str","result":1}`)
			var got int
			done := goCall(t.Context(), c, "m", nil, &got)
			req := p.recv()
			p.send(`{"id":` + string(req.ID) + `,"result":2}`)
			require.NoError(t, await(t, done))
			assert.Equal(t, 2, got)
			out := e.logs.String()
			assert.Contains(t, out, "level=WARN")
			assert.Contains(t, out, "id=99")
			assert.Contains(t, out, `id="\"str\""`)
			assert.NoError(t, c.Err())
		},
	},
	{
		name: "blank lines are skipped",
		opts: func(t *testing.T, e *env) *rpc.Options {
			rec := &recorder{added: make(chan struct{}, 10)}
			e.rec = rec
			return &rpc.Options{Notifications: rec}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send("")
			p.send("  \t\r")
			p.send(`{"method":"a"}` + "\r") // CRLF line ending
			await(t, e.rec.added)
			assert.NoError(t, c.Err())
		},
	},
	{
		name: "malformed line ends the connection and fails the pending call",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			done := goCall(t.Context(), c, "m", nil, nil)
			p.recv()
			p.send(`{"method":"fine"}`)
			p.send(``)
			go func() { _ = p.sendErr(`xyz not json`) }()
			err := await(t, done)
			require.ErrorIs(t, err, rpc.ErrProtocol)

			werr := c.Wait()
			var pe *rpc.ProtocolError
			require.ErrorAs(t, werr, &pe)
			assert.Equal(t, int64(3), pe.Line)
			assert.Equal(t, "xyz not json", pe.Snippet)
			assert.Equal(t, `rpc: line 3 is not JSON: invalid character 'x' looking for beginning of value (line starts "xyz not json")`, werr.Error())
			assert.Equal(t, werr, c.Err())
			assert.NotErrorIs(t, werr, rpc.ErrLineTooLong)
		},
	},
	{
		name: "invalid message ends the connection",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			go func() { _ = p.sendErr(`{"id":1,"result":1,"error":{"code":1,"message":"m"}}`) }()
			werr := c.Wait()
			require.ErrorIs(t, werr, rpc.ErrProtocol)
			assert.Contains(t, werr.Error(), `rpc: line 1 is not a valid JSON-RPC message: response has both "result" and "error"`)
		},
	},
	{
		name: "oversize line ends the connection",
		opts: func(*testing.T, *env) *rpc.Options { return &rpc.Options{MaxLineBytes: 100} },
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"method":"short"}`)
			go func() { _ = p.sendErr(`{"method":"long","params":"` + strings.Repeat("é", 200) + `"}`) }()
			werr := c.Wait()
			require.ErrorIs(t, werr, rpc.ErrLineTooLong)
			require.ErrorIs(t, werr, rpc.ErrProtocol)
			var pe *rpc.ProtocolError
			require.ErrorAs(t, werr, &pe)
			assert.Equal(t, int64(2), pe.Line)
			assert.LessOrEqual(t, len(pe.Snippet), 120)
			assert.True(t, strings.HasPrefix(pe.Snippet, `{"method":"long"`))
			assert.Contains(t, werr.Error(), "rpc: line 2 is longer than 100 bytes")
		},
	},
	{
		name: "line of exactly MaxLineBytes is accepted",
		opts: func(t *testing.T, e *env) *rpc.Options {
			rec := &recorder{added: make(chan struct{}, 10)}
			e.rec = rec
			return &rpc.Options{MaxLineBytes: 100, Notifications: rec}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			line := `{"method":"m","params":"` + strings.Repeat("x", 100-26) + `"}`
			require.Len(t, line, 100)
			p.send(line)
			await(t, e.rec.added)
			assert.NoError(t, c.Err())
		},
	},
	{
		name: "close during a call returns ErrClosed promptly",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			done := goCall(t.Context(), c, "m", nil, nil)
			p.recv()
			require.NoError(t, c.Close())
			require.ErrorIs(t, await(t, done), rpc.ErrClosed)
			require.NoError(t, c.Wait())
			assert.Equal(t, rpc.ErrClosed, c.Err())
		},
	},
	{
		name: "peer EOF ends the connection",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			done := goCall(t.Context(), c, "m", nil, nil)
			p.recv()
			require.NoError(t, p.conn.Close())
			err := await(t, done)
			require.ErrorIs(t, err, rpc.ErrPeerClosed)
			werr := c.Wait()
			require.ErrorIs(t, werr, rpc.ErrPeerClosed)
			require.ErrorIs(t, werr, io.EOF)
			assert.Equal(t, werr, c.Err())
			select {
			case <-c.Done():
			default:
				t.Fatal("Done not closed")
			}
			assert.NoError(t, c.Close(), "closing after the end is not an error")
			assert.Equal(t, werr, c.Wait(), "Close after the end keeps the reason")
		},
	},
	{
		name: "final line without newline is accepted at EOF",
		opts: func(t *testing.T, e *env) *rpc.Options {
			e.rec = &recorder{}
			return &rpc.Options{Notifications: e.rec}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			_, err := io.WriteString(p.conn, `{"method":"last"}`)
			require.NoError(t, err)
			require.NoError(t, p.conn.Close())
			werr := c.Wait()
			require.ErrorIs(t, werr, rpc.ErrPeerClosed)
			assert.NotContains(t, werr.Error(), "incomplete")
			require.Equal(t, 1, e.rec.len())
			assert.Equal(t, "last", e.rec.snapshot()[0].Method)
		},
	},
	{
		name: "peer EOF in the middle of a line",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			p.send(`{"method":"first"}`)
			_, err := io.WriteString(p.conn, `{"method":"tru`)
			require.NoError(t, err)
			require.NoError(t, p.conn.Close())
			werr := c.Wait()
			require.ErrorIs(t, werr, rpc.ErrPeerClosed)
			require.ErrorIs(t, werr, io.EOF)
			assert.NotErrorIs(t, werr, rpc.ErrProtocol)
			assert.Equal(t, "rpc: peer closed the connection: EOF (line 2 is incomplete)", werr.Error())
		},
	},
	{
		name: "close is idempotent and later calls fail",
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			assert.NoError(t, c.Err())
			require.NoError(t, c.Close())
			require.NoError(t, c.Close())
			require.NoError(t, c.Wait())
			require.NoError(t, c.Wait())
			assert.ErrorIs(t, c.Call(t.Context(), "m", nil, nil), rpc.ErrClosed)
			assert.ErrorIs(t, c.Notify(t.Context(), "n", nil), rpc.ErrClosed)
			assert.ErrorIs(t, c.Err(), rpc.ErrClosed)
		},
	},
	{
		name:   "close cancels handler contexts and Wait waits for handlers",
		bubble: true,
		opts: func(t *testing.T, e *env) *rpc.Options {
			started := make(chan struct{})
			cancelled := make(chan struct{})
			release := make(chan struct{})
			finished := make(chan struct{})
			e.ch = []chan struct{}{started, cancelled, release, finished}
			return &rpc.Options{Handler: rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
				close(started)
				<-ctx.Done()
				close(cancelled)
				<-release // Wait must wait for this
				close(finished)
				return nil, ctx.Err()
			})}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			started, cancelled, release, finished := e.ch[0], e.ch[1], e.ch[2], e.ch[3]
			p.send(`{"id":1,"method":"block"}`)
			await(t, started)
			require.NoError(t, c.Close())
			await(t, cancelled)
			waited := make(chan error, 1)
			go func() { waited <- c.Wait() }()
			synctest.Wait() // Wait is blocked, or has returned
			select {
			case err := <-waited:
				t.Fatalf("Wait returned (%v) while a handler runs", err)
			default:
			}
			close(release)
			require.NoError(t, await(t, waited))
			select {
			case <-finished:
			default:
				t.Fatal("Wait returned before the handler")
			}
		},
	},
	{
		name: "notifications received before peer EOF are still delivered",
		opts: func(t *testing.T, e *env) *rpc.Options {
			gate := make(chan struct{})
			e.ch = []chan struct{}{gate}
			rec := &recorder{}
			e.rec = rec
			return &rpc.Options{Notifications: rpc.NotificationHandlerFunc(func(ctx context.Context, n *rpc.Request) {
				<-gate
				assert.NoError(t, ctx.Err(), "peer EOF must not cancel notification delivery")
				rec.HandleNotification(ctx, n)
			})}
		},
		run: func(t *testing.T, c *rpc.Conn, p *peer, e *env) {
			for i := range 5 {
				p.send(fmt.Sprintf(`{"method":"n%d"}`, i))
			}
			require.NoError(t, p.conn.Close())
			await(t, c.Done())
			close(e.ch[0])
			require.ErrorIs(t, c.Wait(), rpc.ErrPeerClosed)
			assert.Equal(t, 5, e.rec.len())
		},
	},
}

func TestSlowHandlerDoesNotDelayNotifications(t *testing.T) {
	release := make(chan struct{})
	rec := &recorder{}
	c, p := newPeer(t, &rpc.Options{
		Notifications: rec,
		Handler: rpc.HandlerFunc(func(ctx context.Context, _ *rpc.Request) (any, error) {
			select {
			case <-release:
				return "slow done", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}),
	})
	p.send(`{"id":1,"method":"slow"}`)
	const n = 100
	for i := range n {
		p.send(fmt.Sprintf(`{"method":"note","params":%d}`, i))
	}
	rec.waitLen(t, n, "notifications after a slow call must be delivered while it runs")
	for i, got := range rec.snapshot() {
		assert.Equal(t, fmt.Sprint(i), string(got.Params))
	}
	close(release)
	r := p.recv()
	assert.Equal(t, `{"id":1,"result":"slow done"}`, r.Raw)
	assert.NoError(t, c.Err())
}

// A call that reuses the id of a call still being answered fails the
// connection with a protocol error naming the line: no answer could say
// which of the two it answers, and the peer could take an accept of one
// for the other. The handler never sees the second, and the first is not
// answered either. An id whose call has been answered may be used again.
func TestDuplicateCallIDFailsTheConnection(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	var seen []string
	c, p := newPeer(t, &rpc.Options{
		Handler: rpc.HandlerFunc(func(ctx context.Context, req *rpc.Request) (any, error) {
			mu.Lock()
			seen = append(seen, string(req.Params))
			mu.Unlock()
			if string(req.Params) == `"rm"` {
				select {
				case <-release:
				case <-ctx.Done():
				}
				return "decline", nil
			}
			return "accept", nil
		}),
	})
	p.send(`{"id":4,"method":"approve","params":"ls"}`)
	assert.Equal(t, `{"id":4,"result":"accept"}`, p.recv().Raw)
	p.send(`{"id":4,"method":"approve","params":"ls"}`) // answered: free again
	assert.Equal(t, `{"id":4,"result":"accept"}`, p.recv().Raw)
	p.send(`{"id":5,"method":"approve","params":"rm"}`)
	p.send(`{"id":5,"method":"approve","params":"ls"}`)
	<-c.Done()
	close(release)
	var pe *rpc.ProtocolError
	require.ErrorAs(t, c.Err(), &pe)
	assert.Equal(t, int64(4), pe.Line)
	assert.Contains(t, pe.Error(), "request id 5 is already in flight")
	mu.Lock()
	defer mu.Unlock()
	// rm may have reached the handler before the connection failed, or
	// not (a call is not started once it has); the second id 5 never.
	require.GreaterOrEqual(t, len(seen), 2)
	assert.Equal(t, []string{`"ls"`, `"ls"`}, seen[:2])
	assert.NotContains(t, seen[2:], `"ls"`)
}

func TestNotificationOrder(t *testing.T) {
	const n = 10000
	rec := &recorder{}
	a, _ := newPair(t, nil, &rpc.Options{Notifications: rec})
	for i := range n {
		require.NoError(t, a.Notify(t.Context(), "seq", i))
	}
	rec.waitLen(t, n, "all notifications delivered")
	for i, got := range rec.snapshot() {
		require.Equal(t, fmt.Sprint(i), string(got.Params), "notification %d out of order", i)
	}
}

// TestBackpressure runs in a synctest bubble: synctest.Wait observes that
// the peer's writer is blocked, rather than a pause assuming it.
func TestBackpressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 2000
		release := make(chan struct{})
		var mu sync.Mutex
		var got []string
		first := make(chan struct{})
		c, p := newPeer(t, &rpc.Options{
			MaxQueuedBytes: 1024,
			Notifications: rpc.NotificationHandlerFunc(func(ctx context.Context, n *rpc.Request) {
				mu.Lock()
				got = append(got, string(n.Params))
				isFirst := len(got) == 1
				mu.Unlock()
				if isFirst {
					close(first)
					<-release
				}
			}),
		})
		var written atomic.Int64
		writerDone := make(chan error, 1)
		go func() {
			for i := range n {
				if err := p.sendErr(fmt.Sprintf(`{"method":"note","params":"%04d%s"}`, i, strings.Repeat("p", 60))); err != nil {
					writerDone <- err
					return
				}
				written.Add(1)
			}
			writerDone <- nil
		}()

		await(t, first)
		// Every goroutine of the bubble is blocked: the writer on the pipe,
		// the Conn's reader on its full queue, the handler on release.
		synctest.Wait()
		stalled := written.Load()
		assert.Less(t, stalled, int64(n/10), "the peer's writes must block while the handler blocks")
		// A second on the bubble's fake clock (within the writer's 10s
		// write deadline) wakes nothing.
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, stalled, written.Load(), "no progress while the handler blocks")
		select {
		case err := <-writerDone:
			t.Fatalf("writer finished while the handler was blocked: %v", err)
		default:
		}

		close(release)
		require.NoError(t, await(t, writerDone))
		synctest.Wait() // the dispatcher has delivered everything and waits
		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, n, "every notification delivered")
		for i, g := range got {
			require.Equal(t, fmt.Sprintf(`"%04d%s"`, i, strings.Repeat("p", 60)), g)
		}
		assert.NoError(t, c.Err())
	})
}

func TestBackpressureAdmitsOneOversizeMessage(t *testing.T) {
	rec := &recorder{added: make(chan struct{}, 1)}
	_, p := newPeer(t, &rpc.Options{MaxQueuedBytes: 10, Notifications: rec})
	for i := range 3 {
		p.send(fmt.Sprintf(`{"method":"big","params":"%d%s"}`, i, strings.Repeat("x", 1000)))
		await(t, rec.added)
	}
	assert.Equal(t, 3, rec.len())
}

func TestCloseWakesBlockedReaderAndHandler(t *testing.T) {
	entered := make(chan struct{}, 1)
	c, p := newPeer(t, &rpc.Options{
		MaxQueuedBytes: 1,
		Notifications: rpc.NotificationHandlerFunc(func(ctx context.Context, n *rpc.Request) {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-ctx.Done() // blocks until Close
		}),
	})
	p.send(`{"method":"a"}`) // in the handler
	await(t, entered)
	p.send(`{"method":"b"}`) // queued
	p.send(`{"method":"c"}`) // reader blocked pushing this one
	go func() { _ = p.sendErr(`{"method":"d"}`) }()
	require.NoError(t, c.Close())
	require.NoError(t, c.Wait())
}

func TestLargeLines(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 8<<20/16) // 8 MiB
	rec := &recorder{added: make(chan struct{}, 1)}
	a, b := newPair(t, nil, &rpc.Options{Handler: echo, Notifications: rec})

	var got string
	require.NoError(t, a.Call(t.Context(), "echo", big, &got))
	assert.Equal(t, len(big), len(got))
	assert.True(t, got == big)

	require.NoError(t, a.Notify(t.Context(), "big", big))
	await(t, rec.added)
	var note string
	require.NoError(t, json.Unmarshal(rec.snapshot()[0].Params, &note))
	assert.True(t, note == big)

	// Lines longer than the read buffer, then small ones, still work.
	for range 3 {
		require.NoError(t, a.Call(t.Context(), "echo", big[:256<<10], &got))
		require.NoError(t, a.Call(t.Context(), "echo", "small", &got))
		assert.Equal(t, "small", got)
	}
	assert.NoError(t, a.Err())
	assert.NoError(t, b.Err())
}

func TestHammer(t *testing.T) {
	add := rpc.HandlerFunc(func(_ context.Context, req *rpc.Request) (any, error) {
		var args [2]int
		if err := json.Unmarshal(req.Params, &args); err != nil {
			return nil, rpc.NewError(rpc.ErrInvalidParams.Code, err.Error())
		}
		return args[0] + args[1], nil
	})
	a, b := newPair(t, &rpc.Options{Handler: add}, &rpc.Options{Handler: add})
	const workers, calls = 8, 500
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for _, c := range []*rpc.Conn{a, b} {
		for w := range workers {
			wg.Go(func() {
				for i := range calls {
					var sum int
					if err := c.Call(t.Context(), "add", [2]int{w, i}, &sum); err != nil {
						errs <- err
						return
					}
					if sum != w+i {
						errs <- fmt.Errorf("add(%d, %d) = %d", w, i, sum)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, a.Close())
	require.NoError(t, a.Wait())
	require.ErrorIs(t, b.Wait(), rpc.ErrPeerClosed)
}

// paramsText decodes a notification's params into their text.
type paramsText struct{}

func (paramsText) DecodeParams(method string, params []byte) (any, int, bool) {
	var v json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(params))
	if err := dec.Decode(&v); err != nil {
		return nil, 0, false
	}
	return string(v), int(dec.InputOffset()), true
}

// Options.Params decodes the params of incoming notifications and calls
// on the reader, and handlers find the result in Request.Decoded.
func TestParamsDecoder(t *testing.T) {
	got := make(chan *rpc.Request, 2)
	c, p := newPeer(t, &rpc.Options{
		Params:        paramsText{},
		Notifications: rpc.NotificationHandlerFunc(func(_ context.Context, n *rpc.Request) { got <- n }),
		Handler: rpc.HandlerFunc(func(_ context.Context, r *rpc.Request) (any, error) {
			got <- r
			return r.Decoded, nil
		}),
	})
	_ = c
	p.send(`{"method":"note","params":{"a":1}}`)
	p.send(`{"id":1,"method":"ask","params":[true]}`)
	n := <-got
	require.Equal(t, `{"a":1}`, n.Decoded)
	require.Equal(t, `{"a":1}`, string(n.Params))
	r := <-got
	require.Equal(t, `[true]`, r.Decoded)
	require.JSONEq(t, `"[true]"`, string(p.recv().Result))
}

// TestArrivedIsOrderedWithNotifications: Options.Arrived sees each call
// after every notification sent before it has been handled, and before
// any sent after it; it runs before the call's handler, which sees what
// it set in Decoded.
func TestArrivedIsOrderedWithNotifications(t *testing.T) {
	var mu sync.Mutex
	var order []string
	log := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	_, p := newPeer(t, &rpc.Options{
		Notifications: rpc.NotificationHandlerFunc(func(_ context.Context, n *rpc.Request) { log("note " + string(n.Params)) }),
		Arrived: func(r *rpc.Request) {
			log("arrived " + r.ID.String())
			r.Decoded = "seen at arrival " + r.ID.String()
		},
		Handler: rpc.HandlerFunc(func(_ context.Context, r *rpc.Request) (any, error) {
			return r.Decoded, nil
		}),
	})
	for i := range 3 {
		p.send(fmt.Sprintf(`{"method":"n","params":%d}`, 2*i))
		p.send(fmt.Sprintf(`{"id":%d,"method":"call"}`, i))
		p.send(fmt.Sprintf(`{"method":"n","params":%d}`, 2*i+1))
	}
	results := map[string]string{}
	for range 3 {
		w := p.recv()
		results[string(w.ID)] = string(w.Result)
	}
	assert.Equal(t, map[string]string{"0": `"seen at arrival 0"`, "1": `"seen at arrival 1"`, "2": `"seen at arrival 2"`}, results)
	// The last notification may still be in flight: order up to it.
	p.send(`{"id":9,"method":"call"}`)
	p.recv()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"note 0", "arrived 0", "note 1", "note 2", "arrived 1", "note 3", "note 4", "arrived 2", "note 5", "arrived 9"}, order)
}
