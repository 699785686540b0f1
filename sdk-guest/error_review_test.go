package guest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// An error whose Unwrap (or As) method panics: toABIError runs plugin code
// (errors.AsType walks the chain) outside any recover, so the panic
// escapes Handle: in Wasm the call traps, in a process plugin the gRPC
// handler panics and the process dies. Handle's contract is that any
// handler error or panic becomes an abi.CodeInternal error.
type badUnwrap struct{}

func (badUnwrap) Error() string { return "bad unwrap" }
func (badUnwrap) Unwrap() error { panic("unwrap") }

type badAs struct{}

func (badAs) Error() string { return "bad as" }
func (badAs) As(any) bool   { panic("as") }

func TestHandlerErrorWithPanickingUnwrap(t *testing.T) {
	for _, e := range []error{badUnwrap{}, badAs{}} {
		guest.UseFreshRegistry(t)
		guest.Info("x", "1", "")
		guest.AddTool(abi.Tool{Name: "t"}, func(context.Context, *abi.ToolCallRequest) (*abi.ToolCallResponse, error) { return nil, e })
		guest.OnToolInput(func(context.Context, *abi.ToolInputRequest) (*abi.ToolInputResponse, error) { return nil, e })
		var status abi.Status
		var out []byte
		require.NotPanics(t, func() {
			status, out = guest.Handle(t.Context(), abi.HookToolCall, []byte(`{"tool":"t"}`))
		})
		require.Equal(t, abi.StatusError, status)
		require.Contains(t, string(out), `"code":1`)
		require.NotPanics(t, func() {
			status, out = guest.Handle(t.Context(), abi.HookToolInput, []byte(`{}`))
		})
		require.Equal(t, abi.StatusError, status)
		// Configure too.
		guest.OnConfigure(func([]byte) error { return e })
		require.NotPanics(t, func() { status, out = guest.Configure([]byte(`{}`)) })
	}
}
