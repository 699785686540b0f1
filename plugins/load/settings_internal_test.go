package load

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The schema compiler has panicked on a plugin's schema (a nil *big.Rat
// for 1e-10000000, which the number bound now refuses before it is
// compiled); a panic there is the schema's error, and the host stays up.
func TestRecoveredTurnsAPanicIntoAnError(t *testing.T) {
	err := recovered(func() error {
		var p *struct{ n int }
		return func() error { _ = p.n; return nil }()
	})
	require.ErrorContains(t, err, "the schema compiler failed on it: runtime error: invalid memory address or nil pointer dereference")
	require.NoError(t, recovered(func() error { return nil }))
}
