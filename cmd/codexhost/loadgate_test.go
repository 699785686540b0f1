package main

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// gateHandler accepts everything and has one tool.
type gateHandler struct{ host.SafeHandler }

func (gateHandler) Approval(context.Context, *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	return &abi.ApprovalResponse{Decision: abi.Accept}, nil
}

func (gateHandler) Tools() []host.ToolSpec { return []host.ToolSpec{{Name: "t"}} }

// A request waits for the plugins; once they have loaded it goes through.
func TestLoadGateWaits(t *testing.T) {
	release := make(chan struct{})
	stopped := make(chan error, 1)
	began := make(chan struct{})
	h, g := gateLoads(gateHandler{}, func(context.Context) error { close(began); <-release; return nil }, func(err error) { stopped <- err })
	defer g.close()
	begin := g.begin
	tp, ok := h.(interface{ Tools() []host.ToolSpec })
	require.True(t, ok, "the gate keeps the handler's tools")
	assert.Equal(t, "t", tp.Tools()[0].Name)

	select {
	case <-began:
		t.Fatal("the wait began before begin or a request")
	default:
	}
	begin()
	<-began
	begin() // once

	// Still loading: a request whose ctx ends gets its error, no answer.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.Approval(ctx, &host.ApprovalRequest{})
	require.ErrorIs(t, err, context.Canceled)

	close(release)
	resp, err := h.Approval(t.Context(), &host.ApprovalRequest{})
	require.NoError(t, err)
	assert.Equal(t, abi.Accept, resp.Decision)
	select {
	case err := <-stopped:
		t.Fatalf("stopped after a good load: %v", err)
	default:
	}
}

// A plugin that fails to load: every request fails (the host declines,
// whatever the fallback), and the turn is stopped with the load's error.
func TestLoadGateFailsClosed(t *testing.T) {
	loadErr := errors.New("plugin p.wasm does not load: boom")
	stopped := make(chan error, 1)
	h, g := gateLoads(gateHandler{}, func(context.Context) error { return loadErr }, func(err error) { stopped <- err })
	defer g.close()
	// A request begins the wait.
	_, err := h.Approval(t.Context(), &host.ApprovalRequest{})
	require.ErrorIs(t, err, loadErr)
	cause := <-stopped
	got, ok := asPluginLoad(cause)
	require.True(t, ok)
	assert.Equal(t, loadErr, got)
	_, err = h.ToolCall(t.Context(), &host.ToolCallRequest{})
	require.ErrorIs(t, err, loadErr)
	_, err = h.UserInput(t.Context(), &host.UserInputRequest{})
	require.ErrorIs(t, err, loadErr)
	_, err = h.Elicitation(t.Context(), &host.ElicitationRequest{})
	require.ErrorIs(t, err, loadErr)
	_, ok = asPluginLoad(errors.New("other"))
	assert.False(t, ok)
}

// A lazy plugin closed before it loaded (a reload retired its set, or the
// run is ending) is not a plugin that failed to load: the gate must not
// stop the turn for it.
func TestLoaderReadyIgnoresClosedPlugins(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	policy := policyPlugin(t)
	first := &loader{lazy: true}
	_, err := first.load(ctx, policy, "")
	require.NoError(t, err)
	require.NoError(t, first.ready(ctx))
	first.close() // the load recorded the plugin

	l := &loader{lazy: true}
	defer l.close()
	p, err := l.load(ctx, policy, "")
	require.NoError(t, err)
	require.NoError(t, p.Close(ctx))
	require.NoError(t, l.ready(ctx))
}

// close ends a wait that is still loading and waits for its goroutine: a
// request waiting at the gate fails, and nothing is stopped (the run is
// ending, no plugin failed). A gate whose wait never began closes too.
func TestLoadGateClose(t *testing.T) {
	stopped := make(chan error, 1)
	began := make(chan struct{})
	h, g := gateLoads(gateHandler{}, func(ctx context.Context) error {
		close(began)
		<-ctx.Done()
		return ctx.Err()
	}, func(err error) { stopped <- err })
	waiting := make(chan error, 1)
	go func() {
		_, err := h.Approval(t.Context(), &host.ApprovalRequest{})
		waiting <- err
	}()
	<-began
	g.close()
	require.ErrorIs(t, <-waiting, errGateClosed)
	g.close() // again
	select {
	case err := <-stopped:
		t.Fatalf("close stopped the turn: %v", err)
	default:
	}
	_, err := h.ToolCall(t.Context(), &host.ToolCallRequest{})
	require.ErrorIs(t, err, errGateClosed)

	_, g2 := gateLoads(gateHandler{}, func(ctx context.Context) error { return nil }, func(error) {})
	g2.close()
}
