package host_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// fakeOptions are the options that start the test binary as a fake
// app-server playing scenario, with extra FAKE_* settings.
func fakeOptions(t *testing.T, scenario string, env ...string) host.Options {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	return host.Options{Codex: exe, StopGrace: time.Second,
		Env: append([]string{"GORACE=atexit_sleep_ms=0", "FAKE_APPSERVER=" + scenario, "FAKE_DELTAS=0"}, env...)}
}

// methods records the methods of the events it observes.
type methods struct {
	mu  sync.Mutex
	got []string
}

func (m *methods) ObserveEvent(ev *host.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, ev.Method)
}

func (m *methods) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// Prepare's Handler answers the requests and its Observers see every
// event, from the notice codex sends right after initialize on: nothing
// reaches the Client's handler or observers before Prepare has returned.
func TestStartPrepareCompletesTheOptions(t *testing.T) {
	early, late := &methods{}, &methods{}
	o := fakeOptions(t, "approval", "FAKE_INIT_NOTICE=1")
	o.Observers = []host.EventObserver{early}
	o.Prepare = func(ctx context.Context) (*host.Prepared, error) {
		h := approvalHandler{f: func(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
			return &abi.ApprovalResponse{Decision: abi.Accept}, nil
		}}
		return &host.Prepared{Handler: h, Observers: []host.EventObserver{late}}, nil
	}
	c, err := host.Start(t.Context(), &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
	})
	a := answerOf(t, nil, collect(t, c))
	require.JSONEq(t, `{"decision":"accept"}`, string(a["result"]), "Prepare's handler answered")
	require.NotEmpty(t, late.list())
	assert.Equal(t, "configWarning", late.list()[0], "the notice waited for Prepare's observer")
	assert.Equal(t, early.list(), late.list(), "both observers saw every event")
}

// A failed Prepare stops app-server, abandoning an initialize that would
// never be answered, and Start returns its error.
func TestStartPrepareFailureStopsAppServer(t *testing.T) {
	boom := errors.New("plugin load failed")
	o := fakeOptions(t, "text", "FAKE_NO_INIT=1")
	o.Prepare = func(ctx context.Context) (*host.Prepared, error) { return nil, boom }
	c, err := host.Start(t.Context(), &o)
	require.Nil(t, c)
	require.ErrorIs(t, err, host.ErrPrepare)
	require.ErrorIs(t, err, boom)
}

// When app-server fails to start, Start waits for Prepare and returns the
// start's error; when both fail, Prepare's, whichever failed first.
func TestStartFailureWaitsForPrepare(t *testing.T) {
	prepared := false
	o := fakeOptions(t, "exit-at-start")
	o.Prepare = func(ctx context.Context) (*host.Prepared, error) {
		prepared = true
		return nil, nil
	}
	c, err := host.Start(t.Context(), &o)
	require.Nil(t, c)
	var ce *host.ConnError
	require.ErrorAs(t, err, &ce, "the start's error: %v", err)
	assert.True(t, prepared, "Prepare returned before Start did")

	boom := errors.New("bad plugin")
	o.Prepare = func(ctx context.Context) (*host.Prepared, error) { return nil, boom }
	c, err = host.Start(t.Context(), &o)
	require.Nil(t, c)
	require.ErrorIs(t, err, boom)

	o.Codex = filepath.Join(t.TempDir(), "no-codex")
	c, err = host.Start(t.Context(), &o)
	require.Nil(t, c)
	require.ErrorIs(t, err, boom, "not ErrCodexNotFound, which comes first")
}

// Start's ctx ends both the start and Prepare.
func TestStartPrepareEndsWithCtx(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	o := fakeOptions(t, "text", "FAKE_NO_INIT=1")
	o.Prepare = func(pctx context.Context) (*host.Prepared, error) {
		cancel() // e.g. Ctrl-C while plugins load and codex starts
		<-pctx.Done()
		return nil, pctx.Err()
	}
	c, err := host.Start(ctx, &o)
	require.Nil(t, c)
	require.ErrorIs(t, err, context.Canceled)
}

// Prepare's context outlives Start: what it started may hold it until the
// Client is closed.
func TestStartPrepareContextEndsAtClose(t *testing.T) {
	var pctx context.Context
	o := fakeOptions(t, "text")
	o.Prepare = func(ctx context.Context) (*host.Prepared, error) {
		pctx = ctx
		return nil, nil
	}
	c, err := host.Start(t.Context(), &o)
	require.NoError(t, err)
	require.NoError(t, pctx.Err(), "alive after Start")
	_ = c.Close()
	_ = c.Wait()
	require.ErrorIs(t, pctx.Err(), context.Canceled)
}
