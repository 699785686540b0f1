// Package codexbin finds the project's pinned codex install, for the
// client and for tests that drive the real codex.
package codexbin

import (
	"os"
	"path/filepath"
	"runtime"
)

// Env names the environment variable that selects the codex binary when
// host.Options.Codex is empty.
const Env = "CODEX_BIN"

// Pinned returns the codex binary of the project's pinned install
// (tools/codex, installed by `make codex`) found in the working directory or
// one of its parents, or "" if there is none. It prefers the native binary
// over the npm launcher script, so that signals reach app-server directly.
func Pinned() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		modules := filepath.Join(dir, "tools", "codex", "node_modules")
		if _, err := os.Stat(modules); err == nil {
			native, _ := filepath.Glob(filepath.Join(modules, "@openai", "codex-"+runtime.GOOS+"-*", "vendor", "*", "bin", "codex"))
			for _, n := range native {
				if st, err := os.Stat(n); err == nil && st.Mode()&0o111 != 0 {
					return n
				}
			}
			launcher := filepath.Join(modules, ".bin", "codex")
			if _, err := os.Stat(launcher); err == nil {
				return launcher
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
