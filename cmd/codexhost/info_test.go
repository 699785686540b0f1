package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/abi"
)

// Everything in a manifest is the plugin's: plugin inspect prints no raw
// ESC, BEL or CR from it.
func TestPrintManifestEscapesPluginText(t *testing.T) {
	evil := "\x1b]0;owned\x07\x1b[2J\rok"
	m := &abi.Manifest{Name: "n" + evil, Version: "v" + evil, Description: "d" + evil,
		Hooks:          []abi.Hook{abi.HookToolCall},
		Tools:          []abi.Tool{{Name: "t" + evil, Description: "td" + evil}},
		Capabilities:   abi.Capabilities{Env: []string{"E" + evil}},
		SettingsSchema: abi.RawJSON(`{"description":"` + strings.ReplaceAll(evil, "\x1b", `\u001b`) + `"}`)}
	var b strings.Builder
	printManifest(&b, m, "wasm")
	out := b.String()
	for _, c := range []string{"\x1b", "\x07", "\r"} {
		assert.NotContains(t, out, c)
	}
	assert.Contains(t, out, "name:         n")
	assert.Equal(t, 11, strings.Count(out, "\n"), "one line per field:\n%s", out)
}
