package hosttest_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
)

func readConfig(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.toml"))
	require.NoError(t, err)
	return string(b)
}

func TestWriteCodexHomeDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "home", "nested")
	require.NoError(t, hosttest.WriteCodexHome(dir, "http://127.0.0.1:1234/v1", nil))
	cfg := readConfig(t, dir)
	catalog := filepath.Join(dir, hosttest.ModelCatalogFile)
	for _, line := range []string{
		`model = "mock-model"`,
		`approval_policy = "on-request"`,
		`sandbox_mode = "read-only"`,
		`model_provider = "mock"`,
		`model_catalog_json = "` + catalog + `"`,
		`check_for_update_on_startup = false`,
		"[model_providers.mock]",
		`base_url = "http://127.0.0.1:1234/v1"`,
		`wire_api = "responses"`,
		"request_max_retries = 0",
		"stream_max_retries = 0",
		"[analytics]\nenabled = false",
		"[features]\nplugins = false\nshell_snapshot = false\n",
	} {
		assert.Contains(t, cfg, line)
	}
	assert.NotContains(t, cfg, "default_mode_request_user_input")

	b, err := os.ReadFile(catalog)
	require.NoError(t, err)
	var cat struct {
		Models []map[string]any `json:"models"`
	}
	require.NoError(t, json.Unmarshal(b, &cat))
	require.Len(t, cat.Models, 1)
	m := cat.Models[0]
	assert.Equal(t, "mock-model", m["slug"])
	assert.Equal(t, "freeform", m["apply_patch_tool_type"])
	for _, k := range []string{"display_name", "base_instructions", "supported_reasoning_levels", "shell_type",
		"visibility", "supported_in_api", "priority", "support_verbosity", "truncation_policy", "experimental_supported_tools"} {
		assert.Contains(t, m, k)
	}
}

func TestWriteCodexHomeOptions(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(dir, "http://x/v1", &hosttest.CodexHomeOptions{
		Model:            "other-model",
		ApprovalPolicy:   "never",
		SandboxMode:      "workspace-write",
		RequestUserInput: true,
		Features:         map[string]bool{"shell_snapshot": true, "zeta": true, "a.b": false},
		ExtraTOML:        "model_verbosity = \"low\"\n",
		ProviderTOML:     "stream_idle_timeout_ms = 2000",
	}))
	cfg := readConfig(t, dir)
	for _, line := range []string{
		`model = "other-model"`,
		`approval_policy = "never"`,
		`sandbox_mode = "workspace-write"`,
		"model_verbosity = \"low\"\n\n[model_providers.mock]",
		"stream_max_retries = 0\nstream_idle_timeout_ms = 2000\n",
		"[features]\n\"a.b\" = false\ndefault_mode_request_user_input = true\nplugins = false\nshell_snapshot = true\nzeta = true\n",
	} {
		assert.Contains(t, cfg, line)
	}
	// ExtraTOML stays before the first table.
	assert.Less(t, strings.Index(cfg, "model_verbosity"), strings.Index(cfg, "["))

	b, err := os.ReadFile(filepath.Join(dir, hosttest.ModelCatalogFile))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"slug": "other-model"`)
}

func TestWriteCodexHomeNoCatalogAndQuoting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), `we"ird\dir`)
	require.NoError(t, hosttest.WriteCodexHome(dir, "http://127.0.0.1:1/v1?q=\"\n", &hosttest.CodexHomeOptions{NoModelCatalog: true}))
	cfg := readConfig(t, dir)
	assert.NotContains(t, cfg, "model_catalog_json")
	assert.Contains(t, cfg, `base_url = "http://127.0.0.1:1/v1?q=\"\n"`)
	_, err := os.Stat(filepath.Join(dir, hosttest.ModelCatalogFile))
	assert.True(t, os.IsNotExist(err))
}

func TestWriteCodexHomeError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	assert.Error(t, hosttest.WriteCodexHome(filepath.Join(file, "sub"), "http://x/v1", nil))
}
