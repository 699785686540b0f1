package rpc

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/codexhost/codexhost/internal/jsonscan"
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

// rawDecoder is a ParamsDecoder for tests: it "decodes" params into the
// text of the value, and counts its calls.
type rawDecoder struct{ calls int }

func (d *rawDecoder) DecodeParams(method string, params []byte) (any, int, bool) {
	d.calls++
	if method == "refuse" {
		return nil, 0, false
	}
	end, ok := jsonscan.SkipValue(params, 0)
	if !ok {
		return nil, 0, false
	}
	return method + ":" + string(params[:end]), end, true
}

// With a ParamsDecoder, a line decodes to what DecodeMessage gives, with
// Decoded what the decoder makes of exactly the params.
func FuzzDecodeWithParams(f *testing.F) {
	for _, s := range []string{
		`{"method":"item/agentMessage/delta","params":{"threadId":"t","delta":"a\nb"}}`,
		`{"id":7,"method":"item/commandExecution/requestApproval","params":{"command":"ls"},"jsonrpc":"2.0"}`,
		`{"params":[1],"method":"late"}`, `{"method":"refuse","params":{}}`, `{"method":"x","params":{}`,
		`{"method":"x","params":{},"params":1}`, `{"method":"x","params":1 , "id":"s"}` + "\n", `{"method":"x","params":}`,
		`{"Method":"x","params":"p"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d rawDecoder
		c := &Conn{params: &d}
		got, gerr := c.decode(data)
		want, werr := DecodeMessage(data)
		if (gerr == nil) != (werr == nil) {
			t.Fatalf("%q: error %v, DecodeMessage %v", data, gerr, werr)
		}
		if gerr != nil {
			return
		}
		if !equalMessages(got, want) {
			t.Fatalf("%q: %#v, DecodeMessage %#v", data, got, want)
		}
		r, ok := got.(*Request)
		if !ok {
			return
		}
		var wantDecoded any
		if r.Params != nil && r.Method != "refuse" {
			wantDecoded = r.Method + ":" + string(r.Params)
		}
		if r.Decoded != wantDecoded {
			t.Fatalf("%q: Decoded %v, want %v", data, r.Decoded, wantDecoded)
		}
	})
}

// The params of a message whose method comes first are decoded in the
// line's one scan: the decoder is called once, and the Conn does not check
// them again.
func TestDecodeParamsOnce(t *testing.T) {
	var d rawDecoder
	c := &Conn{params: &d}
	m, err := c.decode([]byte(`{"id":1,"method":"m","params":{"a":[1,2]}}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*Request)
	if d.calls != 1 || r.Decoded != `m:{"a":[1,2]}` || string(r.Params) != `{"a":[1,2]}` || cap(r.Params) != len(r.Params) {
		t.Fatalf("%d calls, Decoded %v, Params %s", d.calls, r.Decoded, r.Params)
	}
}
