package chain_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
)

// The test binary doubles as a fake app-server (hosttest.FakeAppServer).
func TestMain(m *testing.M) {
	if sc := os.Getenv(hosttest.EnvFakeAppServer); sc != "" {
		os.Exit(hosttest.FakeAppServer(sc))
	}
	goleak.VerifyTestMain(m)
}

// startFake starts the test binary as a fake app-server playing scenario.
func startFake(t *testing.T, scenario string, deltas int, opts *host.Options) *host.Client {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	o := host.Options{}
	if opts != nil {
		o = *opts
	}
	o.Codex = exe
	o.StopGrace = time.Second
	o.Env = append(o.Env, "GORACE=atexit_sleep_ms=0", hosttest.EnvFakeAppServer+"="+scenario, fmt.Sprintf("FAKE_DELTAS=%d", deltas))
	c, err := host.Start(t.Context(), &o)
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
	})
	return c
}
