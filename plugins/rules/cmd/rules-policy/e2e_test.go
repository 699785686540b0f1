package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// e2eRules are the rules of the end-to-end test. The host does not pass
// the thread's cwd with file-change requests, so globs there are
// absolute: WORK stands for the threads' working directory.
const e2eRules = rulesFile + `
[[rule]]
name = "no-dotenv"
decision = "decline"
message = "no secrets"
[rule.match]
paths = ["**/.env"]

[[rule]]
name = "text-files"
decision = "accept"
message = "text files in the work directory"
[rule.match]
paths = ["WORK/*.txt"]
`

// The plugin, built as Wasm and given the rules through its settings,
// decides real codex approvals: the echo runs, the rm and an echo chained
// with an rm do not, a patch of a text file applies and one of .env does not.
func TestRulesOnRealCodex(t *testing.T) {
	requireCodex(t)
	work := t.TempDir()
	rules := strings.ReplaceAll(e2eRules, "WORK", work)
	policy := loadWasm(t, ".", &wasm.Options{Options: plugins.Options{Settings: settingsJSON(t, "rules.toml", rules)}})
	var mu sync.Mutex
	var records []*host.DecisionRecord
	env := start(t, work, e2eConfig{
		Script: hosttest.Turns(
			hosttest.Turn(hosttest.ExecCommand("echo hello > echoed.txt"), hosttest.Text("echoed")),
			hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")),
			hosttest.Turn(hosttest.ExecCommand("echo x > chained.txt; rm victim.txt"), hosttest.Text("tried")),
			hosttest.Turn(hosttest.ApplyPatch(hosttest.AddFilePatch("ok.txt", "ok\n")), hosttest.Text("patched")),
			hosttest.Turn(hosttest.ApplyPatch(hosttest.AddFilePatch(".env", "SECRET=1\n")), hosttest.Text("tried")),
		),
		Chain: host.ChainOptions{Plugins: []plugins.Plugin{policy}, OnDecision: func(r *host.DecisionRecord) {
			t.Logf("decision: %s %q -> %s (%s) %+v", r.Kind, r.Summary, r.Decision, r.Why, r.Answers)
			mu.Lock()
			records = append(records, r)
			mu.Unlock()
		}},
	})
	victim := filepath.Join(env.Work, "victim.txt")
	require.NoError(t, os.WriteFile(victim, []byte("keep me"), 0o644))

	env.Run(t, "write a file with echo")
	got, err := os.ReadFile(filepath.Join(env.Work, "echoed.txt"))
	require.NoError(t, err, "the accepted echo ran")
	assert.Equal(t, "hello\n", string(got))

	env.Run(t, "remove the victim")
	require.FileExists(t, victim, "the declined rm did not run")

	env.Run(t, "echo, then remove the victim")
	require.FileExists(t, victim, "the declined rm did not run")
	assert.NoFileExists(t, filepath.Join(env.Work, "chained.txt"), "nothing of the declined line ran")

	env.Run(t, "add ok.txt")
	got, err = os.ReadFile(filepath.Join(env.Work, "ok.txt"))
	require.NoError(t, err, "the accepted patch applied")
	assert.Equal(t, "ok\n", string(got))

	env.Run(t, "add .env")
	assert.NoFileExists(t, filepath.Join(env.Work, ".env"), "the declined patch did not apply")

	mu.Lock()
	defer mu.Unlock()
	want := []struct {
		decision abi.Decision
		reason   string
	}{
		{abi.Accept, "rule echo: echo is harmless"},
		{abi.Decline, "rule no-rm: removing files is not allowed"},
		{abi.Decline, "rule no-rm: removing files is not allowed"},
		{abi.Accept, "rule text-files: text files in the work directory"},
		{abi.Decline, "rule no-dotenv: no secrets"},
	}
	require.Len(t, records, len(want))
	for i, w := range want {
		assert.Equal(t, w.decision, records[i].Decision, "record %d", i)
		require.NotEmpty(t, records[i].Answers, "record %d", i)
		assert.Equal(t, "rules", records[i].Answers[0].Plugin, "record %d", i)
		assert.Equal(t, w.reason, records[i].Answers[0].Reason, "record %d", i)
	}
}

// A rules file that does not validate refuses the plugin at load, with the
// line and field of the problem.
func TestBadRulesRefusedAtLoad(t *testing.T) {
	bin := plugintest.BuildGoGuest(t, ".")
	rt, err := wasm.NewRuntime(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	p, err := rt.Load(context.Background(), bin, &wasm.Options{Options: plugins.Options{Settings: settingsJSON(t, "rules.toml", badRulesFile)}})
	if p != nil {
		_ = p.Close(context.Background())
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), `rules.toml:3: rule "allow-ls": unknown decision "allow" (want accept, acceptForSession, decline, cancel or abstain)`)
	var ae *abi.Error
	if assert.ErrorAs(t, err, &ae) {
		assert.Equal(t, abi.CodeBadConfig, ae.Code)
	}

	// And good rules load.
	p, err = rt.Load(context.Background(), bin, &wasm.Options{Options: plugins.Options{Settings: json.RawMessage(settingsJSON(t, "rules.toml", rulesFile))}})
	require.NoError(t, err)
	assert.Equal(t, "rules", p.Manifest().Name)
	_ = p.Close(context.Background())
}

// The helpers below are those of examples/internal/e2e, which this
// package may not import (it is internal to examples/).

// requireCodex fails under CI=true and skips otherwise when the pinned
// codex is not installed (`make codex`).
func requireCodex(t testing.TB) {
	t.Helper()
	if os.Getenv(host.EnvCodexBin) != "" || host.PinnedCodex() != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("the pinned codex is not installed (run `make codex`); end-to-end tests must run in CI")
	}
	t.Skip("the pinned codex is not installed; run `make codex`")
}

// loadWasm builds the Go guest in dir and loads it into a fresh runtime
// (closed with the test).
func loadWasm(t testing.TB, dir string, opts *wasm.Options) plugins.Plugin {
	t.Helper()
	bin := plugintest.BuildGoGuest(t, dir)
	rt, err := wasm.NewRuntime(context.Background(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	p, err := rt.Load(context.Background(), bin, opts)
	require.NoError(t, err)
	return p
}

type e2eConfig struct {
	Script hosttest.Script
	Chain  host.ChainOptions
}

type e2eEnv struct {
	client *host.Client
	Work   string
}

// start starts the fake model and codex with cfg's chain as the handler,
// for threads in work.
func start(t testing.TB, work string, cfg e2eConfig) *e2eEnv {
	t.Helper()
	requireCodex(t)
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: cfg.Script})
	require.NoError(t, err)
	t.Cleanup(func() { _ = model.Close() })
	home := t.TempDir()
	require.NoError(t, hosttest.WriteCodexHome(home, model.URL(), nil))
	chain, err := host.NewChain(&cfg.Chain)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: work, Handler: chain})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
	})
	return &e2eEnv{client: c, Work: work}
}

// Run runs one turn on a new thread in e.Work.
func (e *e2eEnv) Run(t testing.TB, prompt string) *host.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := e.client.Run(ctx, prompt, &host.RunOptions{Thread: &host.ThreadOptions{Cwd: e.Work}})
	require.NoError(t, err)
	return res
}
