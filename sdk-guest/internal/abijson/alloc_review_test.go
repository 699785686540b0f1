package abijson

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

func totalAlloc(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// strOutOfPlace sizes the buffer of a string with invalid UTF-8 by the
// rest of the whole input (len(b)-r), not by the string, and the decoded
// string keeps that buffer alive. n such strings in an input of m bytes
// cost O(n·m) allocated and retained memory (and zeroing time), where
// encoding/json costs O(m). A host (or the model, through a tool call's
// arguments read with DecodeObject) can exhaust a guest's memory with a
// few hundred KB.
func TestInvalidUTF8AllocationIsLinear(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString(`{"questions":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("{\"id\":\"\xff\"}")
	}
	b.WriteString(`]}`)
	in := []byte(b.String())

	var v1, v2 abi.ToolInputRequest
	std := totalAlloc(func() { _ = json.Unmarshal(in, &v1) })
	got := totalAlloc(func() {
		if err := DecodeToolInputRequest(in, &v2); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("input %d bytes: encoding/json allocates %d bytes, abijson %d", len(in), std, got)
	if got > 4*std+uint64(4*len(in)) {
		t.Errorf("abijson allocates %d bytes for a %d-byte input (encoding/json: %d)", got, len(in), std)
	}

	// The same through DecodeObject (settings, tool arguments).
	b.Reset()
	b.WriteString(`{"l":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\"\xff\"")
	}
	b.WriteString(`]}`)
	in = []byte(b.String())
	var l []string
	got = totalAlloc(func() {
		if err := DecodeObject(in, []Field{{Name: "l", Strings: &l}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("DecodeObject: input %d bytes, %d allocated", len(in), got)
	if got > uint64(40*len(in)) {
		t.Errorf("DecodeObject allocates %d bytes for a %d-byte input", got, len(in))
	}
	// Unknown keys with invalid UTF-8: the garbage alone is quadratic.
	b.Reset()
	b.WriteString(`{`)
	for range n {
		b.WriteString("\"\xff\":0,")
	}
	b.WriteString(`"s":""}`)
	in = []byte(b.String())
	got = totalAlloc(func() {
		if err := DecodeObject(in, []Field{{Name: "l", Strings: &l}}); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("DecodeObject unknown keys: input %d bytes, %d allocated", len(in), got)
	if got > uint64(40*len(in)) {
		t.Errorf("DecodeObject allocates %d bytes for a %d-byte input", got, len(in))
	}
}
