package scan

import (
	"cmp"
	"errors"
	"slices"
)

// Go's linker writes a guest's initialized data as tens of thousands of
// active data segments of a few bytes each (a 2.7 MB guest: 29,707
// segments, most of them 2 bytes long and 18 bytes apart, for 0.7 MB of
// data). The runtime keeps every segment as a structure of its own in the
// compiled module (~90 bytes with its allocations), gives every instance a
// slice entry per segment, and walks them all at every instantiation: for
// four Go guests, ~12 MB of the host's heap and as many iterations per
// instance as there are segments.
//
// MergeData turns such a data section into the same memory image written by
// a handful of segments.

// DefaultMaxGap is the gap MergeData fills with zeros by default: a
// segment costs the runtime ~90 bytes of memory, a byte of gap one (and one
// to copy at each instantiation). For a Go guest 64 leaves ~12 segments of
// 30,000.
const DefaultMaxGap = 64

// MergeData returns b with its data segments merged: the segments, sorted
// by the address they write, become one segment per run of segments that
// are at most maxGap bytes apart, the gaps filled with zeros. It returns b
// itself when the result would not be the same memory at instantiation, or
// when it would not be worth it:
//
//   - a segment is passive, names a memory, or its offset is not an
//     i32.const;
//   - a segment is empty (a runtime may treat its bounds check apart);
//   - two segments overlap (the later one would win: the order matters);
//   - the module has a data count section (the code may then name
//     segments by index, in memory.init and data.drop);
//   - the module imports a memory (it does not start zeroed: a zero
//     written into a gap would overwrite what its exporter wrote);
//   - no two segments are close enough to merge, or the merged section
//     would be more than twice as large as the original.
//
// Disjoint active segments write disjoint bytes of a memory that starts
// zeroed, so neither their order nor a zero written in between changes the
// instance's memory; the merged segment of a run ends where the run's last
// segment ended, so an instantiation that fails its bounds check fails it
// still. The other sections are copied byte for byte.
//
// b must have passed [Module]; a section MergeData cannot read leaves b as
// it is (the compiler then reports it).
func MergeData(b []byte, maxGap uint32) []byte {
	out, err := rewrite(b, nil, &maxGap)
	if err != nil {
		return b
	}
	return out
}

// mergeData plans the merge of the data section whose body starts at b[i:]
// (and ends with b): it returns the merged body's size and a function that
// appends it, or a nil function if MergeData leaves the section alone.
func mergeData(b []byte, i int, maxGap uint32) (int, func([]byte) []byte) {
	segs, err := readSegments(&reader{b: b, i: i})
	if err != nil || len(segs) < 2 {
		return 0, nil
	}
	slices.SortStableFunc(segs, func(x, y dataSegment) int { return cmp.Compare(x.off, y.off) })
	runs := 1
	for k := 1; k < len(segs); k++ {
		prevEnd := segs[k-1].end()
		switch {
		case uint64(segs[k].off) < prevEnd:
			return 0, nil // overlap
		case uint64(segs[k].off)-prevEnd > uint64(maxGap):
			runs++
		}
	}
	if runs == len(segs) {
		return 0, nil
	}
	size := uint64(lenU32(uint32(runs)))
	forRuns(segs, maxGap, func(first, last int) {
		n := segs[last].end() - uint64(segs[first].off)
		size += 3 + uint64(lenS32(int32(segs[first].off))) + uint64(lenU32(uint32(n))) + n
	})
	if old := uint64(len(b) - i); size > 2*old || size > 1<<32-1 {
		return 0, nil
	}
	return int(size), func(out []byte) []byte {
		out = appendU32(out, uint32(runs))
		forRuns(segs, maxGap, func(first, last int) {
			base := segs[first].off
			out = append(out, 0x00, 0x41) // active, memory 0; i32.const
			out = appendS32(out, int32(base))
			out = append(out, 0x0b) // end
			out = appendU32(out, uint32(segs[last].end()-uint64(base)))
			at := uint64(base)
			for _, s := range segs[first : last+1] {
				out = append(out, make([]byte, uint64(s.off)-at)...) // the gap's zeros
				out = append(out, b[s.start:s.start+s.len]...)
				at = s.end()
			}
		})
		return out
	}
}

// A dataSegment is an active segment of memory 0 at a constant offset: its
// address and where its bytes are in the module.
type dataSegment struct {
	off, start, len uint32 // the i32.const as the address it is
}

func (s dataSegment) end() uint64 { return uint64(s.off) + uint64(s.len) }

var errNotMergeable = errors.New("not a segment MergeData merges")

// readSegments reads a data section's segments, or returns
// errNotMergeable if one is not an active segment of memory 0 at a
// constant offset with at least one byte.
func readSegments(r *reader) ([]dataSegment, error) {
	n := r.u32()
	// Each segment takes at least 5 bytes: flags, i32.const, offset, end,
	// length (and one byte of data).
	if r.err != nil || uint64(n) > uint64(len(r.b)-r.i)/5 {
		return nil, errNotMergeable
	}
	segs := make([]dataSegment, 0, n)
	for range n {
		if r.u32() != 0 || r.byte() != 0x41 {
			return nil, errNotMergeable
		}
		off := r.s32()
		if r.byte() != 0x0b {
			return nil, errNotMergeable
		}
		size := r.u32()
		if r.err != nil || size == 0 || uint64(size) > uint64(len(r.b)-r.i) {
			return nil, errNotMergeable
		}
		segs = append(segs, dataSegment{off: uint32(off), start: uint32(r.i), len: size})
		r.i += int(size)
	}
	if r.err != nil || r.i != len(r.b) {
		return nil, errNotMergeable
	}
	return segs, nil
}

// forRuns calls f with the first and the last index of each run of segs
// (sorted, disjoint) whose neighbours are at most maxGap bytes apart.
func forRuns(segs []dataSegment, maxGap uint32, f func(first, last int)) {
	first := 0
	for k := 1; k <= len(segs); k++ {
		if k == len(segs) || uint64(segs[k].off)-segs[k-1].end() > uint64(maxGap) {
			f(first, k-1)
			first = k
		}
	}
}

// s32 reads a signed LEB128 of at most 5 bytes as an i32.const holds it.
func (r *reader) s32() int32 {
	var v int64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if shift < 28 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			if shift == 28 {
				// The last byte's unused bits must be the sign's extension.
				if hi := c & 0x70; hi != 0 && hi != 0x70 || (hi == 0x70) != (c&0x08 != 0) {
					r.err = errors.New("i32 out of range")
					return 0
				}
				v = int64(int32(uint32(v)))
			}
			return int32(v)
		}
	}
	r.err = errors.New("i32 too long")
	return 0
}

// appendS32 appends v as a signed LEB128.
func appendS32(b []byte, v int32) []byte {
	x := int64(v)
	for {
		c := byte(x & 0x7f)
		x >>= 7
		if x == 0 && c&0x40 == 0 || x == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// lenU32 and lenS32 are the lengths of appendU32's and appendS32's
// encodings of v.
func lenU32(v uint32) int { return len(appendU32(make([]byte, 0, 5), v)) }
func lenS32(v int32) int  { return len(appendS32(make([]byte, 0, 5), v)) }
