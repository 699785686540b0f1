package render

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The C1 controls are escaped and the JSON value is unchanged, for every
// C1 control, next to multi-byte text (é is C3 A9, Â is C3 82, ¢ is C2 A2)
// and at the ends of strings.
func TestAppendEscapedC1(t *testing.T) {
	var in string
	for r := rune(0x80); r <= 0x9F; r++ {
		in += "é" + string(r) + "Â¢"
	}
	in = "\u009b" + in + "\u0085"
	b, err := json.Marshal(map[string]string{"reason": in})
	require.NoError(t, err)
	out := appendEscapedC1(nil, b)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == 0xC2 {
			assert.False(t, out[i+1] >= 0x80 && out[i+1] <= 0x9F, "raw C1 at %d in %q", i, out)
		}
	}
	var got map[string]string
	require.NoError(t, json.Unmarshal(out, &got))
	assert.Equal(t, in, got["reason"], "the same JSON value")
	assert.Contains(t, string(out), `\u009b`)
}
