package metrics

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// ErrNotLoopback is returned by [Listen] for an address that is not a
// loopback address, unless ListenOptions.AllowRemote is set.
var ErrNotLoopback = errors.New("metrics: not a loopback address")

// ListenOptions configure [Listen]. A nil *ListenOptions means defaults.
type ListenOptions struct {
	// AllowRemote allows an address other than a loopback one. The
	// endpoint has no authentication and tells whoever can reach it which
	// plugins run, their digests and how often the policy declines: keep
	// it on loopback, or put it behind something that authenticates.
	AllowRemote bool
}

// A Server serves metrics over HTTP at /metrics. Close stops it.
type Server struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	err  error
}

// Listen starts serving h at http://addr/metrics. addr is host:port; port
// 0 picks a free port (see [Server.Addr]). The host must be a loopback IP
// address or "localhost" unless opts.AllowRemote is set.
func Listen(addr string, h http.Handler, opts *ListenOptions) (*Server, error) {
	var o ListenOptions
	if opts != nil {
		o = *opts
	}
	if err := CheckLoopback(addr); err != nil && !o.AllowRemote {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	s := &Server{ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s, nil
}

// CheckLoopback returns an error wrapping [ErrNotLoopback] unless addr
// (host:port) names a loopback address.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("metrics: address %q: want host:port, e.g. 127.0.0.1:9464: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	if host == "" {
		host = "every interface"
	}
	return fmt.Errorf("%w: %q listens on %s", ErrNotLoopback, addr, host)
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server: it closes the listener and every connection,
// and waits for the serving goroutine to end. It returns the error that
// ended serving early, if any. It is idempotent.
func (s *Server) Close() error {
	_ = s.srv.Close()
	<-s.done
	return s.err
}
