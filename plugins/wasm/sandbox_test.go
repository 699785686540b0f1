package wasm_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// The capabilities testdata/guests/granted asks for.
const (
	secretEnv  = "CODEXHOST_WASM_TEST_SECRET"
	grantedDir = "/tmp/codexhost-wasm-test-granted"
)

// probe asks a testdata/guests/internal/probe guest to try something and
// returns what happened.
func probe(t *testing.T, p plugins.Plugin, what string) string {
	t.Helper()
	r, err := plugins.Call[abi.ApprovalResponse](t.Context(), p, abi.HookApproval, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: what})
	require.NoError(t, err)
	return r.Reason
}

// hostSecrets sets the secret environment variable and writes a file in
// the granted directory and one outside it; it returns the secret, the
// granted file and the other file.
func hostSecrets(t *testing.T) (secret, inside, outside string) {
	secret = rand.Text()
	t.Setenv(secretEnv, secret)
	t.Setenv("CODEXHOST_WASM_TEST_OTHER", "other-"+secret)
	require.NoError(t, os.MkdirAll(grantedDir, 0o755))
	// A name of its own: test runs of other checkouts share the directory.
	inside = filepath.Join(grantedDir, "policy-"+rand.Text()+".txt")
	require.NoError(t, os.WriteFile(inside, []byte("inside-"+secret), 0o644))
	t.Cleanup(func() { _ = os.Remove(inside) })
	outside = filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(outside, []byte("outside-"+secret), 0o644))
	return secret, inside, outside
}

func TestSandboxWithoutGrants(t *testing.T) {
	secret, inside, outside := hostSecrets(t)
	p := mustLoad(t, testdataGuest(t, "snoop"), nil)
	for _, what := range []string{"env " + secretEnv, "env HOME", "env PATH", "env CODEXHOST_WASM_TEST_OTHER"} {
		assert.Equal(t, "unset", probe(t, p, what), what)
	}
	for _, what := range []string{"read " + inside, "read " + outside, "read /etc/passwd", "list /", "list .", "write " + filepath.Join(grantedDir, "x")} {
		got := probe(t, p, what)
		assert.True(t, strings.HasPrefix(got, "error: "), "%s: %q", what, got)
		assert.NotContains(t, got, secret, what)
	}
	_, err := os.Stat(filepath.Join(grantedDir, "x"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written on the host")
}

func TestSandboxGrants(t *testing.T) {
	secret, inside, outside := hostSecrets(t)
	guest := testdataGuest(t, "granted")
	all := abi.Capabilities{Env: []string{secretEnv}, ReadDirs: []string{grantedDir}}

	// Asking is not enough: the operator must grant everything asked for.
	for _, g := range []abi.Capabilities{{}, {Env: all.Env}, {ReadDirs: all.ReadDirs}} {
		_, err := load(t, guest, opts(plugins.Options{Grants: g}))
		require.ErrorIs(t, err, plugins.ErrNotGranted)
		t.Log(err)
	}

	p := mustLoad(t, guest, opts(plugins.Options{Grants: all}))
	assert.Equal(t, secret, probe(t, p, "env "+secretEnv))
	assert.Equal(t, "unset", probe(t, p, "env CODEXHOST_WASM_TEST_OTHER"), "only granted variables")
	assert.Equal(t, "unset", probe(t, p, "env HOME"))
	assert.Equal(t, "inside-"+secret, probe(t, p, "read "+inside))
	assert.Contains(t, probe(t, p, "list "+grantedDir), filepath.Base(inside))
	got := probe(t, p, "read "+outside)
	assert.True(t, strings.HasPrefix(got, "error: "), "outside the granted directory: %q", got)
	got = probe(t, p, "write "+filepath.Join(grantedDir, "x"))
	assert.True(t, strings.HasPrefix(got, "error: "), "the directory is read-only: %q", got)
	_, err := os.Stat(filepath.Join(grantedDir, "x"))
	assert.ErrorIs(t, err, os.ErrNotExist, "nothing written on the host")
}

func TestGoGuestOutputCapture(t *testing.T) {
	logger, rec := newLogger()
	p := mustLoad(t, testdataGuest(t, "snoop"), &wasm.Options{Logger: logger, MaxOutputBytes: 10 * (100 + 64)}) // 10 lines and their records
	assert.Equal(t, "printed", probe(t, p, "print 100000"))
	msgs := rec.messages()
	require.Len(t, msgs, 11, "%q", msgs)
	assert.Equal(t, "INFO "+strings.Repeat("o", 99)+" plugin=snoop stream=stdout", msgs[0])
	assert.Contains(t, msgs[10], "dropped 99000 bytes of guest output")
}

func TestGoGuestLog(t *testing.T) {
	logger, rec := newLogger()
	mustLoad(t, refGuest(t), &wasm.Options{Logger: logger})
	assert.Contains(t, rec.messages(), "DEBUG ref: configured plugin=ref")
}

// testdata/guests/configured declares a settings schema and limits: the
// host checks both at load time, before configure.
func TestSettingsSchemaAndLimits(t *testing.T) {
	b := testdataGuest(t, "configured")
	good := json.RawMessage(`{"maxFiles": 2}`)

	p := mustLoad(t, b, &wasm.Options{Options: plugins.Options{Settings: good}})
	require.Equal(t, abi.Limits{MemoryPages: 384, TimeoutMillis: 2000}, p.Manifest().Limits)
	require.JSONEq(t, `{"type":"object","properties":{"maxFiles":{"type":"integer","minimum":1}},"required":["maxFiles"],"additionalProperties":false}`,
		string(p.Manifest().SettingsSchema))
	r, err := plugins.Call[abi.ApprovalResponse](t.Context(), p, abi.HookApproval,
		&abi.ApprovalRequest{Kind: abi.ApprovalFileChange, Changes: make([]abi.FileChange, 3)})
	require.NoError(t, err)
	require.Equal(t, abi.Decline, r.Decision)

	// Settings are checked against the schema by plugins/load, through
	// Options.Admit, before configure (plugins/load's tests).
	refused := errors.New("refused by Admit")
	_, err = load(t, b, &wasm.Options{Options: plugins.Options{Settings: good, Admit: func(*abi.Manifest) error { return refused }}})
	require.ErrorIs(t, err, refused)

	_, err = load(t, b, &wasm.Options{Options: plugins.Options{Settings: good}, MemoryLimitPages: 256})
	require.ErrorIs(t, err, plugins.ErrLimits)
	require.ErrorContains(t, err, "needs 24 MiB of memory, the limit is 16 MiB")
	_, err = load(t, b, &wasm.Options{Options: plugins.Options{Settings: good, Timeout: time.Second}})
	require.ErrorIs(t, err, plugins.ErrLimits)
}

// A symbolic link in a granted directory opens only if it resolves beneath
// the directory: whoever can write there (the agent, if the directory is
// in its workspace) must not lead the guest out of it.
func TestSandboxGrantedDirSymlinks(t *testing.T) {
	secret, inside, outside := hostSecrets(t)
	out := filepath.Join(grantedDir, "link-out-"+rand.Text())
	require.NoError(t, os.Symlink(outside, out))
	t.Cleanup(func() { _ = os.Remove(out) })
	abs := filepath.Join(grantedDir, "link-etc-"+rand.Text())
	require.NoError(t, os.Symlink("/etc", abs))
	t.Cleanup(func() { _ = os.Remove(abs) })
	in := filepath.Join(grantedDir, "link-in-"+rand.Text())
	require.NoError(t, os.Symlink(filepath.Base(inside), in))
	t.Cleanup(func() { _ = os.Remove(in) })

	all := abi.Capabilities{Env: []string{secretEnv}, ReadDirs: []string{grantedDir}}
	p := mustLoad(t, testdataGuest(t, "granted"), opts(plugins.Options{Grants: all}))
	for _, what := range []string{"read " + out, "read " + abs + "/passwd", "list " + abs} {
		got := probe(t, p, what)
		assert.True(t, strings.HasPrefix(got, "error: "), "%s: %q", what, got)
		assert.NotContains(t, got, secret, what)
		assert.NotContains(t, got, "root:", what)
	}
	assert.Equal(t, "inside-"+secret, probe(t, p, "read "+in), "a link within the directory is followed")
}

// A FIFO (or a device) in a granted directory is refused at once: opening
// it would block the host in open(2), where the call's deadline does not
// reach. Without the refusal this call never returns.
func TestSandboxGrantedDirFIFO(t *testing.T) {
	hostSecrets(t)
	fifo := filepath.Join(grantedDir, "fifo-"+rand.Text())
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	t.Cleanup(func() { _ = os.Remove(fifo) })
	all := abi.Capabilities{Env: []string{secretEnv}, ReadDirs: []string{grantedDir}}
	p := mustLoad(t, testdataGuest(t, "granted"), opts(plugins.Options{Grants: all, Timeout: time.Minute}))
	got := probe(t, p, "read "+fifo)
	assert.True(t, strings.HasPrefix(got, "error: "), "%q", got)
	got = probe(t, p, "read /dev/null")
	assert.True(t, strings.HasPrefix(got, "error: "), "outside the directory: %q", got)
}
