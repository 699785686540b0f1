package rpc_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the run if any test leaves a goroutine behind: every
// goroutine a Conn starts must end by Close/Wait.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
