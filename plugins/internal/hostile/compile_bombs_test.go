package hostile

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Modules that pass the admission scan with the production limits and
// still cost the host seconds and hundreds of MB to compile (review,
// round 8). Each is small (35 KB to 3 MB); the costs grow with the
// module's size, most of them faster than linearly, so that a module well
// under the 64 MiB size limit ends the host (out of memory) or keeps a
// core busy for minutes. The suite's promise (docs/security.md, Resource
// limits): a bomb is refused at load, in milliseconds, and the host's
// peak RSS grows by less than 100 MB.

// r8DWARF returns a module of two custom sections only: .debug_abbrev
// with n abbreviations (each the tag compile_unit, no attributes) and
// .debug_info with n unit headers of 11 bytes, unit i pointing at
// abbreviation i. wazero (DWARF enabled by default) gives them to
// debug/dwarf at decode time, whose parseUnits parses and caches one
// abbreviation table per distinct offset, each read from its offset to
// the table's end: n²/2 map entries. The scan does not read the custom
// sections other than "name".
func r8DWARF(n int) []byte {
	var abbrev []byte
	offs := make([]int, n)
	for i := range n {
		offs[i] = len(abbrev)
		abbrev = leb(abbrev, uint64(i+1))
		abbrev = append(abbrev, 0x11, 0, 0, 0) // DW_TAG_compile_unit, no children, no attributes
	}
	abbrev = append(abbrev, 0)
	var info []byte
	for i := range n {
		info = binary.LittleEndian.AppendUint32(info, 7) // unit length
		info = binary.LittleEndian.AppendUint16(info, 4) // DWARF 4
		info = binary.LittleEndian.AppendUint32(info, uint32(offs[i]))
		info = append(info, 4) // address size
	}
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = r8Custom(b, ".debug_abbrev", abbrev)
	return r8Custom(b, ".debug_info", info)
}

func r8Custom(b []byte, name string, data []byte) []byte {
	body := leb(nil, uint64(len(name)))
	body = append(body, name...)
	body = append(body, data...)
	return section(b, 0, body)
}

// r8Locals: f functions of 7 bytes, each with l i32 locals (the limit
// per function is 10000; nothing bounds the product). wazero keeps a
// byte per local per function and its compiler zeroes each local.
func r8Locals(f, l int) []byte {
	body := []byte{1}
	body = leb(body, uint64(l))
	body = append(body, 0x7f, 0x0b)
	bodies := make([][]byte, f)
	for i := range bodies {
		bodies[i] = body
	}
	return module(bodies, 0)
}

// r8Straight: one function of n+4 bytes without a branch: i32.const 0,
// then n i32.eqz, drop. Each byte is an SSA instruction and a machine
// instruction of the compiler (hundreds of bytes of host memory).
func r8Straight(n int) []byte {
	body := []byte{0, 0x41, 0}
	body = append(body, bytes.Repeat([]byte{0x45}, n)...)
	body = append(body, 0x1a, 0x0b)
	return module([][]byte{body}, 0)
}

// r8Types: n function types of a i32 parameters each (the limits: 10000
// types, 1000 parameters and results each) and one empty function: the
// compiler compiles an entry preamble for every type.
func r8Types(n, a int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	ty := leb(nil, uint64(n))
	for range n {
		ty = append(ty, 0x60)
		ty = leb(ty, uint64(a))
		ty = append(ty, bytes.Repeat([]byte{0x7f}, a)...)
		ty = append(ty, 0)
	}
	b = section(b, 1, ty)
	b = section(b, 3, []byte{1, 0})
	return section(b, 10, []byte{1, 2, 0, 0x0b})
}

// r8BrTable: one function: block (result a x i32), a x i32.const 0,
// i32.const 0, br_table of n targets (all 0), end, a x drop. The scan
// counts a br_table as one branch; wazero's compiler makes a basic block
// per target.
func r8BrTable(n, a int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	ty := []byte{2, 0x60, 0, 0, 0x60, 0}
	ty = leb(ty, uint64(a))
	ty = append(ty, bytes.Repeat([]byte{0x7f}, a)...)
	b = section(b, 1, ty)
	b = section(b, 3, []byte{1, 0})
	body := []byte{0, 0x02, 0x01}
	body = append(body, bytes.Repeat([]byte{0x41, 0}, a)...)
	body = append(body, 0x41, 0, 0x0e)
	body = leb(body, uint64(n))
	body = append(body, bytes.Repeat([]byte{0}, n+1)...)
	body = append(body, 0x0b)
	body = append(body, bytes.Repeat([]byte{0x1a}, a)...)
	body = append(body, 0x0b)
	code := []byte{1}
	code = leb(code, uint64(len(body)))
	code = append(code, body...)
	return section(b, 10, code)
}

// R8HiddenIfs returns one function whose branches the scan does not see.
// wazero v1.12.0 reads a SIMD instruction's opcode (after 0xfd) as one
// byte; the scan reads it as a LEB128 u32, as the spec says. So
// 0xfd 0x8c 0x00 is, for the scan, v128.const (0x0c, non-minimal LEB128)
// and its 16 bytes of immediate, which it skips; for wazero it is
// i16x8.shr_s (0x8c) then unreachable (0x00), and the 16 bytes are
// instructions: end (of an if without else, so that the code after it is
// reachable again), then if, end, if, end, if, nop. Each chunk of 39
// bytes holds 3 ifs (6 basic blocks) the scan does not count; the scan
// counts one branch in the whole function (the first if).
func R8HiddenIfs(chunks int) []byte {
	body := []byte{0, 0x41, 0x00, 0x04, 0x40} // i32.const 0, if
	hidden := []byte{0x0b, 0x41, 0x00, 0x04, 0x40, 0x0b, 0x41, 0x00, 0x04, 0x40, 0x0b, 0x41, 0x00, 0x04, 0x40, 0x01}
	for range chunks {
		body = append(body, 0xfd, 0x0c) // v128.const 0 (both read it so)
		body = append(body, make([]byte, 16)...)
		body = append(body, 0x41, 0x00)       // i32.const 0
		body = append(body, 0xfd, 0x8c, 0x00) // the divergence
		body = append(body, hidden...)
	}
	body = append(body, 0x0b, 0x0b) // end (the last if), end (function)
	return module([][]byte{body}, 0)
}

func TestCompileBombs(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	if raceEnabled {
		t.Skip("the compiler is ~8x slower under the race detector")
	}
	for _, c := range []struct {
		name string
		gen  func() []byte
		want error // plugins.ErrLimits if nil
	}{
		// No DWARF is read (RuntimeOptions: debug info off): the module
		// compiles in milliseconds and is refused as no plugin.
		{"dwarf-abbrev-tables", func() []byte { return r8DWARF(3000) }, plugins.ErrBadModule}, // 51 KB
		// At the limits, refused as no plugin after compiling.
		{"br-table-at-the-limits", func() []byte { return r8BrTable(9999, 63) }, plugins.ErrBadModule},
		{"types-at-the-limits", func() []byte { return r8Types(1000, 64) }, plugins.ErrBadModule},
		{"locals-times-functions", func() []byte { return r8Locals(5000, 10000) }, nil},         // 35 KB
		{"straight-line-body", func() []byte { return r8Straight(1_000_000) }, nil},             // 1 MB
		{"types-times-arity", func() []byte { return r8Types(3000, 1000) }, nil},                // 3 MB
		{"br-table-targets", func() []byte { return r8BrTable(100_000, 0) }, nil},               // 100 KB
		{"br-table-targets-with-results", func() []byte { return r8BrTable(5000, 1000) }, nil},  // 9 KB
		{"branches-hidden-in-simd-immediates", func() []byte { return R8HiddenIfs(2000) }, nil}, // 78 KB
	} {
		t.Run(c.name, func(t *testing.T) {
			// A compilation cache of its own: the user's would hold the
			// compilation of an earlier run.
			took, growth, err := loadMeasured(t, &wasm.RuntimeOptions{CacheDir: t.TempDir()}, c.gen(), 2*time.Minute)
			want := c.want
			if want == nil {
				want = plugins.ErrLimits
			}
			assert.ErrorIs(t, err, want, "refused at load")
			assert.Less(t, growth, int64(maxGrowth), "the host's peak RSS grows by less than 100 MB")
			assert.Less(t, took, WasmLoad, "a bomb is refused within the load deadline")
		})
	}
}
