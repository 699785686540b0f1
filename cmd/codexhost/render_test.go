package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
)

// run --plugin execrender.wasm renders a real turn byte for byte as the
// built-in --render exec does: the render plugin is a member of the
// chain, and replaces the built-in renderer when --render is not given.
func TestRunRenderPluginMatchesBuiltIn(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	execrender := guestFile(t, "../../examples/execrender")
	script := func() hosttest.Script {
		return hosttest.Turn(
			hosttest.Text("Let me check.").InDeltas(3).And(hosttest.ExecCommand("echo hi")),
			hosttest.ApplyPatch(hosttest.AddFilePatch("hello.txt", "hi\n")),
			hosttest.Text("Done: it printed hi, and hello.txt is written.").InDeltas(4),
		)
	}
	// The two runs are two codex runs: the command's duration differs,
	// and a fast `echo` can take 0 ms, which the renderer leaves out.
	duration := regexp.MustCompile(`exit 0(?: in [0-9.]+m?s)?\n`)
	render := func(args ...string) string {
		_, home := fakeCodexHome(t, script())
		work := t.TempDir()
		r := runCmd(t, append([]string{"run", "--codex-home", home, "--cwd", work, "--fallback", "accept"}, append(args, "say hi")...)...)
		require.Equal(t, exitOK, r.code, r.stderr)
		out := e2e.WithoutProfileOutput(r.stdout, "$ /bin/bash -lc 'echo hi'", "hi")
		out = duration.ReplaceAllString(out, "exit 0 in DURATION\n")
		real, err := filepath.EvalSymlinks(work)
		require.NoError(t, err)
		return strings.ReplaceAll(strings.ReplaceAll(out, work, "/work"), real, "/work")
	}
	builtin := render("--render", "exec")
	plugin := render("--plugin", execrender)
	assert.Equal(t, "Let me check.\n$ /bin/bash -lc 'echo hi'\nhi\nexit 0 in DURATION\n+ /work/hello.txt\n"+
		"Done: it printed hi, and hello.txt is written.\ntokens: in 3 (cached 0) out 3\n", builtin)
	assert.Equal(t, builtin, plugin, "the render plugin writes what the built-in renderer writes")

	// Asked for explicitly, the built-in renderer renders next to the
	// plugin (their output interleaves, batch by batch).
	both := render("--render", "exec", "--plugin", execrender)
	assert.Equal(t, 2, strings.Count(both, "tokens: in 3 (cached 0) out 3\n"), both)
}
