package termsafe

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A string sequence left open (OSC, DCS, SOS, PM, APC, by ESC or in their
// 8-bit form) loses its introducer only, and the search for its end must
// not start again from each later introducer: 1 MiB of "ESC ]" (an agent's
// message, a command's output, a render plugin's answer) took minutes to
// filter, the render pipeline stalled behind it, and the turn with it
// (128 KiB took 14 s; 8-bit OSC 39 s). Linear now: the bound only catches
// the quadratic search, with room for a loaded machine.
func TestRenderOpenSequencesAreLinear(t *testing.T) {
	const size = 1 << 20
	for _, intro := range []string{"\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_", "\u009d", "\u0090", "\u0098", "\u009e", "\u009f"} {
		// Open introducers alone, with text between them, and each
		// followed by an ESC (the start of a sequence that is no ST).
		for _, unit := range []string{intro, intro + "x", intro + "\x1b"} {
			s := strings.Repeat(unit, size/len(unit))
			done := make(chan string, 1)
			go func() { done <- Render(s) }()
			select {
			case out := <-done:
				if !strings.HasSuffix(unit, "\x1b") { // (an ESC then takes a byte of the next introducer)
					want := strings.Repeat(strings.TrimPrefix(unit, intro), size/len(unit))
					assert.Equal(t, want, out, "%q: what is left is the text between the introducers", unit)
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("Render of %d bytes of %q did not end within 20 s", len(s), unit)
			}
		}
	}
	// A terminator after the open ones still ends the sequence it ends.
	assert.Equal(t, "a b", Render("a\x1b]x\x1b]0;title\x07 b"))
	assert.Equal(t, "a b", Render("a\u009dx\u009d0;title\u009c b"))
}
