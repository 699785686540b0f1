package main

import (
	"fmt"
	"github.com/codexhost/codexhost/host/hosttest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// help CMD prints the command's usage on stdout, like CMD --help; every
// command of the table has one.
func TestHelpCommand(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		if c.hidden || c.path == "help" {
			continue
		}
		t.Run(c.path, func(t *testing.T) {
			r := runCmd(t, append([]string{"help"}, strings.Fields(c.path)...)...)
			assert.Equal(t, exitOK, r.code)
			assert.Contains(t, r.stdout, "Usage: codexhost "+c.path)
			assert.Empty(t, r.stderr)
		})
	}
	r := runCmd(t, "help", "plugin")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "Usage: codexhost plugin <command>")
	r = runCmd(t, "plugin", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "plugin keygen NAME")
	r = runCmd(t, "help", "frob")
	assert.Equal(t, exitUsage, r.code)
}

// A mistyped command or flag gets a suggestion, on the last line of
// stderr, after the usage.
func TestSuggestions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		last string
	}{
		{[]string{"rnu", "hi"}, `codexhost: unknown command "rnu" (did you mean run?)`},
		{[]string{"verion"}, `codexhost: unknown command "verion" (did you mean version?)`},
		{[]string{"plugin", "tset"}, `(did you mean test?)`},
		{[]string{"plugin", "inpsect", "x"}, `(did you mean inspect?)`},
		{[]string{"run", "--modle", "m", "hi"}, `codexhost: unknown flag: --modle (did you mean --model?)`},
		{[]string{"run", "--approvl-policy", "never", "hi"}, `(did you mean --approval-policy?)`},
		{[]string{"plugin", "test", "--case", "x", "p"}, `(did you mean --cases?)`},
		{[]string{"completion", "bsh"}, `(did you mean bash?)`},
		{[]string{"frobnicate"}, `codexhost: unknown command "frobnicate"`},
	} {
		r := runCmd(t, tc.args...)
		assert.Equal(t, exitUsage, r.code, tc.args)
		lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
		assert.Contains(t, lines[len(lines)-1], tc.last, "the error is the last line")
		assert.Empty(t, r.stdout)
	}
	r := runCmd(t, "frobnicate")
	assert.NotContains(t, r.stderr, "did you mean")
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runCmd(t, "completion", sh)
		assert.Equal(t, exitOK, r.code)
		assert.Contains(t, r.stdout, "codexhost __complete")
	}
	complete := func(words ...string) []string {
		r := runCmd(t, append([]string{"__complete"}, words...)...)
		assert.Equal(t, exitOK, r.code)
		return strings.Fields(r.stdout)
	}
	assert.Equal(t, []string{"plugin"}, complete("pl"))
	assert.Contains(t, complete(""), "run")
	assert.NotContains(t, complete(""), "__complete")
	assert.Equal(t, []string{"test"}, complete("plugin", "te"))
	assert.Equal(t, []string{"--approval-policy"}, complete("run", "--ap"))
	assert.Equal(t, []string{"--allow-unasked-policy", "--allow-unsigned"}, complete("run", "--allow-u"))
	assert.Contains(t, complete("plugin", "test", "--"), "--cases")
	assert.Equal(t, []string{"zsh"}, complete("completion", "z"))
	assert.Empty(t, complete("run", "fix the te"), "no file or prompt completion from codexhost")
	assert.Equal(t, []string{"resume", "review"}, complete("run", "re"), "run's subcommands, as codex exec's")
	assert.Equal(t, []string{"--uncommitted"}, complete("run", "review", "--unc"))
	assert.Empty(t, complete("run", "fork", "ID", "re"), "no subcommand after the first")
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"run", "run", 0}, {"rnu", "run", 1}, {"modle", "model", 1}, {"modle", "mode", 1}, {"kitten", "sitting", 3}, {"", "abc", 3}} {
		assert.Equal(t, tc.d, editDistance(tc.a, tc.b), "%q %q", tc.a, tc.b)
	}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// codexhostBinary builds the command once per test process.
func codexhostBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "codexhost-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "codexhost")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, binErr)
	return binPath
}

// The bash completion script, loaded as the docs say, completes commands
// and flags in a real bash.
func TestCompletionInBash(t *testing.T) {
	t.Parallel()
	bin := codexhostBinary(t)
	script := `source <(codexhost completion bash)
COMP_WORDS=(codexhost pl); COMP_CWORD=1; _codexhost; echo "1:${COMPREPLY[*]}"
COMP_WORDS=(codexhost plugin ins); COMP_CWORD=2; _codexhost; echo "2:${COMPREPLY[*]}"
COMP_WORDS=(codexhost run --no-p); COMP_CWORD=2; _codexhost; echo "3:${COMPREPLY[*]}"
`
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "1:plugin\n2:inspect\n3:--no-progress\n", string(out))
}

// envFakeAppServer makes the test binary the fake app-server of
// host/hosttest, playing the scenario it names (fakeCodex).
const envFakeAppServer = "CODEXHOST_TEST_FAKE_APPSERVER"

// TestMain removes the codexhost binary the tests built (codexhostBinary),
// or plays the fake app-server (envFakeAppServer), or, with
// $CODEXHOST_TEST_MCP_SERVER set, an MCP server for codex to start
// (fakeMCPServer).
func TestMain(m *testing.M) {
	if s := os.Getenv(envFakeAppServer); s != "" {
		os.Exit(hosttest.FakeAppServer(s))
	}
	if os.Getenv(fakeMCPServerEnv) != "" {
		fakeMCPServer(os.Stdin, os.Stdout)
		os.Exit(0)
	}
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
