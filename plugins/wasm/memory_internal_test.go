package wasm

import (
	"bufio"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

// procStatusKB reads a field of /proc/self/status, in kB (-1 if absent).
func procStatusKB(t *testing.T, key string) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return -1
}

// An instance whose start function fails (wazero then closes nothing) has
// touched its memory: the host gives the pages and the address space back
// at once. 20 such starts of 32 MiB each would hold 640 MB until some
// collection ran the cleanups.
func TestFailedStartReleasesItsMemory(t *testing.T) {
	ctx := t.Context()
	rt, err := NewRuntime(ctx, &RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	p, err := rt.Load(ctx, plugintest.BuildWAT(t, "testdata/misbehave.wat"), nil)
	require.NoError(t, err)
	defer p.Close(context.Background())
	// The plugin's instances now come from trapstart.wat.
	trap, err := rt.r.CompileModule(ctx, plugintest.BuildWAT(t, "testdata/trapstart.wat"))
	require.NoError(t, err)
	cm := *p.compiled
	cm.mod = trap
	p.compiled = &cm

	rss0, vm0 := procStatusKB(t, "VmRSS"), procStatusKB(t, "VmSize")
	var rss, vm int
	for range 20 {
		_, err := p.newInstance(ctx)
		require.Error(t, err)
		rss, vm = max(rss, procStatusKB(t, "VmRSS")), max(vm, procStatusKB(t, "VmSize"))
	}
	assert.Less(t, rss-rss0, 256<<10, "peak RSS grew by %d kB", rss-rss0)
	assert.Less(t, vm-vm0, 1<<20, "peak address space grew by %d kB", vm-vm0)
}

// A call that takes its instance just as Close gives up waiting (and stops
// the calls in flight) is stopped too: it does not start, and Close does
// not wait for its deadline. testHookCallStart puts the call exactly
// there.
func TestCloseStopsACallStartingAsItGivesUp(t *testing.T) {
	ctx := t.Context()
	rt, err := NewRuntime(ctx, &RuntimeOptions{CacheDir: t.TempDir()})
	require.NoError(t, err)
	defer rt.Close(context.Background())
	p, err := rt.Load(ctx, plugintest.BuildWAT(t, "testdata/misbehave.wat"), &Options{Options: plugins.Options{Timeout: time.Hour}})
	require.NoError(t, err)

	closed := make(chan error, 1)
	testHookCallStart = func(hp *Plugin) {
		if hp != p {
			return
		}
		gaveUp, cancel := context.WithCancel(context.Background())
		cancel()
		go func() { closed <- p.Close(gaveUp) }()
		<-p.closing.Done() // Close has stopped the calls in flight
	}
	defer func() { testHookCallStart = nil }()

	_, err = p.Call(ctx, abi.HookApproval, []byte("l")) // l: loop forever
	assert.True(t, errors.Is(err, plugins.ErrClosed), "%v", err)
	require.NoError(t, <-closed)
}
