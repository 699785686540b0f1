package hostile

import "bytes"

// Compile bombs: modules that are cheap to write and costly to compile,
// generated rather than kept as files. None exports the ABI: what matters
// is that they are refused, or compiled, within the load's deadline.

// leb appends the unsigned LEB128 of v.
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

// module returns a module of functions of type () -> () with the given
// bodies (each: its locals and code, without the size), and a custom
// section of pad bytes if pad > 0.
func module(bodies [][]byte, pad int) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = section(b, 1, []byte{1, 0x60, 0, 0}) // one type: () -> ()
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
	b = section(b, 10, code)
	if pad > 0 {
		custom := leb(nil, 4)
		custom = append(custom, "pad!"...)
		custom = append(custom, make([]byte, pad)...)
		b = section(b, 0, custom)
	}
	return b
}

// nested returns a body of n nested blocks.
func nested(n int) []byte {
	body := []byte{0} // no locals
	body = append(body, bytes.Repeat([]byte{0x02, 0x40}, n)...)
	body = append(body, bytes.Repeat([]byte{0x0b}, n)...)
	return append(body, 0x0b)
}

// loops returns a body of n empty loops in a row.
func loops(n int) []byte {
	body := []byte{0}
	body = append(body, bytes.Repeat([]byte{0x03, 0x40, 0x0b}, n)...)
	return append(body, 0x0b)
}

// brIfs returns a body of a block holding n br_if 0.
func brIfs(n int) []byte {
	body := []byte{0, 0x02, 0x40}
	body = append(body, bytes.Repeat([]byte{0x41, 0x00, 0x0d, 0x00}, n)...)
	return append(body, 0x0b, 0x0b)
}

func bombNestedBlocks() []byte { return module([][]byte{nested(60000)}, 0) }

func bombLoops() []byte {
	bodies := make([][]byte, 20)
	for i := range bodies {
		bodies[i] = loops(3000) // 20 x 3000^2 = 1.8e8, over the cost limit
	}
	return module(bodies, 0)
}

func bombBrIf() []byte { return module([][]byte{brIfs(20000)}, 0) }

func bombLocals() []byte {
	// Two groups of 2^31 i64 locals: wazero would allocate 4 GiB of
	// local types before validating anything.
	body := []byte{2}
	body = leb(body, 1<<31)
	body = append(body, 0x7e)
	body = leb(body, 1<<31)
	body = append(body, 0x7e, 0x0b)
	return module([][]byte{body}, 0)
}

func bombSize() []byte { return module([][]byte{{0, 0x0b}}, 65<<20) }

// bombJustUnder is as costly as the limits allow: four functions of 4900
// nested blocks (a cost of 9.6e7, under 1e8). It compiles, then is
// refused for lacking the ABI's exports.
func bombJustUnder() []byte {
	return module([][]byte{nested(4900), nested(4900), nested(4900), nested(4900)}, 0)
}
