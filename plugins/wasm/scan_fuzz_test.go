package wasm

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm/internal/scan"
)

// FuzzScanDifferential checks the admission scan against wazero itself
// (review, round 8), with the production limits:
//
//   - scan.Module (and Rewrite on what it passes) never panics, and
//     Rewrite never refuses what Module passes;
//   - a module the scan refuses as malformed (scan.ErrMalformed) is one
//     wazero refuses too: the scan must not refuse a module wazero
//     compiles;
//   - a module the scan passes does not panic wazero's CompileModule (the
//     host compiles in a goroutine without recover: a panic ends the
//     host).
//
// The seeds are every WAT module of the tests. The fuzzer mutates what
// follows the 8-byte header; the header is always a valid one.
func FuzzScanDifferential(f *testing.F) {
	var mods []string
	for _, glob := range []string{"testdata/*.wat", "../internal/hostile/testdata/wat/*.wat", "../plugintest/testdata/wat/*.wat"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		mods = append(mods, m...)
	}
	if len(mods) == 0 {
		f.Fatal("no seed modules")
	}
	for _, p := range mods {
		f.Add(plugintest.BuildWAT(f, p))
	}
	ctx := context.Background()
	// The runtime's configuration as the host's (plugins/wasm/runtime.go)
	// for decoding and validation: the default features, DWARF enabled.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
	f.Cleanup(func() { _ = rt.Close(ctx) })
	l := moduleLimits(&Options{})
	f.Fuzz(func(t *testing.T, b []byte) {
		mod := append([]byte("\x00asm\x01\x00\x00\x00"), b[min(8, len(b)):]...)
		_, err := scan.Module(mod, l)
		if err == nil {
			if _, rerr := scan.Rewrite(mod, uint32(l.TableElements), scan.DefaultMaxGap); rerr != nil {
				t.Fatalf("Rewrite refuses a module Module passed: %v", rerr)
			}
		}
		var le *scan.LimitError
		if err != nil && errors.As(err, &le) {
			return // over a limit: wazero may well compile it, by design
		}
		if err != nil && declaredPastEnd(err) {
			// A vector, a name, a body or a section declared longer than
			// the bytes left: wazero cannot decode it either (every entry
			// takes a byte), but it allocates the declared length first
			// (up to 4 GB per vector), which would only test the machine.
			return
		}
		cm, cerr := compileNoPanic(ctx, rt, mod)
		if cm != nil {
			_ = cm.Close(ctx)
		}
		var pe panicError
		if errors.As(cerr, &pe) {
			t.Fatalf("scan: %v; wazero's CompileModule panics: %v", err, pe.v)
		}
		if errors.Is(err, scan.ErrMalformed) && cerr == nil {
			t.Fatalf("the scan refuses as malformed (%v) a module wazero compiles:\n%x", err, mod)
		}
	})
}

func declaredPastEnd(err error) bool {
	s := err.Error()
	for _, m := range []string{"declared in the", "a vector longer than the bytes left", "runs past"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprint("panic: ", p.v) }

func compileNoPanic(ctx context.Context, rt wazero.Runtime, mod []byte) (cm wazero.CompiledModule, err error) {
	defer func() {
		if v := recover(); v != nil {
			cm, err = nil, panicError{v}
		}
	}()
	return rt.CompileModule(ctx, mod)
}
