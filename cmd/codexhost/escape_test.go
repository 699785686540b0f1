package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins/dist"
)

// What the agent, codex, a plugin or a publisher controls reaches the
// terminal escaped (or, for a renderer's output, filtered): the real
// codex with the fake model streams an agent message and a command that
// carry an OSC 0 title, an OSC 8 hyperlink, a screen clear, a carriage
// return and a bidi override.

const escPayload = "safe \x1b]0;PWNED-TITLE\x07 \x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\ \x1b[2J\x1b[H\rOVERWRITE \u202egnp.exe"

func escRun(t *testing.T, script hosttest.Script, args ...string) result {
	t.Helper()
	_, home := fakeCodexHome(t, script)
	r := runCmd(t, append([]string{"run", "--codex-home", home, "--cwd", t.TempDir(), "--fallback", "accept"}, append(args, "say hi")...)...)
	require.Equal(t, exitOK, r.code, r.stderr)
	return r
}

// assertNoRawControl fails if out carries an escape sequence other than a
// colour, a carriage return or a bidi override.
func assertNoRawControl(t *testing.T, out string) {
	t.Helper()
	for _, bad := range []string{"\x1b]", "\x1b[2J", "\x1b[H", "\r", "\u202e", "\x07"} {
		assert.NotContains(t, out, bad)
	}
}

// --render none prints the final message: escaped.
func TestRunFinalMessageIsEscaped(t *testing.T) {
	t.Parallel()
	r := escRun(t, hosttest.Text(escPayload), "--render", "none")
	assertNoRawControl(t, r.stdout)
	assert.Contains(t, r.stdout, `\x1b]0;PWNED-TITLE\a`, "the escape is shown")
}

// The built-in renderer (the default): the agent's streamed text, the
// command line and the command's output, filtered by the render pipeline.
func TestRunBuiltinRendererIsFiltered(t *testing.T) {
	t.Parallel()
	r := escRun(t, hosttest.Turn(
		hosttest.Text(escPayload).InDeltas(3).And(hosttest.ExecCommand("printf '\\033]0;CMD-OUT-TITLE\\007' # \x1b]0;CMD-LINE-TITLE\x07")),
		hosttest.Text("done")), "--render", "exec")
	assertNoRawControl(t, r.stdout)
	assert.Contains(t, r.stdout, "OVERWRITE", "the text stays")
}

// A render plugin (examples/renderer prints the agent's deltas as they
// are): its output is filtered too.
func TestRunRenderPluginIsFiltered(t *testing.T) {
	t.Parallel()
	renderer := guestFile(t, "../../examples/renderer")
	r := escRun(t, hosttest.Text(escPayload).InDeltas(3), "--plugin", renderer)
	assertNoRawControl(t, r.stdout)
	assert.Contains(t, r.stdout, "OVERWRITE")
}

// `plugin inspect oci://…@sha256:…` of an artifact someone else published:
// the config blob's os/arch and a legacy signature's keyid annotation are
// the publisher's text. The artifact is put in
// the plugin cache by hand, as a pull from the publisher's registry would.
func TestPluginInspectEscapesRemoteFields(t *testing.T) {
	cacheDir := t.TempDir()
	c, err := dist.OpenCache(cacheDir)
	require.NoError(t, err)
	put := func(b []byte) string {
		d := dist.Digest(b)
		_, err := c.Put(d, b)
		require.NoError(t, err)
		return d
	}
	module := []byte("\x00asm\x01\x00\x00\x00")
	modD := put(module)
	cfg, err := json.Marshal(dist.Config{Runtime: dist.RuntimeWasm, OS: "linux\x1b]0;OS-TITLE\x07", Arch: "amd64\x1b[2J",
		Manifest: abi.Manifest{ABI: abi.Version, Name: "x", Version: "1", Hooks: []abi.Hook{abi.HookApproval}}})
	require.NoError(t, err)
	cfgD := put(cfg)
	man := map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": dist.ArtifactType,
		"config": map[string]any{"mediaType": dist.ConfigMediaType, "digest": cfgD, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": dist.WasmLayerMediaType, "digest": modD, "size": len(module)}},
	}
	mb, _ := json.Marshal(man)
	manD := put(mb)
	env := []byte(`{}`)
	envD := put(env)
	sig := map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": dist.SignatureArtifactType,
		"config":      map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": envD, "size": len(env)},
		"layers":      []any{map[string]any{"mediaType": dist.SignatureMediaType, "digest": envD, "size": len(env)}},
		"subject":     map[string]any{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manD, "size": len(mb)},
		"annotations": map[string]string{"dev.codexhost.signature.keyid": "sha256:\x1b]0;KEYID-TITLE\x07\x1b]8;;https://evil.example\x1b\\"},
	}
	sb, _ := json.Marshal(sig)
	sigD := put(sb)
	dir := filepath.Join(cacheDir, "referrers", url.PathEscape("registry.example.com"), "team", "plugin", "sha256", strings.TrimPrefix(manD, "sha256:"))
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, strings.TrimPrefix(sigD, "sha256:")), nil, 0o444))

	r := runCmd(t, "plugin", "inspect", "--plugin-cache", cacheDir, "oci://registry.example.com/team/plugin@"+manD)
	require.Equal(t, exitOK, r.code, r.stderr)
	t.Logf("stdout: %q", r.stdout)
	assertNoRawControl(t, r.stdout)
	assert.Contains(t, r.stdout, `linux\x1b]0;OS-TITLE\a/amd64\x1b[2J`, "os and arch, escaped")
	assert.Contains(t, r.stdout, `KEYID-TITLE`, "the key ID, escaped")
}

// plugin inspect --json prints a plugin's manifest as JSON: the settings
// schema (and a tool's input schema) is the publisher's raw JSON, which
// encoding/json copies byte for byte. A raw byte that is not UTF-8 (0x9b,
// CSI to a terminal that reads 8-bit controls) does not reach the
// terminal: the output is valid UTF-8.
func TestPluginInspectJSONIsValidUTF8(t *testing.T) {
	cacheDir := t.TempDir()
	c, err := dist.OpenCache(cacheDir)
	require.NoError(t, err)
	put := func(b []byte) string {
		d := dist.Digest(b)
		_, err := c.Put(d, b)
		require.NoError(t, err)
		return d
	}
	module := []byte("\x00asm\x01\x00\x00\x00")
	modD := put(module)
	cfg := []byte(`{"runtime":"wasm","manifest":{"name":"x","version":"1","abi":1,"hooks":["approval"],` +
		`"settingsSchema":{"type":"object","title":"` + "\x9b2J\x9b0;0H\xff" + `"},` +
		`"tools":[{"name":"t","description":"d","inputSchema":{"type":"object","title":"` + "\x9b3J" + `"}}]}}`)
	cfgD := put(cfg)
	man := map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": dist.ArtifactType,
		"config": map[string]any{"mediaType": dist.ConfigMediaType, "digest": cfgD, "size": len(cfg)},
		"layers": []any{map[string]any{"mediaType": dist.WasmLayerMediaType, "digest": modD, "size": len(module)}},
	}
	mb, _ := json.Marshal(man)
	manD := put(mb)
	dir := filepath.Join(cacheDir, "referrers", url.PathEscape("registry.example.com"), "team", "plugin", "sha256", strings.TrimPrefix(manD, "sha256:"))
	require.NoError(t, os.MkdirAll(dir, 0o755))

	r := runCmd(t, "plugin", "inspect", "--json", "--plugin-cache", cacheDir, "oci://registry.example.com/team/plugin@"+manD)
	require.Equal(t, exitOK, r.code, r.stderr)
	t.Logf("stdout: %q", r.stdout)
	assert.True(t, utf8.ValidString(r.stdout), "the output is not valid UTF-8")
	assert.NotContains(t, r.stdout, "\x9b")
	var got struct {
		SettingsSchema struct{ Title string } `json:"settingsSchema"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &got))
	assert.Equal(t, "\ufffd2J\ufffd0;0H\ufffd", got.SettingsSchema.Title, "the value a JSON decoder reads")
}

// demo prints a failed step's error (codex's JSON-RPC error text, the
// client's errors): escaped.
func TestDemoStepFailureIsEscaped(t *testing.T) {
	var out strings.Builder
	d := &demoSteps{say: func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }}
	d.run(context.Background(), "1. a step", func() error {
		return errors.New("codex: bad request \x1b]0;DEMO-TITLE\x07\x1b[2J")
	})
	t.Logf("out: %q", out.String())
	assertNoRawControl(t, out.String())
	assert.Contains(t, out.String(), `\x1b]0;DEMO-TITLE\a`)
}

// One unterminated escape in a command's output (an "ESC ]" with no end)
// loses its introducer only: the renderer's later lines, the failed
// command's "failed (exit 1)" among them, are still shown.
func TestRunUnterminatedEscapeHidesNothing(t *testing.T) {
	t.Parallel()
	r := escRun(t, hosttest.Turn(hosttest.ExecCommand("printf 'all good\\033]'; exit 1"), hosttest.Text("done")), "--render", "exec")
	assertNoRawControl(t, r.stdout)
	assert.Contains(t, r.stdout, "all good")
	assert.Contains(t, r.stdout, "failed (exit 1)", "the failed command's status line is shown")
	assert.Contains(t, r.stdout, "done")
}
