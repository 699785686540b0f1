package hostrender_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every Observer goroutine ends with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
