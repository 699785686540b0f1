package scan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// scanBodyRef is scanBody before its instruction table (session 19): a
// switch over opcode ranges, kept as the reference the table must agree
// with.
func scanBodyRef(r *reader, fn int, st *Stats, l Limits) error {
	var locals uint64
	groups := r.u32()
	for g := uint32(0); g < groups && r.err == nil; g++ {
		locals += uint64(r.u32())
		r.reftype()
	}
	if r.err != nil {
		return r.fail(fmt.Sprintf("locals of function %d", fn))
	}
	st.MaxLocals = max(st.MaxLocals, locals)
	if l.LocalsPerFunction > 0 && locals > l.LocalsPerFunction {
		return &LimitError{What: "locals", Got: locals, Limit: l.LocalsPerFunction, Func: fn}
	}
	st.Locals += locals
	if l.Locals > 0 && st.Locals > l.Locals {
		return &LimitError{What: "locals of all functions", Got: st.Locals, Limit: l.Locals, Func: fn}
	}
	if size := len(r.b) - r.i; l.FunctionBytes > 0 && size > l.FunctionBytes {
		return &LimitError{What: "bytes of a function's code", Got: uint64(size), Limit: uint64(l.FunctionBytes), Func: fn}
	}
	branches, targets := 0, 0
	for !r.eof() {
		op := r.byte()
		switch {
		case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
			branches++
			r.blockType()
		case op == 0x05: // else
			branches++
		case op == 0x0c || op == 0x0d: // br, br_if
			branches++
			r.u32()
		case op == 0x0e: // br_table: the compiler makes a block per target
			branches++
			n := r.u32()
			if r.err == nil && uint64(n) > uint64(len(r.b)-r.i) {
				return fmt.Errorf("%w: a br_table of %d targets in function %d runs past its body", ErrMalformed, n, fn)
			}
			targets += int(n) + 1
			for k := uint32(0); k <= n && r.err == nil; k++ {
				r.u32()
			}
		case op <= 0x01, op == 0x0b, op == 0x0f, op == 0x1a, op == 0x1b, op == 0xd1,
			op >= 0x45 && op <= 0xc4:
			// no immediate
		case op == 0x10: // call
			r.u32()
		case op == 0x11: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			n := r.u32()
			for k := uint32(0); k < n && r.err == nil; k++ {
				r.reftype()
			}
		case op >= 0x20 && op <= 0x26: // local.*, global.*, table.get/set
			r.u32()
		case op >= 0x28 && op <= 0x3e: // loads and stores
			r.u32()
			r.u32()
		case op == 0x3f || op == 0x40: // memory.size, memory.grow
			r.u32()
		case op == 0x41:
			r.s64()
		case op == 0x42:
			r.s64()
		case op == 0x43:
			r.skip(4)
		case op == 0x44:
			r.skip(8)
		case op == 0xd0: // ref.null: a heap type, an s33
			r.s64()
		case op == 0xd2: // ref.func
			r.u32()
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7:
			case sub == 8, sub == 10, sub == 12, sub == 14: // memory.init, memory.copy, table.init, table.copy
				r.u32()
				r.u32()
			case sub == 9, sub == 11, sub == 13, sub >= 15 && sub <= 17:
				r.u32()
			default:
				return fmt.Errorf("%w: unknown instruction 0xfc %d in function %d", ErrMalformed, sub, fn)
			}
		case op == 0xfd:
			// One byte, as wazero v1.12.0 reads it (its validator and
			// compiler both), not the LEB128 u32 of the spec: the scan
			// must see the instructions wazero compiles (0xfd 0x8c 0x00
			// is i16x8.shr_s and unreachable to wazero, a v128.const and
			// its 16 bytes of immediate to a LEB128 reader).
			switch sub := uint32(r.byte()); {
			case sub <= 0x0b, sub == 0x5c, sub == 0x5d: // v128 loads and stores
				r.u32()
				r.u32()
			case sub == 0x0c, sub == 0x0d: // v128.const, i8x16.shuffle
				r.skip(16)
			case sub >= 0x15 && sub <= 0x22: // lanes
				r.byte()
			case sub >= 0x54 && sub <= 0x5b: // load/store lane
				r.u32()
				r.u32()
				r.byte()
			case sub <= 0xff:
			default:
				return fmt.Errorf("%w: unknown instruction 0xfd %d in function %d", ErrMalformed, sub, fn)
			}
		default:
			return fmt.Errorf("%w: instruction 0x%02x in function %d is not enabled", ErrMalformed, op, fn)
		}
		if r.err != nil {
			return r.fail(fmt.Sprintf("function %d", fn))
		}
	}
	st.MaxBrTableTargets = max(st.MaxBrTableTargets, targets)
	if l.BrTableTargets > 0 && targets > l.BrTableTargets {
		return &LimitError{What: "br_table targets", Got: uint64(targets), Limit: uint64(l.BrTableTargets), Func: fn}
	}
	st.BrTableCost += uint64(targets) * uint64(targets)
	if l.BrTableCost > 0 && st.BrTableCost > l.BrTableCost {
		return &LimitError{What: "br_table cost (sum of br_table targets squared)", Got: st.BrTableCost, Limit: l.BrTableCost, Func: fn}
	}
	st.MaxBranches = max(st.MaxBranches, branches)
	if l.BranchesPerFunction > 0 && branches > l.BranchesPerFunction {
		return &LimitError{What: "branch instructions", Got: uint64(branches), Limit: uint64(l.BranchesPerFunction), Func: fn}
	}
	st.CompileCost += uint64(branches) * uint64(branches)
	if l.CompileCost > 0 && st.CompileCost > l.CompileCost {
		return &LimitError{What: "compile cost (sum of branch instructions squared)", Got: st.CompileCost, Limit: l.CompileCost, Func: fn}
	}
	return nil
}

// sameScan runs scanBody and scanBodyRef on body and checks that they
// agree: the error or its absence, the stats, and where they stopped.
func sameScan(t testing.TB, body []byte, l Limits) {
	t.Helper()
	var st1, st2 Stats
	r1, r2 := &reader{b: body}, &reader{b: body}
	err1 := scanBody(r1, 3, &st1, l)
	err2 := scanBodyRef(r2, 3, &st2, l)
	require.Equal(t, err2 == nil, err1 == nil, "body % x: table %v, reference %v", body, err1, err2)
	if err1 != nil {
		require.Equal(t, err2.Error(), err1.Error(), "body % x", body)
		return
	}
	require.Equal(t, st2, st1, "body % x", body)
	require.Equal(t, r2.i, r1.i)
}

// randomBody is a function body: locals, then instructions that are
// mostly well-formed (every opcode byte, with immediates of the kinds the
// scan reads, LEB128s of every length), sometimes cut short or with stray
// bytes.
func randomBody(rng *rand.Rand) []byte {
	var b []byte
	leb := func(v uint64, n int) { // an n-byte LEB128 of v (n >= its length)
		for i := 0; i < n-1; i++ {
			b = append(b, byte(v&0x7f)|0x80)
			v >>= 7
		}
		b = append(b, byte(v&0x7f))
	}
	u32 := func() {
		if rng.IntN(8) == 0 {
			leb(uint64(rng.Uint32()), 1+rng.IntN(6))
		} else {
			leb(uint64(rng.IntN(200)), 1+rng.IntN(2))
		}
	}
	groups := rng.IntN(3)
	leb(uint64(groups), 1)
	for range groups {
		u32()
		b = append(b, []byte{0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x63}[rng.IntN(8)])
	}
	for range rng.IntN(40) {
		op := byte(rng.IntN(256))
		b = append(b, op)
		switch opClasses[op] {
		case opU32, opBr:
			u32()
		case opU32U32:
			u32()
			u32()
		case opS64:
			leb(uint64(rng.Uint64()), 1+rng.IntN(11))
		case opBlock:
			b = append(b, []byte{0x40, 0x7f, 0x63, 0x05, 0x90}[rng.IntN(5)])
		case opBrTable, opSelectT:
			n := rng.IntN(4)
			leb(uint64(n), 1)
			for range n + 1 {
				u32()
			}
		case opSkip4:
			b = append(b, 1, 2, 3, 4)
		case opSkip8:
			b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)
		case opFC:
			leb(uint64(rng.IntN(20)), 1+rng.IntN(2))
			u32()
			u32()
		case opFD:
			b = append(b, byte(rng.IntN(256)))
			u32()
			u32()
			b = append(b, byte(rng.IntN(256)))
		}
	}
	if len(b) > 0 && rng.IntN(10) == 0 {
		b = b[:rng.IntN(len(b))]
	}
	return b
}

// The instruction table reads every body as the range switch did.
func TestScanBodyTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	limits := []Limits{{}, {BranchesPerFunction: 5, BrTableTargets: 4, LocalsPerFunction: 100}}
	for i := range 30000 {
		var body []byte
		if i%5 == 0 {
			body = make([]byte, rng.IntN(30))
			for k := range body {
				body[k] = byte(rng.IntN(256))
			}
		} else {
			body = randomBody(rng)
		}
		sameScan(t, body, limits[i%2])
	}
	// Every opcode alone, and followed by each byte.
	for op := range 256 {
		sameScan(t, []byte{0, byte(op)}, Limits{})
		for next := range 256 {
			sameScan(t, []byte{0, byte(op), byte(next), 0, 0, 0}, Limits{})
		}
	}
}

func FuzzScanBodyTable(f *testing.F) {
	rng := rand.New(rand.NewPCG(21, 22))
	for range 100 {
		f.Add(randomBody(rng))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		sameScan(t, body, Limits{BranchesPerFunction: 50, BrTableTargets: 40})
	})
}
