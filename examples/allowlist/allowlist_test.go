package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// The allow-list policy needs the network, so it runs as a process plugin.
// The test starts the allow-list service on 127.0.0.1; the service allows
// commands that create ok.txt and refuses the rest, and the real codex runs
// exactly what it allowed. With the service down, the policy declines.
func TestAllowlistOnRealCodex(t *testing.T) {
	e2e.RequireCodex(t)
	var mu sync.Mutex
	var asked []string
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cmd := r.URL.Query().Get("command")
		mu.Lock()
		asked = append(asked, cmd)
		mu.Unlock()
		allow := strings.Contains(cmd, "ok.txt")
		_ = json.NewEncoder(w).Encode(map[string]any{"allow": allow, "why": fmt.Sprintf("allow-list says %v", allow)})
	}))
	defer svc.Close()

	settings, _ := json.Marshal(map[string]string{"url": svc.URL + "/check"})
	policy := e2e.LoadProcess(t, ".", &process.Options{Options: plugins.Options{
		Settings: settings,
		Grants:   abi.Capabilities{Network: true},
	}})
	var decisions e2e.Decisions
	env := e2e.Start(t, e2e.Config{
		Script: hosttest.Turns(
			hosttest.Turn(hosttest.ExecCommand("touch ok.txt"), hosttest.Text("made ok")),
			hosttest.Turn(hosttest.ExecCommand("touch forbidden.txt"), hosttest.Text("tried")),
			hosttest.Turn(hosttest.ExecCommand("touch ok.txt.again"), hosttest.Text("tried again")),
		),
		Chain: chain.Options{Plugins: []plugins.Plugin{policy}, OnDecision: decisions.Record},
	})
	env.Run(t, "make ok.txt")
	env.Run(t, "make forbidden.txt")
	svc.Close() // an outage must not turn into an approval
	env.Run(t, "make ok.txt.again")

	_, err := os.Stat(filepath.Join(env.Work, "ok.txt"))
	require.NoError(t, err, "the allowed command ran")
	_, err = os.Stat(filepath.Join(env.Work, "forbidden.txt"))
	require.ErrorIs(t, err, os.ErrNotExist, "the refused command did not run")
	_, err = os.Stat(filepath.Join(env.Work, "ok.txt.again"))
	require.ErrorIs(t, err, os.ErrNotExist, "with the service down, nothing is approved")

	mu.Lock()
	assert.Len(t, asked, 2, "the service was asked about both commands while it was up")
	mu.Unlock()
	records := decisions.All()
	require.Len(t, records, 3)
	assert.Equal(t, abi.Accept, records[0].Decision)
	assert.Equal(t, abi.Decline, records[1].Decision)
	assert.Equal(t, abi.Decline, records[2].Decision)
	assert.Contains(t, records[2].Answers[0].Reason, "unreachable")
}

// Built for Wasm, the same plugin cannot get the network: loading it is
// refused without the grant, and with it too, because the sandbox has no
// network to give.
func TestAllowlistRefusedAsWasm(t *testing.T) {
	bin := plugintest.BuildGoGuest(t, ".")
	rt, err := wasm.NewRuntime(t.Context(), nil)
	require.NoError(t, err)
	defer rt.Close(t.Context())
	_, err = rt.Load(t.Context(), bin, nil)
	require.ErrorIs(t, err, plugins.ErrNotGranted)
	assert.Contains(t, err.Error(), "network")
	_, err = rt.Load(t.Context(), bin, &wasm.Options{Options: plugins.Options{Grants: abi.Capabilities{Network: true}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "network")
}
