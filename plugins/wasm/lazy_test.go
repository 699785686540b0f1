package wasm_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// lazyRuntime returns a runtime on the cache directory dir, closed when t
// ends.
func lazyRuntime(t *testing.T, dir string) *wasm.Runtime {
	t.Helper()
	rt, err := wasm.NewRuntime(t.Context(), &wasm.RuntimeOptions{CacheDir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(t.Context()) })
	return rt
}

// records returns the load records in the cache directory dir.
func records(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "loads", "[0-9a-f]*"))
	require.NoError(t, err)
	return m
}

// rewriteRecord replaces the only record in dir with the manifest m.
func rewriteRecord(t *testing.T, dir string, m map[string]any) {
	t.Helper()
	recs := records(t, dir)
	require.Len(t, recs, 1)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(recs[0], b, 0o600))
}

func TestLazyLoad(t *testing.T) {
	dir := t.TempDir()
	b := testdataWAT(t, "misbehave")
	lazy := &wasm.Options{Lazy: true}

	// The first load has no record: it loads at once, and records.
	p, err := lazyRuntime(t, dir).Load(t.Context(), b, lazy)
	require.NoError(t, err)
	require.NoError(t, p.Ready(t.Context()))
	require.Len(t, records(t, dir), 1, "a lazy load that loaded at once records the manifest")

	// A later process: Load trusts the record. A record that says
	// another name shows that the manifest came from it.
	m := map[string]any{"name": "from-the-record", "version": "0.1.0", "abi": 1, "hooks": []string{"approval"}}
	rewriteRecord(t, dir, m)
	p, err = lazyRuntime(t, dir).Load(t.Context(), b, lazy)
	require.NoError(t, err)
	assert.Equal(t, "from-the-record", p.Manifest().Name, "Load returned with the recorded manifest")

	// The guest describes itself otherwise: the load fails, and so does
	// every call, fail-closed, naming why.
	err = p.Ready(t.Context())
	require.ErrorIs(t, err, plugins.ErrBadManifest)
	assert.Contains(t, err.Error(), "describes itself differently")
	_, err = p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	var ce *plugins.CallError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, plugins.FailUnavailable, ce.Kind)
	require.ErrorIs(t, err, plugins.ErrBadManifest)
	assert.Empty(t, records(t, dir), "a record the load disproved is removed")

	// So the next load loads at once again, with the real manifest.
	p, err = lazyRuntime(t, dir).Load(t.Context(), b, lazy)
	require.NoError(t, err)
	assert.Equal(t, "misbehave", p.Manifest().Name)
	require.Len(t, records(t, dir), 1)

	// The record says the same in other bytes (keys in another order):
	// the guest still describes itself as recorded.
	rewriteRecord(t, dir, map[string]any{"version": "0.1.0", "hooks": []string{"approval"}, "abi": 1, "name": "misbehave"})
	p, err = lazyRuntime(t, dir).Load(t.Context(), b, lazy)
	require.NoError(t, err)
	require.NoError(t, p.Ready(t.Context()))

	// With an intact record: a lazy plugin that calls work on.
	p, err = lazyRuntime(t, dir).Load(t.Context(), b, lazy)
	require.NoError(t, err)
	out, err := p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"decision":"abstain"}`, string(out))
	require.NoError(t, p.Ready(t.Context()))
}

// The record covers the settings and the grants: with others, Load loads
// at once.
func TestLazyRecordKey(t *testing.T) {
	dir := t.TempDir()
	b := testdataWAT(t, "misbehave")
	_, err := lazyRuntime(t, dir).Load(t.Context(), b, &wasm.Options{Lazy: true, Options: plugins.Options{Settings: []byte(`{"a":1}`)}})
	require.NoError(t, err)
	rewriteRecord(t, dir, map[string]any{"name": "from-the-record", "version": "0.1.0", "abi": 1, "hooks": []string{"approval"}})

	for name, o := range map[string]plugins.Options{
		"other settings": {Settings: []byte(`{"a":2}`)},
		"no settings":    {},
		"a memory limit": {Settings: []byte(`{"a":1}`)},
	} {
		t.Run(name, func(t *testing.T) {
			wo := &wasm.Options{Lazy: true, Options: o}
			if name == "a memory limit" {
				wo.MemoryLimitPages = 2
			}
			p, err := lazyRuntime(t, t.TempDir()).Load(t.Context(), b, wo)
			require.NoError(t, err)
			assert.Equal(t, "misbehave", p.Manifest().Name)
			p, err = lazyRuntime(t, dir).Load(t.Context(), b, wo)
			require.NoError(t, err)
			assert.Equal(t, "misbehave", p.Manifest().Name, "not the record of other options")
		})
	}
}

// A record that does not pass the checks (a grant it asks for is not
// given) is not trusted: Load loads the plugin, which says what it really
// asks for.
func TestLazyRecordNotAdmitted(t *testing.T) {
	dir := t.TempDir()
	b := testdataWAT(t, "misbehave")
	lazy := &wasm.Options{Lazy: true}
	_, err := lazyRuntime(t, dir).Load(t.Context(), b, lazy)
	require.NoError(t, err)
	for _, m := range []map[string]any{
		{"name": "x", "version": "0.1.0", "abi": 1, "hooks": []string{"approval"}, "capabilities": map[string]any{"network": true}},
		{"name": "x", "version": "0.1.0", "abi": 99, "hooks": []string{"approval"}},
		{"name": "x", "hooks": "not a list"},
	} {
		rewriteRecord(t, dir, m)
		p, err := lazyRuntime(t, dir).Load(t.Context(), b, lazy)
		require.NoError(t, err)
		assert.Equal(t, "misbehave", p.Manifest().Name)
		require.NoError(t, p.Ready(t.Context()))
	}
	// Not JSON, or empty: no record.
	for _, junk := range []string{"", "{", "\x00\x01"} {
		require.NoError(t, os.WriteFile(records(t, dir)[0], []byte(junk), 0o600))
		p, err := lazyRuntime(t, dir).Load(t.Context(), b, lazy)
		require.NoError(t, err)
		assert.Equal(t, "misbehave", p.Manifest().Name)
	}
}

// Admission runs on the recorded manifest before Load returns: what the
// plugin is refused for is refused at once.
func TestLazyAdmitsTheRecord(t *testing.T) {
	dir := t.TempDir()
	b := testdataWAT(t, "misbehave")
	_, err := lazyRuntime(t, dir).Load(t.Context(), b, &wasm.Options{Lazy: true})
	require.NoError(t, err)
	var seen *abi.Manifest
	p, err := lazyRuntime(t, dir).Load(t.Context(), b, &wasm.Options{Lazy: true, Options: plugins.Options{
		Admit: func(m *abi.Manifest) error { seen = m; return nil },
	}})
	require.NoError(t, err)
	require.NotNil(t, seen)
	assert.Equal(t, "misbehave", seen.Name)
	require.NoError(t, p.Ready(t.Context()))
}

// Without a cache directory there are no records: a lazy load loads at
// once.
func TestLazyWithoutCacheDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	rt := lazyRuntime(t, file)
	for range 2 {
		p, err := rt.Load(t.Context(), testdataWAT(t, "misbehave"), &wasm.Options{Lazy: true})
		require.NoError(t, err)
		require.NoError(t, p.Ready(t.Context()))
		_, err = p.Call(t.Context(), abi.HookApproval, []byte(`{}`))
		require.NoError(t, err)
	}
}
