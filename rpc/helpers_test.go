package rpc_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/rpc"
)

// timeout bounds every wait in these tests; nothing should come close.
const timeout = 10 * time.Second

// peer is the raw far end of a net.Pipe: it reads and writes lines without
// any rpc machinery, so tests see exactly what goes over the wire.
type peer struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// wire is a decoded line as the peer saw it.
type wire struct {
	Raw     string
	JSONRPC *string         `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *rpc.WireError  `json:"error"`
}

// newPeer returns a Conn over one end of a net.Pipe and a raw peer on the
// other. Cleanup closes both and waits for the Conn's goroutines.
func newPeer(t *testing.T, opts *rpc.Options) (*rpc.Conn, *peer) {
	t.Helper()
	a, b := net.Pipe()
	c := rpc.NewConn(a, opts)
	p := &peer{t: t, conn: b, r: bufio.NewReaderSize(b, 1<<20)}
	t.Cleanup(func() {
		_ = c.Close()
		_ = b.Close()
		_ = c.Wait()
	})
	return c, p
}

// newPair returns two Conns talking to each other over a net.Pipe.
func newPair(t *testing.T, aOpts, bOpts *rpc.Options) (*rpc.Conn, *rpc.Conn) {
	t.Helper()
	x, y := net.Pipe()
	a, b := rpc.NewConn(x, aOpts), rpc.NewConn(y, bOpts)
	t.Cleanup(func() {
		_ = a.Close()
		_ = b.Close()
		_ = a.Wait()
		_ = b.Wait()
	})
	return a, b
}

// send writes one line (the newline is added). Test goroutine only.
func (p *peer) send(line string) {
	p.t.Helper()
	require.NoError(p.t, p.sendErr(line))
}

// sendErr writes one line; safe from any goroutine.
func (p *peer) sendErr(line string) error {
	if err := p.conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := io.WriteString(p.conn, line+"\n")
	return err
}

// recv reads and decodes one line, checking that it carries no "jsonrpc"
// member. Test goroutine only.
func (p *peer) recv() wire {
	p.t.Helper()
	require.NoError(p.t, p.conn.SetReadDeadline(time.Now().Add(timeout)))
	line, err := p.r.ReadString('\n')
	require.NoError(p.t, err)
	var w wire
	require.NoError(p.t, json.Unmarshal([]byte(line), &w), "line %q", line)
	w.Raw = strings.TrimSuffix(line, "\n")
	require.Nil(p.t, w.JSONRPC, "encoded message must not carry jsonrpc: %s", w.Raw)
	require.NotContains(p.t, w.Raw, "jsonrpc")
	return w
}

// goCall runs c.Call in a goroutine and returns a channel for its error.
func goCall(ctx context.Context, c *rpc.Conn, method string, params, result any) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- c.Call(ctx, method, params, result) }()
	return ch
}

// await returns the value received from ch, failing the test on timeout.
func await[T any](t testing.TB, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(timeout):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

// logBuf collects slog text output safely across goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLogger() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

// recorder is a NotificationHandler that records what it receives.
type recorder struct {
	mu    sync.Mutex
	got   []*rpc.Request
	added chan struct{} // receives a value per notification, if non-nil
	grew  chan struct{} // closed by the next notification; nil: none waits
}

func (r *recorder) HandleNotification(_ context.Context, n *rpc.Request) {
	r.mu.Lock()
	r.got = append(r.got, n)
	if r.grew != nil {
		close(r.grew)
		r.grew = nil
	}
	r.mu.Unlock()
	if r.added != nil {
		r.added <- struct{}{}
	}
}

// waitLen waits until n notifications were recorded, failing the test on
// timeout (a bound on a failing test: it returns on the n-th notification).
func (r *recorder) waitLen(t testing.TB, n int, msg string) {
	t.Helper()
	limit := time.NewTimer(timeout)
	defer limit.Stop()
	for {
		r.mu.Lock()
		got := len(r.got)
		if r.grew == nil {
			r.grew = make(chan struct{})
		}
		grew := r.grew
		r.mu.Unlock()
		if got >= n {
			require.Equal(t, n, got, msg)
			return
		}
		select {
		case <-grew:
		case <-limit.C:
			t.Fatalf("%s: %d of %d notifications after %v", msg, got, n, timeout)
		}
	}
}

func (r *recorder) snapshot() []*rpc.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rpc.Request(nil), r.got...)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}
