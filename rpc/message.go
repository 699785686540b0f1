package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Message is one JSON-RPC message: a *Request or a *Response. The set is
// closed; no other type implements Message.
type Message interface{ isMessage() }

// Request is a call (ID valid: the peer expects a Response) or a
// notification (zero ID: no response).
//
// A Request passed to a handler is owned by the handler, which may keep it.
type Request struct {
	ID     ID
	Method string
	// Params is the raw "params" member, nil if absent.
	Params json.RawMessage
	// Decoded is what Options.Params decoded from Params for an incoming
	// request, nil if no decoder is set or it did not decode them. It is
	// not sent.
	Decoded any
}

// IsCall reports whether r expects a response, that is, whether its ID is
// valid.
func (r *Request) IsCall() bool { return r.ID.IsValid() }

func (*Request) isMessage() {}

// Response answers a call. Exactly one of Result and Error is meaningful:
// Error is non-nil for a failed call.
type Response struct {
	// ID is the id of the call answered. It is the zero ID only in an error
	// response to a request whose id the peer could not read.
	ID ID
	// Result is the raw "result" member; it may be the literal null.
	Result json.RawMessage
	Error  *WireError
}

func (*Response) isMessage() {}

// EncodeMessage encodes m as one line of JSON without the trailing newline.
//
// The "jsonrpc" member is not written. A request omits "id" when it is a
// notification and "params" when Params is nil. A response with neither
// Result nor Error is written with "result":null, because JSON-RPC requires
// one of them. Raw JSON members are validated and compacted, so the output
// never contains a newline.
//
// # Errors
//
// EncodeMessage fails for a nil message, a request without a method, a
// response with both Result and Error, and raw members that are not valid
// JSON.
func EncodeMessage(m Message) ([]byte, error) {
	return appendMessage(nil, m, false)
}

// appendMessage appends the encoding of m to dst. If trusted is set, Params
// and Result are known to be compact, valid JSON (they came from
// json.Marshal) and are copied without checking.
func appendMessage(dst []byte, m Message, trusted bool) ([]byte, error) {
	var err error
	switch m := m.(type) {
	case *Request:
		if m != nil {
			dst = slices.Grow(dst, len(m.Method)+len(m.Params)+64)
		}
	case *Response:
		if m != nil {
			dst = slices.Grow(dst, len(m.Result)+64)
		}
	}
	switch m := m.(type) {
	case *Request:
		if m == nil {
			return dst, errors.New("rpc: encode: nil *Request")
		}
		if m.Method == "" {
			return dst, errors.New("rpc: encode: request has no method")
		}
		dst = append(dst, '{')
		if m.ID.IsValid() {
			dst = append(dst, `"id":`...)
			dst = m.ID.appendJSON(dst)
			dst = append(dst, ',')
		}
		dst = append(dst, `"method":`...)
		dst = appendJSONString(dst, m.Method)
		if m.Params != nil {
			dst = append(dst, `,"params":`...)
			if dst, err = appendRaw(dst, m.Params, trusted); err != nil {
				return dst, fmt.Errorf("rpc: encode params: %w", err)
			}
		}
		return append(dst, '}'), nil
	case *Response:
		if m == nil {
			return dst, errors.New("rpc: encode: nil *Response")
		}
		if m.Error != nil && m.Result != nil {
			return dst, errors.New("rpc: encode: response has both result and error")
		}
		dst = append(dst, `{"id":`...)
		dst = m.ID.appendJSON(dst)
		if m.Error != nil {
			dst = append(dst, `,"error":`...)
			if dst, err = appendWireError(dst, m.Error); err != nil {
				return dst, err
			}
			return append(dst, '}'), nil
		}
		dst = append(dst, `,"result":`...)
		if m.Result == nil {
			dst = append(dst, "null"...)
		} else if dst, err = appendRaw(dst, m.Result, trusted); err != nil {
			return dst, fmt.Errorf("rpc: encode result: %w", err)
		}
		return append(dst, '}'), nil
	case nil:
		return dst, errors.New("rpc: encode: nil message")
	}
	return dst, fmt.Errorf("rpc: encode: unknown message type %T", m)
}

func appendWireError(dst []byte, e *WireError) ([]byte, error) {
	dst = append(dst, `{"code":`...)
	dst = strconv.AppendInt(dst, e.Code, 10)
	dst = append(dst, `,"message":`...)
	dst = appendJSONString(dst, e.Message)
	if len(e.Data) > 0 {
		var err error
		dst = append(dst, `,"data":`...)
		if dst, err = appendRaw(dst, e.Data, false); err != nil {
			return dst, fmt.Errorf("rpc: encode error data: %w", err)
		}
	}
	return append(dst, '}'), nil
}

// appendRaw appends raw JSON, compacting and validating it unless trusted.
func appendRaw(dst, raw []byte, trusted bool) ([]byte, error) {
	if trusted {
		return append(dst, raw...), nil
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return dst, err
	}
	return buf.Bytes(), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string literal. Control characters,
// '"' and '\\' are escaped, as are U+2028 and U+2029; invalid UTF-8 becomes
// U+FFFD. HTML characters are not escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// DecodeMessage decodes one line of JSON (a trailing newline is allowed)
// into a *Request or a *Response.
//
// A "jsonrpc" member is ignored. An object with "method" is a request: a call
// if it has an "id", a notification if not. An object with "result" or
// "error" is a response. The returned message does not alias data.
//
// # Errors
//
// The error says whether data is not JSON at all or is JSON but not a valid
// message, and why: for example a response with both "result" and "error", a
// request whose "id" is null, or an id that is neither an integer nor a
// string.
func DecodeMessage(data []byte) (Message, error) {
	if m := decodeFast(data); m != nil {
		return m, nil
	}
	return decodeSlow(data)
}

// decodeSlow is DecodeMessage with encoding/json: every input decodeFast
// does not handle, and every error, takes this path.
func decodeSlow(data []byte) (Message, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &decodeError{notJSON: true, err: err}
		}
		if t := firstByte(data); t != '{' {
			return nil, &decodeError{err: fmt.Errorf("a JSON %s is not a message object", jsonKind(t))}
		}
		return nil, &decodeError{err: err}
	}
	hasResult := env.Result != nil
	hasError := env.Error != nil && !isNull(env.Error)
	if env.Method.set {
		if hasResult || hasError {
			return nil, &decodeError{err: errors.New(`message has both "method" and "result" or "error"`)}
		}
		if env.Method.s == "" {
			return nil, &decodeError{err: errors.New("method is empty")}
		}
		if env.ID.set && !env.ID.id.IsValid() {
			return nil, &decodeError{err: errors.New("request id is null")}
		}
		return &Request{ID: env.ID.id, Method: env.Method.s, Params: env.Params}, nil
	}
	if !hasResult && !hasError {
		return nil, &decodeError{err: errors.New(`message has no "method", "result" or "error"`)}
	}
	if hasResult && hasError {
		return nil, &decodeError{err: errors.New(`response has both "result" and "error"`)}
	}
	if !env.ID.set {
		return nil, &decodeError{err: errors.New("response has no id")}
	}
	resp := &Response{ID: env.ID.id}
	if hasError {
		var we WireError
		if err := json.Unmarshal(env.Error, &we); err != nil {
			return nil, &decodeError{err: fmt.Errorf("bad error object: %w", err)}
		}
		resp.Error = &we
		return resp, nil
	}
	if !env.ID.id.IsValid() {
		return nil, &decodeError{err: errors.New("response id is null")}
	}
	resp.Result = env.Result
	return resp, nil
}

// envelope is every member a message may have. Each raw member is copied
// once by the decoder; nothing aliases the input.
type envelope struct {
	ID     optID           `json:"id"`
	Method optString       `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

// optID records whether "id" was present; null leaves id zero.
type optID struct {
	set bool
	id  ID
}

func (o *optID) UnmarshalJSON(data []byte) error {
	o.set = true
	return o.id.UnmarshalJSON(data)
}

// optString records whether a string member was present and not null.
type optString struct {
	set bool
	s   string
}

func (o *optString) UnmarshalJSON(data []byte) error {
	if isNull(data) {
		return nil
	}
	if firstByte(data) != '"' {
		return fmt.Errorf("rpc: method must be a string, got %s", snippetOf(data))
	}
	s, err := unquoteJSON(data)
	if err != nil {
		return err
	}
	o.set, o.s = true, s
	return nil
}

func isNull(data []byte) bool { return bytes.Equal(bytes.TrimSpace(data), []byte("null")) }

// firstByte returns the first non-whitespace byte of data, or 0.
func firstByte(data []byte) byte {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "array (batches are not supported)"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}
