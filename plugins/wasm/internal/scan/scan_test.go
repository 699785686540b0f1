package scan

import (
	"bytes"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func leb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func section(b []byte, id byte, body []byte) []byte {
	b = append(b, id)
	b = leb(b, uint64(len(body)))
	return append(b, body...)
}

var header = []byte("\x00asm\x01\x00\x00\x00")

// withCode returns a module of one () -> () function per body.
func withCode(bodies ...[]byte) []byte {
	b := section(append([]byte(nil), header...), 1, []byte{1, 0x60, 0, 0})
	funcs := leb(nil, uint64(len(bodies)))
	for range bodies {
		funcs = append(funcs, 0)
	}
	b = section(b, 3, funcs)
	code := leb(nil, uint64(len(bodies)))
	for _, body := range bodies {
		code = leb(code, uint64(len(body)))
		code = append(code, body...)
	}
	return section(b, 10, code)
}

// tables returns a module with a table section of the given limits; max <
// 0 means none.
func tables(limits ...[2]int64) []byte {
	body := leb(nil, uint64(len(limits)))
	for _, l := range limits {
		body = append(body, 0x70) // funcref
		if l[1] < 0 {
			body = append(body, 0)
			body = leb(body, uint64(l[0]))
		} else {
			body = append(body, 1)
			body = leb(body, uint64(l[0]))
			body = leb(body, uint64(l[1]))
		}
	}
	return section(append([]byte(nil), header...), 4, body)
}

func limitErr(t *testing.T, err error, what string) {
	t.Helper()
	var le *LimitError
	require.True(t, errors.As(err, &le), "want a *LimitError, got %v", err)
	assert.Contains(t, le.What, what)
}

func TestModuleBytes(t *testing.T) {
	_, err := Module(make([]byte, 100), Limits{ModuleBytes: 99})
	limitErr(t, err, "module bytes")
}

func TestTables(t *testing.T) {
	l := Limits{TableElements: 1000, Tables: 2}
	st, err := Module(tables([2]int64{10, -1}, [2]int64{5, 1000}), l)
	require.NoError(t, err)
	assert.Equal(t, 2, st.Tables)
	assert.Equal(t, 1, st.UncappedTables)

	_, err = Module(tables([2]int64{1001, -1}), l)
	limitErr(t, err, "minimum")
	_, err = Module(tables([2]int64{1, 1<<32 - 1}), l)
	limitErr(t, err, "declared maximum")
	_, err = Module(tables([2]int64{1, -1}, [2]int64{1, -1}, [2]int64{1, -1}), l)
	limitErr(t, err, "tables")
}

// CapTables gives a maximum to the tables without one, and only to them;
// the result scans the same otherwise.
func TestCapTables(t *testing.T) {
	m := tables([2]int64{10, -1}, [2]int64{5, 20}, [2]int64{300, -1})
	out, err := CapTables(m, 1<<20) // a 3-byte LEB: the section grows
	require.NoError(t, err)
	st, err := Module(out, Limits{})
	require.NoError(t, err)
	assert.Equal(t, 3, st.Tables)
	assert.Zero(t, st.UncappedTables)
	assert.Equal(t, uint64(1<<20), st.TableElements)
	assert.Equal(t, tables([2]int64{10, 1 << 20}, [2]int64{5, 20}, [2]int64{300, 1 << 20}), out)

	capped := tables([2]int64{1, 2})
	out, err = CapTables(capped, 100)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(capped, out), "nothing to change")
}

func TestLocals(t *testing.T) {
	body := leb([]byte{2}, 1<<31)
	body = append(body, 0x7e)
	body = leb(body, 1<<31)
	body = append(body, 0x7e, 0x0b)
	_, err := Module(withCode(body), Limits{LocalsPerFunction: 10000})
	limitErr(t, err, "locals")
}

func TestBranches(t *testing.T) {
	nested := func(n int) []byte {
		body := []byte{0}
		body = append(body, bytes.Repeat([]byte{0x02, 0x40}, n)...)
		body = append(body, bytes.Repeat([]byte{0x0b}, n)...)
		return append(body, 0x0b)
	}
	st, err := Module(withCode(nested(100), nested(30)), Limits{})
	require.NoError(t, err)
	assert.Equal(t, 100, st.MaxBranches)
	assert.Equal(t, uint64(100*100+30*30), st.CompileCost)

	_, err = Module(withCode(nested(101)), Limits{BranchesPerFunction: 100})
	limitErr(t, err, "branch instructions")
	var le *LimitError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 0, le.Func)

	_, err = Module(withCode(nested(80), nested(80)), Limits{CompileCost: 10000})
	limitErr(t, err, "compile cost")
}

// Immediates are skipped, not read as instructions: a br_table of many
// targets, constants whose bytes look like block opcodes, SIMD and bulk
// memory instructions.
func TestImmediates(t *testing.T) {
	body := []byte{0,
		0x02, 0x40, // block
		0x41, 0x02, 0x1a, // i32.const 2 (an opcode "block"), drop
		0x42, 0x83, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, // i64.const, 10-byte LEB, drop
		0x44, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x1a, // f64.const, drop
		0xfd, 0x0c, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x1a, // v128.const
		0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x0b, 0x00, // memory.fill 0
		0x41, 0x00, 0x0e, 0x03, 0x00, 0x00, 0x00, 0x00, // br_table 0 0 0 default 0
		0x0b, 0x0b}
	st, err := Module(withCode(body), Limits{})
	require.NoError(t, err)
	assert.Equal(t, 2, st.MaxBranches, "the block and the br_table")

	_, err = Module(withCode([]byte{0, 0xfe, 0x00, 0x0b}), Limits{})
	require.ErrorIs(t, err, ErrMalformed, "threads are not enabled")
	_, err = Module(withCode([]byte{0, 0x41}), Limits{})
	require.ErrorIs(t, err, ErrMalformed, "a truncated body")
}

func TestMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"short":           {0, 'a'},
		"section too big": section(append([]byte(nil), header...), 10, nil)[:9],
		"body past code":  section(append([]byte(nil), header...), 10, []byte{1, 0x7f}),
	} {
		_, err := Module(b, Limits{})
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
	b := append(append([]byte(nil), header...), 10, 0x7f)
	_, err := Module(b, Limits{})
	assert.ErrorIs(t, err, ErrMalformed, "a section longer than the module")
}

// Functions cost compile time and memory however small: 2M empty ones in
// an 8 MiB module took 5 s and 877 MB to compile (review 16). Their
// number is bounded, in the function section and in the code section.
func TestFunctions(t *testing.T) {
	empty := []byte{0, 0x0b}
	bodies := make([][]byte, 11)
	for i := range bodies {
		bodies[i] = empty
	}
	st, err := Module(withCode(bodies[:10]...), Limits{Functions: 10})
	require.NoError(t, err)
	assert.Equal(t, 10, st.Functions)
	_, err = Module(withCode(bodies...), Limits{Functions: 10})
	limitErr(t, err, "functions")

	// A function section alone (no code section) declaring too many.
	b := section(append([]byte(nil), header...), 1, []byte{1, 0x60, 0, 0})
	b = section(b, 3, append(leb(nil, 11), bytes.Repeat([]byte{0}, 11)...))
	_, err = Module(b, Limits{Functions: 10})
	limitErr(t, err, "functions")
}
