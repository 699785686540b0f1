package load_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// A schema is the plugin's: what validating the settings may cost is
// bounded before they are validated.
func TestCheckSettingsSchemaCost(t *testing.T) {
	// bomb returns n levels of anyOf, each of two $refs to the next.
	bomb := func(n int) string {
		defs := `"a0": {"type": "string"}`
		for i := 1; i <= n; i++ {
			defs += fmt.Sprintf(`, "a%d": {"anyOf": [{"$ref": "#/$defs/a%d"}, {"$ref": "#/$defs/a%d"}]}`, i, i-1, i-1)
		}
		return fmt.Sprintf(`{"$defs": {%s}, "$ref": "#/$defs/a%d"}`, defs, n)
	}
	for _, c := range []struct {
		name, schema string
		tooLarge     bool // ErrSchemaTooLarge, else only ErrBadManifest
		msg          string
	}{
		{"anyOf of $refs, 2^20", bomb(20), true, "more than 10000 subschemas with its $refs expanded"},
		{"recursive", `{"$defs": {"t": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/t"}}}}}, "$ref": "#/$defs/t"}`, false, "may not be recursive"},
		{"refers to its root", `{"properties": {"x": {"$ref": "#"}}}`, false, "may not be recursive"},
		{"$dynamicRef", `{"$dynamicAnchor": "n", "properties": {"x": {"$dynamicRef": "#n"}}}`, false, "$dynamicRef"},
		{"huge exponent", `{"minimum": 1e999999}`, true, "exponent beyond ±400"},
		{"tiny exponent", `{"multipleOf": 1e-10000000}`, true, "exponent beyond ±400"},
		{"long number", `{"maximum": ` + strings.Repeat("9", 65) + `}`, true, "more than 64 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			err := load.CheckSettings(&abi.Manifest{Name: "p", SettingsSchema: abi.RawJSON(c.schema)}, json.RawMessage(`"x"`))
			require.ErrorIs(t, err, plugins.ErrBadManifest)
			if c.tooLarge {
				require.ErrorIs(t, err, load.ErrSchemaTooLarge)
			} else {
				require.NotErrorIs(t, err, load.ErrSchemaTooLarge)
			}
			require.ErrorContains(t, err, c.msg)
			require.Less(t, len(err.Error()), 1<<10)
			t.Logf("%v: %v", time.Since(start), err)
		})
	}
	// Under the bounds: 10 levels (4k subschemas expanded), numbers of
	// float64's range.
	for _, schema := range []string{bomb(10), `{"minimum": -1.5e300, "maximum": 1E+308, "multipleOf": 1e-300}`} {
		require.NoError(t, load.CheckSettings(&abi.Manifest{Name: "p", SettingsSchema: abi.RawJSON(schema)}, json.RawMessage(`"x"`)), schema)
	}
}

// A SettingsError lists its first 10 problems and counts the others.
func TestSettingsErrorIsBounded(t *testing.T) {
	props := make([]string, 50)
	for i := range props {
		props[i] = fmt.Sprintf(`"p%02d": {"type": "integer"}`, i)
	}
	vals := make([]string, 50)
	for i := range vals {
		vals[i] = fmt.Sprintf(`"p%02d": "x"`, i)
	}
	m := &abi.Manifest{Name: "p", SettingsSchema: abi.RawJSON(`{"properties": {` + strings.Join(props, ",") + `}}`)}
	err := load.CheckSettings(m, json.RawMessage(`{`+strings.Join(vals, ",")+`}`))
	se, ok := errors.AsType[*load.SettingsError](err)
	require.True(t, ok, "%v", err)
	require.Len(t, se.Problems, 50)
	require.Equal(t, 10, strings.Count(err.Error(), "want integer"), err.Error())
	require.ErrorContains(t, err, "and 40 more")
}
