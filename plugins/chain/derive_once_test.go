package chain_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// The answer codex receives is the one the audit log holds, even when the
// agent changes the file system while the decision is recorded: the
// agent's background process makes the granted directory a symbolic link
// to outside the workspace during the audit write (its fsync is the
// longest step between the decision and the answer). The answer derived
// for the record is sent; it is not derived a second time, with another
// outcome, after the record is written.
func TestRecordedAnswerIsTheOneSent(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	vendor := filepath.Join(work, "vendor")
	require.NoError(t, os.Mkdir(vendor, 0o755))
	params := fmt.Sprintf(`{"threadId":"th","turnId":"tu","itemId":"i","cwd":%q,"startedAtMs":1,"permissions":{"fileSystem":{"write":[%q]}}}`, work, vendor)
	var rec *chain.DecisionRecord
	ch, err := chain.New(&chain.Options{
		Plugins: []plugins.Plugin{decides("a", abi.Accept)},
		Audit: func(r *chain.DecisionRecord) error {
			// The agent, meanwhile: rm -r vendor; ln -s OUT vendor.
			require.NoError(t, os.Remove(vendor))
			require.NoError(t, os.Symlink(out, vendor))
			return nil
		},
		OnDecision: func(r *chain.DecisionRecord) { rec = r },
	})
	require.NoError(t, err)
	got := serve(t, ch, host.NewRequest("item/permissions/requestApproval", json.RawMessage(params)))
	require.NotNil(t, rec)
	assert.Equal(t, string(rec.Answer), string(got), "the record holds the exact answer sent")
	assert.Equal(t, abi.Accept, rec.Decision)
}
