package host_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/codexhost/codexhost/host/hosttest"
)

// The test binary doubles as a fake app-server (hosttest.FakeAppServer):
// when FAKE_APPSERVER names a scenario, TestMain plays it on stdin/stdout
// instead of running tests. The real codex is exercised by the tests in
// realcodex_test.go; these cover what the real one cannot be made to do on
// demand (die mid-turn, send an unknown request, stream 10k deltas in a
// tight loop).
func TestMain(m *testing.M) {
	if sc := os.Getenv(hosttest.EnvFakeAppServer); sc != "" {
		os.Exit(hosttest.FakeAppServer(sc))
	}
	goleak.VerifyTestMain(m)
}
