package guest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

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
			return handleJSON(ctx, hook, r.toolInput, req, dst, nil)
		}
	case abi.HookToolCall:
		if len(r.tools) > 0 {
			return r.handleToolCall(ctx, req, dst)
		}
	case abi.HookEventRender:
		if r.render != nil {
			if r.reflectJSON {
				return handleJSON(ctx, hook, r.render, req, dst, nil)
			}
			return r.handleRender(ctx, req, dst)
		}
	}
	return errorResult(dst, &abi.Error{Code: abi.CodeUnsupportedHook, Message: fmt.Sprintf("plugin %q does not implement the %s hook", r.name, hook)})
}

// handleApproval is the hot path: it uses the reflection-free codec.
func (r *registry) handleApproval(ctx context.Context, req, dst []byte) (abi.Status, []byte) {
	var in *abi.ApprovalRequest
	var err error
	if r.reflectJSON {
		in = new(abi.ApprovalRequest)
		err = json.Unmarshal(req, in)
	} else {
		in, err = abijson.NewApprovalRequest(req)
	}
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
		return errorResult(dst, &abi.Error{Code: abi.CodeInternal, Message: fmt.Sprintf("invalid decision %q", resp.Decision)})
	}
	n := len(dst)
	var out []byte
	if r.reflectJSON {
		if out, err = json.Marshal(resp); err == nil {
			out = append(dst, out...)
		}
	} else {
		out, err = abijson.AppendApprovalResponse(dst, resp)
	}
	if err != nil {
		return encodeError(dst[:n], abi.HookApproval, err)
	}
	return abi.StatusOK, out
}

// handleRender is the other frequent hook (an event per streamed delta):
// it uses the reflection-free codec too.
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

func (r *registry) handleToolCall(ctx context.Context, req, dst []byte) (abi.Status, []byte) {
	in := new(abi.ToolCallRequest)
	if err := json.Unmarshal(req, in); err != nil {
		return badRequest(dst, abi.HookToolCall, err)
	}
	for _, t := range r.tools {
		if t.Name == in.Tool {
			return respond(ctx, abi.HookToolCall, t.fn, in, dst, func(resp *abi.ToolCallResponse) (*abi.ToolCallResponse, error) {
				if resp.Content == nil {
					c := *resp
					c.Content = []abi.Content{} // an array, not null
					return &c, nil
				}
				return resp, nil
			})
		}
	}
	return errorResult(dst, &abi.Error{Code: abi.CodeUnknownTool, Message: fmt.Sprintf("plugin %q has no tool %q", r.name, in.Tool)})
}

// handleJSON serves a hook with encoding/json. check, if not nil, may
// reject or adjust the response before it is encoded.
func handleJSON[Req, Resp any](ctx context.Context, hook abi.Hook, fn func(context.Context, *Req) (*Resp, error), req, dst []byte, check func(*Resp) (*Resp, error)) (abi.Status, []byte) {
	in := new(Req)
	if err := json.Unmarshal(req, in); err != nil {
		return badRequest(dst, hook, err)
	}
	return respond(ctx, hook, fn, in, dst, check)
}

func respond[Req, Resp any](ctx context.Context, hook abi.Hook, fn func(context.Context, *Req) (*Resp, error), in *Req, dst []byte, check func(*Resp) (*Resp, error)) (abi.Status, []byte) {
	resp, err := call(ctx, fn, in)
	if err != nil {
		return errorResult(dst, toABIError(err, abi.CodeInternal))
	}
	if resp == nil {
		return nilResponse(dst)
	}
	if check != nil {
		if resp, err = check(resp); err != nil {
			return errorResult(dst, toABIError(err, abi.CodeInternal))
		}
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return encodeError(dst, hook, err)
	}
	return abi.StatusOK, append(dst, out...)
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
	return &abi.Error{Code: abi.CodeInternal, Message: "panic: " + safeString(func() string { return fmt.Sprint(v) })}
}

// toABIError returns the *abi.Error err is or wraps, or an error of code
// with err's message.
func toABIError(err error, code abi.ErrorCode) *abi.Error {
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
	return errorResult(dst, &abi.Error{Code: abi.CodeBadRequest, Message: fmt.Sprintf("decode %s request: %v", hook, err)})
}

func encodeError(dst []byte, hook abi.Hook, err error) (abi.Status, []byte) {
	return errorResult(dst, &abi.Error{Code: abi.CodeInternal, Message: fmt.Sprintf("encode %s response: %v", hook, err)})
}

func nilResponse(dst []byte) (abi.Status, []byte) {
	return errorResult(dst, &abi.Error{Code: abi.CodeInternal, Message: "handler returned a nil response and a nil error"})
}

func errorResult(dst []byte, e *abi.Error) (abi.Status, []byte) {
	return abi.StatusError, abijson.AppendError(dst, e)
}
