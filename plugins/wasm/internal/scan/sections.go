package scan

import (
	"errors"
	"fmt"
)

// The runtime's decoder (wazero v1.12.0) allocates each vector of a
// section from its declared length before it reads an entry: a 15-byte
// module declaring 4 billion globals made it ask for hundreds of GB, and
// the Go runtime ends the process on such a request ("fatal error:
// runtime: out of memory"), which no recover catches. So the scan reads
// every section the decoder reads, and refuses a vector longer than the
// bytes left for it (each entry takes at least one byte) or than its limit,
// and a name longer than the bytes left.

// sectionName names the sections by id, for errors.
var sectionName = [...]string{
	0: "custom section", 1: "type section", 2: "import section", 3: "function section",
	4: "table section", 5: "memory section", 6: "global section", 7: "export section",
	8: "start section", 9: "element section", 10: "code section", 11: "data section",
	12: "data count section",
}

// vec reads the length of a vector whose entries take at least one byte
// each. A length over limit (if limit > 0) is a *LimitError naming what; a
// length over the bytes left is malformed.
func (r *reader) vec(what string, limit int) (uint32, error) {
	n := r.u32()
	if r.err != nil {
		return 0, r.fail(what)
	}
	if limit > 0 && uint64(n) > uint64(limit) {
		return 0, &LimitError{What: what, Got: uint64(n), Limit: uint64(limit), Func: -1}
	}
	if left := len(r.b) - r.i; uint64(n) > uint64(left) {
		return 0, fmt.Errorf("%w: %d %s declared in the %d bytes left", ErrMalformed, n, what, left)
	}
	return n, nil
}

// name skips a name (a length and as many bytes), which must fit in the
// bytes left.
func (r *reader) name() {
	r.skip(int(r.u32()))
}

// end reports an error if reading failed or left bytes of the section.
func (r *reader) end(where string) error {
	switch {
	case r.err != nil:
		return r.fail(where)
	case r.i != len(r.b):
		return fmt.Errorf("%w: %s: %d bytes left after its entries", ErrMalformed, where, len(r.b)-r.i)
	}
	return nil
}

// errNested is a vector inside an entry that does not fit in the section.
var errNested = errors.New("a vector longer than the bytes left")

// skipVec skips a vector of entries of at least one byte each, reading
// each with entry.
func (r *reader) skipVec(entry func()) uint32 {
	n := r.u32()
	if r.err == nil && uint64(n) > uint64(len(r.b)-r.i) {
		r.err = errNested
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		entry()
	}
	return n
}

// constExpr skips a constant expression up to its end (0x0b).
func (r *reader) constExpr() {
	for r.err == nil {
		switch op := r.byte(); op {
		case 0x0b: // end
			return
		case 0x41, 0x42: // i32.const, i64.const
			r.s64()
		case 0x43: // f32.const
			r.skip(4)
		case 0x44: // f64.const
			r.skip(8)
		case 0x23, 0xd2: // global.get, ref.func
			r.u32()
		case 0xd0: // ref.null: a heap type, an s33
			r.s64()
		case 0xfd: // v128.const
			if r.u32() != 12 {
				r.err = errors.New("not a constant instruction")
				return
			}
			r.skip(16)
		case 0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e: // extended constants: add, sub, mul
		default:
			if r.err == nil {
				r.err = fmt.Errorf("opcode 0x%02x in a constant expression", op)
			}
			return
		}
	}
}

// scanCustom bounds the custom section "name"; the runtime skips the
// others without reading them.
func scanCustom(r *reader, l Limits) error {
	n := int(r.u32())
	if r.err != nil || n > len(r.b)-r.i {
		return fmt.Errorf("%w: custom section name", ErrMalformed)
	}
	if string(r.b[r.i:r.i+n]) != "name" {
		return nil
	}
	r.i += n
	if size := len(r.b) - r.i; l.NameSectionBytes > 0 && size > l.NameSectionBytes {
		return &LimitError{What: `bytes of the custom section "name"`, Got: uint64(size), Limit: uint64(l.NameSectionBytes), Func: -1}
	}
	for !r.eof() {
		id := r.byte()
		size := int(r.u32())
		if r.err != nil || size > len(r.b)-r.i {
			return fmt.Errorf("%w: a subsection of the custom section \"name\" runs past its end", ErrMalformed)
		}
		sub := &reader{b: r.b[:r.i+size], i: r.i}
		r.i += size
		names := func() { sub.u32(); sub.name() } // an index and its name
		switch id {
		case 0: // module name
			sub.name()
		case 1: // function names
			sub.skipVec(names)
		case 2: // local names
			sub.skipVec(func() { sub.u32(); sub.skipVec(names) })
		default: // skipped by the runtime
			continue
		}
		if err := sub.end(`the custom section "name"`); err != nil {
			return err
		}
	}
	return r.end(`the custom section "name"`)
}

func scanTypes(r *reader, l Limits) error {
	n, err := r.vec("function types", l.Types)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte(); r.err == nil && form != 0x60 {
			// 0x4e, 0x50, 0x5e, 0x5f: the GC proposal, not enabled.
			return fmt.Errorf("%w: type %d has form 0x%02x, not a function type", ErrMalformed, i, form)
		}
		params := r.skipVec(r.reftype)
		results := r.skipVec(r.reftype)
		if arity := uint64(params) + uint64(results); r.err == nil && l.TypeArity > 0 && arity > uint64(l.TypeArity) {
			return &LimitError{What: "parameters and results of a function type", Got: arity, Limit: uint64(l.TypeArity), Func: -1}
		}
	}
	return r.end("type section")
}

func scanFunctions(r *reader, l Limits) error {
	n, err := r.vec("functions", l.Functions)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.u32()
	}
	return r.end("function section")
}

func scanMemories(r *reader) error {
	n, err := r.vec("memories", 1)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.limits()
	}
	return r.end("memory section")
}

func scanGlobals(r *reader, l Limits) error {
	n, err := r.vec("globals", l.Globals)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.reftype() // value type
		r.byte()    // mutability
		r.constExpr()
	}
	return r.end("global section")
}

func scanExports(r *reader, l Limits) error {
	n, err := r.vec("exports", l.Exports)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.byte() // kind
		r.u32()  // index
	}
	return r.end("export section")
}

func scanElements(r *reader, l Limits) error {
	n, err := r.vec("element segments", l.ElementSegments)
	if err != nil {
		return err
	}
	var entries uint64
	index := func() { r.u32() }
	for i := uint32(0); i < n && r.err == nil; i++ {
		flags := r.u32()
		if r.err == nil && flags > 7 {
			return fmt.Errorf("%w: element segment %d has flags %d", ErrMalformed, i, flags)
		}
		if flags&2 != 0 && flags&1 == 0 { // active with a table index
			r.u32()
		}
		if flags&1 == 0 { // active: the offset
			r.constExpr()
		}
		if flags&3 != 0 { // an element kind (byte) or a reference type
			r.reftype()
		}
		if flags&4 == 0 {
			entries += uint64(r.skipVec(index))
		} else {
			entries += uint64(r.skipVec(r.constExpr))
		}
		if r.err == nil && l.ElementEntries > 0 && entries > uint64(l.ElementEntries) {
			return &LimitError{What: "entries of the element segments", Got: entries, Limit: uint64(l.ElementEntries), Func: -1}
		}
	}
	return r.end("element section")
}

func scanData(r *reader, l Limits) error {
	n, err := r.vec("data segments", l.DataSegments)
	if err != nil {
		return err
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		switch flags := r.u32(); flags {
		case 0: // active, memory 0
			r.constExpr()
		case 1: // passive
		case 2: // active, a memory index
			r.u32()
			r.constExpr()
		default:
			if r.err == nil {
				return fmt.Errorf("%w: data segment %d has flags %d", ErrMalformed, i, flags)
			}
		}
		r.name() // the bytes: a length and as many bytes
	}
	return r.end("data section")
}
