// Package scan reads a WebAssembly binary before it is compiled and refuses
// a module whose compilation or instantiation would cost the host more than
// its limits allow: a module that is too large, a table that could grow
// past its element limit, a function with too many locals or too many
// branches. It is a cheap linear pass over the bytes (no validation: wazero
// validates what passes), so that a hostile module is refused in
// milliseconds instead of costing seconds of compilation or gigabytes of
// memory.
//
// Why branches: wazero's optimizing compiler takes time quadratic in the
// number of basic blocks of a function (measured with wazero v1.12.0 on an
// idle core: 5000 blocks 0.12 s, 20000 blocks 1.9 s, 20000 loops 10.7 s).
// The scan counts the instructions that start or end a basic block (block,
// loop, if, else, br, br_if, br_table) in each function, bounds that count
// per function, and bounds the sum of its squares over the module, an
// estimate of the compilation's cost.
//
// Two rewrites prepare a module that passed the scan for the runtime:
// [CapTables] gives every table a maximum, [MergeData] merges the tens of
// thousands of tiny data segments a Go guest has into a handful.
//
// The scan knows the instruction set wazero enables by default
// (WebAssembly 2.0: sign extension, non-trapping conversions, multi-value,
// bulk memory, reference types, SIMD); an instruction outside it is refused
// as wazero would refuse it.
package scan

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// Limits bound what a module may declare. A zero field means no limit.
type Limits struct {
	// ModuleBytes bounds the size of the binary.
	ModuleBytes int
	// TableElements bounds the elements of each table: a table whose
	// minimum or declared maximum is larger is refused. [CapTables] gives
	// a table that declares no maximum this one, so that table.grow fails
	// past it at run time.
	TableElements uint64
	// Tables bounds the number of tables.
	Tables int
	// LocalsPerFunction bounds the locals a function declares.
	LocalsPerFunction uint64
	// BranchesPerFunction bounds the branch instructions of a function.
	BranchesPerFunction int
	// CompileCost bounds the sum over the functions of their branch
	// count squared.
	CompileCost uint64
	// Functions bounds the functions the module defines (0: no bound).
	Functions int
	// Types, Imports, Globals, Exports, ElementSegments and DataSegments
	// bound the entries of their sections; ElementEntries the entries of
	// all element segments together; TypeArity the parameters and
	// results of one function type. Each entry is a few bytes of the
	// module and tens of bytes of the host's memory once decoded.
	Types, Imports, Globals, Exports, ElementSegments, DataSegments int
	ElementEntries                                                  int
	TypeArity                                                       int
	// NameSectionBytes bounds the custom section "name", which the
	// runtime decodes into maps (the other custom sections it skips).
	NameSectionBytes int
	// Locals bounds the locals of all functions together; FunctionBytes
	// the size of one function's body (the compiler holds a function's
	// whole SSA form: ~330 bytes of memory per byte of straight-line code).
	Locals        uint64
	FunctionBytes int
	// BrTableTargets bounds the targets of a function's br_table
	// instructions together (the compiler makes a block per target, in
	// time that grows faster than their number), and BrTableCost the sum
	// over the functions of that count squared.
	BrTableTargets int
	BrTableCost    uint64
}

// Stats are what the scan found.
type Stats struct {
	Functions      int
	Tables         int
	UncappedTables int // tables without a declared maximum
	// ImportedTables and ImportedGlobals count the module's imports of
	// tables and globals.
	ImportedTables, ImportedGlobals int
	TableElements                   uint64 // the largest minimum or declared maximum
	MaxLocals                       uint64 // the most of any function
	MaxBranches                     int    // the most of any function
	CompileCost                     uint64 // the sum of the branch counts squared
	LargestFunBody                  int    // bytes
	Locals                          uint64 // of all functions
	MaxBrTableTargets               int    // the most of any function
	BrTableCost                     uint64 // the sum of the targets squared
}

// A LimitError is a module over one of its limits.
type LimitError struct {
	What  string // e.g. "table elements"
	Got   uint64
	Limit uint64
	// Func is the index (among the module's own functions) of the
	// function over the limit, or -1.
	Func int
}

func (e *LimitError) Error() string {
	where := ""
	if e.Func >= 0 {
		where = fmt.Sprintf(" (function %d)", e.Func)
	}
	return fmt.Sprintf("%s: %d, over the limit of %d%s", e.What, e.Got, e.Limit, where)
}

// ErrMalformed is a module the scan cannot read; wazero would refuse it
// too.
var ErrMalformed = errors.New("malformed module")

// Module scans the binary b against l.
//
// # Errors
//
//   - *LimitError: the module is over a limit.
//   - ErrMalformed (wrapped, with where): the bytes are not a module the
//     scan can read.
func Module(b []byte, l Limits) (Stats, error) {
	var st Stats
	if l.ModuleBytes > 0 && len(b) > l.ModuleBytes {
		return st, &LimitError{What: "module bytes", Got: uint64(len(b)), Limit: uint64(l.ModuleBytes), Func: -1}
	}
	if len(b) < 8 {
		return st, fmt.Errorf("%w: no header", ErrMalformed)
	}
	r := &reader{b: b, i: 8}
	for !r.eof() {
		id := r.byte()
		size := r.u32()
		if r.err != nil {
			return st, r.fail("section header")
		}
		if uint64(size) > uint64(len(r.b)-r.i) {
			return st, fmt.Errorf("%w: section %d of %d bytes runs past the end", ErrMalformed, id, size)
		}
		sec := &reader{b: r.b[:r.i+int(size)], i: r.i}
		r.i += int(size)
		var err error
		switch id {
		case 0:
			err = scanCustom(sec, l)
		case 1:
			err = scanTypes(sec, l)
		case 2: // imports
			err = scanImports(sec, &st, l)
		case 3: // functions: their types, one per function the module defines
			err = scanFunctions(sec, l)
		case 4: // tables
			err = scanTables(sec, &st, l)
		case 5:
			err = scanMemories(sec)
		case 6:
			err = scanGlobals(sec, l)
		case 7:
			err = scanExports(sec, l)
		case 8, 12: // start, data count: one index, one count
			sec.u32()
			err = sec.end(sectionName[id])
		case 9:
			err = scanElements(sec, l)
		case 10: // code
			err = scanCode(sec, &st, l)
		case 11:
			err = scanData(sec, l)
		default: // tags (exception handling, not enabled) and unknown ids
			err = fmt.Errorf("%w: section %d", ErrMalformed, id)
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

func addTable(st *Stats, l Limits, hasMax bool, min, maxEl uint64) error {
	st.Tables++
	if l.Tables > 0 && st.Tables > l.Tables {
		return &LimitError{What: "tables", Got: uint64(st.Tables), Limit: uint64(l.Tables), Func: -1}
	}
	n, what := min, "table elements (minimum)"
	if hasMax {
		n, what = maxEl, "table elements (declared maximum)"
	} else {
		st.UncappedTables++
	}
	st.TableElements = max(st.TableElements, n)
	if l.TableElements > 0 && n > l.TableElements {
		return &LimitError{What: what, Got: n, Limit: l.TableElements, Func: -1}
	}
	return nil
}

// limits reads a limits type: flags, min, max if flagged.
func (r *reader) limits() (hasMax bool, min, max uint64) {
	flags := r.byte()
	min = uint64(r.u32())
	if flags&1 != 0 {
		hasMax = true
		max = uint64(r.u32())
	}
	return hasMax, min, max
}

func scanImports(r *reader, st *Stats, l Limits) error {
	n, err := r.vec("imports", l.Imports)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name() // module
		r.name() // name
		switch kind := r.byte(); kind {
		case 0: // func
			r.u32()
		case 1: // table
			st.ImportedTables++
			r.reftype()
			hasMax, min, max := r.limits()
			if r.err == nil {
				if err := addTable(st, l, hasMax, min, max); err != nil {
					return err
				}
			}
		case 2: // memory
			r.limits()
		case 3: // global
			st.ImportedGlobals++
			r.reftype()
			r.byte()
		default:
			return fmt.Errorf("%w: import kind %d", ErrMalformed, kind)
		}
	}
	return r.end("import section")
}

func scanTables(r *reader, st *Stats, l Limits) error {
	n, err := r.vec("tables", l.Tables)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		init := false
		if r.i+1 < len(r.b) && r.b[r.i] == 0x40 && r.b[r.i+1] == 0x00 {
			// A table with an initializer expression (0x40 0x00 type
			// limits expr), which wazero decodes whatever its features.
			init = true
			r.i += 2
		}
		r.reftype()
		hasMax, min, max := r.limits()
		if r.err != nil {
			break
		}
		if err := addTable(st, l, hasMax, min, max); err != nil {
			return err
		}
		if init {
			r.constExpr()
		}
	}
	return r.end("table section")
}

func scanCode(r *reader, st *Stats, l Limits) error {
	n, err := r.vec("functions", l.Functions)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)-r.i) {
			return fmt.Errorf("%w: function body %d runs past the code section", ErrMalformed, i)
		}
		body := &reader{b: r.b[:r.i+int(size)], i: r.i}
		r.i += int(size)
		st.Functions++
		st.LargestFunBody = max(st.LargestFunBody, int(size))
		if err := scanBody(body, int(i), st, l); err != nil {
			return err
		}
	}
	return r.end("code section")
}

// The instruction classes of the scan: what follows an opcode, and
// whether it is a branch.
const (
	opBad     = iota // not an instruction wazero enables
	opNone           // no immediate
	opU32            // one u32: call, local.*, global.*, table.get/set, memory.size/grow, ref.func
	opU32U32         // two u32s: call_indirect, loads and stores (align, offset)
	opS64            // a signed LEB128: i32.const, i64.const, ref.null's heap type
	opBlock          // block, loop, if: a block type
	opElse           // else
	opBr             // br, br_if: a label
	opBrTable        // br_table: a vector of labels and a default
	opSelectT        // select t*: a vector of value types
	opSkip4          // f32.const
	opSkip8          // f64.const
	opFC             // 0xfc prefix: a u32 sub-opcode
	opFD             // 0xfd prefix (SIMD): a one-byte sub-opcode
)

// opClasses classifies every opcode byte.
var opClasses = func() (c [256]uint8) {
	set := func(class uint8, ops ...byte) {
		for _, op := range ops {
			c[op] = class
		}
	}
	set(opNone, 0x00, 0x01, 0x0b, 0x0f, 0x1a, 0x1b, 0xd1)
	for op := 0x45; op <= 0xc4; op++ {
		c[op] = opNone
	}
	set(opBlock, 0x02, 0x03, 0x04)
	set(opElse, 0x05)
	set(opBr, 0x0c, 0x0d)
	set(opBrTable, 0x0e)
	set(opU32, 0x10, 0x3f, 0x40, 0xd2)
	for op := 0x20; op <= 0x26; op++ {
		c[op] = opU32
	}
	set(opU32U32, 0x11)
	for op := 0x28; op <= 0x3e; op++ {
		c[op] = opU32U32
	}
	set(opSelectT, 0x1c)
	set(opS64, 0x41, 0x42, 0xd0)
	set(opSkip4, 0x43)
	set(opSkip8, 0x44)
	set(opFC, 0xfc)
	set(opFD, 0xfd)
	return c
}()

func scanBody(r *reader, fn int, st *Stats, l Limits) error {
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
	for r.err == nil && r.i < len(r.b) {
		op := r.b[r.i]
		r.i++
		switch opClasses[op] {
		case opNone:
		case opU32:
			r.skipU32()
		case opU32U32:
			r.skipU32()
			r.skipU32()
		case opS64:
			r.s64()
		case opBlock: // block, loop, if
			branches++
			r.blockType()
		case opElse:
			branches++
		case opBr: // br, br_if
			branches++
			r.skipU32()
		case opBrTable: // the compiler makes a block per target
			branches++
			n := r.u32()
			if r.err == nil && uint64(n) > uint64(len(r.b)-r.i) {
				return fmt.Errorf("%w: a br_table of %d targets in function %d runs past its body", ErrMalformed, n, fn)
			}
			targets += int(n) + 1
			for k := uint32(0); k <= n && r.err == nil; k++ {
				r.u32()
			}
		case opSelectT: // select t*
			n := r.u32()
			for k := uint32(0); k < n && r.err == nil; k++ {
				r.reftype()
			}
		case opSkip4:
			r.skip(4)
		case opSkip8:
			r.skip(8)
		case opFC:
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
		case opFD:
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
			}
		default:
			return fmt.Errorf("%w: instruction 0x%02x in function %d is not enabled", ErrMalformed, op, fn)
		}
		if r.err != nil {
			return r.fail(fmt.Sprintf("function %d", fn))
		}
	}
	if r.err != nil {
		return r.fail(fmt.Sprintf("function %d", fn))
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

// reader reads LEB128 and bytes; the first error sticks.
type reader struct {
	b   []byte
	i   int
	err error
}

var errShort = errors.New("unexpected end")

func (r *reader) eof() bool { return r.err != nil || r.i >= len(r.b) }

func (r *reader) fail(where string) error {
	return fmt.Errorf("%w: %s: %v", ErrMalformed, where, r.err)
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.i >= len(r.b) {
		r.err = errShort
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

func (r *reader) skip(n int) {
	if r.err != nil {
		return
	}
	if n < 0 || n > len(r.b)-r.i {
		r.err = errShort
		return
	}
	r.i += n
}

// skipU32 skips a u32 (inlined: the one-byte case is most of them).
func (r *reader) skipU32() {
	if r.i < len(r.b) && r.b[r.i] < 0x80 {
		r.i++
		return
	}
	r.u32()
}

func (r *reader) u32() uint32 {
	if r.err == nil && r.i < len(r.b) && r.b[r.i] < 0x80 { // one byte: most of them
		c := r.b[r.i]
		r.i++
		return uint32(c)
	}
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 1<<32-1 {
				r.err = errors.New("u32 overflow")
				return 0
			}
			return uint32(v)
		}
	}
	r.err = errors.New("u32 too long")
	return 0
}

// s64 skips a signed LEB128 of at most 10 bytes (i32/i64 constants, block
// types).
func (r *reader) s64() {
	for range 10 {
		c := r.byte()
		if r.err != nil || c&0x80 == 0 {
			return
		}
	}
	r.err = errors.New("LEB128 too long")
}

// reftype reads a value type: one byte, or a typed reference (0x63/0x64 and
// a heap type).
func (r *reader) reftype() {
	if c := r.byte(); c == 0x63 || c == 0x64 {
		r.s64()
	}
}

// blockType reads a block type: 0x40, a value type, or a type index (s33).
func (r *reader) blockType() {
	if r.i >= len(r.b) {
		r.err = errShort
		return
	}
	c := r.b[r.i]
	switch {
	case c == 0x40, c >= 0x6f && c <= 0x7f:
		r.i++
	case c == 0x63 || c == 0x64:
		r.i++
		r.s64()
	default:
		r.s64()
	}
}

// CapTables returns b with every table that declares no maximum given the
// maximum limit (which must not be below its minimum: [Module] checks
// that), so that the runtime refuses to grow it past limit: table.grow
// then returns -1. b is returned as it is when every table has a maximum.
// b must have passed [Module].
func CapTables(b []byte, limit uint32) ([]byte, error) {
	return rewrite(b, &limit, nil)
}

// Rewrite is [CapTables] and [MergeData] in one pass, with one copy of b:
// the module the runtime compiles.
func Rewrite(b []byte, tableLimit, maxGap uint32) ([]byte, error) {
	return rewrite(b, &tableLimit, &maxGap)
}

// rewrite caps the tables if tableLimit is set and merges the data
// segments if maxGap is set, copying b once if either changes it.
func rewrite(b []byte, tableLimit, maxGap *uint32) ([]byte, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: no header", ErrMalformed)
	}
	type span struct{ start, body, end int }
	var table, data []span
	dataCount, importedMemory := false, false
	r := &reader{b: b, i: 8}
	for !r.eof() {
		start := r.i
		id := r.byte()
		size := r.u32()
		if r.err != nil || uint64(size) > uint64(len(r.b)-r.i) {
			return nil, fmt.Errorf("%w: section header", ErrMalformed)
		}
		sp := span{start, r.i, r.i + int(size)}
		r.i = sp.end
		switch id {
		case 2:
			importedMemory = importedMemory || importsMemory(b[:sp.end], sp.body)
		case 4:
			table = append(table, sp)
		case 11:
			data = append(data, sp)
		case 12:
			dataCount = true
		}
	}
	// The sections that change: their span and new body, in order.
	type change struct {
		span
		id    byte
		size  int                 // of the new body
		write func([]byte) []byte // appends the new body
	}
	var changes []change
	if tableLimit != nil && len(table) == 1 {
		body, err := capTables(b[:table[0].end], table[0].body, *tableLimit)
		if err != nil {
			return nil, err
		}
		if body != nil {
			changes = append(changes, change{table[0], 4, len(body), func(out []byte) []byte { return append(out, body...) }})
		}
	}
	if maxGap != nil && len(data) == 1 && !dataCount && !importedMemory {
		if size, write := mergeData(b[:data[0].end], data[0].body, *maxGap); write != nil {
			changes = append(changes, change{data[0], 11, size, write})
		}
	}
	if len(changes) == 0 {
		return b, nil
	}
	// In the order of b. The scan does not check the order of the
	// sections (wazero does, and refuses a table section after the data
	// section): the output keeps the sections in the order they came.
	slices.SortFunc(changes, func(x, y change) int { return cmp.Compare(x.start, y.start) })
	size := len(b)
	for _, c := range changes {
		size += 1 + lenU32(uint32(c.size)) + c.size - (c.end - c.start)
	}
	out := make([]byte, 0, size)
	at := 0
	for _, c := range changes {
		out = append(out, b[at:c.start]...)
		out = append(out, c.id)
		out = appendU32(out, uint32(c.size))
		out = c.write(out)
		at = c.end
	}
	return append(out, b[at:]...), nil
}

// importsMemory reports whether the import section whose body starts at
// b[i:] (and ends with b) imports a memory, or cannot be read. An imported
// memory does not start zeroed (its exporter or another importer may have
// written it): MergeData's zeros in the gaps would overwrite its bytes.
func importsMemory(b []byte, i int) bool {
	r := &reader{b: b, i: i}
	n := r.u32()
	for k := uint32(0); k < n && r.err == nil; k++ {
		r.name() // module
		r.name() // name
		switch r.byte() {
		case 0: // func
			r.u32()
		case 1: // table
			r.reftype()
			r.limits()
		case 3: // global
			r.reftype()
			r.byte()
		default: // a memory, or a kind the scan refuses
			return true
		}
	}
	return r.err != nil
}

// capTables returns the table section whose body starts at b[i:] (and
// ends with b) with a maximum of limit given to each table without one,
// or nil if every table has one.
func capTables(b []byte, i int, limit uint32) ([]byte, error) {
	sec := &reader{b: b, i: i}
	n := sec.u32()
	out := appendU32(nil, n)
	changed := false
	for i := uint32(0); i < n && sec.err == nil; i++ {
		init := sec.i+1 < len(sec.b) && sec.b[sec.i] == 0x40 && sec.b[sec.i+1] == 0x00
		t0 := sec.i
		if init {
			sec.i += 2
		}
		sec.reftype()
		out = append(out, b[t0:sec.i]...)
		flags := sec.byte()
		lo := sec.u32()
		if flags&1 != 0 {
			hi := sec.u32()
			out = append(out, flags)
			out = appendU32(out, lo)
			out = appendU32(out, hi)
		} else {
			changed = true
			out = append(out, flags|1)
			out = appendU32(out, lo)
			out = appendU32(out, limit)
		}
		if init {
			e0 := sec.i
			sec.constExpr()
			out = append(out, b[e0:sec.i]...)
		}
	}
	if sec.err != nil {
		return nil, sec.fail("table section")
	}
	if sec.i != len(b) {
		return nil, fmt.Errorf("%w: table section has %d trailing bytes", ErrMalformed, len(b)-sec.i)
	}
	if !changed {
		return nil, nil
	}
	return out, nil
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}
