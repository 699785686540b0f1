package plugintest

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// kit is the state of one guest's run.
type kit struct {
	load  Loader
	guest string
	opts  Options
	// plugin is the guest loaded with default options (and, for ref, a
	// prefix setting), shared by the cases that do not need their own.
	plugin plugins.Plugin
}

// refSettings are the settings of the shared ref plugin.
const refPrefix = "[ref] "

var refSettings = []byte(`{"prefix":"[ref] "}`)

// shared loads the guest's shared plugin, closed when t ends; it skips t
// if the runtime does not have the guest.
func (k *kit) shared(t *testing.T) plugins.Plugin {
	t.Helper()
	if k.plugin == nil {
		o := &plugins.Options{}
		if k.guest == GuestRef {
			o.Settings = refSettings
		}
		k.plugin = k.mustLoad(t, o)
	}
	return k.plugin
}

// mustLoad loads the guest with opts, closed when t ends; it skips t if
// the runtime does not have the guest.
func (k *kit) mustLoad(t *testing.T, opts *plugins.Options) plugins.Plugin {
	t.Helper()
	p, err := k.loadGuest(t, opts)
	if errors.Is(err, ErrNoGuest) {
		t.Skipf("guest %s: %v", k.guest, err)
	}
	require.NoError(t, err, "load guest %s", k.guest)
	require.NotNil(t, p)
	return p
}

// loadGuest loads the guest with opts, closed when t ends.
func (k *kit) loadGuest(t *testing.T, opts *plugins.Options) (plugins.Plugin, error) {
	t.Helper()
	if opts == nil {
		opts = &plugins.Options{}
	}
	p, err := k.load(t, k.guest, opts)
	if err == nil && p != nil {
		t.Cleanup(func() { _ = p.Close(context.Background()) })
	}
	return p, err
}

// call calls hook with req encoded as JSON and decodes the response.
func call[R any](t *testing.T, p plugins.Plugin, hook abi.Hook, req any) (*R, error) {
	return plugins.Call[R](t.Context(), p, hook, req)
}

// mustCall is call that fails t on an error.
func mustCall[R any](t *testing.T, p plugins.Plugin, hook abi.Hook, req any) *R {
	t.Helper()
	r, err := call[R](t, p, hook, req)
	require.NoError(t, err, "%s hook", hook)
	return r
}

func command(cmd string) *abi.ApprovalRequest {
	return &abi.ApprovalRequest{Kind: abi.ApprovalCommand, ThreadID: "thr-1", TurnID: "turn-1", ItemID: "item-1", Cwd: "/work", Command: cmd}
}

func approve(t *testing.T, p plugins.Plugin, cmd string) *abi.ApprovalResponse {
	t.Helper()
	return mustCall[abi.ApprovalResponse](t, p, abi.HookApproval, command(cmd))
}

// assertDecision asserts an approval answer.
func assertDecision(t assert.TestingT, r *abi.ApprovalResponse, d abi.Decision, reason string) bool {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	if !assert.NotNil(t, r) {
		return false
	}
	return assert.Equal(t, d, r.Decision, "decision") && assert.Equal(t, reason, r.Reason, "reason")
}

// requireABIError requires err to be an *abi.Error with code.
func requireABIError(t *testing.T, err error, code abi.ErrorCode) *abi.Error {
	t.Helper()
	require.Error(t, err)
	var ae *abi.Error
	require.ErrorAs(t, err, &ae, "want an *abi.Error, got %T: %v", err, err)
	require.Equal(t, code, ae.Code, "error code; error: %v", err)
	require.ErrorIs(t, err, &abi.Error{Code: code})
	var ce *plugins.CallError
	require.False(t, errors.As(err, &ce), "a plugin error must not be a *plugins.CallError: %v", err)
	return ae
}

// requireCallError requires err to be a *plugins.CallError of one of kinds.
func requireCallError(t *testing.T, err error, kinds ...plugins.FailureKind) *plugins.CallError {
	t.Helper()
	require.Error(t, err)
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce, "want a *plugins.CallError, got %T: %v", err, err)
	require.Contains(t, kinds, ce.Kind, "failure kind; error: %v", err)
	return ce
}
