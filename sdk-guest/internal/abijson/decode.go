// Package abijson encodes and decodes the hot-path abi types without
// reflection. It exists for speed inside WebAssembly guests, where
// encoding/json's reflection dominates a hook call's cost.
//
// Every function here behaves exactly like encoding/json (v1) on the same
// type: Decode* accepts and rejects the same inputs as json.Unmarshal and
// produces the same value (case-insensitive field names, unknown fields
// skipped, null leaving scalars unchanged, merging into existing pointers and
// slice elements, invalid UTF-8 coerced to U+FFFD), and Append* produces the
// same bytes as json.Marshal (HTML-safe escaping, omitempty, RawJSON
// compacted). The tests prove it with tables and fuzzing against
// encoding/json.
//
// # Cost model
//
// The code is shaped for Go compiled to WebAssembly and run by wazero with
// CloseOnContextDone, where every function call and every taken branch
// passes a loop header that costs a call into the runtime (about 30 ns):
// Go's wasm backend implements all jumps between basic blocks by
// re-entering a loop around the function body. So the decoder scans
// strings 8 bytes at a time (SWAR), keeps fast paths free of calls,
// unescapes in place, and allocates little: it copies the input once, and
// every decoded string and RawJSON aliases that copy.
package abijson

//go:generate go run gen.go

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/codexhost/codexhost/abi"
)

// maxDepth is encoding/json's nesting limit: deeper input is a syntax error.
const maxDepth = 10000

// errEOF reports input that ends inside a value.
var errEOF = errors.New("abijson: unexpected end of JSON input")

// A decoder reads one JSON text from b. When it produces values, b is its
// own copy of the input: strings and RawJSON values alias b, and escaped
// strings are unescaped in place (never growing), so b must not change
// after the decode. When it only validates, b is the caller's.
type decoder struct {
	b     []byte
	i     int
	depth int

	// strs is a slab the []string values of one decode are carved from.
	strs []string
	// side holds decoded strings that could not be decoded in place.
	side []string
	// net and perm, if not nil, are where the next new NetworkAccess and
	// Permissions go, and actions and changes the room for the next new
	// slices (NewApprovalRequest allocates them with the request).
	net     *abi.NetworkAccess
	perm    *abi.Permissions
	actions []abi.CommandAction
	changes []abi.FileChange
}

// newDecoder copies data so that decoded values may alias it.
func newDecoder(data []byte) decoder {
	b := make([]byte, len(data))
	copy(b, data)
	return decoder{b: b}
}

// view returns the string strBounds returned the bounds of: b[start:end]
// without copying, or for a negative start an out-of-line string.
func (d *decoder) view(start, end int) string {
	if start < 0 {
		return d.side[-start-1]
	}
	if start == end {
		return ""
	}
	return unsafe.String(&d.b[start], end-start)
}

func (d *decoder) syntaxError() error {
	if d.i >= len(d.b) {
		return errEOF
	}
	return errors.New("abijson: invalid character " + quoteChar(d.b[d.i]) + " at offset " + strconv.Itoa(d.i))
}

// invalidChar reports the byte c at offset off, where context (e.g. "in
// string literal") says what was being read.
func invalidChar(c byte, context string, off int) error {
	return errors.New("abijson: invalid character " + quoteChar(c) + " " + context + " (offset " + strconv.Itoa(off) + ")")
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// typeError reports a JSON value that cannot be stored in a Go type. The
// value itself has not been consumed; the caller returns at once.
func (d *decoder) typeError(goType string) error {
	what := "value"
	if d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			what = "string"
		case c == '{':
			what = "object"
		case c == '[':
			what = "array"
		case c == 't' || c == 'f':
			what = "bool"
		case c == 'n':
			what = "null"
		default:
			what = "number"
		}
	}
	return errors.New("abijson: cannot unmarshal " + what + " into Go value of type " + goType + " (offset " + strconv.Itoa(d.i) + ")")
}

// ws skips insignificant whitespace.
func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	if d.i < len(d.b) && d.b[d.i] > ' ' {
		return d.b[d.i]
	}
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// end checks that only whitespace follows the top-level value.
func (d *decoder) end() error {
	d.ws()
	if d.i != len(d.b) {
		return invalidChar(d.b[d.i], "after top-level value", d.i)
	}
	return nil
}

// SWAR (SIMD within a register) constants: 8 bytes at a time.
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero has the high bit set in (at least) the lowest zero byte of x; bits
// above the lowest match may be spurious, so use only the lowest set bit.
func hasZero(x uint64) uint64 { return (x - lsb) & ^x & msb }

// hasLess has the high bit set in the lowest byte of x below n (n <= 128).
func hasLess(x uint64, n byte) uint64 { return (x - lsb*uint64(n)) & ^x & msb }

// stringSpecial marks the lowest byte of x a JSON string scanner must look
// at: '"', '\\', a control character or a non-ASCII byte.
func stringSpecial(x uint64) uint64 {
	return hasZero(x^(lsb*'"')) | hasZero(x^(lsb*'\\')) | hasLess(x, 0x20) | x&msb
}

// hexVal maps a hexadecimal digit to its value and anything else to 0xFF.
var hexVal = func() (t [256]byte) {
	for c := range t {
		t[c] = 0xFF
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()

// Flags of a scanned string.
const (
	strEscaped = 1 << iota // contains a backslash escape
	strBadUTF8             // contains invalid UTF-8 (coerced to U+FFFD)
)

// strBounds reads the string at d.b[d.i] (a '"') and returns the bounds of
// its decoded content (see view). The fast path, a string without escapes
// or non-ASCII bytes, costs no call.
func (d *decoder) strBounds() (start, end int, err error) {
	b := d.b
	i := d.i + 1
	for i+16 <= len(b) {
		m1 := stringSpecial(binary.LittleEndian.Uint64(b[i:]))
		m2 := stringSpecial(binary.LittleEndian.Uint64(b[i+8:]))
		if m1|m2 != 0 {
			j := i + 8 + bits.TrailingZeros64(m2)>>3
			if m1 != 0 {
				j = i + bits.TrailingZeros64(m1)>>3
			}
			if b[j] == '"' {
				start = d.i + 1
				d.i = j + 1
				return start, j, nil
			}
			break
		}
		i += 16
	}
	return d.strSlow(d.i+1, i)
}

// escByte maps the character after a backslash to the byte it stands
// for, except 'u'; 0 marks an invalid escape.
var escByte = func() (t [256]byte) {
	for _, c := range `"\\/` {
		t[c] = byte(c)
	}
	t['b'], t['f'], t['n'], t['r'], t['t'] = '\b', '\f', '\n', '\r', '\t'
	return t
}()

// strSlow decodes, validating, the string whose content starts at start
// and whose bytes up to i are plain ASCII. It unescapes in place: an
// escape never decodes longer than itself. Invalid UTF-8, whose U+FFFD
// replacement is longer than the byte it replaces, moves the decoding out
// of place (strOutOfPlace).
func (d *decoder) strSlow(start, i int) (int, int, error) {
	b := d.b
	w, r := i, i // [start, w) is decoded; b[r:] is still to read
	for {
		// Find the next byte to look at: '"', '\\', control, non-ASCII.
		j := r
		for j+8 <= len(b) {
			if m := stringSpecial(binary.LittleEndian.Uint64(b[j:])); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto found
			}
			j += 8
		}
		for j < len(b) && b[j] >= 0x20 && b[j] < 0x80 && b[j] != '"' && b[j] != '\\' {
			j++
		}
	found:
		if w != r {
			copy(b[w:], b[r:j])
		}
		w += j - r
		r = j
		if r >= len(b) {
			d.i = r
			return 0, 0, errEOF
		}
		c := b[r]
		if c == '"' {
			d.i = r + 1
			return start, w, nil
		}
		if c == '\\' {
			if r+1 >= len(b) {
				d.i = len(b)
				return 0, 0, errEOF
			}
			e := b[r+1]
			if e != 'u' {
				if x := escByte[e]; x != 0 {
					b[w] = x
					w++
					r += 2
					continue
				}
				d.i = r + 1
				return 0, 0, invalidChar(e, "in string escape code", r+1)
			}
			cp, n := decodeU(b, r)
			if n < 0 {
				return 0, 0, d.badHex(r + 2)
			}
			r += n
			if cp < utf8.RuneSelf {
				b[w] = byte(cp)
				w++
			} else {
				w += utf8.EncodeRune(b[w:], cp) // at most 3 bytes for 6 or 4 for 12
			}
			continue
		}
		if c < 0x20 {
			d.i = r
			return 0, 0, invalidChar(c, "in string literal", r)
		}
		cp, size := utf8.DecodeRune(b[r:])
		if cp == utf8.RuneError && size == 1 {
			return d.strOutOfPlace(start, w, r)
		}
		if w != r {
			copy(b[w:], b[r:r+size])
		}
		w += size
		r += size
	}
}

// decodeU decodes the \u escape at b[r:] like encoding/json, a surrogate
// pair included, and returns the rune and the bytes consumed (6 or 12), or
// n < 0 for bad hex digits. A lone surrogate decodes as U+FFFD.
func decodeU(b []byte, r int) (cp rune, n int) {
	if r+6 > len(b) {
		return 0, -1
	}
	cp = hex4(b[r+2 : r+6])
	if cp < 0 {
		return 0, -1
	}
	if !utf16.IsSurrogate(cp) {
		return cp, 6
	}
	if r+12 <= len(b) && b[r+6] == '\\' && b[r+7] == 'u' {
		if c1 := hex4(b[r+8 : r+12]); c1 >= 0 {
			if dec := utf16.DecodeRune(cp, c1); dec != unicode.ReplacementChar {
				return dec, 12
			}
		}
	}
	return unicode.ReplacementChar, 6
}

// strOutOfPlace continues strSlow out of place: [start, w) is decoded and
// b[r:] still to read. It keeps the result aside (see view).
func (d *decoder) strOutOfPlace(start, w, r int) (int, int, error) {
	b := d.b
	// Room for this string, not the rest of the input: each decoded string
	// keeps its buffer, and a request of many strings with invalid UTF-8
	// held one rest-of-input each (220 KB of questions took 2.3 GB:
	// review, round 13). What expands (U+FFFD for a bad byte) grows it.
	end := r
	for end < len(b) && b[end] != '"' {
		if b[end] == '\\' {
			end++
		}
		end++
	}
	out := append(make([]byte, 0, w-start+min(end, len(b))-r+8), b[start:w]...)
	for {
		if r >= len(b) {
			d.i = r
			return 0, 0, errEOF
		}
		switch c := b[r]; {
		case c == '"':
			d.i = r + 1
			d.side = append(d.side, unsafe.String(unsafe.SliceData(out), len(out)))
			return -len(d.side), 0, nil
		case c == '\\':
			if r+1 >= len(b) {
				d.i = len(b)
				return 0, 0, errEOF
			}
			e := b[r+1]
			if e != 'u' {
				x := escByte[e]
				if x == 0 {
					d.i = r + 1
					return 0, 0, invalidChar(e, "in string escape code", r+1)
				}
				out = append(out, x)
				r += 2
				continue
			}
			cp, n := decodeU(b, r)
			if n < 0 {
				return 0, 0, d.badHex(r + 2)
			}
			out = utf8.AppendRune(out, cp)
			r += n
		case c < 0x20:
			d.i = r
			return 0, 0, invalidChar(c, "in string literal", r)
		case c < utf8.RuneSelf:
			out = append(out, c)
			r++
		default:
			cp, size := utf8.DecodeRune(b[r:])
			out = utf8.AppendRune(out, cp) // U+FFFD for invalid UTF-8
			r += size
		}
	}
}

// scanString validates the string starting at d.b[d.i] (a '"') and moves
// past it. It returns the content's bounds (without quotes) and flags.
func (d *decoder) scanString() (start, end int, flags int, err error) {
	b := d.b
	i := d.i + 1
	start = i
	for {
		for i+8 <= len(b) {
			if m := stringSpecial(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] < 0x80 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			d.i = i
			return 0, 0, 0, errEOF
		}
		switch c := b[i]; {
		case c == '"':
			d.i = i + 1
			return start, i, flags, nil
		case c == '\\':
			flags |= strEscaped
			if i+1 >= len(b) {
				d.i = len(b)
				return 0, 0, 0, errEOF
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				for k := i + 2; k < i+6; k++ {
					if k >= len(b) {
						d.i = len(b)
						return 0, 0, 0, errEOF
					}
					if hexVal[b[k]] > 0xF {
						d.i = k
						return 0, 0, 0, invalidChar(b[k], "in \\u hexadecimal character escape", k)
					}
				}
				i += 6
			default:
				d.i = i + 1
				return 0, 0, 0, invalidChar(b[i+1], "in string escape code", i+1)
			}
		case c < 0x20:
			d.i = i
			return 0, 0, 0, invalidChar(c, "in string literal", i)
		default: // non-ASCII
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				flags |= strBadUTF8
			}
			i += size
		}
	}
}

// badHex reports the error in the \u escape whose digits start at k.
func (d *decoder) badHex(k int) error {
	for ; k < len(d.b); k++ {
		if hexVal[d.b[k]] > 0xF {
			d.i = k
			return invalidChar(d.b[k], "in \\u hexadecimal character escape", k)
		}
	}
	d.i = len(d.b)
	return errEOF
}

// hex4 decodes the 4 hexadecimal digits of a \u escape, or returns -1.
func hex4(s []byte) rune {
	_ = s[3]
	a, b, c, e := hexVal[s[0]], hexVal[s[1]], hexVal[s[2]], hexVal[s[3]]
	if (a|b|c|e)&0xF0 != 0 {
		return -1
	}
	return rune(a)<<12 | rune(b)<<8 | rune(c)<<4 | rune(e)
}

// literal consumes lit (true, false or null) at d.b[d.i].
func (d *decoder) literal(lit string) error {
	if d.i+len(lit) <= len(d.b) && string(d.b[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return nil
	}
	b := d.b[d.i:]
	for k := 0; k < len(lit); k++ {
		if k >= len(b) {
			d.i = len(d.b)
			return errEOF
		}
		if b[k] != lit[k] {
			d.i += k
			break
		}
	}
	return invalidChar(d.b[d.i], "in literal "+lit, d.i)
}

// number validates a JSON number at d.b[d.i] and returns its bounds.
func (d *decoder) number() (start, end int, err error) {
	b := d.b
	i := d.i
	start = i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		d.i = i
		return 0, 0, errEOF
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		d.i = i
		return 0, 0, invalidChar(b[i], "in numeric literal", i)
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) {
			d.i = i
			return 0, 0, errEOF
		}
		if b[i] < '0' || b[i] > '9' {
			d.i = i
			return 0, 0, invalidChar(b[i], "after decimal point in numeric literal", i)
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) {
			d.i = i
			return 0, 0, errEOF
		}
		if b[i] < '0' || b[i] > '9' {
			d.i = i
			return 0, 0, invalidChar(b[i], "in exponent of numeric literal", i)
		}
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	}
	d.i = i
	return start, i, nil
}

// skip validates and consumes any JSON value (after whitespace). It is
// iterative: one loop over the tokens, with the open containers kept as a
// bit stack (1 for an object), so that deep input costs no recursion.
func (d *decoder) skip() error {
	var (
		stack uint64 // open containers, innermost in bit 0, up to 64
		deep  []bool // the ones beyond 64, innermost last
		n     int    // open containers
	)
value:
	switch c := d.peek(); {
	case c == '"':
		if _, _, _, err := d.scanString(); err != nil {
			return err
		}
	case c == '{':
		if d.depth+n >= maxDepth {
			return errors.New("abijson: exceeded max depth")
		}
		if n >= 64 {
			deep = append(deep, stack>>63 == 1)
		}
		stack = stack<<1 | 1
		n++
		d.i++
		switch d.peek() {
		case '}':
			d.i++
			n, stack, deep = pop(n, stack, deep)
		case '"':
			if err := d.skipKey(); err != nil {
				return err
			}
			goto value
		default:
			return d.syntaxError()
		}
	case c == '[':
		if d.depth+n >= maxDepth {
			return errors.New("abijson: exceeded max depth")
		}
		if n >= 64 {
			deep = append(deep, stack>>63 == 1)
		}
		stack <<= 1
		n++
		d.i++
		if d.peek() == ']' {
			d.i++
			n, stack, deep = pop(n, stack, deep)
		} else {
			goto value
		}
	case c == 't':
		if err := d.literal("true"); err != nil {
			return err
		}
	case c == 'f':
		if err := d.literal("false"); err != nil {
			return err
		}
	case c == 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
	case c == '-' || '0' <= c && c <= '9':
		if _, _, err := d.number(); err != nil {
			return err
		}
	default:
		return d.syntaxError()
	}
	// After a value: close containers, or go on to the next member or
	// element.
	for n > 0 {
		c := d.peek()
		object := stack&1 == 1
		switch {
		case c == ',':
			d.i++
			if object {
				if err := d.skipKey(); err != nil {
					return err
				}
			}
			goto value
		case c == '}' && object, c == ']' && !object:
			d.i++
			n, stack, deep = pop(n, stack, deep)
		default:
			return d.syntaxError()
		}
	}
	return nil
}

// pop closes the innermost container of skip's stack.
func pop(n int, stack uint64, deep []bool) (int, uint64, []bool) {
	n--
	stack >>= 1
	if n >= 64 {
		if deep[len(deep)-1] {
			stack |= 1 << 63
		}
		deep = deep[:len(deep)-1]
	}
	return n, stack, deep
}

// rawInto decodes any JSON value into *p verbatim, as RawJSON's
// UnmarshalJSON does (null included).
func (d *decoder) rawInto(p *abi.RawJSON) error {
	raw, err := d.raw()
	if err == nil {
		*p = raw
	}
	return err
}

// raw validates and consumes any JSON value and returns its bytes, aliasing
// d.b (capacity clipped, so appending to it cannot overwrite d.b).
func (d *decoder) raw() ([]byte, error) {
	d.ws()
	start := d.i
	if err := d.skip(); err != nil {
		return nil, err
	}
	return d.b[start:d.i:d.i], nil
}

// objectBegin consumes '{' (d.b[d.i]) and reports whether a key follows.
func (d *decoder) objectBegin() (more bool, err error) {
	d.i++
	if d.depth++; d.depth > maxDepth {
		return false, errors.New("abijson: exceeded max depth")
	}
	if d.i < len(d.b) && d.b[d.i] == '"' {
		return true, nil
	}
	switch d.peek() {
	case '}':
		d.i++
		d.depth--
		return false, nil
	case '"':
		return true, nil
	}
	return false, d.syntaxError()
}

// key reads an object key (at a '"') and the ':' after it, and returns the
// key (see view) and its hash (see keyHashString).
func (d *decoder) key() (k string, h uint64, err error) {
	b := d.b
	start := d.i + 1
	for i := start; i+16 <= len(b); i += 16 {
		m1 := stringSpecial(binary.LittleEndian.Uint64(b[i:]))
		m2 := stringSpecial(binary.LittleEndian.Uint64(b[i+8:]))
		if m1|m2 != 0 {
			j := i + 8 + bits.TrailingZeros64(m2)>>3
			if m1 != 0 {
				j = i + bits.TrailingZeros64(m1)>>3
			}
			if b[j] == '"' && j+1 < len(b) && b[j+1] == ':' {
				d.i = j + 2
				// keyHashString, inlined by hand (start+8 <= len(b) here).
				n := j - start
				h = binary.LittleEndian.Uint64(b[start:]) ^ uint64(n)<<56 | 1<<63
				if n < 8 {
					h = binary.LittleEndian.Uint64(b[start:])&(1<<(8*n)-1) ^ uint64(n)<<56
				}
				return d.view(start, j), h, nil
			}
			break
		}
	}
	return d.keySlow()
}

func (d *decoder) keySlow() (k string, h uint64, err error) {
	start, end, err := d.strSlow(d.i+1, d.i+1)
	if err != nil {
		return "", 0, err
	}
	if d.peek() != ':' {
		return "", 0, d.syntaxError()
	}
	d.i++
	k = d.view(start, end)
	return k, keyHashString(k), nil
}

// first consumes '{' (at d.b[d.i]) and, if a member follows, reads its key.
func (d *decoder) first() (k string, h uint64, more bool, err error) {
	if more, err = d.objectBegin(); !more {
		return "", 0, false, err
	}
	k, h, err = d.key()
	return k, h, err == nil, err
}

// next consumes the ',' or '}' after an object member and, if another
// member follows, reads its key. Its fast path is key's, inlined by hand.
func (d *decoder) next() (k string, h uint64, more bool, err error) {
	b := d.b
	if i := d.i; i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
		d.i = i + 1
		start := i + 2
		for i := start; i+16 <= len(b); i += 16 {
			m1 := stringSpecial(binary.LittleEndian.Uint64(b[i:]))
			m2 := stringSpecial(binary.LittleEndian.Uint64(b[i+8:]))
			if m1|m2 != 0 {
				j := i + 8 + bits.TrailingZeros64(m2)>>3
				if m1 != 0 {
					j = i + bits.TrailingZeros64(m1)>>3
				}
				if b[j] == '"' && j+1 < len(b) && b[j+1] == ':' {
					d.i = j + 2
					// keyHashString, inlined by hand (start+8 <= len(b) here).
					n := j - start
					h = binary.LittleEndian.Uint64(b[start:]) ^ uint64(n)<<56 | 1<<63
					if n < 8 {
						h = binary.LittleEndian.Uint64(b[start:])&(1<<(8*n)-1) ^ uint64(n)<<56
					}
					return d.view(start, j), h, true, nil
				}
				break
			}
		}
		k, h, err = d.keySlow()
		return k, h, err == nil, err
	}
	if more, err = d.objectNextSlow(); !more {
		return "", 0, false, err
	}
	k, h, err = d.key()
	return k, h, err == nil, err
}

// keyHashString hashes a key for the generated decoders' dispatch: its
// first 8 bytes, little-endian and zero-padded, with its length XORed into
// the top byte, whose high bit is set for keys of 8 bytes or more. The hash
// identifies a key shorter than 8 bytes exactly; a longer key must also be
// compared (see is).
func keyHashString(k string) uint64 {
	var h uint64
	for i := 0; i < len(k) && i < 8; i++ {
		h |= uint64(k[i]) << (8 * i)
	}
	h ^= uint64(len(k)) << 56
	if len(k) >= 8 {
		h |= 1 << 63
	}
	return h
}

// is reports whether k == name, for a name of 8 to 24 bytes, with three
// 8-byte comparisons.
func is(k, name string) bool {
	n := len(name)
	if len(k) != n {
		return false
	}
	m := min(8, n-8)
	return (load64(k, 0)^load64(name, 0))|(load64(k, m)^load64(name, m))|(load64(k, n-8)^load64(name, n-8)) == 0
}

// skipKey validates an object key and the ':' after it.
func (d *decoder) skipKey() error {
	if d.peek() != '"' {
		return d.syntaxError()
	}
	if _, _, _, err := d.scanString(); err != nil {
		return err
	}
	if d.peek() != ':' {
		return d.syntaxError()
	}
	d.i++
	return nil
}

// objectNextSlow consumes ',' or '}' after an object member, with
// whitespace around, and reports whether another member follows. Callers
// handle the common case, ',' and '"' with no whitespace, inline.
func (d *decoder) objectNextSlow() (more bool, err error) {
	c := d.peek()
	if c == ',' {
		d.i++
		if d.peek() == '"' {
			return true, nil
		}
		return false, d.syntaxError()
	}
	if c == '}' {
		d.i++
		d.depth--
		return false, nil
	}
	return false, d.syntaxError()
}

// arrayBegin consumes '[' (d.b[d.i]) and reports whether an element follows.
func (d *decoder) arrayBegin() (more bool, err error) {
	d.i++
	if d.depth++; d.depth > maxDepth {
		return false, errors.New("abijson: exceeded max depth")
	}
	if d.peek() == ']' {
		d.i++
		d.depth--
		return false, nil
	}
	return true, nil
}

// arrayNextSlow consumes ',' or ']' after an array element, with
// whitespace around, and reports whether another element follows. Callers
// handle the common case, ',' with no whitespace, inline.
func (d *decoder) arrayNextSlow() (more bool, err error) {
	c := d.peek()
	if c == ',' {
		d.i++
		return true, nil
	}
	if c == ']' {
		d.i++
		d.depth--
		return false, nil
	}
	return false, d.syntaxError()
}

// stringInto decodes a string or null into *p (null leaves it unchanged).
// The fast path is strBounds's, inlined by hand.
func (d *decoder) stringInto(p *string, goType string) error {
	b := d.b
	if d.i < len(b) && b[d.i] == '"' {
		i := d.i + 1
		for i+16 <= len(b) {
			m1 := stringSpecial(binary.LittleEndian.Uint64(b[i:]))
			m2 := stringSpecial(binary.LittleEndian.Uint64(b[i+8:]))
			if m1|m2 != 0 {
				j := i + 8 + bits.TrailingZeros64(m2)>>3
				if m1 != 0 {
					j = i + bits.TrailingZeros64(m1)>>3
				}
				if b[j] == '"' {
					*p = d.view(d.i+1, j)
					d.i = j + 1
					return nil
				}
				break
			}
			i += 16
		}
		start, end, err := d.strSlow(d.i+1, i)
		*p = d.view(start, end)
		return err
	}
	return d.stringIntoSlow(p, goType)
}

func (d *decoder) stringIntoSlow(p *string, goType string) error {
	switch d.peek() {
	case '"':
		start, end, err := d.strBounds()
		*p = d.view(start, end)
		return err
	case 'n':
		return d.literal("null")
	}
	return d.valueTypeError(goType)
}

// boolInto decodes true, false or null into *p (null leaves it unchanged).
func (d *decoder) boolInto(p *bool) error {
	switch d.peek() {
	case 't':
		*p = true
		return d.literal("true")
	case 'f':
		*p = false
		return d.literal("false")
	case 'n':
		return d.literal("null")
	}
	return d.valueTypeError("bool")
}

// intInto decodes a number or null into *p (null leaves it unchanged). As
// in encoding/json, the number must be an integer in range: no fraction or
// exponent.
func (d *decoder) intInto(p *int) error {
	c := d.peek()
	if c == 'n' {
		return d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return d.valueTypeError("int")
	}
	start, end, err := d.number()
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(d.view(start, end), 10, 64)
	if err != nil || int64(int(n)) != n {
		d.i = start
		return d.typeError("int")
	}
	*p = int(n)
	return nil
}

// uint64Into is intInto for uint64.
func (d *decoder) uint64Into(p *uint64) error {
	c := d.peek()
	if c == 'n' {
		return d.literal("null")
	}
	if c != '-' && (c < '0' || c > '9') {
		return d.valueTypeError("uint64")
	}
	start, end, err := d.number()
	if err != nil {
		return err
	}
	n, err := strconv.ParseUint(d.view(start, end), 10, 64)
	if err != nil {
		d.i = start
		return d.typeError("uint64")
	}
	*p = n
	return nil
}

// intPtrInto decodes a number into **p, allocating it if nil, or null,
// setting it to nil.
func (d *decoder) intPtrInto(p **int) error {
	if d.peek() == 'n' {
		*p = nil
		return d.literal("null")
	}
	if *p == nil {
		*p = new(int)
	}
	return d.intInto(*p)
}

// boolPtrInto is intPtrInto for *bool.
func (d *decoder) boolPtrInto(p **bool) error {
	if d.peek() == 'n' {
		*p = nil
		return d.literal("null")
	}
	if *p == nil {
		*p = new(bool)
	}
	return d.boolInto(*p)
}

// valueTypeError returns a syntax error if the value at d.b[d.i] is not
// valid JSON and a type error otherwise. encoding/json checks syntax before
// types, and both are errors, so which one is reported is cosmetic.
func (d *decoder) valueTypeError(goType string) error {
	d.peek()
	at := d.i
	if err := d.skip(); err != nil {
		return err
	}
	d.i = at
	return d.typeError(goType)
}

// stringsInto decodes an array of strings (or null) into *p with
// encoding/json's slice semantics: elements are decoded into the existing
// slice's elements (null keeps one), and [] gives an empty, non-nil slice.
func (d *decoder) stringsInto(p *[]string) error {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.literal("null")
	case '[':
	default:
		return d.valueTypeError("[]string")
	}
	if *p == nil {
		return d.newStrings(p)
	}
	s := *p
	n := 0
	more, err := d.arrayBegin()
	for more && err == nil {
		if n < cap(s) {
			s = s[:n+1]
		} else {
			s = append(s[:n], "")
		}
		if err = d.stringInto(&s[n], "string"); err != nil {
			return err
		}
		n++
		if i := d.i; i < len(d.b) && d.b[i] == ',' {
			d.i = i + 1 // the fast path of arrayNext
			continue
		}
		more, err = d.arrayNextSlow()
	}
	if err != nil {
		return err
	}
	if n == 0 {
		*p = []string{}
	} else {
		*p = s[:n]
	}
	return nil
}

// newStrings decodes an array of strings into a new slice carved from the
// decoder's slab, so that the string slices of one decode share an
// allocation.
func (d *decoder) newStrings(p *[]string) error {
	first := len(d.strs)
	more, err := d.arrayBegin()
	for more && err == nil {
		if len(d.strs) == cap(d.strs) {
			// Start a new slab and move this array's elements to it.
			n := len(d.strs) - first
			slab := make([]string, n, max(16, 2*n))
			copy(slab, d.strs[first:])
			d.strs, first = slab, 0
		}
		d.strs = append(d.strs, "")
		if err = d.stringInto(&d.strs[len(d.strs)-1], "string"); err != nil {
			return err
		}
		if i := d.i; i < len(d.b) && d.b[i] == ',' {
			d.i = i + 1 // the fast path of arrayNext
			continue
		}
		more, err = d.arrayNextSlow()
	}
	if err != nil {
		return err
	}
	if len(d.strs) == first {
		*p = []string{}
	} else {
		*p = d.strs[first:len(d.strs):len(d.strs)]
	}
	return nil
}

// Field-name folding, as encoding/json matches a key to a field when no
// field has the key's exact name: ASCII upper case, other runes to the
// smallest rune of their Unicode fold set.
func foldName(k string) string {
	var buf [32]byte
	out := buf[:0]
	for _, r := range k {
		if r < utf8.RuneSelf {
			if 'a' <= r && r <= 'z' {
				r -= 'a' - 'A'
			}
			out = append(out, byte(r))
		} else {
			out = utf8.AppendRune(out, foldRune(r))
		}
	}
	return string(out)
}

func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
