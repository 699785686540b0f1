package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Standard JSON-RPC 2.0 error codes, as *WireError values to compare against
// with errors.Is (which compares by code, ignoring the message).
var (
	// ErrParse (-32700): the peer could not parse what it received.
	ErrParse = NewError(-32700, "parse error")
	// ErrInvalidRequest (-32600): the message was not a valid request.
	ErrInvalidRequest = NewError(-32600, "invalid request")
	// ErrMethodNotFound (-32601): no handler for the method. A Conn without
	// a Handler answers every call with this code.
	ErrMethodNotFound = NewError(-32601, "method not found")
	// ErrInvalidParams (-32602): the params did not fit the method.
	ErrInvalidParams = NewError(-32602, "invalid params")
	// ErrInternal (-32603): the handler failed. A Conn answers with this
	// code when a Handler returns an error that is not a *WireError, panics,
	// or returns a result that cannot be marshalled.
	ErrInternal = NewError(-32603, "internal error")
)

// Errors that describe the connection itself rather than a message on the
// wire.
var (
	// ErrClosed means the connection was closed by [Conn.Close].
	ErrClosed = errors.New("rpc: connection closed")
	// ErrPeerClosed means the peer ended the stream (the reader saw EOF).
	// Errors that wrap it also wrap io.EOF.
	ErrPeerClosed = errors.New("rpc: peer closed the connection")
	// ErrLineTooLong means an incoming line exceeded Options.MaxLineBytes.
	// It is always wrapped in a *ProtocolError.
	ErrLineTooLong = errors.New("rpc: line too long")
	// ErrProtocol matches every *ProtocolError: the peer sent a line that is
	// not a valid message.
	ErrProtocol = errors.New("rpc: protocol error")
)

// WireError is a JSON-RPC error object, as carried in a [Response].
//
// A *WireError returned by [Conn.Call] came from the peer. A *WireError
// returned by a [Handler] is sent to the peer as is.
type WireError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// NewError returns a WireError with the given code and message and no data.
func NewError(code int64, message string) *WireError {
	return &WireError{Code: code, Message: message}
}

// Error returns "rpc: <message> (code <code>)".
func (e *WireError) Error() string {
	return "rpc: " + e.Message + " (code " + strconv.FormatInt(e.Code, 10) + ")"
}

// Is reports whether target is a *WireError with the same code, so that
// errors.Is(err, ErrMethodNotFound) holds for any message text.
func (e *WireError) Is(target error) bool {
	t, ok := target.(*WireError)
	return ok && e != nil && t != nil && t.Code == e.Code
}

// ProtocolError describes an incoming line that ended the connection because
// it was not a valid message or was too long.
//
// errors.Is(err, ErrProtocol) holds for every ProtocolError; errors.Is(err,
// ErrLineTooLong) holds additionally for an oversize line.
type ProtocolError struct {
	// Line is the 1-based number of the offending line, counting every line
	// read, blank ones included.
	Line int64
	// Snippet is the start of the line, at most 120 bytes, cut at a UTF-8
	// boundary. It is raw input; Error quotes it.
	Snippet string
	// Err is the cause.
	Err error
}

// Error names the line, the cause and the start of the line, for example
// `rpc: line 12 is not JSON: invalid character 'x' looking for beginning of
// value (line starts "xyz")`.
func (e *ProtocolError) Error() string {
	var b strings.Builder
	b.WriteString("rpc: line ")
	b.WriteString(strconv.FormatInt(e.Line, 10))
	var de *decodeError
	var tl *lineTooLongError
	switch {
	case errors.As(e.Err, &tl):
		fmt.Fprintf(&b, " is longer than %d bytes (MaxLineBytes)", tl.limit)
	case errors.As(e.Err, &de):
		b.WriteString(" is ")
		b.WriteString(de.what())
		b.WriteString(": ")
		b.WriteString(de.detail())
	case e.Err != nil:
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(e.Err.Error(), "rpc: "))
	default:
		b.WriteString(" is invalid")
	}
	b.WriteString(" (line starts ")
	b.WriteString(strconv.Quote(e.Snippet))
	b.WriteString(")")
	return b.String()
}

// Unwrap returns the cause.
func (e *ProtocolError) Unwrap() error { return e.Err }

// Is reports whether target is ErrProtocol.
func (e *ProtocolError) Is(target error) bool { return target == ErrProtocol }

// decodeError is what DecodeMessage returns: the input is either not JSON or
// JSON that is not a valid message.
type decodeError struct {
	notJSON bool
	err     error
}

func (e *decodeError) what() string {
	if e.notJSON {
		return "not JSON"
	}
	return "not a valid JSON-RPC message"
}

func (e *decodeError) detail() string {
	return strings.TrimPrefix(e.err.Error(), "rpc: ")
}

func (e *decodeError) Error() string { return "rpc: " + e.what() + ": " + e.detail() }
func (e *decodeError) Unwrap() error { return e.err }

// lineTooLongError is the cause of a ProtocolError for an oversize line.
type lineTooLongError struct{ limit int }

func (e *lineTooLongError) Error() string {
	return "rpc: line too long: more than " + strconv.Itoa(e.limit) + " bytes"
}
func (e *lineTooLongError) Is(target error) bool { return target == ErrLineTooLong }

// snippetLen bounds ProtocolError.Snippet.
const snippetLen = 120

// snippet returns at most snippetLen bytes of the start of line, cut at a
// UTF-8 boundary, without the trailing newline.
func snippet(line []byte) string {
	if len(line) > 0 && line[len(line)-1] == '\n' {
		line = line[:len(line)-1]
	}
	if len(line) <= snippetLen {
		return string(line)
	}
	cut := snippetLen
	for cut > snippetLen-utf8.UTFMax && cut > 0 && !utf8.RuneStart(line[cut]) {
		cut--
	}
	return string(line[:cut])
}

// snippetOf returns a short form of data for error messages: at most 40
// bytes, quoted if it holds anything but printable ASCII.
func snippetOf(data []byte) string {
	const max = 40
	s, more := data, ""
	if len(s) > max {
		s, more = s[:max], "..."
	}
	if !isPrintable(s) {
		return strconv.Quote(string(s)) + more
	}
	return string(s) + more
}
