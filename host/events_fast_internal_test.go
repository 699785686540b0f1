package host

import (
	"encoding/json"
	"github.com/codexhost/codexhost/abi"
	"reflect"
	"testing"
)

// The fast path decodes what it handles exactly as decodeEvent does.
func FuzzDecodeEvent(f *testing.F) {
	for _, tc := range []struct{ method, params string }{
		{"item/agentMessage/delta", `{"threadId":"t","turnId":"u","itemId":"i","delta":"a\nb\u00e9\ud83d\ude00"}`},
		{"item/reasoning/textDelta", `{"threadId":"t","turnId":"u","itemId":"i","delta":"x","contentIndex":0}`},
		{"item/agentMessage/delta", `{"threadId":"t","ThreadId":"v"}`},
		{"item/agentMessage/delta", `{"threadId":"t","threadId":"v"}`},
		{"item/agentMessage/delta", `{"threadId":null,"delta":1}`},
		{"thread/started", `{"thread":{"id":"t"}}`},
		{"item/started", `{"threadId":"t","turnId":"u"}`},
		{"error", `{"threadId":"t","willRetry":true,"error":{"message":"m"}}`},
		{"codexhost/unknown", `{"threadId":"t","extra":[1,{"a":null}]}`},
		{"item/agentMessage/delta", ` { "delta" : "\"q\"" } `},
		{"item/agentMessage/delta", "{\"delta\":\"\xff\"}"},
		{"item/agentMessage/delta", `{}`},
		{"item/agentMessage/delta", `[]`},
	} {
		f.Add(tc.method, []byte(tc.params))
	}
	f.Fuzz(func(t *testing.T, method string, params []byte) {
		var ids idCache
		var buf []byte
		kind := kindOf(method)
		fast, ok := decodeEventFast(method, kind, params, &ids, &buf)
		if !ok {
			return
		}
		slow, err := decodeEvent(method, params)
		if err != nil {
			t.Fatalf("fast path decodes %s %q; decodeEvent fails: %v", method, params, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s %q:\nfast %+v\nslow %+v", method, params, fast, slow)
		}
	})
}

func kindOf(method string) abi.EventKind {
	ev, _ := decodeEvent(method, nil)
	return ev.Kind
}

// A stream of deltas takes the fast path, and shares its id strings.
func TestDecodeEventFast(t *testing.T) {
	var r router
	r.init(1, 1<<20, nil)
	params := json.RawMessage(`{"threadId":"t1","turnId":"u1","itemId":"i1","delta":"hi\n"}`)
	a, err := r.decode("item/agentMessage/delta", params)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() { _, _ = r.decode("item/agentMessage/delta", params) })
	if a.Kind != abi.EventAgentMessageDelta || a.ThreadID != "t1" || a.TurnID != "u1" || a.ItemID != "i1" || a.Delta != "hi\n" {
		t.Fatalf("decoded %+v", a)
	}
	if allocs > 2 { // the Event and its Delta
		t.Errorf("%v allocations per delta, want 2", allocs)
	}
}
