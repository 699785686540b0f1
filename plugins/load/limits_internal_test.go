package load

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// A schema nested 3000 deep compiled for minutes; it is refused before the
// compiler sees it, naming the limit.
func TestDeepSchemaRefusedFast(t *testing.T) {
	deep := strings.Repeat(`{"items":`, 3000) + `{}` + strings.Repeat(`}`, 3000)
	m := &abi.Manifest{Name: "deep", SettingsSchema: abi.RawJSON(deep)}
	start := time.Now()
	err := CheckSettings(m, nil)
	took := time.Since(start)
	require.ErrorIs(t, err, ErrSchemaTooLarge)
	require.ErrorIs(t, err, plugins.ErrBadManifest)
	assert.ErrorContains(t, err, fmt.Sprintf("nested more than %d deep", DefaultMaxSchemaDepth))
	// Compiling it took minutes; refusing it takes a millisecond. The
	// bound tells the two apart with room for a loaded machine (a
	// goroutine can wait for a CPU for far more than 100 ms).
	assert.Less(t, took, 10*time.Second, "refused before compiling")

	// At the limit it compiles.
	ok := strings.Repeat(`{"items":`, DefaultMaxSchemaDepth-1) + `{}` + strings.Repeat(`}`, DefaultMaxSchemaDepth-1)
	require.NoError(t, CheckSettings(&abi.Manifest{Name: "ok", SettingsSchema: abi.RawJSON(ok)}, nil))

	big := `{"description":"` + strings.Repeat("x", DefaultMaxSchemaBytes) + `"}`
	err = CheckSettings(&abi.Manifest{Name: "big", SettingsSchema: abi.RawJSON(big)}, nil)
	require.ErrorIs(t, err, ErrSchemaTooLarge)
	assert.ErrorContains(t, err, fmt.Sprintf("the limit is %d bytes", DefaultMaxSchemaBytes))
	// Bounds of a Set's own.
	err = checkSettings(&abi.Manifest{Name: "p", SettingsSchema: abi.RawJSON(`{"type":"object"}`)}, nil, 10, 5)
	require.ErrorIs(t, err, ErrSchemaTooLarge)
}

func tools(names ...string) []abi.Tool {
	ts := make([]abi.Tool, len(names))
	for i, n := range names {
		ts[i] = abi.Tool{Name: n}
	}
	return ts
}

func TestCheckTools(t *testing.T) {
	taken := map[string]string{"word_count": "counter"}
	many := make([]string, 5)
	for i := range many {
		many[i] = fmt.Sprintf("t%d", i)
	}
	for _, tc := range []struct {
		name  string
		tools []string
		is    error
		as    *ToolError
	}{
		{name: "fine", tools: []string{"echo", "size-of"}},
		{name: "builtin", tools: []string{"echo", "exec_command"}, is: ErrTool, as: &ToolError{Plugin: "p", Tool: "exec_command", Builtin: true}},
		{name: "builtin apply_patch", tools: []string{"apply_patch"}, is: ErrTool, as: &ToolError{Plugin: "p", Tool: "apply_patch", Builtin: true}},
		{name: "another plugin's", tools: []string{"word_count"}, is: ErrTool, as: &ToolError{Plugin: "p", Tool: "word_count", Other: "counter"}},
		{name: "twice", tools: []string{"a", "a"}, is: ErrTool},
		{name: "malformed", tools: []string{"a b"}, is: ErrTool},
		{name: "empty", tools: []string{""}, is: ErrTool},
		{name: "too many for one", tools: many, is: ErrTooManyTools},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTools(&abi.Manifest{Name: "p", Tools: tools(tc.tools...)}, taken, 4, 100)
			if tc.is == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.is)
			if tc.as != nil {
				var te *ToolError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, tc.as.Plugin, te.Plugin)
				assert.Equal(t, tc.as.Tool, te.Tool)
				assert.Equal(t, tc.as.Other, te.Other)
				assert.Equal(t, tc.as.Builtin, te.Builtin)
				// The message names both sides.
				assert.Contains(t, err.Error(), `"`+te.Tool+`"`)
				if te.Other != "" {
					assert.Contains(t, err.Error(), `plugin "counter"`)
				}
			}
		})
	}
	// One tool's description and schema, which codex gets with every
	// thread (review 16).
	big := &abi.Manifest{Name: "p", Tools: []abi.Tool{{Name: "t", Description: strings.Repeat("d", MaxToolDescriptionBytes+1)}}}
	err := checkTools(big, taken, 4, 100)
	require.ErrorIs(t, err, ErrTool)
	assert.ErrorContains(t, err, `tool "t" has a description of 16385 bytes, the limit is 16384`)
	big.Tools[0] = abi.Tool{Name: "t", Description: "d", InputSchema: abi.RawJSON(`{"type":"object","description":"` + strings.Repeat("s", MaxToolSchemaBytes) + `"}`)}
	err = checkTools(big, taken, 4, 100)
	require.ErrorIs(t, err, ErrTool)
	assert.ErrorContains(t, err, "has an input schema of")
	big.Tools[0] = abi.Tool{Name: "t", Description: strings.Repeat("d", MaxToolDescriptionBytes), InputSchema: abi.RawJSON(`{"type":"object"}`)}
	require.NoError(t, checkTools(big, taken, 4, 100))

	// The set's total.
	err = checkTools(&abi.Manifest{Name: "p", Tools: tools("x", "y")}, taken, 4, 2)
	require.ErrorIs(t, err, ErrTooManyTools)
	assert.ErrorContains(t, err, "brings the tools to 3, the limit is 2 in all")
}
