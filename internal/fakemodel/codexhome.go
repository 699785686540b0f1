package fakemodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// CodexHomeOptions configures WriteCodexHome. The zero value is usable.
type CodexHomeOptions struct {
	// Model is the model slug codex asks for. Default "mock-model".
	Model string
	// OmitApprovalPolicy leaves approval_policy out of config.toml, as in
	// a user's CODEX_HOME where none was chosen.
	OmitApprovalPolicy bool
	// ApprovalPolicy is "on-request" or "never". Default "on-request".
	// (codex 0.169.0 refuses to start with approval_policy = "untrusted"
	// in config.toml.)
	ApprovalPolicy string
	// SandboxMode is "read-only", "workspace-write" or "danger-full-access".
	// Default "read-only".
	SandboxMode string
	// Features are written to the [features] table, after the defaults;
	// an entry here overrides a default. The defaults are plugins = false
	// (otherwise codex looks up github.com, api.github.com and chatgpt.com at
	// startup) and shell_snapshot = false (skips snapshotting the login
	// shell, which makes exec_command calls faster).
	Features map[string]bool
	// RequestUserInput enables codex's request_user_input tool outside plan
	// collaboration mode (features.default_mode_request_user_input = true).
	// Without it, request_user_input only works in turns started with
	// collaborationMode {"mode":"plan",...}.
	RequestUserInput bool
	// NoModelCatalog leaves out the model catalog file. Codex then uses
	// fallback metadata for the model, offers no apply_patch tool, and warns
	// "Model metadata for `mock-model` not found" on every turn.
	NoModelCatalog bool
	// ExtraTOML is raw TOML appended to the top-level keys, before the
	// first table. It may end with tables of its own, except [features]
	// (use Features), [analytics] and [model_providers.mock] (use
	// ProviderTOML), which WriteCodexHome writes.
	ExtraTOML string
	// ProviderTOML is raw TOML appended to the model provider's table, e.g.
	// "stream_idle_timeout_ms = 2000".
	ProviderTOML string
}

// ModelCatalogFile is the name of the model catalog WriteCodexHome writes
// next to config.toml.
const ModelCatalogFile = "hosttest-models.json"

// ProviderID is the id of the model provider WriteCodexHome configures.
const ProviderID = "mock"

// CodexHomeHeader is the first line of every config.toml WriteCodexHome
// writes: a caller that must not overwrite a user's own configuration
// can tell one it wrote from one it did not.
const CodexHomeHeader = "# Written by hosttest.WriteCodexHome: codex against a local fake model.\n"

// WriteCodexHome creates dir if needed and writes dir/config.toml (and the
// model catalog dir/hosttest-models.json) so that codex started with
// CODEX_HOME=dir talks to the fake model at modelURL (see Model.URL) with
// no login, no retries, and no other network access. opts may be nil.
func WriteCodexHome(dir, modelURL string, opts *CodexHomeOptions) error {
	if opts == nil {
		opts = &CodexHomeOptions{}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("hosttest: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("hosttest: %w", err)
	}
	model := orDefault(opts.Model, "mock-model")

	var b strings.Builder
	line := func(key, value string) { fmt.Fprintf(&b, "%s = %s\n", key, value) }
	b.WriteString(CodexHomeHeader)
	line("model", tomlString(model))
	if !opts.OmitApprovalPolicy {
		line("approval_policy", tomlString(orDefault(opts.ApprovalPolicy, "on-request")))
	}
	line("sandbox_mode", tomlString(orDefault(opts.SandboxMode, "read-only")))
	line("model_provider", tomlString(ProviderID))
	if !opts.NoModelCatalog {
		catalog := filepath.Join(abs, ModelCatalogFile)
		if err := writeModelCatalog(catalog, model); err != nil {
			return err
		}
		line("model_catalog_json", tomlString(catalog))
	}
	line("check_for_update_on_startup", "false")
	line("suppress_unstable_features_warning", "true")
	if opts.ExtraTOML != "" {
		b.WriteString(strings.TrimRight(opts.ExtraTOML, "\n"))
		b.WriteString("\n")
	}

	fmt.Fprintf(&b, "\n[model_providers.%s]\n", ProviderID)
	line("name", tomlString(ProviderID))
	line("base_url", tomlString(modelURL))
	line("wire_api", tomlString("responses"))
	line("request_max_retries", "0")
	line("stream_max_retries", "0")
	if opts.ProviderTOML != "" {
		b.WriteString(strings.TrimRight(opts.ProviderTOML, "\n"))
		b.WriteString("\n")
	}

	b.WriteString("\n[analytics]\n")
	line("enabled", "false")

	features := map[string]bool{"plugins": false, "shell_snapshot": false}
	if opts.RequestUserInput {
		features["default_mode_request_user_input"] = true
	}
	for k, v := range opts.Features {
		features[k] = v
	}
	b.WriteString("\n[features]\n")
	keys := make([]string, 0, len(features))
	for k := range features {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		line(tomlKey(k), fmt.Sprint(features[k]))
	}

	if err := os.WriteFile(filepath.Join(abs, "config.toml"), []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("hosttest: %w", err)
	}
	return nil
}

// writeModelCatalog writes a one-model catalog in the format of codex's
// model_catalog_json; these are the fields 0.169.0 requires, plus
// apply_patch_tool_type so that codex offers the apply_patch tool (0.169.0
// accepts only "freeform": apply_patch is a custom tool).
func writeModelCatalog(path, slug string) error {
	entry := map[string]any{
		"slug":                         slug,
		"display_name":                 slug,
		"description":                  "hosttest fake model",
		"base_instructions":            "You are a fake model used to test codex clients.",
		"supported_reasoning_levels":   []any{},
		"shell_type":                   "unified_exec",
		"visibility":                   "list",
		"supported_in_api":             true,
		"priority":                     1,
		"support_verbosity":            false,
		"truncation_policy":            map[string]any{"mode": "tokens", "limit": 10000},
		"experimental_supported_tools": []any{},
		"apply_patch_tool_type":        "freeform",
		"context_window":               272000,
		"input_modalities":             []string{"text", "image"},
	}
	data, err := json.MarshalIndent(map[string]any{"models": []any{entry}}, "", "  ")
	if err != nil {
		return fmt.Errorf("hosttest: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("hosttest: %w", err)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlKey returns k bare if it may be, quoted otherwise.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return tomlString(k)
		}
	}
	return k
}
