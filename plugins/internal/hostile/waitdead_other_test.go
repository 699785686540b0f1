//go:build !linux

package hostile

import (
	"testing"
	"time"
)

// waitDead needs a pidfd, which only Linux has: the tests that use it are
// skipped elsewhere.
func waitDead(t *testing.T, pid int, d time.Duration) bool {
	t.Skip("waiting for a process without polling needs a pidfd (Linux)")
	return false
}
