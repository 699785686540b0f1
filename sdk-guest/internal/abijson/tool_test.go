package abijson

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// toolDecodeTable holds tool-hook requests whose decoding must match
// encoding/json's; decodeTable's inputs are run too.
var toolDecodeTable = []string{
	`{"threadId":"t","turnId":"u","itemId":"i","questions":[{"id":"q1","header":"H","question":"Which <one>?","options":[{"label":"a","description":"d"},{"label":"b"}],"isOther":true,"isSecret":false}]}`,
	`{"threadId":"t","turnId":"u","callId":"c","namespace":"ns","tool":"word_count","arguments":{"text":"a b <c>"}}`,
	`{"questions":[]}`, `{"questions":null}`, `{"questions":[null,{"id":"x"}]}`, `{"questions":{}}`, `{"questions":[1]}`,
	`{"questions":[{"options":[{"label":1}]}]}`, `{"questions":[{"options":"x"}]}`, `{"questions":[{"isOther":"true"}]}`,
	`{"QUESTIONS":[{"ID":"a","Options":[{"LABEL":"l"}]}],"ThreadId":"t"}`,
	`{"questions":[{"id":"a","options":[{"label":"x"},{"label":"y"}]}],"questions":[{"options":[{"description":"d"}]}]}`,
	`{"arguments":null}`, `{"arguments":[1,2,{"a":"\u00e9"}]}`, `{"arguments": { "a" : 1 } }`, `{"arguments":}`, `{"arguments":"s"}`,
	`{"tool":"a","tool":"b","callId":null}`, `{"Tool":"x","CALLID":"y","Arguments":1.5}`, `{"tool":1}`,
}

func TestDecodeToolRequestsMatchEncodingJSON(t *testing.T) {
	for _, in := range append(append([]string(nil), toolDecodeTable...), decodeTable...) {
		name := in
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			checkDecodeToolRequests(t, []byte(in), nil)
			checkDecodeToolRequests(t, []byte(in), []byte("prefill seed 0123456789 abcdefghijklmnopqrstuvwxyz"))
		})
	}
}

// checkDecodeToolRequests decodes in as both tool-hook requests with both
// decoders, into values generated from prefill, and requires the same
// outcome.
func checkDecodeToolRequests(t *testing.T, in, prefill []byte) {
	t.Helper()
	checkDecode(t, in, genToolInputRequest(prefill), genToolInputRequest(prefill), DecodeToolInputRequest)
	checkDecode(t, in, genToolCallRequest(prefill), genToolCallRequest(prefill), DecodeToolCallRequest)
}

func checkDecode[T any](t *testing.T, in []byte, want, got *T, decode func([]byte, *T) error) {
	t.Helper()
	wantErr := json.Unmarshal(in, want)
	err := decode(in, got)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("input %q into %T: encoding/json fails (%v), abijson accepts it: %+v", in, got, wantErr, got)
	case wantErr == nil && err != nil:
		t.Fatalf("input %q into %T: encoding/json accepts it, abijson fails: %v", in, got, err)
	case wantErr == nil && !reflect.DeepEqual(want, got):
		t.Fatalf("input %q:\nencoding/json: %#v\nabijson:       %#v", in, want, got)
	}
}

func FuzzDecodeToolRequests(f *testing.F) {
	for _, in := range toolDecodeTable {
		f.Add([]byte(in), []byte(nil))
	}
	f.Add([]byte(`{"questions":[{"options":[{"label":"x"}]}]}`), []byte("some prefill"))
	f.Fuzz(func(t *testing.T, in, prefill []byte) {
		checkDecodeToolRequests(t, in, prefill)
	})
}

func TestAppendToolAndManifestMatchEncodingJSON(t *testing.T) {
	for _, seed := range []string{"", "a", "seed of some length", strings.Repeat("\xff\x13\x07\x80\x01", 40), "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"} {
		checkToolEncodings(t, []byte(seed))
	}
	// Shapes the generator may not reach.
	checkEncode(t, &abi.ToolCallResponse{}, func(dst []byte, v *abi.ToolCallResponse) ([]byte, error) { return AppendToolCallResponse(dst, v), nil })
	checkEncode(t, &abi.ToolCallResponse{Content: []abi.Content{}}, func(dst []byte, v *abi.ToolCallResponse) ([]byte, error) { return AppendToolCallResponse(dst, v), nil })
	checkEncode(t, &abi.ToolInputResponse{Answers: map[string][]string{}}, func(dst []byte, v *abi.ToolInputResponse) ([]byte, error) {
		return AppendToolInputResponse(dst, v), nil
	})
	checkEncode(t, &abi.ToolInputResponse{Answers: map[string][]string{"b": nil, "a": {}, "<\xff>": {"x", "\u2028"}, "": {""}}}, func(dst []byte, v *abi.ToolInputResponse) ([]byte, error) {
		return AppendToolInputResponse(dst, v), nil
	})
	for _, m := range []*abi.Manifest{
		{},
		{Name: "n", Version: "1", ABI: abi.Version, Features: abi.FeatureRenderBatch, Hooks: []abi.Hook{}, Tools: []abi.Tool{}},
		{Hooks: []abi.Hook{abi.HookApproval, abi.HookEventRender}, Capabilities: abi.Capabilities{Env: []string{}}},
		{Hooks: []abi.Hook{abi.Hook(99)}},                               // an error
		{Tools: []abi.Tool{{Name: "t", InputSchema: abi.RawJSON("{")}}}, // an error
		{SettingsSchema: abi.RawJSON(" { \"type\" : \"object\" } ")},
		{SettingsSchema: abi.RawJSON("[1] x")}, // an error
		{Capabilities: abi.Capabilities{ReadDirs: []string{"/a"}, Network: true}, Limits: abi.Limits{TimeoutMillis: 5}},
		{Limits: abi.Limits{MemoryPages: 1 << 31}, Description: "d <&>"},
	} {
		checkEncode(t, m, AppendManifest)
	}
}

func FuzzToolRoundTrip(f *testing.F) {
	f.Add([]byte("seed"))
	f.Add([]byte(strings.Repeat("\x01\x02\x03\xfe\xff", 30)))
	f.Fuzz(func(t *testing.T, seed []byte) { checkToolEncodings(t, seed) })
}

// checkToolEncodings generates the tool hooks' values and a manifest from
// seed, requires abijson to encode each exactly as encoding/json does, and
// the requests to decode back to what encoding/json decodes.
func checkToolEncodings(t *testing.T, seed []byte) {
	t.Helper()
	checkEncode(t, genToolInputResponse(seed), func(dst []byte, v *abi.ToolInputResponse) ([]byte, error) {
		return AppendToolInputResponse(dst, v), nil
	})
	checkEncode(t, genToolCallResponse(seed), func(dst []byte, v *abi.ToolCallResponse) ([]byte, error) { return AppendToolCallResponse(dst, v), nil })
	checkEncode(t, genManifest(seed), AppendManifest)
	for _, v := range []any{genToolInputRequest(seed), genToolCallRequest(seed)} {
		b, err := json.Marshal(v)
		if err != nil {
			continue // an invalid RawJSON
		}
		checkDecodeToolRequests(t, b, nil)
	}
}

func checkEncode[T any](t *testing.T, v *T, appendFn func([]byte, *T) ([]byte, error)) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, err := appendFn([]byte("prefix"), v)
	if (wantErr != nil) != (err != nil) {
		t.Fatalf("encode %#v: encoding/json error %v, abijson error %v", v, wantErr, err)
	}
	if wantErr == nil && "prefix"+string(want) != string(got) {
		t.Fatalf("encode %#v:\nencoding/json: %s\nabijson:       %s", v, want, got[len("prefix"):])
	}
}

func TestValidMatchesEncodingJSON(t *testing.T) {
	for _, in := range append(append(append([]string(nil), toolDecodeTable...), decodeTable...), raws...) {
		if got, want := Valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%.80q) = %v, json.Valid %v", in, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, in := range raws {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if got, want := Valid(in), json.Valid(in); got != want {
			t.Fatalf("Valid(%q) = %v, json.Valid %v", in, got, want)
		}
	})
}

func genQuestions(g *gen) []abi.Question {
	switch n := g.byte() % 4; n {
	case 0:
		return nil
	case 1:
		return []abi.Question{}
	default:
		qs := make([]abi.Question, n-1)
		for i := range qs {
			qs[i] = abi.Question{ID: g.str(), Header: g.str(), Question: g.str(), IsOther: g.bool(), IsSecret: g.bool()}
			if g.bool() {
				qs[i].Options = []abi.QuestionOption{{Label: g.str(), Description: g.str()}, {Label: g.str()}}
			}
		}
		return qs
	}
}

func genToolInputRequest(seed []byte) *abi.ToolInputRequest {
	g := &gen{b: seed}
	return &abi.ToolInputRequest{ThreadID: g.str(), TurnID: g.str(), ItemID: g.str(), Questions: genQuestions(g)}
}

func genToolCallRequest(seed []byte) *abi.ToolCallRequest {
	g := &gen{b: seed}
	return &abi.ToolCallRequest{ThreadID: g.str(), TurnID: g.str(), CallID: g.str(), Namespace: g.str(), Tool: g.str(), Arguments: g.raw()}
}

func genToolInputResponse(seed []byte) *abi.ToolInputResponse {
	g := &gen{b: seed}
	v := &abi.ToolInputResponse{Abstain: g.bool()}
	switch g.byte() % 3 {
	case 1:
		v.Answers = map[string][]string{}
	case 2:
		v.Answers = map[string][]string{}
		for range g.byte() % 5 {
			v.Answers[g.str()] = g.strs()
		}
	}
	return v
}

func genToolCallResponse(seed []byte) *abi.ToolCallResponse {
	g := &gen{b: seed}
	v := &abi.ToolCallResponse{Success: g.bool()}
	switch n := g.byte() % 4; n {
	case 0:
	case 1:
		v.Content = []abi.Content{}
	default:
		for range n {
			v.Content = append(v.Content, abi.Content{Type: g.str(), Text: g.str(), ImageURL: g.str()})
		}
	}
	return v
}

func genManifest(seed []byte) *abi.Manifest {
	g := &gen{b: seed}
	m := &abi.Manifest{Name: g.str(), Version: g.str(), ABI: uint32(g.byte()), Features: abi.Features(g.byte() % 4), Description: g.str()}
	switch n := g.byte() % 4; n {
	case 0:
	case 1:
		m.Hooks = []abi.Hook{}
	default:
		for range n {
			m.Hooks = append(m.Hooks, abi.Hook(g.byte()%6)) // 0 and 5 are unknown: an error
		}
	}
	for range g.byte() % 3 {
		m.Tools = append(m.Tools, abi.Tool{Name: g.str(), Description: g.str(), InputSchema: g.raw()})
	}
	m.Capabilities = abi.Capabilities{Env: g.strs(), ReadDirs: g.strs(), Network: g.bool()}
	if g.bool() {
		m.SettingsSchema = g.raw()
	}
	m.Limits = abi.Limits{MemoryPages: uint32(g.byte()%2) << 20, TimeoutMillis: uint32(g.byte() % 2)}
	return m
}
