package wasm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm/internal/scan"
)

// Limits on a module, checked before it is compiled (see docs/security.md,
// "Resource limits"). A module over one is refused with an error matching
// both plugins.ErrBadModule and plugins.ErrLimits.
const (
	// DefaultMaxModuleBytes bounds the size of a module: 64 MiB. A small
	// Go guest is 4-8 MiB; all of codexhost built for Wasm is 37 MiB.
	DefaultMaxModuleBytes = 64 << 20
	// DefaultMaxTableElements bounds each table of a module: a table
	// whose minimum or declared maximum is larger is refused, and a table
	// that declares no maximum (as Go's does) gets this one, so that
	// table.grow fails (returns -1) past it. An element costs the host 8
	// bytes: 2 MiB per table and instance. A Go guest's table holds one
	// element per function whose address is taken (about 4000).
	DefaultMaxTableElements = 1 << 18
	// maxTables bounds the tables of a module (WebAssembly 2.0 allows
	// several; a Go guest has one).
	maxTables = 8
	// maxLocalsPerFunction bounds the locals of a function (a Go guest's
	// functions have at most about 20); wazero allocates a byte per local
	// before it validates anything.
	maxLocalsPerFunction = 10000
	// maxBranchesPerFunction bounds the block, loop, if, else, br, br_if
	// and br_table instructions of a function; compiling a function takes
	// time quadratic in their number (a Go guest has at most about 1700).
	maxBranchesPerFunction = 5000
	// maxCompileCost bounds the sum over a module's functions of their
	// branch count squared: 1e8, twice a 7 MiB Go guest's (4.7e7), a
	// compilation of about 3 s on one idle core at worst.
	maxCompileCost = 100_000_000
	// maxFunctions bounds the functions a module defines: compiling costs
	// time and memory per function however small (2M empty functions in
	// an 8 MiB module took 5 s and 877 MB). A Go guest defines about 2500;
	// all of codexhost built for Wasm, about 20000.
	maxFunctions = 50_000
	// The entries of the other sections, each a few bytes of the module
	// and 50-100 bytes of the host's memory once decoded (4M globals in a
	// 20 MB module: 490 MB). What a Go guest has, in parentheses.
	maxTypes           = 1_000  // function types (15); the compiler makes an entry point per type
	maxTypeArity       = 64     // parameters and results of one type (≤ 10)
	maxImports         = 1_000  // (16)
	maxGlobals         = 10_000 // (8)
	maxExports         = 10_000 // (8)
	maxElementSegments = 10_000 // (1; its entries are bounded by MaxTableElements)
	// maxDataSegments bounds the data segments: a Go guest has one per 33
	// bytes of its data or so (40k for 1.3 MB), so this allows ~8 MB of
	// initialized data.
	maxDataSegments = 250_000
	// maxNameSectionBytes bounds the custom section "name" (function and
	// local names), which the runtime decodes into maps at ~12 bytes of
	// memory per byte: a Go guest's is 80 KB.
	maxNameSectionBytes = 2 << 20
	// maxLocals bounds the locals of all functions (a Go guest: ~20 per
	// function at most, 50k in all; 5000 functions of 10000 locals took 1
	// s and 394 MB to compile).
	maxLocals = 500_000
	// maxFunctionBytes bounds one function's code: the compiler holds its
	// whole SSA form (1 MB of straight-line code: 332 MB). A Go guest's
	// largest function is 29-50 KB.
	maxFunctionBytes = 256 << 10
	// maxBrTableTargets bounds a function's br_table targets (one br_table
	// of 100k targets took 2.5 s, 1M more than 2 minutes), and
	// maxBrTableCost the sum of their squares: a Go guest has up to ~600
	// in a function; 12 functions of 5000 targets (3e8) compile in 0.2 s.
	maxBrTableTargets = 10_000
	maxBrTableCost    = 1_000_000_000
)

// moduleLimits returns the scan limits of a plugin loaded with o.
func moduleLimits(o *Options) scan.Limits {
	l := scan.Limits{
		ModuleBytes:         o.MaxModuleBytes,
		TableElements:       uint64(o.MaxTableElements),
		Tables:              maxTables,
		LocalsPerFunction:   maxLocalsPerFunction,
		BranchesPerFunction: maxBranchesPerFunction,
		CompileCost:         maxCompileCost,
		Functions:           maxFunctions,
		Types:               maxTypes,
		TypeArity:           maxTypeArity,
		Imports:             maxImports,
		Globals:             maxGlobals,
		Exports:             maxExports,
		ElementSegments:     maxElementSegments,
		DataSegments:        maxDataSegments,
		NameSectionBytes:    maxNameSectionBytes,
		Locals:              maxLocals,
		FunctionBytes:       maxFunctionBytes,
		BrTableTargets:      maxBrTableTargets,
		BrTableCost:         maxBrTableCost,
	}
	if l.ModuleBytes <= 0 {
		l.ModuleBytes = DefaultMaxModuleBytes
	}
	if l.TableElements == 0 {
		l.TableElements = DefaultMaxTableElements
	}
	l.ElementEntries = int(l.TableElements)
	return l
}

// prepare checks wasm against the module limits and returns the module to
// compile: wasm with a maximum given to every table that has none, and its
// data segments merged where that leaves the same memory (scan.MergeData:
// a Go guest's ~30,000 segments of a few bytes become ~12). A panic in the
// scan or the rewrite (a bug a hostile module found) is the module's
// error, not the host's end: prepare runs on Load's goroutine.
func prepare(wasm []byte, l scan.Limits) (_ []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: the admission scan failed on the module: %v", plugins.ErrBadModule, v)
		}
	}()
	if err := checkHeader(wasm); err != nil {
		return nil, err
	}
	st, err := scan.Module(wasm, l)
	var le *scan.LimitError
	switch {
	case errors.As(err, &le):
		return nil, fmt.Errorf("%w: %w: %w", plugins.ErrBadModule, plugins.ErrLimits, le)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", plugins.ErrBadModule, err)
	case st.ImportedTables > 0 || st.ImportedGlobals > 0:
		return nil, fmt.Errorf("%w: the module imports a table or a global; a plugin may import only functions of wasi_snapshot_preview1 and %s",
			plugins.ErrBadModule, abi.ImportModule)
	}
	out, err := scan.Rewrite(wasm, uint32(l.TableElements), scan.DefaultMaxGap)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", plugins.ErrBadModule, err)
	}
	return out, nil
}

// A deadlineError is the cause of a context that one of the runtime's
// timeouts ended: it names the timeout. It matches
// context.DeadlineExceeded.
type deadlineError struct {
	what string // "the call timeout", "the start timeout"
	d    time.Duration
}

func (e *deadlineError) Error() string {
	return fmt.Sprintf("%s of %v passed", e.what, e.d)
}

func (e *deadlineError) Is(target error) bool { return target == context.DeadlineExceeded }

// deadlineCause returns why ctx is done: a *deadlineError naming the
// runtime's timeout that ended it, else the caller's cause, with "the
// caller's deadline" said for a plain context.DeadlineExceeded.
func deadlineCause(ctx context.Context) error {
	cause := context.Cause(ctx)
	if cause == context.DeadlineExceeded {
		return fmt.Errorf("the caller's deadline passed: %w", cause)
	}
	return cause
}
