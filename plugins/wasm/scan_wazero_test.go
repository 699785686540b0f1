package wasm

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/codexhost/codexhost/plugins/wasm/internal/scan"
)

func r8leb(b []byte, v uint64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func r8section(b []byte, id byte, body []byte) []byte {
	b = append(b, id)
	b = r8leb(b, uint64(len(body)))
	return append(b, body...)
}

// r8OneFunc returns a module of one function () -> () with body (locals
// and code).
func r8OneFunc(body []byte) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	b = r8section(b, 1, []byte{1, 0x60, 0, 0})
	b = r8section(b, 3, []byte{1, 0})
	code := r8leb([]byte{1}, uint64(len(body)))
	return r8section(b, 10, append(code, body...))
}

// The scan reads the opcode after the SIMD prefix 0xfd as a LEB128 u32
// (as the spec says); wazero v1.12.0, in its validator and its compiler,
// reads one byte. 0xfd 0x8c 0x00 is v128.const (0x0c, non-minimally
// encoded) for the scan, which then skips 16 bytes of immediate; for
// wazero it is i16x8.shr_s (0x8c), unreachable (0x00), and the 16 bytes
// are instructions. Here each chunk hides end, if, end, if, end, if, nop:
// the function holds 6001 ifs (the limit: 5000 branch instructions), the
// scan counts 1, and wazero compiles every one of them (an if without
// else ends reachable, so the code after the unreachable is compiled).
// Review, round 8.
func TestScanCountsBranchesWazeroSees(t *testing.T) {
	body := []byte{0, 0x41, 0x00, 0x04, 0x40}
	for range 2000 {
		body = append(body, 0xfd, 0x0c)
		body = append(body, make([]byte, 16)...)
		body = append(body, 0x41, 0x00, 0xfd, 0x8c, 0x00)
		body = append(body, 0x0b, 0x41, 0x00, 0x04, 0x40, 0x0b, 0x41, 0x00, 0x04, 0x40, 0x0b, 0x41, 0x00, 0x04, 0x40, 0x01)
	}
	body = append(body, 0x0b, 0x0b)
	mod := r8OneFunc(body)

	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	_, err := rt.CompileModule(ctx, mod)
	require.NoError(t, err, "wazero compiles it")

	st, err := scan.Module(mod, moduleLimits(&Options{}))
	t.Logf("scan: %v, branches counted %d", err, st.MaxBranches)
	var le *scan.LimitError
	assert.True(t, errors.As(err, &le), "6001 ifs in a function are over the limit of 5000 branch instructions")
}

// Modules wazero v1.12.0 compiles with its default features that the
// scan refuses as malformed ("wazero would refuse it too"). Review,
// round 8.
func TestScanNoFalseMalformed(t *testing.T) {
	h := []byte("\x00asm\x01\x00\x00\x00")
	for _, c := range []struct {
		name string
		mod  []byte
	}{
		// A table with an initializer expression (0x40 0x00 funcref,
		// min 1, ref.null func): wazero's decoder reads it whatever the
		// features; the scan says the default features lack it.
		{"table-initializer", r8section(h, 4, []byte{1, 0x40, 0x00, 0x70, 0x00, 0x01, 0xd0, 0x70, 0x0b})},
		// ref.null with its heap type as a type index in LEB128 (here
		// 0 in two bytes): wazero reads a u32; the scan one byte.
		{"ref-null-type-index", r8section(r8section(h, 1, []byte{1, 0x60, 0, 0}), 6, []byte{1, 0x70, 0, 0xd0, 0x80, 0x00, 0x0b})},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			_, err := rt.CompileModule(ctx, c.mod)
			require.NoError(t, err, "wazero compiles it")
			_, err = scan.Module(c.mod, moduleLimits(&Options{}))
			assert.NotErrorIs(t, err, scan.ErrMalformed)
		})
	}
}
