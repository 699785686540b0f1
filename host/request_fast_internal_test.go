package host

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// requestCorpus returns the requests of testdata/requests: codex's
// request shapes, as in the benchmarks and the answer tests, with the
// nulls, escapes and extras codex may send, and some the fast path must
// refuse.
func requestCorpus(tb testing.TB) []struct {
	Method string
	Params json.RawMessage
} {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", "requests", "approvals.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []struct {
		Method string
		Params json.RawMessage
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m struct {
			Method string
			Params json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// requestMethods are the methods the fuzzer decodes params as.
var requestMethods = func() []string {
	var ms []string
	for m := range requestKinds {
		ms = append(ms, string(m))
	}
	return append(ms, "codexhost/unknown")
}()

// checkRequestFast decodes params both ways and fails if they differ:
// the location, and the approval (value or error).
func checkRequestFast(t *testing.T, method string, params []byte) (fast bool) {
	t.Helper()
	var s scanner
	got := decodeRequest(&s, method, params)
	fast = got.decoded.Load() != nil
	want := &Request{kind: requestKinds[protocol.ServerMethod(method)], Method: method, Params: params}
	want.locateSlow()
	if got.ThreadID != want.ThreadID || got.TurnID != want.TurnID || got.ItemID != want.ItemID {
		t.Fatalf("%s %s: location fast %q %q %q, encoding/json %q %q %q", method, params,
			got.ThreadID, got.TurnID, got.ItemID, want.ThreadID, want.TurnID, want.ItemID)
	}
	if !got.kind.isApproval() {
		return fast
	}
	ga, gerr := got.Approval()
	wa, werr := want.approvalSlow()
	if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
		t.Fatalf("%s %s: error fast %v, encoding/json %v", method, params, gerr, werr)
	}
	if !reflect.DeepEqual(ga, wa) {
		g, _ := json.Marshal(ga)
		w, _ := json.Marshal(wa)
		t.Fatalf("%s %s:\nfast          %s\nencoding/json %s", method, params, g, w)
	}
	return fast
}

// checkParamsDecoder checks that the rpc reader's decoder, given the
// params followed by the rest of a line, decodes what newRequest does.
func checkParamsDecoder(t *testing.T, method string, params []byte) {
	t.Helper()
	var d paramsDecoder
	line := append(append([]byte(nil), params...), `,"id":1}`+"\n"...)
	v, n, ok := d.DecodeParams(method, line)
	if !ok {
		return
	}
	got, isReq := v.(*Request)
	if !isReq {
		return // a notification method: an event
	}
	if string(got.Params) != string(line[:n]) {
		t.Fatalf("%s %s: the decoder took %d bytes %s", method, params, n, got.Params)
	}
	want := newRequest(method, line[:n], nil, nil)
	if got.ThreadID != want.ThreadID || got.TurnID != want.TurnID || got.ItemID != want.ItemID {
		t.Fatalf("%s %s: location %q %q %q, newRequest %q %q %q", method, params,
			got.ThreadID, got.TurnID, got.ItemID, want.ThreadID, want.TurnID, want.ItemID)
	}
	if got.kind.isApproval() {
		ga, gerr := got.Approval()
		wa, werr := want.approvalSlow()
		if gerr != nil || werr != nil || !reflect.DeepEqual(ga, wa) {
			t.Fatalf("%s %s: approval %+v (%v), encoding/json %+v (%v)", method, params, ga, gerr, wa, werr)
		}
	}
}

// Every request of the corpus decodes the same on both paths, and the
// well-formed command and file-change approvals take the fast path.
func TestRequestFastCorpus(t *testing.T) {
	fastOnes := 0
	for _, m := range requestCorpus(t) {
		if checkRequestFast(t, m.Method, m.Params) {
			fastOnes++
		}
		checkParamsDecoder(t, m.Method, m.Params)
	}
	if fastOnes < 9 {
		t.Errorf("%d requests of the corpus took the fast path, want at least 9", fastOnes)
	}
}

// The fast path decodes what it takes exactly as encoding/json does; what
// it does not take goes to encoding/json.
func FuzzRequestFast(f *testing.F) {
	for _, m := range requestCorpus(f) {
		for i, rm := range requestMethods {
			if rm == m.Method {
				f.Add(uint8(i), []byte(m.Params))
			}
		}
	}
	f.Fuzz(func(t *testing.T, mi uint8, params []byte) {
		method := requestMethods[int(mi)%len(requestMethods)]
		checkRequestFast(t, method, params)
		checkParamsDecoder(t, method, params)
	})
}

// A command approval as codex sends it is decoded without encoding/json.
func TestRequestFastAllocs(t *testing.T) {
	params := requestCorpus(t)[0].Params
	var s scanner
	if r := decodeRequest(&s, string(protocol.ServerItemCommandExecutionRequestApproval), params); r.decoded.Load() == nil {
		t.Fatal("the benchmark's approval does not take the fast path")
	}
	fast := testing.AllocsPerRun(100, func() {
		r := decodeRequest(&s, string(protocol.ServerItemCommandExecutionRequestApproval), params)
		_, _ = r.Approval()
	})
	slow := testing.AllocsPerRun(100, func() {
		r := &Request{kind: requestCommandApproval, Params: params}
		r.locateSlow()
		_, _ = r.approvalSlow()
	})
	t.Logf("allocations: fast %v, encoding/json %v", fast, slow)
	if fast >= slow {
		t.Errorf("fast path allocates %v times, encoding/json %v", fast, slow)
	}
}
