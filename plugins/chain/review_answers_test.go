package chain_test

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// nestedAnswer is a valid approval answer (a decline) with an unknown
// member nested depth levels deep.
func nestedAnswer(depth int) string {
	return `{"decision":"decline","x":` + strings.Repeat(`{"":`, depth) + `1` + strings.Repeat(`}`, depth) + `}`
}

// TestDeeplyNestedAnswerCostsItsSize: the chain decodes each answer
// strictly; a deeply nested one, valid JSON well under the result bound,
// once cost memory in the square of its depth (an error path built for
// every level: 40000 levels, 200 KB, took 827 MiB). It now costs a small
// multiple of its size, and nesting past encoding/json's limit (10000) is
// refused as the plugin's failure: either way codex gets a decline.
func TestDeeplyNestedAnswerCostsItsSize(t *testing.T) {
	for _, depth := range []int{5000, 9999, 40000, 1 << 20} {
		ans := nestedAnswer(depth)
		ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{rawPlugin("deep", ans)}})
		require.NoError(t, err)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got := serve(t, ch, gitStatusRequest())
		runtime.ReadMemStats(&after)
		ch.Close()
		alloc := after.TotalAlloc - before.TotalAlloc
		assert.JSONEq(t, `{"decision":"decline"}`, string(got), "depth %d", depth)
		assert.Less(t, alloc, uint64(64*len(ans)+1<<20), "depth %d: the decode of a %d-byte answer allocated %d bytes", depth, len(ans), alloc)
	}
}

// TestMeetOfLongGrants: under DenyWins, two accepts of a permissions
// request meet in the paths both grant. Answers that list the requested
// paths 120000 times over (valid: still a subset) once made the meet
// quadratic (14 s) and sent codex every repetition; codex now receives
// the request's own paths, each once, at once.
func TestMeetOfLongGrants(t *testing.T) {
	req := host.NewRequest("item/permissions/requestApproval", json.RawMessage(`{"threadId":"th","turnId":"tu","itemId":"i","cwd":"/w","startedAtMs":1,
		"permissions":{"fileSystem":{"write":["/","/w/tmp"]}}}`))
	const n = 120000
	a := rawPlugin("a", `{"decision":"accept","granted":{"writePaths":["/w/tmp"`+strings.Repeat(`,"/"`, n)+`]}}`)
	b := rawPlugin("b", `{"decision":"accept","granted":{"writePaths":[`+strings.TrimPrefix(strings.Repeat(`,"/w/tmp"`, n), ",")+`,"/"]}}`)
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{a, b}, Mode: chain.DenyWins})
	require.NoError(t, err)
	defer ch.Close()
	got := serve(t, ch, req)
	assert.JSONEq(t, `{"permissions":{"fileSystem":{"write":["/","/w/tmp"]}},"scope":"turn"}`, string(got))
}
