package abijson

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeyHashes checks the generated constants against keyHashString and
// the fast and slow key paths against each other.
func TestKeyHashes(t *testing.T) {
	for name, h := range map[string]uint64{
		"kind": hKind, "legacy": hLegacy, "threadId": hThreadId, "turnId": hTurnId, "itemId": hItemId,
		"reason": hReason, "cwd": hCwd, "command": hCommand, "actions": hActions,
		"proposedAmendment": hProposedAmendment, "network": hNetwork, "changes": hChanges,
		"grantRoot": hGrantRoot, "permissions": hPermissions, "type": hType, "path": hPath,
		"query": hQuery, "host": hHost, "protocol": hProtocol, "movePath": hMovePath, "diff": hDiff,
		"readPaths": hReadPaths, "writePaths": hWritePaths, "raw": hRaw, "decision": hDecision,
		"amendment": hAmendment, "networkRule": hNetworkRule, "granted": hGranted, "action": hAction,
	} {
		require.Equal(t, keyHashString(name), h, name)
		for _, doc := range []string{`"` + name + `":"some value of some length"}`, `"` + name + `" :1`} {
			d := decoder{b: []byte(doc)}
			k, got, err := d.key()
			require.NoError(t, err)
			require.Equal(t, name, k)
			require.Equal(t, h, got, "%s in %s", name, doc)
		}
		if len(name) >= 8 {
			require.True(t, is(name, name))
			for i := range len(name) {
				other := []byte(name)
				other[i] ^= 1
				require.False(t, is(string(other), name), "%s vs %s", other, name)
			}
			require.False(t, is(name+"x", name))
			require.False(t, is(name[:len(name)-1], name))
		}
	}
	// Keys that share a short field's first bytes are told apart.
	for _, k := range []string{"kind\x00\x00\x00\x0d?", "kind\x00", "kin", "KIND", strings.Repeat("k", 300)} {
		require.NotEqual(t, hKind, keyHashString(k), "%q", k)
	}
}
