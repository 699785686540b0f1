package scan

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
)

// seg is a data segment as the tests write it: flags, the offset
// expression's bytes (without its end) and the data.
type seg struct {
	flags uint32
	expr  []byte
	init  []byte
}

// at is an active segment of memory 0 writing init at off.
func at(off int32, init string) seg {
	return seg{expr: appendS32([]byte{0x41}, off), init: []byte(init)}
}

// dataModule is a module with one memory of pages pages, exported as
// "mem", and segs as its data section (with a data count section before
// the code section if dataCount).
func dataModule(pages uint32, dataCount bool, segs ...seg) []byte {
	b := append([]byte(nil), header...)
	mem := []byte{1, 0}
	mem = leb(mem, uint64(pages))
	b = section(b, 5, mem)
	exp := []byte{1, 3, 'm', 'e', 'm', 2, 0}
	b = section(b, 7, exp)
	if dataCount {
		b = section(b, 12, leb(nil, uint64(len(segs))))
	}
	var d []byte
	d = leb(d, uint64(len(segs)))
	for _, s := range segs {
		d = leb(d, uint64(s.flags))
		if s.flags != 1 {
			d = append(d, s.expr...)
			d = append(d, 0x0b)
		}
		d = leb(d, uint64(len(s.init)))
		d = append(d, s.init...)
	}
	return section(b, 11, d)
}

// image instantiates b with wazero's interpreter and returns its memory,
// or the error that stopped it.
func image(t testing.TB, b []byte) ([]byte, error) {
	t.Helper()
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	m, err := r.Instantiate(ctx, b)
	if err != nil {
		return nil, err
	}
	buf, ok := m.Memory().Read(0, m.Memory().Size())
	require.True(t, ok)
	return bytes.Clone(buf), nil
}

// A merged is a data segment of a module: its address and bytes.
type merged struct {
	off  uint32
	init []byte
}

// segmentsOf returns the data segments of b, which must be mergeable.
func segmentsOf(t testing.TB, b []byte) []merged {
	t.Helper()
	r := &reader{b: b, i: 8}
	for !r.eof() {
		id := r.byte()
		size := r.u32()
		require.NoError(t, r.err)
		if id == 11 {
			segs, err := readSegments(&reader{b: b[:r.i+int(size)], i: r.i})
			require.NoError(t, err)
			var out []merged
			for _, s := range segs {
				out = append(out, merged{s.off, b[s.start : s.start+s.len]})
			}
			return out
		}
		r.i += int(size)
	}
	return nil
}

// sameImage checks that b and MergeData's result instantiate to the same
// memory, or both fail, and returns whether MergeData changed b.
func sameImage(t testing.TB, b []byte, maxGap uint32) bool {
	t.Helper()
	out := MergeData(b, maxGap)
	if &out[0] == &b[0] {
		require.Equal(t, len(b), len(out))
		return false
	}
	want, werr := image(t, b)
	got, gerr := image(t, out)
	if werr != nil {
		require.Error(t, gerr, "the original fails (%v), the merged module does not", werr)
		return true
	}
	require.NoError(t, gerr, "the original instantiates, the merged module does not")
	require.True(t, bytes.Equal(want, got), "the memories differ")
	return true
}

func TestMergeData(t *testing.T) {
	b := dataModule(1, false, at(0, "ab"), at(4, "cd"), at(140, "ef"), at(100, "gh"))
	require.True(t, sameImage(t, b, DefaultMaxGap))
	segs := segmentsOf(t, MergeData(b, DefaultMaxGap))
	require.Len(t, segs, 2, "0..6 and 100..142: 100 is 94 bytes past 6")
	assert.Equal(t, uint32(0), segs[0].off)
	assert.Equal(t, "ab\x00\x00cd", string(segs[0].init))
	assert.Equal(t, uint32(100), segs[1].off)
	assert.Equal(t, "gh"+string(make([]byte, 38))+"ef", string(segs[1].init))

	// A gap of exactly maxGap merges; one more byte does not.
	// (100 bytes of data each: a section more than twice as large would
	// not be merged.)
	a := strings.Repeat("a", 100)
	assert.Len(t, segmentsOf(t, MergeData(dataModule(1, false, at(0, a), at(164, a)), 64)), 1)
	assert.Len(t, segmentsOf(t, MergeData(dataModule(1, false, at(0, a), at(165, a), at(265, a)), 64)), 2)
}

func TestMergeDataLeavesAlone(t *testing.T) {
	same := func(t *testing.T, b []byte) {
		t.Helper()
		out := MergeData(b, DefaultMaxGap)
		require.Equal(t, b, out)
		require.Same(t, &b[0], &out[0], "b itself, not a copy")
	}
	for name, b := range map[string][]byte{
		"overlap":        dataModule(1, false, at(0, "abcd"), at(2, "x")),
		"same address":   dataModule(1, false, at(8, "a"), at(8, "b")),
		"passive":        dataModule(1, false, at(0, "a"), seg{flags: 1, init: []byte("b")}),
		"memory index":   dataModule(1, false, at(0, "a"), seg{flags: 2, expr: []byte{0, 0x41, 4}, init: []byte("b")}),
		"global offset":  dataModule(1, false, at(0, "a"), seg{expr: []byte{0x23, 0}, init: []byte("b")}),
		"i64 offset":     dataModule(1, false, at(0, "a"), seg{expr: []byte{0x42, 4}, init: []byte("b")}),
		"empty":          dataModule(1, false, at(0, "a"), at(4, "")),
		"data count":     dataModule(1, true, at(0, "a"), at(4, "b")),
		"one segment":    dataModule(1, false, at(0, "a")),
		"nothing merges": dataModule(1, false, at(0, "a"), at(1000, "b")),
		"no data":        dataModule(1, false),
		"two sections": append(dataModule(1, false, at(0, "a"), at(4, "b")),
			section(nil, 11, []byte{1, 0, 0x41, 8, 0x0b, 1, 'c'})...),
		"truncated": dataModule(1, false, at(0, "a"), at(4, "b"))[:30],
	} {
		t.Run(name, func(t *testing.T) { same(t, b) })
	}
	t.Run("more than twice the section", func(t *testing.T) {
		// One byte every 60: 6 bytes of section per segment become 60.
		var segs []seg
		for i := range 100 {
			segs = append(segs, at(int32(i*60), "x"))
		}
		same(t, dataModule(1, false, segs...))
	})
}

// TestMergeDataBounds: a segment past the memory's end fails the
// instantiation before and after the merge, and offsets that are negative
// as an i32 are addresses over 2 GiB.
func TestMergeDataBounds(t *testing.T) {
	for name, b := range map[string][]byte{
		"last runs past the end":   dataModule(1, false, at(65530, "a"), at(65535, "bc")),
		"first runs past the end":  dataModule(1, false, at(65535, "bc"), at(65530, "a")),
		"ends at the end":          dataModule(1, false, at(65530, "a"), at(65535, "b")),
		"negative offset":          dataModule(1, false, at(0, "a"), at(-1, "b"), at(-3, "c")),
		"two runs, second too far": dataModule(1, false, at(0, "a"), at(2, "b"), at(65530, "bbbbbbbbbb"), at(65520, "c")),
	} {
		t.Run(name, func(t *testing.T) {
			require.True(t, sameImage(t, b, DefaultMaxGap))
		})
	}
}

func TestSignedLEB(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 63, 64, -64, -65, 1 << 20, -1 << 31, 1<<31 - 1, 0x7ffffff, -0x8000000} {
		b := appendS32(nil, v)
		require.Equal(t, lenS32(v), len(b))
		r := &reader{b: b}
		require.Equal(t, v, r.s32(), "%d (% x)", v, b)
		require.NoError(t, r.err)
		require.Equal(t, len(b), r.i)
	}
	// Five bytes whose unused bits are not the sign's extension.
	for _, b := range [][]byte{{0x80, 0x80, 0x80, 0x80, 0x10}, {0xff, 0xff, 0xff, 0xff, 0x0f | 0x60}, {0x80, 0x80, 0x80, 0x80, 0x80, 0}} {
		r := &reader{b: b}
		r.s32()
		require.Error(t, r.err, "% x", b)
	}
}

// randomData is a data module with random segments: mostly disjoint and
// close (what merges), sometimes overlapping, empty, out of bounds, or of
// another kind.
func randomData(rng *rand.Rand) []byte {
	n := 1 + rng.IntN(40)
	pages := uint32(1 + rng.IntN(2))
	var segs []seg
	addr := int32(rng.IntN(200))
	for range n {
		size := 1 + rng.IntN(20)
		init := make([]byte, size)
		for i := range init {
			init[i] = byte(rng.IntN(4)) // zeros too
		}
		off := addr
		switch rng.IntN(250) {
		case 0:
			off = int32(rng.IntN(int(pages) * 65536)) // anywhere: may overlap
		case 1:
			off = int32(int(pages)*65536 - rng.IntN(10)) // at or past the end
		case 2:
			init = nil
		case 3:
			segs = append(segs, seg{flags: 1, init: init})
			continue
		}
		segs = append(segs, seg{expr: appendS32([]byte{0x41}, off), init: init})
		addr = off + int32(size) + int32(rng.IntN(90))
	}
	if rng.IntN(3) == 0 {
		rng.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	}
	return dataModule(pages, rng.IntN(30) == 0, segs...)
}

// TestMergeDataSameImage instantiates random data sections before and after
// MergeData with wazero and compares the memories.
func TestMergeDataSameImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	changed := 0
	for range 1500 {
		b := randomData(rng)
		if _, err := Module(b, Limits{}); err != nil {
			continue
		}
		if sameImage(t, b, uint32(rng.IntN(100))) {
			changed++
		}
	}
	require.Greater(t, changed, 500, "most random modules merge")
}

func FuzzMergeData(f *testing.F) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		f.Add(randomData(rng), uint32(64))
	}
	f.Fuzz(func(t *testing.T, b []byte, maxGap uint32) {
		if _, err := Module(b, Limits{ModuleBytes: 1 << 16}); err != nil {
			return
		}
		maxGap %= 1 << 12
		out := MergeData(b, maxGap)
		if len(out) > 0 && len(b) > 0 && &out[0] == &b[0] {
			return
		}
		require.LessOrEqual(t, len(out), 3*len(b), "bounded growth")
		sameImage(t, b, maxGap)
	})
}

// TestRewrite caps the tables and merges the data in one copy; the
// sections in between are kept byte for byte.
func TestRewrite(t *testing.T) {
	a := strings.Repeat("a", 100)
	data := dataModule(1, false, at(0, a), at(120, a))
	tbl := tables([2]int64{10, -1})
	m := append(append([]byte(nil), tbl...), data[len(header):]...) // tables, memory, export, data
	out, err := Rewrite(m, 1000, DefaultMaxGap)
	require.NoError(t, err)
	st, err := Module(out, Limits{})
	require.NoError(t, err)
	assert.Zero(t, st.UncappedTables)
	assert.Len(t, segmentsOf(t, out), 1)
	capped, err := CapTables(m, 1000)
	require.NoError(t, err)
	assert.Equal(t, MergeData(capped, DefaultMaxGap), out, "the same as the two rewrites one after the other")
	wantMem, err := image(t, data)
	require.NoError(t, err)
	gotMem, err := image(t, out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(wantMem, gotMem))

	// Neither applies: b itself.
	plain := tables([2]int64{1, 2})
	out, err = Rewrite(plain, 1000, DefaultMaxGap)
	require.NoError(t, err)
	require.Same(t, &plain[0], &out[0])
}

// TestRewriteSectionsOutOfOrder: the scan does not check the order of the
// sections (wazero does), so Rewrite may be given a data section before a
// table section, both to rewrite. It must not panic (the host calls it
// without recover: a panic ends the process) and must keep the sections in
// the order they came, which wazero then refuses as it refuses the
// original.
func TestRewriteSectionsOutOfOrder(t *testing.T) {
	a := strings.Repeat("a", 100)
	data := dataModule(1, false, at(0, a), at(120, a))
	tbl := tables([2]int64{10, -1})
	m := append(append([]byte(nil), data...), tbl[len(header):]...) // memory, export, data, tables
	_, err := Module(m, Limits{})
	require.NoError(t, err, "the scan passes it")
	var out []byte
	require.NotPanics(t, func() { out, err = Rewrite(m, 1000, DefaultMaxGap) })
	require.NoError(t, err)
	st, err := Module(out, Limits{})
	require.NoError(t, err)
	assert.Zero(t, st.UncappedTables)
	assert.Len(t, segmentsOf(t, out), 1)
	_, werr := image(t, m)
	require.ErrorContains(t, werr, "invalid section order")
	_, gerr := image(t, out)
	require.ErrorContains(t, gerr, "invalid section order")
}

// TestMergeDataImportedMemory: a memory the module imports does not start
// zeroed (its exporter, or another importer, wrote it), so zeros written
// into the gaps between segments overwrite bytes that the original module
// leaves alone. MergeData must leave a module that imports a memory as it
// is. (The host refuses such a plugin after compiling it, checkModule; the
// scan package must not rely on it.)
func TestMergeDataImportedMemory(t *testing.T) {
	ctx := context.Background()
	// "env" exports one page of 0xff.
	env := section(append([]byte(nil), header...), 5, []byte{1, 0, 1})
	env = section(env, 7, []byte{1, 3, 'm', 'e', 'm', 2, 0})
	ff := bytes.Repeat([]byte{0xff}, 64)
	env = section(env, 11, append([]byte{1, 0, 0x41, 0, 0x0b, 64}, ff...))
	// The module imports it and writes "ab" at 0 and "cd" at 8.
	imp := []byte{1, 3, 'e', 'n', 'v', 3, 'm', 'e', 'm', 2, 0, 1}
	m := section(append([]byte(nil), header...), 2, imp)
	m = section(m, 11, []byte{2, 0, 0x41, 0, 0x0b, 2, 'a', 'b', 0, 0x41, 8, 0x0b, 2, 'c', 'd'})
	_, err := Module(m, Limits{})
	require.NoError(t, err)

	memory := func(b []byte) []byte {
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer r.Close(ctx)
		e, err := r.InstantiateWithConfig(ctx, env, wazero.NewModuleConfig().WithName("env"))
		require.NoError(t, err)
		_, err = r.InstantiateWithConfig(ctx, b, wazero.NewModuleConfig().WithName("m"))
		require.NoError(t, err)
		buf, ok := e.Memory().Read(0, 16)
		require.True(t, ok)
		return bytes.Clone(buf)
	}
	want := memory(m)
	require.Equal(t, "ab\xff\xff\xff\xff\xff\xffcd\xff\xff\xff\xff\xff\xff", string(want))
	out := MergeData(m, DefaultMaxGap)
	assert.Equal(t, want, memory(out), "the gap's bytes are the exporter's")
	out, err = Rewrite(m, 1000, DefaultMaxGap)
	require.NoError(t, err)
	assert.Equal(t, want, memory(out))
}

// compileAndImage compiles b with wazero's interpreter and instantiates
// it: the compile error, or the instantiation's error, or the memory
// exported as "mem" (nil if none).
func compileAndImage(b []byte) (mem []byte, compileErr, instErr error) {
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer r.Close(ctx)
	cm, err := r.CompileModule(ctx, b)
	if err != nil {
		return nil, err, nil
	}
	m, err := r.InstantiateModule(ctx, cm, wazero.NewModuleConfig())
	if err != nil {
		return nil, nil, err
	}
	if e := m.ExportedMemory("mem"); e != nil {
		buf, _ := e.Read(0, e.Size())
		return bytes.Clone(buf), nil, nil
	}
	return nil, nil, nil
}

// FuzzRewrite is FuzzMergeData for Rewrite, tables and data together, with
// the sections in any order (the scan does not check it): Rewrite never
// panics nor refuses what Module passes, grows a module at most to twice
// its size, and wazero compiles and instantiates its result as it does
// the original (both refused, or the same memory).
func FuzzRewrite(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	tbl := tables([2]int64{3, -1})
	for range 30 {
		d := randomData(rng)
		f.Add(d)
		f.Add(append(append([]byte(nil), tbl...), d[len(header):]...))
		f.Add(append(append([]byte(nil), d...), tbl[len(header):]...)) // data before tables
	}
	l := Limits{ModuleBytes: 1 << 16, TableElements: 1 << 18, Tables: 8, DataSegments: 250_000}
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Module(b, l); err != nil {
			return
		}
		var out []byte
		var err error
		require.NotPanics(t, func() { out, err = Rewrite(b, 1<<18, DefaultMaxGap) })
		require.NoError(t, err)
		if &out[0] == &b[0] {
			return
		}
		require.LessOrEqual(t, len(out), 2*len(b)+64, "bounded growth")
		wantMem, wantC, wantI := compileAndImage(b)
		gotMem, gotC, gotI := compileAndImage(out)
		require.Equal(t, wantC == nil, gotC == nil, "compile: %v, after Rewrite: %v", wantC, gotC)
		require.Equal(t, wantI == nil, gotI == nil, "instantiate: %v, after Rewrite: %v", wantI, gotI)
		require.True(t, bytes.Equal(wantMem, gotMem), "the memories differ")
	})
}
