package rpc_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/rpc"
)

func TestDecodeMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want rpc.Message
	}{
		{"call int id", `{"id":1,"method":"m","params":{"a":1}}`,
			&rpc.Request{ID: rpc.Int64ID(1), Method: "m", Params: json.RawMessage(`{"a":1}`)}},
		{"call string id", `{"id":"x-1","method":"m"}`,
			&rpc.Request{ID: rpc.StringID("x-1"), Method: "m"}},
		{"call with jsonrpc member", `{"jsonrpc":"2.0","id":0,"method":"m","params":[]}`,
			&rpc.Request{ID: rpc.Int64ID(0), Method: "m", Params: json.RawMessage(`[]`)}},
		{"notification", `{"method":"note"}`, &rpc.Request{Method: "note"}},
		{"notification with jsonrpc", `{"jsonrpc":"2.0","method":"note","params":null}`,
			&rpc.Request{Method: "note", Params: json.RawMessage(`null`)}},
		{"escaped method", `{"method":"a\"b\u00e9"}`, &rpc.Request{Method: `a"bé`}},
		{"error null ignored on request", `{"id":1,"method":"m","error":null}`, &rpc.Request{ID: rpc.Int64ID(1), Method: "m"}},
		{"result", `{"id":7,"result":{"ok":true}}`,
			&rpc.Response{ID: rpc.Int64ID(7), Result: json.RawMessage(`{"ok":true}`)}},
		{"null result", `{"id":"s","result":null}`,
			&rpc.Response{ID: rpc.StringID("s"), Result: json.RawMessage(`null`)}},
		{"result with null error", `{"id":1,"result":1,"error":null}`,
			&rpc.Response{ID: rpc.Int64ID(1), Result: json.RawMessage(`1`)}},
		{"error", `{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"nope","data":[1]}}`,
			&rpc.Response{ID: rpc.Int64ID(2), Error: &rpc.WireError{Code: -32601, Message: "nope", Data: json.RawMessage(`[1]`)}}},
		{"error with null id", `{"id":null,"error":{"code":-32700,"message":"parse"}}`,
			&rpc.Response{Error: &rpc.WireError{Code: -32700, Message: "parse"}}},
		{"surrounding whitespace and newline", " {\"method\":\"m\"} \r\n", &rpc.Request{Method: "m"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rpc.DecodeMessage([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestDecodeMessageErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"not JSON", `xyz`, "rpc: not JSON: invalid character 'x'"},
		{"truncated", `{"id":1`, "rpc: not JSON: unexpected end of JSON input"},
		{"empty", ``, "rpc: not JSON"},
		{"array", `[{"method":"m"}]`, "not a valid JSON-RPC message: a JSON array (batches are not supported) is not a message object"},
		{"number", `5`, "a JSON number is not a message object"},
		{"empty object", `{}`, `message has no "method", "result" or "error"`},
		{"only id", `{"id":1}`, `message has no "method", "result" or "error"`},
		{"method and result", `{"id":1,"method":"m","result":1}`, `both "method" and "result" or "error"`},
		{"result and error", `{"id":1,"result":1,"error":{"code":1,"message":"m"}}`, `response has both "result" and "error"`},
		{"response without id", `{"result":1}`, "response has no id"},
		{"result with null id", `{"id":null,"result":1}`, "response id is null"},
		{"call with null id", `{"id":null,"method":"m"}`, "request id is null"},
		{"empty method", `{"method":""}`, "method is empty"},
		{"method not a string", `{"method":5}`, "method must be a string"},
		{"fractional id", `{"id":1.5,"method":"m"}`, "id 1.5 is not an integer"},
		{"exponent id", `{"id":1e3,"method":"m"}`, "id 1e3 is not an integer"},
		{"huge id", `{"id":99999999999999999999,"method":"m"}`, "out of the int64 range"},
		{"bool id", `{"id":true,"method":"m"}`, "id must be an integer or a string"},
		{"object id", `{"id":{},"method":"m"}`, "id must be an integer or a string"},
		{"error not an object", `{"id":1,"error":"bad"}`, "bad error object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := rpc.DecodeMessage([]byte(tc.in))
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "rpc: "), err.Error())
			assert.Equal(t, 1, strings.Count(err.Error(), "rpc:"), "no stuttering prefix: %s", err)
		})
	}
}

func TestEncodeMessage(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   rpc.Message
		want string
	}{
		{"call", &rpc.Request{ID: rpc.Int64ID(3), Method: "m", Params: json.RawMessage(`{"a":1}`)},
			`{"id":3,"method":"m","params":{"a":1}}`},
		{"call string id", &rpc.Request{ID: rpc.StringID(`a"b`), Method: "m"}, `{"id":"a\"b","method":"m"}`},
		{"notification", &rpc.Request{Method: "n"}, `{"method":"n"}`},
		{"params compacted", &rpc.Request{Method: "n", Params: json.RawMessage("{\n  \"a\": [1, 2]\n}")},
			`{"method":"n","params":{"a":[1,2]}}`},
		{"escaped method", &rpc.Request{Method: "a\nb\t\"\\\x01<é\u2028\xff"},
			`{"method":"a\nb\t\"\\\u0001<é\u2028\ufffd"}`},
		{"result", &rpc.Response{ID: rpc.Int64ID(1), Result: json.RawMessage(`[1]`)}, `{"id":1,"result":[1]}`},
		{"nil result", &rpc.Response{ID: rpc.Int64ID(1)}, `{"id":1,"result":null}`},
		{"error", &rpc.Response{ID: rpc.StringID("x"), Error: &rpc.WireError{Code: -32601, Message: "no\n", Data: json.RawMessage(` {"k" : 1} `)}},
			`{"id":"x","error":{"code":-32601,"message":"no\n","data":{"k":1}}}`},
		{"error null id", &rpc.Response{Error: rpc.ErrParse}, `{"id":null,"error":{"code":-32700,"message":"parse error"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := rpc.EncodeMessage(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, string(b))
			assert.NotContains(t, string(b), "jsonrpc")
			assert.NotContains(t, string(b), "\n")
			assert.True(t, json.Valid(b))

			// Round trip (by value: invalid UTF-8 is already replaced).
			back, err := rpc.DecodeMessage(b)
			require.NoError(t, err)
			again, err := rpc.EncodeMessage(back)
			require.NoError(t, err)
			back2, err := rpc.DecodeMessage(again)
			require.NoError(t, err)
			assert.Equal(t, back, back2)
		})
	}
}

func TestEncodeMessageMatchesEncodingJSON(t *testing.T) {
	// Strings must decode to what was encoded, for every awkward byte.
	var sb strings.Builder
	for i := range 256 {
		sb.WriteByte(byte(i))
	}
	sb.WriteString("\u2028\u2029é漢字🙂")
	method := sb.String()
	b, err := rpc.EncodeMessage(&rpc.Request{Method: method})
	require.NoError(t, err)
	var back struct{ Method string }
	require.NoError(t, json.Unmarshal(b, &back))
	want, err := json.Marshal(method) // encoding/json also maps bad UTF-8 to U+FFFD
	require.NoError(t, err)
	var wantS string
	require.NoError(t, json.Unmarshal(want, &wantS))
	assert.Equal(t, wantS, back.Method)
}

func TestEncodeMessageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   rpc.Message
		want string
	}{
		{"nil", nil, "nil message"},
		{"nil request", (*rpc.Request)(nil), "nil *Request"},
		{"nil response", (*rpc.Response)(nil), "nil *Response"},
		{"no method", &rpc.Request{ID: rpc.Int64ID(1)}, "no method"},
		{"bad params", &rpc.Request{Method: "m", Params: json.RawMessage(`{`)}, "encode params"},
		{"bad result", &rpc.Response{ID: rpc.Int64ID(1), Result: json.RawMessage(`nope`)}, "encode result"},
		{"bad error data", &rpc.Response{ID: rpc.Int64ID(1), Error: &rpc.WireError{Data: json.RawMessage(`{`)}}, "encode error data"},
		{"both", &rpc.Response{ID: rpc.Int64ID(1), Result: json.RawMessage(`1`), Error: rpc.ErrInternal}, "both result and error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rpc.EncodeMessage(tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestRequestIsCall(t *testing.T) {
	assert.True(t, (&rpc.Request{ID: rpc.Int64ID(0), Method: "m"}).IsCall())
	assert.True(t, (&rpc.Request{ID: rpc.StringID(""), Method: "m"}).IsCall())
	assert.False(t, (&rpc.Request{Method: "m"}).IsCall())
}

func TestID(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     rpc.ID
		valid  bool
		raw    any
		str    string
		json   string
		parsed string // JSON that decodes to id, if different from json
	}{
		{"zero", rpc.ID{}, false, nil, "null", "null", ""},
		{"int", rpc.Int64ID(7), true, int64(7), "7", "7", ""},
		{"int zero", rpc.Int64ID(0), true, int64(0), "0", "0", "-0"},
		{"negative", rpc.Int64ID(-3), true, int64(-3), "-3", "-3", ""},
		{"string", rpc.StringID("abc"), true, "abc", `"abc"`, `"abc"`, ""},
		{"empty string", rpc.StringID(""), true, "", `""`, `""`, ""},
		{"escaped string", rpc.StringID("a\"\n"), true, "a\"\n", `"a\"\n"`, `"a\"\n"`, `"a\u0022\u000a"`},
		{"numeric string", rpc.StringID("7"), true, "7", `"7"`, `"7"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.valid, tc.id.IsValid())
			assert.Equal(t, tc.raw, tc.id.Raw())
			assert.Equal(t, tc.str, tc.id.String())
			b, err := json.Marshal(tc.id)
			require.NoError(t, err)
			assert.Equal(t, tc.json, string(b))
			var back rpc.ID
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, tc.id, back)
			if tc.parsed != "" {
				var p rpc.ID
				require.NoError(t, json.Unmarshal([]byte(tc.parsed), &p))
				assert.Equal(t, tc.id, p)
			}
		})
	}
	assert.NotEqual(t, rpc.Int64ID(7), rpc.StringID("7"), "int and string ids differ")

	for _, bad := range []string{`1.5`, `1.0`, `1e2`, `true`, `[]`, `{}`, `"unterminated`, `9223372036854775808`} {
		var id rpc.ID
		assert.Error(t, id.UnmarshalJSON([]byte(bad)), bad)
	}
}

func TestWireError(t *testing.T) {
	e := rpc.NewError(-32602, "bad x")
	assert.Equal(t, "rpc: bad x (code -32602)", e.Error())
	assert.ErrorIs(t, e, rpc.ErrInvalidParams)
	assert.NotErrorIs(t, e, rpc.ErrInvalidRequest)
	assert.ErrorIs(t, errors.Join(errors.New("x"), e), rpc.ErrInvalidParams)
	assert.NotErrorIs(t, e, errors.New("rpc: bad x (code -32602)"))
	for code, want := range map[int64]*rpc.WireError{
		-32700: rpc.ErrParse, -32600: rpc.ErrInvalidRequest, -32601: rpc.ErrMethodNotFound,
		-32602: rpc.ErrInvalidParams, -32603: rpc.ErrInternal,
	} {
		assert.Equal(t, code, want.Code)
	}
	var nilErr *rpc.WireError
	assert.False(t, nilErr.Is(rpc.ErrInternal))
}

func TestProtocolError(t *testing.T) {
	cause := errors.New("boom")
	pe := &rpc.ProtocolError{Line: 4, Snippet: "ab\x00\"c", Err: cause}
	assert.Equal(t, `rpc: line 4: boom (line starts "ab\x00\"c")`, pe.Error())
	assert.ErrorIs(t, pe, rpc.ErrProtocol)
	assert.ErrorIs(t, pe, cause)
	assert.NotErrorIs(t, pe, rpc.ErrLineTooLong)
	assert.Equal(t, cause, errors.Unwrap(pe))
}
