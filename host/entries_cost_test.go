package host_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
)

// The file-system entries of a permission profile are matched with its
// read and write lists in time linear in them: the agent chooses how many
// paths it asks for, codex sends each again as an entry, and each entry
// was looked up in the lists one by one (40000 paths took 9 s, before any
// plugin was asked; for a command's additional permissions on the
// connection's reader, holding every message of codex meanwhile). The
// bound only catches the quadratic match, with room for a loaded machine.
func TestPermissionEntriesMatchInLinearTime(t *testing.T) {
	const n = 80000
	paths := make([]string, n)
	entries := make([]string, n)
	for i := range paths {
		paths[i] = fmt.Sprintf("/nonexistent-codexhost/dir/file%06d", i)
		entries[i] = fmt.Sprintf(`{"access":"write","path":{"type":"path","path":%q}}`, paths[i])
	}
	list, _ := json.Marshal(paths)
	fs := `{"fileSystem":{"write":` + string(list) + `,"entries":[` + strings.Join(entries, ",") + `]}}`
	for _, tc := range []struct{ method, params string }{
		{"item/permissions/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"cwd":"/w","permissions":` + fs + `}`},
		{"item/commandExecution/requestApproval", `{"threadId":"t","turnId":"u","itemId":"i","startedAtMs":1,"command":"touch /x","cwd":"/w","additionalPermissions":` + fs + `}`},
	} {
		var req *host.ApprovalRequest
		var err error
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, err = host.NewRequest(tc.method, json.RawMessage(tc.params)).Approval()
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatalf("%s with %d paths: not read within 20 s", tc.method, n)
		}
		require.NoError(t, err, tc.method)
		if req.Permissions != nil {
			assert.Len(t, req.Permissions.WritePaths, n, tc.method)
		} else {
			require.NotNil(t, req.AdditionalPermissions, tc.method)
			assert.Len(t, req.AdditionalPermissions.WritePaths, n, tc.method)
		}
	}
}
