package abijson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/stretchr/testify/require"
)

var renderTable = []string{
	`{"events":[{"kind":"agentMessageDelta","method":"item/agentMessage/delta","seq":12,"threadId":"t","turnId":"u","itemId":"i","delta":"Hel\"lo\n"}]}`,
	`{"events":[{"kind":"itemCompleted","method":"item/completed","seq":13,"item":{"id":"i","type":"agentMessage","text":"Hello"}}]}`,
	`{"events":[{"kind":"itemCompleted","method":"m","seq":1,"item":{"id":"c","type":"commandExecution","status":"completed","command":"ls","cwd":"/","exitCode":0,"output":"a\nb","changes":[{"path":"p","kind":"add"}],"server":"s","tool":"t","arguments":{"x":[1,2]},"success":true}}]}`,
	`{"events":[{"kind":"turnCompleted","method":"turn/completed","seq":99,"turn":{"id":"u","state":"completed","durationMs":1234}}]}`,
	`{"events":[{"kind":"tokenUsage","method":"m","seq":2,"usage":{"last":{"input":1,"cachedInput":2,"output":3,"reasoningOutput":4,"total":10},"total":{"input":5,"output":6,"total":11},"contextWindow":200000}}]}`,
	`{"events":[{"kind":"error","method":"error","seq":3,"error":{"message":"boom","info":"i","willRetry":true}}]}`,
	`{"events":[]}`, `{"events":null}`, `{}`, `null`, `{"events":[null,{"seq":1}]}`,
	// Numbers: integers only, in range.
	`{"events":[{"seq":18446744073709551615}]}`, `{"events":[{"seq":18446744073709551616}]}`, `{"events":[{"seq":-1}]}`,
	`{"events":[{"seq":-0}]}`, `{"events":[{"seq":1.0}]}`, `{"events":[{"seq":1e2}]}`, `{"events":[{"seq":"1"}]}`, `{"events":[{"seq":null}]}`,
	`{"events":[{"turn":{"durationMs":-9223372036854775808}}]}`, `{"events":[{"turn":{"durationMs":9223372036854775808}}]}`,
	`{"events":[{"item":{"exitCode":null}}]}`, `{"events":[{"item":{"exitCode":-1}}]}`, `{"events":[{"item":{"exitCode":"1"}}]}`,
	`{"events":[{"item":{"success":null}}]}`, `{"events":[{"item":{"success":false}}]}`, `{"events":[{"item":{"success":1}}]}`,
	`{"events":[{"usage":{"last":null,"total":{}}}]}`, `{"events":[{"usage":{"last":[]}}]}`, `{"events":[{"usage":{"last":{"input":1},"last":{"output":2}}}]}`,
	`{"events":[{"item":{"exitCode":1},"item":{"exitCode":2,"success":true},"item":{"success":null}}]}`,
	`{"EVENTS":[{"KIND":"x","Seq":5,"ITEM":{"ExitCode":3}}]}`, `{"events":{}}`, `{"events":[1]}`, `{"events":[{"item":[]}]}`,
	`{"events":[{"kind":"a"},{"kind":"b"},{"kind":"c"},{"kind":"d"},{"kind":"e"},{"kind":"f"}]}`,
}

func TestDecodeRenderRequestMatchesEncodingJSON(t *testing.T) {
	for _, in := range renderTable {
		t.Run(in, func(t *testing.T) {
			checkDecodeRender(t, []byte(in), nil)
			checkDecodeRender(t, []byte(in), []byte("a prefill seed with some bytes in it, 0123456789"))
		})
	}
}

func TestAppendRenderResponseMatchesEncodingJSON(t *testing.T) {
	for _, v := range []*abi.RenderResponse{{}, {Output: "plain"}, {Output: "\x1b[1mbold\x1b[0m <&> \xff\n"}} {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(AppendRenderResponse(nil, v)))
	}
}

func checkDecodeRender(t *testing.T, in, prefill []byte) {
	t.Helper()
	want := genRenderRequest(prefill)
	got := genRenderRequest(prefill)
	wantErr := json.Unmarshal(in, want)
	err := DecodeRenderRequest(in, got)
	if wantErr != nil {
		if err == nil {
			t.Fatalf("input %q: encoding/json fails (%v), abijson accepts it: %+v", in, wantErr, got)
		}
		return
	}
	if err != nil {
		t.Fatalf("input %q: encoding/json accepts it, abijson fails: %v", in, err)
	}
	if !reflect.DeepEqual(want, got) {
		wj, _ := json.Marshal(want)
		gj, _ := json.Marshal(got)
		t.Fatalf("input %q:\nencoding/json: %s\nabijson:       %s", in, wj, gj)
	}
	if len(prefill) == 0 {
		fresh, err := NewRenderRequest(in)
		if err != nil || !reflect.DeepEqual(want, fresh) {
			t.Fatalf("NewRenderRequest(%q) = %#v, %v; want %#v", in, fresh, err, want)
		}
	}
}

func FuzzDecodeRenderRequest(f *testing.F) {
	for _, in := range renderTable {
		f.Add([]byte(in), []byte(nil))
	}
	f.Add([]byte(`{"events":[{"item":{"exitCode":1,"changes":[{"path":"x"}]}}]}`), []byte("prefill bytes"))
	f.Fuzz(func(t *testing.T, in, prefill []byte) {
		checkDecodeRender(t, in, prefill)
	})
}

// FuzzRenderRoundTrip generates random render requests, encodes them with
// encoding/json and requires both decoders to agree.
func FuzzRenderRoundTrip(f *testing.F) {
	f.Add([]byte("seed"))
	f.Add([]byte(strings.Repeat("\x01\x02\x03\xfe\xff", 30)))
	f.Fuzz(func(t *testing.T, seed []byte) {
		v := genRenderRequest(seed)
		b, err := json.Marshal(v)
		if err != nil {
			return // invalid RawJSON
		}
		checkDecodeRender(t, b, nil)
		checkDecodeRender(t, b, seed)
		resp := &abi.RenderResponse{Output: (&gen{b: seed}).str()}
		want, _ := json.Marshal(resp)
		if got := AppendRenderResponse(nil, resp); string(got) != string(want) {
			t.Fatalf("encode %q: %s, want %s", resp.Output, got, want)
		}
	})
}

func (g *gen) int() int {
	switch g.byte() % 4 {
	case 0:
		return 0
	case 1:
		return int(g.byte())
	case 2:
		return -int(g.byte()) << (g.byte() % 56)
	}
	return int(uint64(g.byte())<<56 | uint64(g.byte())<<8)
}

func genRenderRequest(seed []byte) *abi.RenderRequest {
	v := new(abi.RenderRequest)
	if len(seed) == 0 {
		return v
	}
	g := &gen{b: seed}
	switch n := g.byte() % 5; n {
	case 0:
		return v
	case 1:
		v.Events = []abi.Event{}
		return v
	default:
		for range n - 1 {
			e := abi.Event{Kind: abi.EventKind(g.str()), Method: g.str(), Seq: uint64(g.int()), ThreadID: g.str(), TurnID: g.str(), ItemID: g.str(), Delta: g.str()}
			if g.bool() {
				it := &abi.Item{ID: g.str(), Type: g.str(), Status: g.str(), Text: g.str(), Command: g.str(), Cwd: g.str(), Output: g.str(),
					Server: g.str(), Tool: g.str(), Arguments: g.raw()}
				if g.bool() {
					c := g.int()
					it.ExitCode = &c
				}
				if g.bool() {
					s := g.bool()
					it.Success = &s
				}
				if g.bool() {
					it.Changes = []abi.FileChange{{Path: g.str(), Kind: g.str(), MovePath: g.str(), Diff: g.str()}}
				}
				e.Item = it
			}
			if g.bool() {
				e.Turn = &abi.TurnStatus{ID: g.str(), State: g.str(), DurationMs: g.int()}
			}
			if g.bool() {
				e.Usage = &abi.TokenUsage{
					Last:          abi.TokenCounts{Input: g.int(), CachedInput: g.int(), Output: g.int(), ReasoningOutput: g.int(), Total: g.int()},
					Total:         abi.TokenCounts{Input: g.int(), Output: g.int(), Total: g.int()},
					ContextWindow: g.int(),
				}
			}
			if g.bool() {
				e.Error = &abi.TurnFailure{Message: g.str(), Info: g.str(), WillRetry: g.bool()}
			}
			v.Events = append(v.Events, e)
		}
	}
	return v
}
