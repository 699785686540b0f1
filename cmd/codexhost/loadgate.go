package main

import (
	"context"
	"errors"
	"sync"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// A loadGate holds a run's requests until its plugins have loaded: the
// run loads Wasm plugins lazily (load.Options.Lazy), so that codex starts
// and the first turn goes out before they load. If a plugin fails to load,
// every request is answered fail-closed (an error, which the host answers
// with a decline), whatever the plugin set's fallback says, and the turn
// is stopped with a *pluginLoadError.
//
// The wait, which makes the plugins load that no call has loaded yet,
// begins with begin (the run calls it once the turn has started) or the
// first request. Its goroutine is the gate's: it ends when the plugins
// have loaded, or failed, or with close, which the run calls as it ends
// and which waits for it. After close a waiting request fails with
// errGateClosed.
type loadGate struct {
	host.Handler
	ready  func(context.Context) error
	stop   func(error)
	begin  func()        // starts the wait, once
	loaded chan struct{} // closed when the wait has ended, after err is set
	err    error
	// ctx ends the wait; cancel is close's.
	ctx    context.Context
	cancel context.CancelFunc
}

// errGateClosed fails the requests waiting at a closed gate.
var errGateClosed = errors.New("codexhost: the run ended while its plugins loaded")

// A pluginLoadError stops a turn whose plugin failed to load after the
// run had started codex. err is a usage error naming the plugin, as a load
// at start.
type pluginLoadError struct{ err error }

func (e *pluginLoadError) Error() string { return e.err.Error() }
func (e *pluginLoadError) Unwrap() error { return e.err }

// gateLoads returns next behind a loadGate that waits with ready and, if
// a plugin failed, calls stop with the *pluginLoadError; and the gate
// itself, for begin and close. The handler has next's Tools, if next has
// them.
func gateLoads(next host.Handler, ready func(context.Context) error, stop func(error)) (host.Handler, *loadGate) {
	g := &loadGate{Handler: next, ready: ready, stop: stop, loaded: make(chan struct{})}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.begin = sync.OnceFunc(func() {
		go func() { // the gate's: close waits for it
			defer close(g.loaded)
			err := g.ready(g.ctx)
			switch {
			case g.ctx.Err() != nil:
				g.err = errGateClosed
			case err != nil:
				g.err = &pluginLoadError{err: err}
				g.stop(g.err)
			}
		}()
	})
	if tp, ok := next.(interface{ Tools() []host.ToolSpec }); ok {
		return &toolsGate{loadGate: g, tools: tp}, g
	}
	return g, g
}

// close ends the wait and waits for its goroutine. It is safe to call
// more than once, and concurrently with requests.
func (g *loadGate) close() {
	g.cancel()
	g.begin() // a wait that never began begins and ends at once
	<-g.loaded
}

type toolsGate struct {
	*loadGate
	tools interface{ Tools() []host.ToolSpec }
}

func (g *toolsGate) Tools() []host.ToolSpec { return g.tools.Tools() }

// wait waits for the plugins, or for ctx.
func (g *loadGate) wait(ctx context.Context) error {
	g.begin()
	select {
	case <-g.loaded:
		return g.err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func (g *loadGate) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	if err := g.wait(ctx); err != nil {
		return nil, err
	}
	return g.Handler.Approval(ctx, req)
}

func (g *loadGate) UserInput(ctx context.Context, req *host.UserInputRequest) (*abi.ToolInputResponse, error) {
	if err := g.wait(ctx); err != nil {
		return nil, err
	}
	return g.Handler.UserInput(ctx, req)
}

func (g *loadGate) ToolCall(ctx context.Context, req *host.ToolCallRequest) (*abi.ToolCallResponse, error) {
	if err := g.wait(ctx); err != nil {
		return nil, err
	}
	return g.Handler.ToolCall(ctx, req)
}

func (g *loadGate) Elicitation(ctx context.Context, req *host.ElicitationRequest) (*host.ElicitationResponse, error) {
	if err := g.wait(ctx); err != nil {
		return nil, err
	}
	return g.Handler.Elicitation(ctx, req)
}

// asPluginLoad returns the usage error of a plugin that failed to load
// after the start, if cause is one.
func asPluginLoad(cause error) (error, bool) {
	var pe *pluginLoadError
	if errors.As(cause, &pe) {
		return pe.err, true
	}
	return nil, false
}
