package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
)

// testedCodexVersion is the Codex CLI version codexhost is pinned to and
// tested with.
const testedCodexVersion = host.CodexVersion

// cmdVersion prints codexhost's version, the Go version it was built with,
// the codex version it was tested with, and the plugin ABI version.
func cmdVersion(cio *cmdIO, args []string) error {
	var asJSON bool
	var codex string
	fs := newFlagSet(cio, "version", "version [--json] [--codex BIN]")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&codex, "codex", "", "codex `BIN` to report (default: $CODEX_BIN, the pinned install, then PATH)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageErr("version takes no arguments")
	}
	return printVersions(cio, asJSON, codex)
}

func cmdInspect(ctx context.Context, cio *cmdIO, args []string) error {
	var asJSON bool
	var want string
	fs := newFlagSet(cio, "plugin inspect", "plugin inspect [--json] [--sha256 HEX] PATH|oci://REF\n\nLoads the plugin (Wasm in the sandbox, or a process plugin) and prints its\nmanifest and the sha256 digest of the file. An oci:// reference is pulled\ninto the cache (or read from it, if pinned and cached) and shown with its\nsignatures, without loading it.")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.StringVar(&want, "sha256", "", "refuse the plugin unless its sha256 is `HEX`")
	var settings string
	fs.StringVar(&settings, "settings", "", settingsUsage+", to load the plugin with, if its schema requires some")
	var df distFlags
	df.register(fs, false)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin inspect: want exactly one PATH, got %d arguments", fs.NArg())
	}
	path := fs.Arg(0)
	if dist.IsRef(path) {
		return inspectRef(ctx, cio, path, asJSON, &df)
	}
	var ld loader
	defer ld.close()
	var o *plugins.Options
	if settings != "" {
		b, err := readSettings("--settings", settings)
		if err != nil {
			return err
		}
		o = &plugins.Options{Settings: b}
	}
	p, err := ld.loadPlugin(ctx, path, want, o)
	if err != nil {
		return err
	}
	kind := string(p.Runtime)
	m := p.Manifest()
	if asJSON {
		type out struct {
			Path    string `json:"path"`
			Runtime string `json:"runtime"`
			SHA256  string `json:"sha256"`
			*abi.Manifest
		}
		b, err := marshalIndent(out{Path: path, Runtime: kind, SHA256: p.SHA256, Manifest: m})
		if err != nil {
			return err
		}
		fmt.Fprintln(cio.stdout, string(b))
		return nil
	}
	printManifest(cio.stdout, m, kind)
	fmt.Fprintf(cio.stdout, "sha256:       %s\n", p.SHA256)
	return nil
}

// printManifest prints a plugin manifest for people. Everything in it is
// the plugin's: it is escaped for the terminal.
func printManifest(w io.Writer, m *abi.Manifest, kind string) {
	line := termsafe.Line
	fmt.Fprintf(w, "name:         %s\n", line(m.Name))
	fmt.Fprintf(w, "version:      %s\n", line(orNone(m.Version)))
	if m.Description != "" {
		fmt.Fprintf(w, "description:  %s\n", line(m.Description))
	}
	fmt.Fprintf(w, "runtime:      %s\n", kind)
	fmt.Fprintf(w, "abi:          v%d\n", m.ABI)
	hooks := make([]string, len(m.Hooks))
	for i, h := range m.Hooks {
		hooks[i] = h.String()
	}
	fmt.Fprintf(w, "hooks:        %s\n", orNone(strings.Join(hooks, ", ")))
	if len(m.Tools) == 0 {
		fmt.Fprintf(w, "tools:        none\n")
	} else {
		fmt.Fprintf(w, "tools:\n")
		for _, t := range m.Tools {
			fmt.Fprintf(w, "  %s: %s\n", line(t.Name), line(t.Description))
		}
	}
	fmt.Fprintf(w, "capabilities: %s\n", line(capabilities(m.Capabilities)))
	fmt.Fprintf(w, "features:     %s\n", features(m.Features))
	if len(m.SettingsSchema) > 0 {
		fmt.Fprintf(w, "settings:     %s\n", line(string(m.SettingsSchema)))
	}
	if m.Limits != (abi.Limits{}) {
		fmt.Fprintf(w, "limits:       %d memory pages, %d ms per call\n", m.Limits.MemoryPages, m.Limits.TimeoutMillis)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func capabilities(c abi.Capabilities) string {
	var parts []string
	if len(c.Env) > 0 {
		parts = append(parts, "env "+strings.Join(c.Env, ","))
	}
	if len(c.ReadDirs) > 0 {
		parts = append(parts, "read "+strings.Join(c.ReadDirs, ","))
	}
	if c.Network {
		parts = append(parts, "network")
	}
	return orNone(strings.Join(parts, "; "))
}

func features(f abi.Features) string {
	var names []string
	if f.Has(abi.FeatureRenderBatch) {
		names = append(names, "render-batch")
		f &^= abi.FeatureRenderBatch
	}
	if f.Has(abi.FeatureRenderMergeDeltas) {
		names = append(names, "render-merge-deltas")
		f &^= abi.FeatureRenderMergeDeltas
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("0x%x", uint64(f)))
	}
	return orNone(strings.Join(names, ", "))
}

// jsonValid reports whether s is one JSON value.
func jsonValid(s string) bool { return json.Valid([]byte(s)) }
