package abi_test

import (
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// A guest packs its result with PackResult (sdk-guest, GOOS=wasip1) and the
// host splits it with UnpackResult: the two are inverse for every offset
// and length, the offset in the high half as docs/abi.md states.
func TestPackResultRoundTrip(t *testing.T) {
	for _, c := range []struct{ ptr, n uint32 }{{0, 0}, {1, 2}, {0x10000, 17}, {0xffffffff, 0}, {0, 0xffffffff}, {0xdeadbeef, 0x01020304}} {
		v := abi.PackResult(c.ptr, c.n)
		if v>>32 != uint64(c.ptr) || uint32(v) != c.n {
			t.Errorf("PackResult(%#x, %#x) = %#x: want the offset in the high 32 bits, the length in the low", c.ptr, c.n, v)
		}
		if p, n := abi.UnpackResult(v); p != c.ptr || n != c.n {
			t.Errorf("UnpackResult(PackResult(%#x, %#x)) = %#x, %#x", c.ptr, c.n, p, n)
		}
	}
}
