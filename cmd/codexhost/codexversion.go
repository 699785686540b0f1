package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// printVersions prints the versions of codexhost, Go, the plugin ABI and
// the codex binary bin resolves to (as `run --codex` resolves it): its
// path, and its version, which it asks with `codex --version`. A codex older than host.MinCodexVersion
// is printed, then refused with exit 4; none found is printed as such.
func printVersions(cio *cmdIO, asJSON bool, bin string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var found string
	path, probeErr := host.FindCodex(bin)
	if probeErr == nil {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		found, probeErr = host.ProbeCodexVersion(ctx, path)
	}
	status := codexStatus(found, probeErr)
	if asJSON {
		v := map[string]any{
			"codexhost": host.Version, "go": runtime.Version(), "abi": abi.Version,
			// codex is the version of the codex binary found, "" if none.
			"codex": found,
			// codexPath is the binary run would start, "" if none.
			"codexPath":         path,
			"codexStatus":       status,
			"codexMin":          host.MinCodexVersion,
			"codexNewestTested": host.NewestTestedCodexVersion,
			"codexProtocol":     host.CodexVersion,
		}
		b, err := marshalIndent(v)
		if err != nil {
			return err
		}
		fmt.Fprintln(cio.stdout, string(b))
	} else {
		shown := found
		if shown == "" {
			shown = "not found"
		}
		fmt.Fprintf(cio.stdout, "codexhost %s\ngo        %s %s/%s\ncodex     %s (%s)\n", host.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, shown, status)
		if path != "" {
			fmt.Fprintf(cio.stdout, "          binary: %s\n", path)
		}
		fmt.Fprintf(cio.stdout, "          supported: %s to %s\nabi       v%d\n", host.MinCodexVersion, host.NewestTestedCodexVersion, abi.Version)
	}
	if bin != "" && probeErr != nil {
		return fail(exitConn, "--codex %s: %s", bin, oneLine(probeErr.Error()))
	}
	if cmp, ok := host.CompareCodexVersions(found, host.MinCodexVersion); ok && cmp < 0 {
		return fail(exitConn, "codex %s is older than %s, the oldest codexhost supports: install a newer one (npm install -g @openai/codex@%s)",
			found, host.MinCodexVersion, host.NewestTestedCodexVersion)
	}
	return nil
}

// codexStatus says how found relates to the supported range.
func codexStatus(found string, err error) string {
	switch {
	case errors.Is(err, host.ErrCodexNotFound):
		return "no codex binary: pass --codex or set $CODEX_BIN (the pinned codex is found only inside a codexhost checkout, after `make codex`)"
	case err != nil:
		return oneLine(err.Error())
	}
	if cmp, _ := host.CompareCodexVersions(found, host.MinCodexVersion); cmp < 0 {
		return "too old"
	}
	if cmp, _ := host.CompareCodexVersions(found, host.NewestTestedCodexVersion); cmp > 0 {
		return "newer than tested"
	}
	return "supported"
}
