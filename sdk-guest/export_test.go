package guest

import "testing"

// UseFreshRegistry gives the test an empty package-level registry and
// restores the previous one when the test ends. Tests that use it must not
// run in parallel.
func UseFreshRegistry(t testing.TB) {
	t.Helper()
	saved := std
	std = new(registry)
	t.Cleanup(func() { std = saved })
}
