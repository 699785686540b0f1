package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Arguments of ~700 KB whose member names hold invalid UTF-8 (a RawJSON the
// host passes on verbatim): every such key makes abijson's strOutOfPlace
// allocate (and zero) a buffer the size of the rest of the input, so the
// decode is quadratic and the call runs out of time in the Wasm guest.
// encoding/json decodes it in milliseconds.
//
// The bound is the call's deadline, which is generous: the quadratic
// decode zeroes ~35 GB (minutes); the linear one took 4.5-5.1 s with the
// test suite and four other builds sharing 2 cores (the valid keys 0.9-1
// s), past the 5 s this test had first.
func TestWasmInvalidUTF8KeysQuadratic(t *testing.T) {
	bin := plugintest.BuildGoGuest(t, ".")
	rt, err := wasm.NewRuntime(t.Context(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	p, err := rt.Load(t.Context(), bin, &wasm.Options{Options: plugins.Options{Timeout: time.Minute}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })

	// The same size with a valid key decodes fine: the input's size is
	// not the problem.
	for _, key := range []string{"\"k\"", "\"\xff\""} {
		var b strings.Builder
		b.WriteString(`{`)
		for range 100000 {
			b.WriteString(key + ":0,")
		}
		b.WriteString(`"text":"one two"}`)
		start := time.Now()
		r, err := plugins.Call[abi.ToolCallResponse](t.Context(), p, abi.HookToolCall, &abi.ToolCallRequest{
			ThreadID: "t", CallID: "c", Tool: "word_count", Arguments: abi.RawJSON(b.String()),
		})
		t.Logf("key %q: took %v", key, time.Since(start))
		require.NoError(t, err, "key %q", key)
		require.True(t, r.Success)
	}
}
