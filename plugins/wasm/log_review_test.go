package wasm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// codexhost.log with len 0 is charged nothing (output.takeAll(0) always
// fits), yet each call logs a record: a guest logs as many lines as it can
// call the import before its deadline (millions a second), in every call,
// past MaxCallOutputBytes and MaxOutputBytes. Each line should cost at
// least a byte of the budgets (better: a per-line overhead).
func TestLogEmptyLinesAreBudgeted(t *testing.T) {
	logger, rec := newLogger()
	p := mustLoad(t, testdataWAT(t, "log-empty-flood"), &wasm.Options{Logger: logger, MaxCallOutputBytes: 1000})
	_, err := p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	require.NoError(t, err)
	_, err = p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	require.NoError(t, err)
	n := len(rec.messages())
	t.Logf("2 calls of 10,000 empty log lines, a call budget of 1000 bytes: %d records logged", n)
	require.LessOrEqual(t, n, 2*(1000+1), "lines logged within the budgets")
}
