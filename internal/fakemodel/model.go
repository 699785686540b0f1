package fakemodel

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// ModelOptions configures StartModel.
type ModelOptions struct {
	// Script answers each responses request. Nil answers every request
	// with Text(DefaultText).
	Script Script
	// Logger receives a line per request (Info), unexpected requests
	// (Warn) and the end of each event stream (Debug, "hosttest: stream
	// ended" with how="done", "client gone" or "server closing"). Nil
	// discards.
	Logger *slog.Logger
}

// Model is a running fake Responses API server on 127.0.0.1.
//
// It answers POST <base>/responses (any path ending in /responses) with the
// Script's Reply, and GET <base>/models with an empty model list. Anything
// else gets 404.
type Model struct {
	url    string
	script Script
	log    *slog.Logger
	srv    *http.Server
	ln     net.Listener

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	served    chan struct{}

	handlersMu sync.Mutex // guards closed and handlers.Add against Close
	closed     bool
	handlers   sync.WaitGroup

	scriptMu sync.Mutex // serializes Script.Reply calls

	mu       sync.Mutex
	requests []*ModelRequest
	arrived  chan struct{} // closed and replaced when a request is recorded
}

// StartModel starts a fake model server listening on 127.0.0.1 on a free
// port. opts may be nil.
func StartModel(opts *ModelOptions) (*Model, error) {
	if opts == nil {
		opts = &ModelOptions{}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("hosttest: listen: %w", err)
	}
	m := &Model{
		url:     "http://" + ln.Addr().String() + "/v1",
		script:  opts.Script,
		log:     opts.Logger,
		ln:      ln,
		closing: make(chan struct{}),
		served:  make(chan struct{}),
		arrived: make(chan struct{}),
	}
	if m.script == nil {
		m.script = Text(DefaultText)
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.srv = &http.Server{
		Handler:           http.HandlerFunc(m.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(m.served)
		_ = m.srv.Serve(ln)
	}()
	return m, nil
}

// URL returns the base URL of the API, including /v1, e.g.
// http://127.0.0.1:PORT/v1. Use it as the model provider's base_url.
func (m *Model) URL() string { return m.url }

// Requests returns a copy of every responses request received so far, in
// arrival order (Requests()[i].Seq == i).
func (m *Model) Requests() []ModelRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]ModelRequest, len(m.requests))
	for i, r := range m.requests {
		out[i] = r.clone()
	}
	return out
}

// WaitRequests blocks until the model has received at least n responses
// requests, then returns a copy of every request received so far (as
// Requests). It returns ctx's error if ctx ends first. It is safe to call
// from any goroutine, also after Close (then it waits only for requests
// already recorded).
func (m *Model) WaitRequests(ctx context.Context, n int) ([]ModelRequest, error) {
	for {
		m.mu.Lock()
		got, arrived := len(m.requests), m.arrived
		m.mu.Unlock()
		if got >= n {
			return m.Requests(), nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close stops the server: it stops accepting connections, ends in-flight
// streams (slow or hanging ones included) and waits for their handlers to
// return. It is safe to call more than once.
func (m *Model) Close() error {
	m.closeOnce.Do(func() {
		m.handlersMu.Lock()
		m.closed = true
		m.handlersMu.Unlock()
		close(m.closing)
		err := m.srv.Close()
		<-m.served
		m.handlers.Wait()
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.closeErr = err
		}
	})
	return m.closeErr
}

func (m *Model) serveHTTP(w http.ResponseWriter, r *http.Request) {
	m.handlersMu.Lock()
	if m.closed {
		m.handlersMu.Unlock()
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	m.handlers.Add(1)
	m.handlersMu.Unlock()
	defer m.handlers.Done()
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/responses"):
		m.serveResponses(w, r)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/models"):
		m.log.Info("hosttest: models request", "path", r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"object":"list","data":[],"models":[]}`)
	default:
		m.log.Warn("hosttest: unexpected request", "method", r.Method, "path", r.URL.Path)
		http.NotFound(w, r)
	}
}

func readBody(r *http.Request) ([]byte, error) {
	var body io.Reader = r.Body
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("unsupported Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}
	return io.ReadAll(io.LimitReader(body, 64<<20))
}

// record appends the request to the record and asks the script for the
// reply, under one lock so that Seq order, record order and Script call
// order agree.
func (m *Model) record(r *http.Request, body []byte) (*ModelRequest, Reply) {
	m.scriptMu.Lock()
	defer m.scriptMu.Unlock()
	m.mu.Lock()
	req := parseModelRequest(len(m.requests), r, body, m.closing)
	m.requests = append(m.requests, req)
	close(m.arrived)
	m.arrived = make(chan struct{})
	m.mu.Unlock()
	// The script gets its own copy so it cannot alter the record.
	sreq := req.clone()
	return req, m.script.Reply(&sreq)
}

func (m *Model) serveResponses(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		m.log.Warn("hosttest: cannot read request body", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	req, reply := m.record(r, body)

	m.log.Info("hosttest: responses request", "seq", req.Seq, "model", req.Model,
		"inputs", len(req.Input), "last_input", req.LastInput().Type, "tools", len(req.Tools))

	if status, ok := reply.IsHTTPError(); ok {
		ct := "text/plain; charset=utf-8"
		if b := strings.TrimSpace(reply.body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply.body)
		return
	}

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	how := m.streamEvents(r.Context(), w, reply, req.Seq)
	m.log.Debug("hosttest: stream ended", "seq", req.Seq, "how", how)
}

// Ways a stream ends, as logged at debug level ("hosttest: stream ended").
const (
	endedDone    = "done"
	endedClient  = "client gone"
	endedClosing = "server closing"
)

func (m *Model) streamEvents(ctx context.Context, w http.ResponseWriter, reply Reply, seq int) string {
	rc := http.NewResponseController(w)
	slow := reply.delay > 0 || reply.hang
	for i, ev := range reply.EventsFor(seq) {
		if i > 0 && reply.delay > 0 {
			if how := m.sleep(ctx, reply.delay); how != "" {
				return how
			}
		}
		if _, err := io.WriteString(w, ev.String()); err != nil {
			return m.gone()
		}
		if slow {
			if err := rc.Flush(); err != nil {
				return m.gone()
			}
		}
	}
	if err := rc.Flush(); err != nil {
		return m.gone()
	}
	if reply.hang {
		select {
		case <-ctx.Done():
			return m.gone()
		case <-m.closing:
			return endedClosing
		}
	}
	return endedDone
}

// gone explains a failed write.
func (m *Model) gone() string {
	select {
	case <-m.closing:
		return endedClosing
	default:
		return endedClient
	}
}

// sleep waits for d; it returns "" after d, or why it stopped early.
func (m *Model) sleep(ctx context.Context, d time.Duration) string {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return ""
	case <-ctx.Done():
		return m.gone()
	case <-m.closing:
		return endedClosing
	}
}
