package rpc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// idKind says which variant of an ID is set.
type idKind uint8

const (
	idNone idKind = iota
	idInt
	idString
)

// ID is a JSON-RPC request id: an integer or a string.
//
// The zero ID is invalid; a [Request] with the zero ID is a notification.
// IDs are comparable, so they can be used as map keys; Int64ID(1) and
// StringID("1") are different IDs, as JSON-RPC requires.
type ID struct {
	kind idKind
	num  int64
	str  string
}

// Int64ID returns an integer ID.
func Int64ID(n int64) ID { return ID{kind: idInt, num: n} }

// StringID returns a string ID. The empty string is a valid string ID.
func StringID(s string) ID { return ID{kind: idString, str: s} }

// IsValid reports whether id is set, that is, whether it is not the zero ID.
func (id ID) IsValid() bool { return id.kind != idNone }

// Raw returns the id as an int64 or a string, or nil for the zero ID.
func (id ID) Raw() any {
	switch id.kind {
	case idInt:
		return id.num
	case idString:
		return id.str
	}
	return nil
}

// String formats the id for logs: 7 for an integer, "abc" (quoted) for a
// string, and null for the zero ID.
func (id ID) String() string {
	switch id.kind {
	case idInt:
		return strconv.FormatInt(id.num, 10)
	case idString:
		return strconv.Quote(id.str)
	}
	return "null"
}

// MarshalJSON encodes the id as a JSON number or string, and the zero ID as
// null.
func (id ID) MarshalJSON() ([]byte, error) {
	return id.appendJSON(nil), nil
}

func (id ID) appendJSON(dst []byte) []byte {
	switch id.kind {
	case idInt:
		return strconv.AppendInt(dst, id.num, 10)
	case idString:
		return appendJSONString(dst, id.str)
	}
	return append(dst, "null"...)
}

// UnmarshalJSON decodes a JSON integer or string. null decodes to the zero
// ID.
//
// # Errors
//
// Numbers with a fraction or an exponent, numbers outside the int64 range,
// and any other JSON value are rejected.
func (id *ID) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return fmt.Errorf("rpc: id is empty")
	}
	switch c := data[0]; {
	case c == '"':
		s, err := unquoteJSON(data)
		if err != nil {
			return fmt.Errorf("rpc: id %s: %w", snippetOf(data), err)
		}
		*id = StringID(s)
		return nil
	case c == '-' || ('0' <= c && c <= '9'):
		n, err := strconv.ParseInt(string(data), 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return fmt.Errorf("rpc: id %s is out of the int64 range", snippetOf(data))
			}
			return fmt.Errorf("rpc: id %s is not an integer", snippetOf(data))
		}
		*id = Int64ID(n)
		return nil
	case bytes.Equal(data, []byte("null")):
		*id = ID{}
		return nil
	}
	return fmt.Errorf("rpc: id must be an integer or a string, got %s", snippetOf(data))
}

// unquoteJSON decodes a JSON string literal. Literals without escapes take a
// fast path that does not run the JSON decoder.
func unquoteJSON(data []byte) (string, error) {
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		inner := data[1 : len(data)-1]
		if bytes.IndexByte(inner, '\\') < 0 && bytes.IndexByte(inner, '"') < 0 && isPrintable(inner) {
			return string(inner), nil
		}
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return "", err
	}
	return s, nil
}

// isPrintable reports whether b holds only printable ASCII, which needs no
// unescaping or UTF-8 validation.
func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
