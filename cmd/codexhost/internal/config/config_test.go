package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/cmd/codexhost/internal/config"
)

const full = `# every key
policy = "policy.toml"
render = "json"
audit = "audit.jsonl"
judge = true

[chain]
mode = "first-answer"
fallback = "cancel"
crash_budget = { failures = 3, window = "30s" }

[[plugin]]
path = "bin/rules-policy.wasm"
sha256 = "sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
timeout = "2s"
settings = { name = "rules.toml", nested = { a = 1, b = [true, false] } }
[plugin.grants]
env = ["HOME"]
read_dirs = ["policies", "/etc/codexhost"]

[[plugin]]
name = "next"
path = "/opt/next-policy"
mode = "monitor"
settings_files = { rules = "rules.toml" }
grants = { network = true }
[plugin.crash_budget]
failures = 0

[metrics]
addr = "127.0.0.1:9464"
allow_remote = false

[reload]
watch = false
interval = "250ms"

[codex]
bin = "/usr/local/bin/codex"
home = "codex-home"
model = "o3"
cwd = "/work"
sandbox = "workspace-write"
approval_policy = "on-request"
config = ['model_reasoning_effort="low"']
`

func TestParseFull(t *testing.T) {
	f, err := config.Parse([]byte(full), "/etc/codexhost/codexhost.toml")
	require.NoError(t, err)
	assert.Equal(t, "json", f.Render)
	assert.Equal(t, "/etc/codexhost/policy.toml", f.Policy)
	assert.Equal(t, "/etc/codexhost/audit.jsonl", f.Audit)
	assert.True(t, f.Judge)
	assert.Equal(t, "first-answer", f.Chain.Mode)
	assert.Equal(t, "cancel", f.Chain.Fallback)
	assert.Equal(t, 3, *f.Chain.CrashBudget.Failures)
	assert.Equal(t, 30*time.Second, f.Chain.CrashBudget.Window.Duration)
	require.Len(t, f.Plugins, 2)

	p := f.Plugins[0]
	assert.Equal(t, "rules-policy", p.Name, "named after the file")
	assert.Equal(t, "/etc/codexhost/bin/rules-policy.wasm", p.Path)
	assert.Equal(t, 2*time.Second, p.Timeout.Duration)
	assert.Equal(t, []string{"HOME"}, p.Grants.Env)
	assert.Equal(t, []string{"/etc/codexhost/policies", "/etc/codexhost"}, p.Grants.ReadDirs)
	js, err := p.SettingsJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"rules.toml","nested":{"a":1,"b":[true,false]}}`, string(js))
	d, err := config.NormDigest(p.SHA256)
	require.NoError(t, err)
	assert.Equal(t, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", d)

	q := f.Plugins[1]
	assert.Equal(t, "next", q.Name)
	assert.Equal(t, "monitor", q.Mode)
	assert.True(t, q.Grants.Network)
	assert.Equal(t, 0, *q.CrashBudget.Failures)
	assert.Equal(t, "/etc/codexhost/rules.toml", q.SettingsFiles["rules"])

	assert.Equal(t, "127.0.0.1:9464", f.Metrics.Addr)
	assert.False(t, f.Watch())
	assert.Equal(t, 250*time.Millisecond, f.ReloadInterval())
	assert.Equal(t, "/etc/codexhost/codex-home", f.Codex.Home)
	assert.Equal(t, "/work", f.Codex.Cwd)
	assert.Equal(t, []string{`model_reasoning_effort="low"`}, f.Codex.Config)
	assert.True(t, f.Defined("chain.mode"))
	assert.True(t, f.Defined("render"))
	assert.False(t, f.Defined("codex.nothing"))
	assert.Equal(t, []string{"/etc/codexhost/codexhost.toml", "/etc/codexhost/policy.toml", "/etc/codexhost/bin/rules-policy.wasm", "/opt/next-policy", "/etc/codexhost/rules.toml"},
		f.WatchedFiles())
}

func TestParseEmpty(t *testing.T) {
	f, err := config.Parse(nil, "")
	require.NoError(t, err)
	assert.Empty(t, f.Plugins)
	assert.True(t, f.Watch())
	assert.Equal(t, config.DefaultReloadInterval, f.ReloadInterval())
	assert.False(t, f.Defined("render"))
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"unknown top-level key", "render = \"exec\"\nrendr = \"json\"\n", `c.toml:2: unknown key "rendr"; see docs/configuration.md`},
		{"unknown plugin key", "[[plugin]]\npath = \"a.wasm\"\n\n[[plugin]]\npath = \"b.wasm\"\ntiemout = \"1s\"\n", `c.toml:6: unknown key "plugin.tiemout"`},
		{"unknown table", "[plugins]\npath = \"x\"\n", `c.toml:1: unknown table "plugins"`},
		{"unknown key in an inline table", "[chain]\ncrash_budget = { failures = 1, windw = \"1s\" }\n", `c.toml:2: unknown key "chain.crash_budget.windw"`},
		{"several unknown keys", "a = 1\nb = 2\n", `c.toml:1: unknown key "a" (and 1 more unknown key(s))`},
		{"unknown grant", "[[plugin]]\npath = \"a\"\n[plugin.grants]\nfiles = [\"/\"]\n", `c.toml:4: unknown key "plugin.grants.files"`},
		{"wrong type", "[[plugin]]\npath = 3\n", `c.toml:2: plugin.path: wrong type: the file has int64, want string`},
		{"wrong type bool", "judge = \"yes\"\n", `c.toml:1: judge: wrong type: the file has string, want bool`},
		{"bad duration", "[[plugin]]\npath = \"a\"\ntimeout = \"2 seconds\"\n", `c.toml:3: plugin.timeout: "2 seconds" is not a duration`},
		{"negative duration", "[reload]\ninterval = \"-1s\"\n", `c.toml:2: reload.interval: "-1s" is negative`},
		{"syntax error", "render = \n", `c.toml:1: `},
		{"bad mode", "[chain]\nmode = \"vote\"\n", `c.toml:2: chain.mode: "vote": want deny-wins, first-answer`},
		{"bad fallback", "[chain]\nfallback = \"maybe\"\n", `c.toml:2: chain.fallback: "maybe": want decline, accept, cancel`},
		{"bad render", "render = \"html\"\n", `c.toml:1: render: "html": want exec, json, none`},
		{"negative budget", "[chain.crash_budget]\nfailures = -1\n", `c.toml:2: chain.crash_budget.failures: -1 is negative`},
		{"plugin without path", "[[plugin]]\nname = \"x\"\n", `c.toml: [[plugin]] #1 has no path`},
		{"duplicate names", "[[plugin]]\npath = \"a/p.wasm\"\n[[plugin]]\npath = \"b/p.wasm\"\n", `[[plugin]] #2 and #1 are both named "p"`},
		{"bad name", "[[plugin]]\npath = \"a\"\nname = \"a:b\"\n", `c.toml:3: plugin.name: "a:b": use letters`},
		{"bad sha256", "[[plugin]]\npath = \"a\"\nsha256 = \"xyz\"\n", `c.toml:3: plugin.sha256: "xyz" is not a hex sha256 digest (64 hex digits) (plugin "a")`},
		{"bad plugin mode", "[[plugin]]\npath = \"a\"\nmode = \"shadow\"\n", `c.toml:3: plugin.mode: "shadow": want enforce, monitor (plugin "a")`},
		{"second plugin's mode", "[[plugin]]\npath = \"a\"\n\n[[plugin]]\npath = \"b\"\nmode = \"shadow\"\n", `c.toml:6: plugin.mode: "shadow": want enforce, monitor (plugin "b")`},
		{"empty fallback", "[chain]\nfallback = \"\"\n", `c.toml:2: chain.fallback: "": want decline, accept, cancel (leave the key out for the default)`},
		{"empty policy", "policy = \"\"\n", `c.toml:1: policy: "": want a file name`},
		{"settings twice", "[[plugin]]\npath = \"a\"\nsettings = { rules = \"x\" }\nsettings_files = { rules = \"r.toml\" }\n", `settings key "rules" is set both`},
		{"unknown masked field", "audit_mask = [\"summary\", \"comand\"]\n", `c.toml:1: audit_mask: audit: unknown field "comand" in the mask`},
		{"bad codex override", "[codex]\nconfig = [\"novalue\"]\n", `c.toml:2: codex.config: "novalue": want key=value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.file), "c.toml")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

func TestLoad(t *testing.T) {
	_, err := config.Load("/no/such/codexhost.toml")
	require.ErrorIs(t, err, config.ErrNotFound)
	assert.Contains(t, err.Error(), "/no/such/codexhost.toml")

	dir := t.TempDir()
	_, err = config.Load(dir)
	require.Error(t, err, "a directory")
	assert.Contains(t, err.Error(), dir)

	path := filepath.Join(dir, "codexhost.toml")
	require.NoError(t, os.WriteFile(path, []byte("[[plugin]]\npath = \"p.wasm\"\nsettings_files = { rules = \"rules.toml\" }\n"), 0o644))
	f, err := config.Load(path)
	require.NoError(t, err)
	_, err = f.Plugins[0].SettingsJSON()
	require.ErrorContains(t, err, `plugin "p": settings_files.rules:`)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.toml"), []byte("[[rule]]\n"), 0o644))
	js, err := f.Plugins[0].SettingsJSON()
	require.NoError(t, err)
	assert.JSONEq(t, `{"rules":"[[rule]]\n"}`, string(js))
}

func TestDefaultPath(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	assert.Equal(t, "/x/codexhost/config.toml", config.DefaultPath(env(map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"})))
	assert.Equal(t, "/h/.config/codexhost/config.toml", config.DefaultPath(env(map[string]string{"HOME": "/h"})))
	assert.Equal(t, "", config.DefaultPath(env(nil)))
}

func TestDefaultName(t *testing.T) {
	for in, want := range map[string]string{
		"bin/rules-policy.wasm":                "rules-policy",
		"/opt/policy":                          "policy",
		"policy.v2.wasm":                       "policy.v2",
		"oci://ghcr.io/acme/deny-rm:1.0":       "deny-rm",
		"oci://ghcr.io/acme/deny-rm@sha256:ab": "deny-rm",
	} {
		assert.Equal(t, want, config.DefaultName(in), in)
	}
}

func TestParseGrant(t *testing.T) {
	name, g, err := config.ParseGrant("policy:env=HOME")
	require.NoError(t, err)
	assert.Equal(t, "policy", name)
	assert.Equal(t, []string{"HOME"}, g.Env)
	_, g, err = config.ParseGrant("policy:read=/etc/x")
	require.NoError(t, err)
	assert.Equal(t, []string{"/etc/x"}, g.ReadDirs)
	_, g, err = config.ParseGrant("policy:network")
	require.NoError(t, err)
	assert.True(t, g.Network)
	_, g, err = config.ParseGrant("p:read=rel")
	require.NoError(t, err)
	assert.True(t, filepath.IsAbs(g.ReadDirs[0]))
	for _, bad := range []string{"policy", ":env=X", "policy:", "policy:env=", "policy:files=/", "policy:network=yes"} {
		_, _, err := config.ParseGrant(bad)
		assert.Error(t, err, bad)
		assert.True(t, strings.HasPrefix(err.Error(), "--grant "), bad)
	}

	var all config.Grants
	all.Add(config.Grants{Env: []string{"A"}})
	all.Add(config.Grants{Env: []string{"A", "B"}, ReadDirs: []string{"/d"}, Network: true})
	assert.Equal(t, config.Grants{Env: []string{"A", "B"}, ReadDirs: []string{"/d"}, Network: true}, all)
}
