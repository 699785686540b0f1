package process_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// runHelper, when set (by faults_test.go, on Linux), runs the test binary
// as a helper process instead of the tests if its environment asks for one
// (the os/exec helper-process pattern).
var runHelper func() (code int, ok bool)

func TestMain(m *testing.M) {
	if runHelper != nil {
		if code, ok := runHelper(); ok {
			os.Exit(code)
		}
	}
	goleak.VerifyTestMain(m)
}
