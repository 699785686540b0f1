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
		{"item/started", `{"threadId":"t","turnId":"u","startedAtMs":1764041234567,"item":{"type":"commandExecution","id":"call_1","command":"/bin/bash -lc 'go test ./...'","cwd":"/w","processId":null,"source":"agent","status":"inProgress","commandActions":[{"type":"unknown","command":"go test ./..."},{"type":"read","command":"tail -50","name":"tail","path":"-"}],"aggregatedOutput":null,"exitCode":null,"durationMs":null}}`},
		{"item/completed", `{"threadId":"t","turnId":"u","completedAtMs":1764041235678,"item":{"type":"commandExecution","id":"call_1","command":"ls","cwd":"/w","processId":"12345","source":"agent","status":"completed","commandActions":[],"aggregatedOutput":"ok\tx\n\u00e9","exitCode":0,"durationMs":2345}}`},
		{"item/completed", `{"threadId":"t","turnId":"u","item":{"type":"commandExecution","id":"c","status":"failed","exitCode":-1,"durationMs":0,"success":true}}`},
		{"item/started", `{"threadId":"t","turnId":"u","item":{"type":"agentMessage","id":"msg_1","text":"","phase":null,"memoryCitation":null}}`},
		{"item/completed", `{"threadId":"t","turnId":"u","item":{"type":"agentMessage","id":"msg_1","text":"done \"x\"","phase":"final_answer"}}`},
		{"item/completed", `{"threadId":"t","turnId":"u","item":{"type":"reasoning","id":"r","summary":["a","b"]}}`},
		{"item/completed", `{"threadId":"t","turnId":"u","item":{"type":"commandExecution","id":"c","Status":"x"}}`},
		{"item/completed", `{"threadId":"t","turnId":"u","item":{"type":"commandExecution","id":"c","exitCode":1.5}}`},
		{"item/completed", `{"threadId":"t","item":null}`},
	} {
		f.Add(tc.method, []byte(tc.params))
	}
	f.Fuzz(func(t *testing.T, method string, params []byte) {
		var ids idCache
		var sc scanner
		kind := kindOf(method)
		fast, ok := decodeEventFast(method, kind, params, &ids, &sc)
		// The rpc reader's decoder, given the params and the rest of a
		// line, decodes the same.
		var d paramsDecoder
		line := append(append([]byte(nil), params...), "}\n"...)
		if v, n, pok := d.DecodeParams(method, line); pok {
			if ev, isEvent := v.(*Event); isEvent {
				var sc2 scanner
				var ids2 idCache
				want, wok := decodeEventFast(method, kind, line[:n], &ids2, &sc2)
				if !wok || !reflect.DeepEqual(ev, want) {
					t.Fatalf("%s %q: the reader's decoder took %d bytes: %+v; decodeEventFast %v %+v", method, params, n, ev, wok, want)
				}
			}
		}
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

// A command's item/started and item/completed take the fast path.
func TestDecodeItemFast(t *testing.T) {
	var r router
	r.init(1, 1<<20, nil)
	for _, params := range []string{
		`{"threadId":"t","turnId":"u","startedAtMs":1,"item":{"type":"commandExecution","id":"call_1","command":"ls","cwd":"/w","processId":null,"source":"agent","status":"inProgress","commandActions":[{"type":"listFiles","command":"ls"}],"aggregatedOutput":null,"exitCode":null,"durationMs":null}}`,
		`{"threadId":"t","turnId":"u","completedAtMs":2,"item":{"type":"commandExecution","id":"call_1","command":"ls","cwd":"/w","processId":"7","source":"agent","status":"completed","commandActions":[],"aggregatedOutput":"a\n","exitCode":0,"durationMs":12}}`,
	} {
		var sc scanner
		ev, ok := decodeEventFast("item/completed", abi.EventItemCompleted, json.RawMessage(params), &r.ids, &sc)
		if !ok {
			t.Fatalf("%s does not take the fast path", params)
		}
		slow, err := decodeEvent("item/completed", json.RawMessage(params))
		if err != nil || !reflect.DeepEqual(ev, slow) {
			t.Fatalf("fast %+v, slow %+v (%v)", ev.Item, slow.Item, err)
		}
	}
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
