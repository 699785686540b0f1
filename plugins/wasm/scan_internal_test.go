package wasm

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm/internal/scan"
)

// The scan reads every section wazero decodes, more strictly than a
// validator would need to: it must never refuse as malformed a module
// wazero compiles, and never refuse a Go guest at the default limits.
// Every WAT module of the tests (hostile ones included) and the Go guests
// of the tests are checked against wazero itself.
func TestScanAgreesWithWazero(t *testing.T) {
	var mods []string
	for _, glob := range []string{"testdata/*.wat", "../internal/hostile/testdata/wat/*.wat", "../plugintest/testdata/wat/*.wat"} {
		m, err := filepath.Glob(glob)
		require.NoError(t, err)
		mods = append(mods, m...)
	}
	require.NotEmpty(t, mods)
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	limits := moduleLimits(&Options{})
	check := func(name string, b []byte) {
		_, err := scan.Module(b, limits)
		if !errors.Is(err, scan.ErrMalformed) {
			return
		}
		cm, cerr := rt.CompileModule(context.Background(), b)
		if cerr == nil {
			_ = cm.Close(context.Background())
		}
		assert.Error(t, cerr, "%s: the scan says %v, and wazero compiles it", name, err)
	}
	for _, m := range mods {
		check(m, plugintest.BuildWAT(t, m))
	}
	for _, g := range []string{"testdata/guests/configured", "../../sdk-guest/internal/testguests/ref"} {
		b := plugintest.BuildGoGuest(t, g)
		st, err := scan.Module(b, limits)
		require.NoError(t, err, "the Go guest %s", g)
		t.Logf("%s: %d bytes, %d functions", g, len(b), st.Functions)
	}
}

// sections returns b's sections in order: id and body.
func sections(t *testing.T, b []byte) (ids []byte, bodies [][]byte) {
	t.Helper()
	for i := 8; i < len(b); {
		id := b[i]
		i++
		var size, shift uint64
		for {
			c := b[i]
			i++
			size |= uint64(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
		ids = append(ids, id)
		bodies = append(bodies, b[i:i+int(size)])
		i += int(size)
	}
	return ids, bodies
}

// TestMergeDataGoGuests merges the data segments of Go guests, as prepare
// does, and checks that every other section is the same, byte for byte, and
// that the memory the data section writes is the same: a module of the
// guest's memory and data sections alone is instantiated before and after
// by wazero's interpreter and the two memories compared.
func TestMergeDataGoGuests(t *testing.T) {
	for _, g := range []string{"testdata/guests/configured", "../../sdk-guest/internal/testguests/ref"} {
		t.Run(filepath.Base(g), func(t *testing.T) {
			b := plugintest.BuildGoGuest(t, g)
			out := scan.MergeData(b, scan.DefaultMaxGap)
			ids, bodies := sections(t, b)
			oids, obodies := sections(t, out)
			require.Equal(t, ids, oids)
			image := func(data []byte, mem []byte) []byte {
				t.Helper()
				m := []byte("\x00asm\x01\x00\x00\x00")
				for _, s := range []struct {
					id   byte
					body []byte
				}{{5, mem}, {7, []byte{1, 3, 'm', 'e', 'm', 2, 0}}, {11, data}} {
					m = append(m, s.id)
					m = scanAppendU32(m, uint32(len(s.body)))
					m = append(m, s.body...)
				}
				ctx := context.Background()
				r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
				defer r.Close(ctx)
				inst, err := r.Instantiate(ctx, m)
				require.NoError(t, err)
				img, ok := inst.Memory().Read(0, inst.Memory().Size())
				require.True(t, ok)
				return bytes.Clone(img)
			}
			var mem, data, odata []byte
			for k, id := range ids {
				switch id {
				case 5:
					mem = bodies[k]
				case 11:
					data, odata = bodies[k], obodies[k]
				default:
					require.True(t, bytes.Equal(bodies[k], obodies[k]), "section %d changed", id)
				}
			}
			require.NotNil(t, data)
			before, after := segmentCount(data), segmentCount(odata)
			t.Logf("%s: %d data segments → %d; module %d → %d bytes", g, before, after, len(b), len(out))
			require.Greater(t, before, 10_000, "a Go guest's data as the linker writes it")
			require.LessOrEqual(t, after, 64)
			require.True(t, bytes.Equal(image(data, mem), image(odata, mem)), "the memories differ")

			// What Load compiles (prepare also caps the tables).
			prepared, err := prepare(b, moduleLimits(&Options{}))
			require.NoError(t, err)
			pids, pbodies := sections(t, prepared)
			require.Equal(t, ids, pids)
			require.Equal(t, after, segmentCount(pbodies[slices.Index(pids, 11)]))
		})
	}
}

// segmentCount is the count that starts a data section's body.
func segmentCount(body []byte) int {
	var n, shift int
	for _, c := range body {
		n |= int(c&0x7f) << shift
		shift += 7
		if c&0x80 == 0 {
			break
		}
	}
	return n
}

func scanAppendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// TestPrepareSectionsOutOfOrder: a 40-byte module with its data section
// before an uncapped table section passes the scan (which does not check
// the order of the sections) and gives Rewrite two sections to change in
// the order opposite to the one it assumed: prepare panicked (slice bounds
// out of range), which ends the host (Load and Precompile do not recover).
// The module must be refused as wazero refuses it.
func TestPrepareSectionsOutOfOrder(t *testing.T) {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 5, 3, 1, 0, 1) // memory section: one memory of one page
	data := []byte{2, 0, 0x41, 0, 0x0b, 4, 'a', 'b', 'c', 'd', 0, 0x41, 8, 0x0b, 4, 'e', 'f', 'g', 'h'}
	m = append(m, 11, byte(len(data)))
	m = append(m, data...)             // data: two segments 4 bytes apart
	m = append(m, 4, 4, 1, 0x70, 0, 1) // table section: funcref, min 1, no maximum
	require.NotPanics(t, func() { _, _ = prepare(m, moduleLimits(&Options{})) })

	rt, err := NewRuntime(t.Context(), &RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	err = rt.Precompile(t.Context(), m)
	require.ErrorIs(t, err, plugins.ErrBadModule)
	assert.ErrorContains(t, err, "invalid section order")
}
