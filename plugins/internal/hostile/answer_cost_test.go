package hostile

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Round 11 (run time): hostile answers that are cheap for the guest and
// expensive for the host after the call has returned.

func r11Chain(t *testing.T, wat string, timeout time.Duration) (*chain.Chain, func()) {
	t.Helper()
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil)
	require.NoError(t, err)
	p, err := rt.Load(ctx, plugintest.BuildWAT(t, filepath.Join("testdata", "wat", wat)),
		&wasm.Options{Options: plugins.Options{Timeout: timeout}})
	require.NoError(t, err)
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{p}})
	require.NoError(t, err)
	return ch, func() { ch.Close(); _ = p.Close(ctx); _ = rt.Close(ctx) }
}

func r11Approval() *host.ApprovalRequest {
	return &host.ApprovalRequest{Method: "item/commandExecution/requestApproval",
		ApprovalRequest: &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "ls"}}
}

// TestAnswerTokenBomb: answer-token-bomb.wat answers in milliseconds
// with 16 MiB of valid JSON, {"decision":"abstain","x":[0,0,...]}: an
// unknown member of 8 million values, within the result cap. The chain
// decodes answers with strictjson, which walks every value with
// json.Decoder.Token (an interface allocation per token, a path segment
// string per array element) and then with encoding/json: measured 2.4 s
// of CPU and 1.1 GB allocated per answer (1.7-2.0 s, 0.5 GB for 1M-key
// objects, in "x" or in a tool-input answer's "answers"). None of it is
// under the call's deadline or the caller's context: a plugin whose calls
// are bounded by 200 ms holds every approval for seconds, and every
// request of every thread pays it.
func TestAnswerTokenBomb(t *testing.T) {
	timeout := 200 * time.Millisecond
	if raceEnabled {
		// The guest's 16 MiB fill itself may not end within 200 ms on a
		// loaded machine (a timeout, which declines too, but is not what
		// is tested here): under -race the count's refusal is checked, not
		// the time (below).
		timeout = 10 * time.Second
	}
	ch, done := r11Chain(t, "answer-token-bomb.wat", timeout)
	defer done()
	runtime.GC()
	base := rss(t)
	resetPeak(t)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := ch.Approval(ctx, r11Approval())
	took := time.Since(start)
	runtime.ReadMemStats(&m1)
	grew := peak(t) - base
	t.Logf("approval took %v (call timeout %v), allocated %d MB, peak RSS +%d MB, resp=%+v err=%v",
		took, timeout, (m1.TotalAlloc-m0.TotalAlloc)>>20, grew>>20, resp, err)
	require.NoError(t, err) // the chain answers: fail closed
	assert.Equal(t, "decline", string(resp.Decision))
	assert.Contains(t, resp.Reason, "more than 200000 values", "refused by the count, not decoded")
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(64<<20), "the refusal allocates little (the answer's copy)")
	// Under the race detector the host's copy of the 16 MiB answer and
	// json.Valid over it take 0.5-2.8 s on a loaded 2-core machine (the
	// race-instrumented Go code, not the guest): the timing is checked
	// without it, the allocations and the refusal with it.
	if !raceEnabled {
		assert.Less(t, took, timeout+WasmMargin, "the decision ends by the plugin's deadline plus the margin")
	}
	assert.Less(t, grew, int64(100<<20), "the host's peak RSS grows by less than 100 MB")
}

// TestErrorMessageEscapes: error-escapes.wat fails every approval with
// an abi.Error whose message is 8 MiB of JSON escapes that decode to raw
// ESC and BEL (an OSC 52 clipboard write, a screen clear). What does the
// decision carry of it?
func TestErrorMessageEscapes(t *testing.T) {
	ch, done := r11Chain(t, "error-escapes.wat", time.Second)
	defer done()
	start := time.Now()
	resp, err := ch.Approval(t.Context(), r11Approval())
	took := time.Since(start)
	require.NoError(t, err)
	t.Logf("took %v, decision %s, reason of %d bytes: %.120q", took, resp.Decision, len(resp.Reason), resp.Reason)
	assert.Less(t, len(resp.Reason), 64<<10, "the reason (audit trail, shown to the operator) is cut")
	assert.False(t, hasControl(resp.Reason), "the reason cannot drive a terminal")

	// What codex receives for a legacy command approval: the rejection
	// text, clipped, with the raw escapes in it.
	legacy := &host.ApprovalRequest{Method: "execCommandApproval",
		ApprovalRequest: &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "ls", Legacy: true}}
	resp, err = ch.Approval(t.Context(), legacy)
	require.NoError(t, err)
	wire, err := legacy.Answer(resp)
	require.NoError(t, err)
	t.Logf("to codex: %.160s", wire)
	assert.False(t, strings.Contains(string(wire), `\u001b`), "codex receives no terminal escapes of the plugin's")
}
