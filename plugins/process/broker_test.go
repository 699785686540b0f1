//go:build linux

package process_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
)

// go-plugin's client opens its broker stream on every plugin connection
// and reads it without bound: a plugin flooding it with knocks for new
// service ids grew the host's heap by 455 MiB (an entry per id, kept for
// the connection's life), and with connection infos started a goroutine
// per message (287,378 after one flood) (review 16). codexhost does not
// use the broker, and no longer opens its stream; a call still works.
func TestBrokerStreamIsNotOpened(t *testing.T) {
	bin := plugintest.BuildProcessGuest(t, "testdata/broker")
	for _, kind := range []string{"knock", "conn"} {
		t.Run(kind, func(t *testing.T) {
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			goroutines := runtime.NumGoroutine()
			p, err := process.Load(t.Context(), bin, &process.Options{Env: []string{"ADV_KIND=" + kind, "ADV_N=300000"}})
			require.NoError(t, err)
			defer p.Close(context.Background())
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			out, err := p.Call(ctx, abi.HookApproval, []byte(`{"kind":"command","command":"ls"}`))
			require.NoError(t, err)
			assert.JSONEq(t, `{"decision":"decline","reason":"no broker"}`, string(out), "the host opened the broker stream")
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			assert.Less(t, int64(after.HeapInuse)-int64(before.HeapInuse), int64(64<<20))
			assert.Less(t, runtime.NumGoroutine()-goroutines, 1000)
		})
	}
}
