package abi

import "strconv"

// An ErrorCode classifies an [Error] a plugin returns.
type ErrorCode int32

const (
	// CodeInternal: the plugin failed (a panic, a bug).
	CodeInternal ErrorCode = 1
	// CodeUnsupportedHook: the plugin does not implement the hook.
	CodeUnsupportedHook ErrorCode = 2
	// CodeBadRequest: the plugin could not decode the request.
	CodeBadRequest ErrorCode = 3
	// CodeBadConfig: the plugin rejects its settings (configure).
	CodeBadConfig ErrorCode = 4
	// CodeUnknownTool: HookToolCall for a tool the plugin does not serve.
	CodeUnknownTool ErrorCode = 5
)

func (c ErrorCode) String() string {
	switch c {
	case CodeInternal:
		return "internal"
	case CodeUnsupportedHook:
		return "unsupported hook"
	case CodeBadRequest:
		return "bad request"
	case CodeBadConfig:
		return "bad config"
	case CodeUnknownTool:
		return "unknown tool"
	}
	return "code " + strconv.FormatInt(int64(c), 10)
}

// An Error is the error a plugin returns across the boundary. Is compares
// codes, so errors.Is(err, &abi.Error{Code: abi.CodeBadConfig}) matches any
// message.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
}

func (e *Error) Error() string { return "plugin: " + e.Code.String() + ": " + e.Message }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}
