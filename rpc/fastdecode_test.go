package rpc

import (
	"bytes"
	"reflect"
	"testing"
)

// decodeFast decodes what it handles exactly as encoding/json does.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","itemId":"i","delta":"a\nb"}}`,
		`{"id":7,"method":"item/commandExecution/requestApproval","params":{"command":"ls"}}`,
		`{"id":"abc","result":{"thread":{"id":"t"}}}`,
		`{"jsonrpc":"2.0","id":-3,"result":null}`,
		` { "method" : "x" , "params" : [ 1 , 2 ] } ` + "\n",
		`{"id":1,"error":{"code":-32601,"message":"no"}}`,
		`{"method":"x","method":"y"}`, `{"Method":"x"}`, `{"method":""}`, `{"method":"a\u00e9"}`,
		`{"id":null,"method":"x"}`, `{"id":1.5,"result":1}`, `{"id":99999999999999999999,"result":1}`,
		`{"method":"x","result":1}`, `{"result":1}`, `{"id":1,"result":1,"params":2}`, `{}`, `[]`, `{"method":"x"}x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fast := decodeFast(data)
		if fast == nil {
			return
		}
		slow, err := decodeSlow(data)
		if err != nil {
			t.Fatalf("decodeFast decodes %q, decodeSlow fails: %v", data, err)
		}
		if !equalMessages(fast, slow) {
			t.Fatalf("%q: decodeFast %#v, decodeSlow %#v", data, fast, slow)
		}
	})
}

func equalMessages(a, b Message) bool {
	switch a := a.(type) {
	case *Request:
		b, ok := b.(*Request)
		return ok && a.ID == b.ID && a.Method == b.Method && bytes.Equal(a.Params, b.Params) && (a.Params == nil) == (b.Params == nil)
	case *Response:
		b, ok := b.(*Response)
		return ok && a.ID == b.ID && bytes.Equal(a.Result, b.Result) && reflect.DeepEqual(a.Error, b.Error)
	}
	return false
}

// The messages app-server sends most take the fast path.
func TestDecodeFastHandlesTheCommonShapes(t *testing.T) {
	for _, s := range []string{
		`{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","itemId":"i","delta":"a\nb"}}` + "\n",
		`{"id":7,"method":"item/commandExecution/requestApproval","params":{"command":"ls"}}`,
		`{"id":3,"result":{"thread":{"id":"t"}}}`,
	} {
		if decodeFast([]byte(s)) == nil {
			t.Errorf("decodeFast does not handle %s", s)
		}
	}
}
