package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
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

// The plugin, built as Wasm and as a process plugin from the same source
// and given the rules through its settings, decides real codex approvals:
// the echo runs, the rm and an echo chained with an rm do not, a patch of a
// text file applies and one of .env does not.
func TestRulesOnRealCodex(t *testing.T) {
	e2e.RequireCodex(t)
	load := map[string]func(t *testing.T, settings json.RawMessage) plugins.Plugin{
		"wasm": func(t *testing.T, settings json.RawMessage) plugins.Plugin {
			return e2e.LoadWasm(t, ".", &wasm.Options{Options: plugins.Options{Settings: settings}})
		},
		"process": func(t *testing.T, settings json.RawMessage) plugins.Plugin {
			return e2e.LoadProcess(t, ".", &process.Options{Options: plugins.Options{Settings: settings}})
		},
	}
	for _, runtime := range []string{"wasm", "process"} {
		t.Run(runtime, func(t *testing.T) {
			work := t.TempDir()
			policy := load[runtime](t, settingsJSON(t, "rules.toml", strings.ReplaceAll(e2eRules, "WORK", work)))
			testRulesOnRealCodex(t, work, policy)
		})
	}
}

func testRulesOnRealCodex(t *testing.T, work string, policy plugins.Plugin) {
	var decisions e2e.Decisions
	env := e2e.Start(t, e2e.Config{
		Work: work,
		Script: hosttest.Turns(
			hosttest.Turn(hosttest.ExecCommand("echo hello > echoed.txt"), hosttest.Text("echoed")),
			hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("tried")),
			hosttest.Turn(hosttest.ExecCommand("echo x > chained.txt; rm victim.txt"), hosttest.Text("tried")),
			hosttest.Turn(hosttest.ApplyPatch(hosttest.AddFilePatch("ok.txt", "ok\n")), hosttest.Text("patched")),
			hosttest.Turn(hosttest.ApplyPatch(hosttest.AddFilePatch(".env", "SECRET=1\n")), hosttest.Text("tried")),
		),
		Chain: chain.Options{Plugins: []plugins.Plugin{policy}, OnDecision: decisions.Record},
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

	records := decisions.All()
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
	assert.Contains(t, err.Error(), `rules.toml:3: rule "allow-ls": unknown decision "allow" (want accept, acceptForSession, decline, cancel, ask or abstain)`)
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
