package plugins_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// TestCheckManifestNames: a plugin's name and version label logs, audit
// records and metrics, and its tools' names go to the model as function
// names: each is a short identifier, and a bad one is refused by name,
// escaped.
func TestCheckManifestNames(t *testing.T) {
	base := func() *abi.Manifest {
		return &abi.Manifest{Name: "deny-rm", Version: "1.0.0", ABI: abi.Version,
			Hooks: []abi.Hook{abi.HookApproval, abi.HookToolCall}, Tools: []abi.Tool{{Name: "word_count"}}}
	}
	require.NoError(t, plugins.CheckManifest(base(), abi.Capabilities{}))
	for _, ok := range []func(*abi.Manifest){
		func(m *abi.Manifest) { m.Name = strings.Repeat("a", 64) },
		func(m *abi.Manifest) { m.Name = "A.b_c-9" },
		func(m *abi.Manifest) { m.Version = "" },
		func(m *abi.Manifest) { m.Version = "1.2.3-rc.1+build_5" },
		func(m *abi.Manifest) { m.Tools[0].Name = "Get-Issue_2" },
		func(m *abi.Manifest) { m.Tools[0].Name = "mcpx" },
		func(m *abi.Manifest) {
			m.Tools = nil
			for i := range 128 {
				m.Tools = append(m.Tools, abi.Tool{Name: fmt.Sprintf("t%d", i)})
			}
		},
	} {
		m := base()
		ok(m)
		assert.NoError(t, plugins.CheckManifest(m, abi.Capabilities{}), "%+v", m)
	}
	for _, c := range []struct {
		mutate func(*abi.Manifest)
		want   string
	}{
		{func(m *abi.Manifest) { m.Name = strings.Repeat("a", 65) }, `plugin name "` + strings.Repeat("a", 65) + `": it must be at most 64`},
		{func(m *abi.Manifest) { m.Name = "evil\x1b[2J\nname" }, `plugin name "evil\x1b[2J\nname": it must be`},
		{func(m *abi.Manifest) { m.Name = "two words" }, "plugin name \"two words\""},
		{func(m *abi.Manifest) { m.Name = "-flag" }, `plugin name "-flag"`},
		{func(m *abi.Manifest) { m.Name = "a/b" }, `plugin name "a/b"`},
		{func(m *abi.Manifest) { m.Name = "nom\u00e9" }, `plugin name "nomé"`},
		{func(m *abi.Manifest) { m.Version = "1.0 beta" }, `version "1.0 beta"`},
		{func(m *abi.Manifest) { m.Version = strings.Repeat("1", 65) }, `version "` + strings.Repeat("1", 65) + `"`},
		{func(m *abi.Manifest) { m.Tools[0].Name = "" }, `tool name "": `},
		{func(m *abi.Manifest) { m.Name = strings.Repeat("\x1b", 1<<20) }, `"… (1048576 bytes)`},
		{func(m *abi.Manifest) { m.Tools[0].Name = "word count" }, `tool name "word count"`},
		{func(m *abi.Manifest) { m.Tools[0].Name = "ns.tool" }, `tool name "ns.tool"`},
		{func(m *abi.Manifest) { m.Tools[0].Name = "mcp" }, `tool name "mcp": `},
		{func(m *abi.Manifest) { m.Tools[0].Name = "mcp__srv__x" }, `tool name "mcp__srv__x"`},
		{func(m *abi.Manifest) { m.Tools[0].Name = strings.Repeat("t", 65) }, `tool name "` + strings.Repeat("t", 65) + `"`},
		{func(m *abi.Manifest) {
			m.Tools = nil
			for i := range 129 {
				m.Tools = append(m.Tools, abi.Tool{Name: fmt.Sprintf("t%d", i)})
			}
		}, "declares 129 tools; at most 128"},
	} {
		m := base()
		c.mutate(m)
		err := plugins.CheckManifest(m, abi.Capabilities{})
		require.ErrorIs(t, err, plugins.ErrBadManifest, c.want)
		assert.Contains(t, err.Error(), c.want)
		assert.NotContains(t, err.Error(), "\x1b")
		assert.NotContains(t, err.Error(), "\n")
	}
}

// TestCheckManifestABIName: a manifest of another ABI version is refused
// before its name is checked; the name it gives is still quoted and cut.
func TestCheckManifestABIName(t *testing.T) {
	m := &abi.Manifest{Name: strings.Repeat("\x1b", 1<<20), ABI: abi.Version + 1, Hooks: []abi.Hook{abi.HookApproval}}
	err := plugins.CheckManifest(m, abi.Capabilities{})
	require.ErrorIs(t, err, plugins.ErrIncompatibleABI)
	assert.Contains(t, err.Error(), `"… (1048576 bytes)`)
	assert.Less(t, len(err.Error()), 4096)
	assert.NotContains(t, err.Error(), "\x1b")
}
