package guest

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/sdk-guest/internal/abijson"
)

// configureCall implements Configure.
func (r *registry) configureCall(settings []byte) (abi.Status, []byte) {
	if r.configure == nil {
		return abi.StatusOK, nil
	}
	if len(settings) == 0 {
		settings = []byte("null")
	} else {
		settings = slices.Clone(settings) // fn may keep it; the input buffer is reused
	}
	err := protect(func() error { return r.configure(settings) })
	if err != nil {
		return errorResult(nil, toABIError(err, abi.CodeBadConfig))
	}
	return abi.StatusOK, nil
}

// handle implements Handle, appending the payload to dst (which the Wasm
// binding passes with room for the status byte, to avoid a copy).
func (r *registry) handle(ctx context.Context, hook abi.Hook, req, dst []byte) (abi.Status, []byte) {
	switch hook {
	case abi.HookApproval:
		if r.approval != nil {
			return r.handleApproval(ctx, req, dst)
		}
	case abi.HookToolInput:
		if r.toolInput != nil {
			return r.handleToolInput(ctx, req, dst)
		}
	case abi.HookToolCall:
		if len(r.tools) > 0 {
			return r.handleToolCall(ctx, req, dst)
		}
	case abi.HookEventRender:
		if r.render != nil {
			return r.handleRender(ctx, req, dst)
		}
	}
	return errorResult(dst, &abi.Error{Code: abi.CodeUnsupportedHook, Message: "plugin " + strconv.Quote(r.name) + " does not implement the " + hook.String() + " hook"})
}

// handleApproval is the hot path.
func (r *registry) handleApproval(ctx context.Context, req, dst []byte) (abi.Status, []byte) {
	in, err := abijson.NewApprovalRequest(req)
	if err != nil {
		return badRequest(dst, abi.HookApproval, err)
	}
	resp, err := call(ctx, r.approval, in)
	if err != nil {
		return errorResult(dst, toABIError(err, abi.CodeInternal))
	}
	if resp == nil {
		return nilResponse(dst)
	}
	if !resp.Decision.Valid() {
		return errorResult(dst, &abi.Error{Code: abi.CodeInternal, Message: "invalid decision " + strconv.Quote(string(resp.Decision))})
	}
	n := len(dst)
	out, err := abijson.AppendApprovalResponse(dst, resp)
	if err != nil {
		return encodeError(dst[:n], abi.HookApproval, err)
	}
	return abi.StatusOK, out
}

// handleRender is the other frequent hook (an event per streamed delta).
func (r *registry) handleRender(ctx context.Context, req, dst []byte) (abi.Status, []byte) {
	in, err := abijson.NewRenderRequest(req)
	if err != nil {
		return badRequest(dst, abi.HookEventRender, err)
	}
	resp, err := call(ctx, r.render, in)
	if err != nil {
		return errorResult(dst, toABIError(err, abi.CodeInternal))
	}
	if resp == nil {
		return nilResponse(dst)
	}
	return abi.StatusOK, abijson.AppendRenderResponse(dst, resp)
}

func (r *registry) handleToolInput(ctx context.Context, req, dst []byte) (abi.Status, []byte) {
	in := new(abi.ToolInputRequest)
	if err := abijson.DecodeToolInputRequest(req, in); err != nil {
		return badRequest(dst, abi.HookToolInput, err)
	}
	resp, err := call(ctx, r.toolInput, in)
	if err != nil {
		return errorResult(dst, toABIError(err, abi.CodeInternal))
	}
	if resp == nil {
		return nilResponse(dst)
	}
	return abi.StatusOK, abijson.AppendToolInputResponse(dst, resp)
}

func (r *registry) handleToolCall(ctx context.Context, req, dst []byte) (abi.Status, []byte) {
	in := new(abi.ToolCallRequest)
	if err := abijson.DecodeToolCallRequest(req, in); err != nil {
		return badRequest(dst, abi.HookToolCall, err)
	}
	for _, t := range r.tools {
		if t.Name != in.Tool {
			continue
		}
		resp, err := call(ctx, t.fn, in)
		if err != nil {
			return errorResult(dst, toABIError(err, abi.CodeInternal))
		}
		if resp == nil {
			return nilResponse(dst)
		}
		if resp.Content == nil {
			c := *resp
			c.Content = []abi.Content{} // an array, not null
			resp = &c
		}
		return abi.StatusOK, abijson.AppendToolCallResponse(dst, resp)
	}
	return errorResult(dst, &abi.Error{Code: abi.CodeUnknownTool, Message: "plugin " + strconv.Quote(r.name) + " has no tool " + strconv.Quote(in.Tool)})
}

// call runs a handler, turning a panic into an abi.CodeInternal error.
func call[Req, Resp any](ctx context.Context, fn func(context.Context, *Req) (*Resp, error), req *Req) (resp *Resp, err error) {
	defer func() {
		if v := recover(); v != nil {
			resp, err = nil, panicError(v)
		}
	}()
	return fn(ctx, req)
}

// protect runs fn, turning a panic into an abi.CodeInternal error.
func protect(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError(v)
		}
	}()
	return fn()
}

func panicError(v any) *abi.Error {
	return &abi.Error{Code: abi.CodeInternal, Message: "panic: " + safeString(func() string { return panicString(v) })}
}

// toABIError returns the *abi.Error err is or wraps, or an error of code
// with err's message. err is the plugin's: its Unwrap, As or Error method
// may panic, which gives an error of code with no message.
func toABIError(err error, code abi.ErrorCode) (e *abi.Error) {
	defer func() {
		if recover() != nil {
			e = &abi.Error{Code: code, Message: "(message unavailable: the error's Unwrap, As or Error method panicked)"}
		}
	}()
	return unwrapABIError(err, code)
}

func unwrapABIError(err error, code abi.ErrorCode) *abi.Error {
	if e, ok := errors.AsType[*abi.Error](err); ok && e != nil {
		return e
	}
	if e, ok := err.(*abi.Error); ok && e == nil {
		return &abi.Error{Code: code, Message: "handler returned a nil *abi.Error"}
	}
	return &abi.Error{Code: code, Message: safeString(err.Error)}
}

// safeString calls f, which runs plugin code, recovering a panic.
func safeString(f func() string) (s string) {
	defer func() {
		if v := recover(); v != nil {
			s = "(message unavailable: its String or Error method panicked)"
		}
	}()
	return f()
}

func badRequest(dst []byte, hook abi.Hook, err error) (abi.Status, []byte) {
	return errorResult(dst, &abi.Error{Code: abi.CodeBadRequest, Message: "decode " + hook.String() + " request: " + safeString(err.Error)})
}

func encodeError(dst []byte, hook abi.Hook, err error) (abi.Status, []byte) {
	return errorResult(dst, &abi.Error{Code: abi.CodeInternal, Message: "encode " + hook.String() + " response: " + safeString(err.Error)})
}

func nilResponse(dst []byte) (abi.Status, []byte) {
	return errorResult(dst, &abi.Error{Code: abi.CodeInternal, Message: "handler returned a nil response and a nil error"})
}

func errorResult(dst []byte, e *abi.Error) (abi.Status, []byte) {
	return abi.StatusError, abijson.AppendError(dst, e)
}

// panicString formats a panic value as fmt.Sprint would for the values
// code panics with (a string, an error, a Stringer, a number or a bool of
// a predeclared type), without linking fmt and reflect into every guest;
// any other value gets a fixed sentence.
func panicString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case error:
		return x.Error()
	case interface{ String() string }:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint:
		return strconv.FormatUint(uint64(x), 10)
	case uint8:
		return strconv.FormatUint(uint64(x), 10)
	case uint16:
		return strconv.FormatUint(uint64(x), 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uintptr:
		return strconv.FormatUint(uint64(x), 10)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "(a value that is not a string, an error, a Stringer or a number)"
}
