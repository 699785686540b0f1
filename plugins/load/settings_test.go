package load_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/load"
)

const testSchema = `{
	"type": "object",
	"properties": {
		"maxFiles": {"type": "integer", "minimum": 1},
		"paths": {"type": "array", "items": {"type": "string"}}
	},
	"required": ["maxFiles"],
	"additionalProperties": false
}`

func TestCheckSettings(t *testing.T) {
	m := &abi.Manifest{Name: "p", SettingsSchema: abi.RawJSON(testSchema)}
	tests := []struct {
		name, settings, err string
	}{
		{name: "valid", settings: `{"maxFiles": 3, "paths": ["/a"]}`},
		{name: "wrong type", settings: `{"maxFiles": "3"}`, err: `/maxFiles: got string, want integer`},
		{name: "nested", settings: `{"maxFiles": 1, "paths": ["/a", 7]}`, err: `/paths/1: got number, want string`},
		{name: "minimum", settings: `{"maxFiles": 0}`, err: `/maxFiles: minimum: got 0, want 1`},
		{name: "missing", settings: `{}`, err: `/: missing property 'maxFiles'`},
		{name: "unknown field", settings: `{"maxFiles": 1, "x": 1}`, err: `additional properties 'x' not allowed`},
		{name: "none", settings: ``, err: `/: got null, want object`},
		{name: "not JSON", settings: `{`, err: `settings are not JSON`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := load.CheckSettings(m, json.RawMessage(tt.settings))
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, load.ErrBadSettings)
			require.ErrorContains(t, err, tt.err)
		})
	}
}

func TestCheckSettingsWithoutSchema(t *testing.T) {
	require.NoError(t, load.CheckSettings(&abi.Manifest{Name: "p"}, json.RawMessage(`{"anything": 1}`)))
	require.NoError(t, load.CheckSettings(&abi.Manifest{Name: "p"}, nil))
}

func TestCheckSettingsBadSchema(t *testing.T) {
	for name, schema := range map[string]string{
		"not a schema": `{"type": 7}`,
		"not JSON":     `{`,
		// A schema is untrusted: it may not make the host read files or
		// the network.
		"remote ref": `{"$ref": "https://example.com/schema.json"}`,
		"file ref":   `{"$ref": "file:///etc/passwd"}`,
	} {
		t.Run(name, func(t *testing.T) {
			err := load.CheckSettings(&abi.Manifest{Name: "p", SettingsSchema: abi.RawJSON(schema)}, json.RawMessage(`{}`))
			require.ErrorIs(t, err, plugins.ErrBadManifest)
		})
	}
}

func TestCheckLimits(t *testing.T) {
	m := &abi.Manifest{Name: "p", Limits: abi.Limits{MemoryPages: 1024, TimeoutMillis: 3000}}
	require.NoError(t, plugins.CheckLimits(m, 1024, 3*time.Second))
	require.NoError(t, plugins.CheckLimits(m, 0, 5*time.Second)) // no memory limit (process)
	err := plugins.CheckLimits(m, 512, 5*time.Second)
	require.ErrorIs(t, err, plugins.ErrLimits)
	require.ErrorContains(t, err, "needs 64 MiB of memory, the limit is 32 MiB")
	err = plugins.CheckLimits(m, 2048, time.Second)
	require.ErrorIs(t, err, plugins.ErrLimits)
	require.ErrorContains(t, err, "needs up to 3s per call, the timeout is 1s")
	require.NoError(t, plugins.CheckLimits(&abi.Manifest{Name: "p"}, 1, time.Millisecond))
}
