package scan

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A vector's declared length is what the runtime allocates before it
// reads an entry: the scan refuses one longer than the bytes left for it.
// Each module here is a few bytes; the runtime asked the Go runtime for
// hundreds of GB on the first, which ends the process (review, round 7).
func TestDeclaredLengthsFitTheSection(t *testing.T) {
	huge := leb(nil, 1<<32-1)
	one := func(id byte, body ...byte) []byte { return section(append([]byte(nil), header...), id, body) }
	cat := func(parts ...[]byte) (b []byte) {
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	str := func(s string) []byte { return append(leb(nil, uint64(len(s))), s...) }
	for name, b := range map[string][]byte{
		"globals":                 one(6, huge...),
		"types":                   one(1, huge...),
		"imports":                 one(2, huge...),
		"functions":               one(3, huge...),
		"tables":                  one(4, huge...),
		"exports":                 one(7, huge...),
		"element segments":        one(9, huge...),
		"code":                    one(10, huge...),
		"data segments":           one(11, huge...),
		"parameters of a type":    one(1, cat([]byte{1, 0x60}, huge, []byte{0})...),
		"an import's module name": one(2, cat([]byte{1}, huge)...),
		"an export's name":        one(7, cat([]byte{1}, huge)...),
		"a data segment's bytes":  one(11, cat([]byte{1, 1}, huge)...),
		"an element vector":       one(9, cat([]byte{1, 1, 0}, huge)...),
		"function names":          one(0, cat(str("name"), []byte{1, 5}, huge)...),
		"local names":             one(0, cat(str("name"), []byte{2, 7, 1, 0}, huge)...),
		"a name's bytes":          one(0, cat(str("name"), []byte{0, 5}, huge)...),
		"a name subsection":       one(0, cat(str("name"), []byte{1}, huge)...),
		"a custom section's name": one(0, huge...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Module(b, Limits{})
			require.ErrorIs(t, err, ErrMalformed)
			t.Log(err)
		})
	}
}

// Each section's entries are bounded, each a few bytes of the module and
// tens of bytes of the host's memory once decoded.
func TestSectionLimits(t *testing.T) {
	l := Limits{Types: 2, TypeArity: 3, Imports: 2, Globals: 2, Exports: 2, ElementSegments: 2, ElementEntries: 4,
		DataSegments: 2, NameSectionBytes: 16}
	vec := func(id byte, n int, entry ...byte) []byte {
		body := leb(nil, uint64(n))
		for range n {
			body = append(body, entry...)
		}
		return section(append([]byte(nil), header...), id, body)
	}
	wasi := append(append([]byte{22}, "wasi_snapshot_preview1"...), append(append([]byte{11}, "sched_yield"...), 0, 0)...)
	name := func(n int) []byte {
		body := append([]byte{4}, "name"...)
		body = append(body, 0)
		body = leb(body, uint64(n+1))
		body = leb(body, uint64(n))
		for range n {
			body = append(body, 'x')
		}
		return section(append([]byte(nil), header...), 0, body)
	}
	for _, c := range []struct {
		what    string
		ok, bad []byte
	}{
		{"function types", vec(1, 2, 0x60, 0, 0), vec(1, 3, 0x60, 0, 0)},
		{"parameters and results", vec(1, 1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f), vec(1, 1, 0x60, 2, 0x7f, 0x7f, 2, 0x7f, 0x7f)},
		{"imports", vec(2, 2, wasi...), vec(2, 3, wasi...)},
		{"globals", vec(6, 2, 0x7f, 0, 0x41, 0, 0x0b), vec(6, 3, 0x7f, 0, 0x41, 0, 0x0b)},
		{"exports", vec(7, 2, 1, 'a', 0, 0), vec(7, 3, 1, 'a', 0, 0)},
		{"element segments", vec(9, 2, 1, 0, 0), vec(9, 3, 1, 0, 0)},
		{"entries of the element segments", vec(9, 2, 1, 0, 2, 0, 0), vec(9, 2, 1, 0, 3, 0, 0, 0)},
		{"data segments", vec(11, 2, 1, 0), vec(11, 3, 1, 0)},
		{`custom section "name"`, name(13), name(14)}, // 16 and 17 bytes after its name
	} {
		t.Run(c.what, func(t *testing.T) {
			_, err := Module(c.ok, l)
			require.NoError(t, err)
			_, err = Module(c.bad, l)
			limitErr(t, err, c.what)
		})
	}
}

// Every entry form of the sections the scan reads, as the runtime
// decodes it: what a valid module holds passes.
func TestSectionEntryForms(t *testing.T) {
	expr := []byte{0x41, 0x7f, 0x0b} // i32.const -1
	for name, b := range map[string][]byte{
		"globals of every constant": section(append([]byte(nil), header...), 6, []byte{6,
			0x7f, 0, 0x41, 0x80, 0x7f, 0x0b, // i32.const
			0x7e, 1, 0x42, 0x80, 0x80, 0x7f, 0x0b, // i64.const
			0x7d, 0, 0x43, 0, 0, 0, 0, 0x0b, // f32.const
			0x7c, 0, 0x44, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // f64.const
			0x70, 0, 0xd0, 0x70, 0x0b, // ref.null func
			0x7b, 0, 0xfd, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // v128.const
		}),
		"element segments of every flag": section(append([]byte(nil), header...), 9, append(append(append(append(append(append(append(append([]byte{8},
			append([]byte{0}, append(expr, 1, 0)...)...),
			1, 0, 1, 0),
			append([]byte{2, 0}, append(expr, 0, 1, 0)...)...),
			3, 0, 1, 0),
			append([]byte{4}, append(expr, 1, 0xd2, 0, 0x0b)...)...),
			5, 0x70, 1, 0xd0, 0x70, 0x0b),
			append([]byte{6, 0}, append(expr, 0x70, 1, 0xd2, 0, 0x0b)...)...),
			7, 0x70, 1, 0xd2, 0, 0x0b)),
		"data segments of every flag": section(append([]byte(nil), header...), 11, append(append([]byte{3},
			append([]byte{0}, append(expr, 2, 'h', 'i')...)...),
			append([]byte{1, 1, 'x', 2, 0}, append(expr, 0)...)...)),
		"start and data count":   section(section(append([]byte(nil), header...), 8, []byte{0}), 12, []byte{3}),
		"another custom section": section(append([]byte(nil), header...), 0, append([]byte{8}, "producer\xff\xff"...)),
	} {
		_, err := Module(b, Limits{})
		assert.NoError(t, err, name)
	}
	for name, b := range map[string][]byte{
		"a global of a non-constant": section(append([]byte(nil), header...), 6, []byte{1, 0x7f, 0, 0x20, 0, 0x0b}),
		"a GC type":                  section(append([]byte(nil), header...), 1, []byte{1, 0x4e, 0}),
		"element flags 8":            section(append([]byte(nil), header...), 9, []byte{1, 8}),
		"data flags 3":               section(append([]byte(nil), header...), 11, []byte{1, 3, 0}),
		"bytes after the entries":    section(append([]byte(nil), header...), 6, []byte{0, 0}),
		"a tag section":              section(append([]byte(nil), header...), 13, []byte{0}),
	} {
		_, err := Module(b, Limits{})
		assert.ErrorIs(t, err, ErrMalformed, name)
	}
}

func ExampleModule() {
	// 4 billion globals declared in 15 bytes.
	b := []byte("\x00asm\x01\x00\x00\x00\x06\x05\xff\xff\xff\xff\x0f")
	_, err := Module(b, Limits{Globals: 10_000})
	fmt.Println(err)
	// Output: globals: 4294967295, over the limit of 10000
}
