package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/codexhost/codexhost/internal/termsafe"
)

const pluginBuildSynopsis = `plugin build [--runtime wasm|process] [-o OUT] [DIR]

Builds the sdk-guest plugin in the Go package DIR (default ".") with the go
command: a sandboxed WebAssembly module (GOOS=wasip1 GOARCH=wasm
-buildmode=c-shared), or a process plugin for this machine. Both are built
with -trimpath, so the bytes do not depend on where the source is. Then it
loads the result to check that it is a plugin, and prints its path, manifest
and sha256 (pin it with run --sha256). The plugin is written to OUT, by
default the directory's name (plus .wasm for Wasm) in the working
directory; when that names a directory (a process plugin built from its
source's parent), the plugin goes into it, as with go build -o DIR.`

// Plugin runtimes a source can be built for.
const (
	runtimeWasm    = "wasm"
	runtimeProcess = "process"
)

func cmdPluginBuild(ctx context.Context, cio *cmdIO, args []string) error {
	var runtime, out string
	fs := newFlagSet(cio, "plugin build", pluginBuildSynopsis)
	fs.StringVar(&runtime, "runtime", runtimeWasm, "wasm (sandboxed) or process")
	fs.StringVarP(&out, "output", "o", "", "write the plugin to `FILE` (default: the directory's name, plus .wasm for Wasm)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		fs.Usage()
		return usageErr("plugin build: want one DIR, got %d arguments", fs.NArg())
	}
	dir := "."
	if fs.NArg() == 1 {
		dir = fs.Arg(0)
	}
	if runtime != runtimeWasm && runtime != runtimeProcess {
		return usageErr("--runtime %q: want wasm or process", runtime)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageErr("plugin build %s: not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return usageErr("plugin build %s: %v", dir, err)
	}
	name := filepath.Base(abs)
	if runtime == runtimeWasm {
		name += ".wasm"
	}
	if out == "" {
		out = name
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		// As go build -o DIR does: the plugin goes into the directory
		// (plugin build --runtime process NAME, from NAME's parent, would
		// otherwise name the source directory itself).
		out = filepath.Join(out, name)
	}
	if compilerOut, err := goBuild(ctx, dir, out, runtime); err != nil {
		if compilerOut != "" {
			fmt.Fprint(cio.stderr, compilerOut)
			if !strings.HasSuffix(compilerOut, "\n") {
				fmt.Fprintln(cio.stderr)
			}
		}
		return err
	}

	// Check that it is a plugin: load it as run would.
	var ld loader
	defer ld.close()
	p, err := ld.load(ctx, out, "")
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return fail(exitTurnFailed, "plugin build: %s was built, but it is not a plugin: %s (does main call guest.Main?)", out, ee.msg)
		}
		return err
	}
	m := p.Manifest()
	st, _ := os.Stat(out)
	fmt.Fprintf(cio.stdout, "built %s: %s %s (%s, %s)\nsha256 %s\n", out, termsafe.Line(m.Name), termsafe.Line(orNone(m.Version)), runtime, byteSize(st.Size()), ld.digests[0])
	return nil
}

// goBuild builds the Go package in dir into out for runtime and returns
// the compiler's output, escaped (termsafe.Text), when it fails. The errors are ready for the user:
// a missing go command is a usage error, a failed build exit 1.
func goBuild(ctx context.Context, dir, out, runtime string) (compilerOut string, err error) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		return "", usageErr("plugin build needs the Go toolchain (the go command is not on PATH): install Go from https://go.dev/dl")
	}
	absOut, err := filepath.Abs(out)
	if err != nil {
		return "", usageErr("-o %s: %v", out, err)
	}
	if err := os.MkdirAll(filepath.Dir(absOut), 0o755); err != nil {
		return "", usageErr("-o %s: %v", out, unwrapPathError(err))
	}
	args := []string{"build", "-trimpath", "-buildvcs=false", "-o", absOut}
	env := append(os.Environ(), "CGO_ENABLED=0")
	if runtime == runtimeWasm {
		args = append(args, "-buildmode=c-shared")
		env = append(env, "GOOS=wasip1", "GOARCH=wasm")
	}
	cmd := exec.CommandContext(ctx, gobin, append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return "", fail(exitTurnFailed, "plugin build %s: %v", dir, ctx.Err())
		}
		// The errors quote the plugin's source (file names, literals),
		// which may hold terminal controls: escaped, newlines kept.
		return termsafe.Text(stderr.String()), fail(exitTurnFailed, "plugin build %s: go build for %s failed (the compiler's errors are above)", dir, runtime)
	}
	return "", nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
