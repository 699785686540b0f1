package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/host/protocol"
)

// Only prefix_rule calls of literals whose decision is prompt or forbidden
// are read as allowing nothing; everything else may allow, and counts as
// allowing.
func TestRulesMayAllow(t *testing.T) {
	for src, want := range map[string]string{
		``:            "",
		"# nothing\n": "",
		`prefix_rule(pattern=["git", "push"], decision="prompt")`: "",
		`prefix_rule(pattern = ["rm", ["-rf", "-fr"]], decision = 'forbidden', justification = "no",
			match = ["rm -rf x"], not_match = [],)  # trailing comma`: "",
		`prefix_rule(pattern=["touch"], decision="allow")`:                `a prefix_rule with decision "allow"`,
		`prefix_rule(pattern=["touch"])`:                                  "a prefix_rule with the default decision, allow",
		`prefix_rule(pattern=["a"], decision="prompt", decision="allow")`: `a prefix_rule with decision "allow"`,
		`D = "allow"` + "\n" + `prefix_rule(pattern=["rm"], decision=D)`:  `"D": only prefix_rule calls are read`,
		`prefix_rule(pattern=["rm"], decision=D)`:                         "the decision of a prefix_rule is not a literal",
		`r = prefix_rule` + "\n" + `r(pattern=["rm"])`:                    `"r": only prefix_rule calls are read`,
		`prefix_rule(["rm"], "allow")`:                                    `prefix_rule argument "["`,
		`prefix_rule(pattern=["rm"], decision="al" + "low")`:              `'+'`,
		`prefix_rule(pattern=["rm"], decision="""prompt""")`:              "a triple-quoted string",
		`prefix_rule(pattern=["rm"], decision="pro\mpt")`:                 "a string with an escape",
		`host_executable(name="git", paths=["/usr/bin/git"])`:             `"host_executable": only prefix_rule calls are read`,
		`prefix_rule(pattern=["rm"], decision="prompt"`:                   "unexpected syntax in a prefix_rule",
	} {
		assert.Equal(t, want, rulesMayAllow(src), src)
	}
}

// The directories codex reads rules from: the system's, CODEX_HOME's, and
// .codex/rules from the cwd up to the project root (a .git), or the cwd's
// alone without a root; a .codex that is CODEX_HOME is the user's, not the
// project's.
func TestExecPolicyDirs(t *testing.T) {
	d := t.TempDir()
	cwd := filepath.Join(d, "root", "a", "b")
	require.NoError(t, os.MkdirAll(cwd, 0o755))
	if above := gitAbove(d); above != "" {
		// The machine's own .git above the temporary directory (an empty
		// /tmp/.git has been seen) is the project root codex finds too.
		t.Logf("%s holds a .git: the case without a root is not checked", above)
	} else {
		assert.Equal(t, []string{"/etc/codex/rules", "/h/rules", filepath.Join(cwd, ".codex/rules")}, execPolicyDirs("/h", cwd, nil), "no root")
	}

	require.NoError(t, os.Mkdir(filepath.Join(d, "root", ".git"), 0o755))
	assert.Equal(t, []string{"/etc/codex/rules", "/h/rules", filepath.Join(cwd, ".codex/rules"),
		filepath.Join(d, "root/a/.codex/rules"), filepath.Join(d, "root/.codex/rules")}, execPolicyDirs("/h", cwd, nil), "up to the root")

	home := filepath.Join(d, "root", "a", ".codex")
	assert.Equal(t, []string{"/etc/codex/rules", filepath.Join(home, "rules"), filepath.Join(cwd, ".codex/rules"),
		filepath.Join(d, "root/.codex/rules")}, execPolicyDirs(home, cwd, nil), "CODEX_HOME is no project's")

	require.NoError(t, os.MkdirAll(home, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(home, "config.toml"), []byte(`project_root_markers = ["ROOT"]`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(d, "root", "a", "b", "ROOT"), nil, 0o644))
	assert.Equal(t, []string{"/etc/codex/rules", filepath.Join(home, "rules"), filepath.Join(cwd, ".codex/rules")},
		execPolicyDirs(home, cwd, nil), "the config's markers")
}

// An exec-policy allow rule (one that an accepted amendment persists, or
// one the user wrote, in CODEX_HOME or the project) runs its commands
// without asking, under untrusted too: run refuses it with a policy
// loaded, naming the file; a rules file that only prompts or forbids is
// fine.
func TestRunRefusesExecPolicyAllowRules(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	for _, tc := range []struct {
		name, dir, src string
		refused        bool
	}{
		{"CODEX_HOME allow", "home", `prefix_rule(pattern=["touch"], decision="allow")`, true},
		{"CODEX_HOME default decision", "home", `prefix_rule(pattern=["touch"])`, true},
		{"project allow", "project", `prefix_rule(pattern=["touch"], decision="allow")`, true},
		{"CODEX_HOME prompt only", "home", `prefix_rule(pattern=["git", "push"], decision="prompt")`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, home := fakeCodexHome(t, hosttest.Turn(
				hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch f.txt"}), hosttest.Text("done")))
			dropApprovalPolicy(t, home)
			work := t.TempDir()
			dir := filepath.Join(home, "rules")
			if tc.dir == "project" {
				dir = filepath.Join(work, ".codex", "rules")
			}
			require.NoError(t, os.MkdirAll(dir, 0o755))
			file := filepath.Join(dir, "default.rules")
			require.NoError(t, os.WriteFile(file, []byte(tc.src+"\n"), 0o644))
			r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write", "--policy", rules, "go")
			if !tc.refused { // the policy is asked, and declines (it abstains: the fallback)
				assert.Equal(t, exitDeclined, r.code, r.stderr)
				assert.Contains(t, r.stderr, "codexhost: decline /bin/bash -lc 'touch f.txt'")
				return
			}
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, "codex's exec-policy rules may run commands without asking")
			assert.Contains(t, r.stderr, file)
			assert.Len(t, m.Requests(), 0, "the model got no request")
			assert.NoFileExists(t, filepath.Join(work, "f.txt"))
		})
	}
}

// A rules file's name is the project's, maybe the agent's: printed, it is
// escaped, like every path codexhost quotes.
func TestExecPolicyAllowingEscapesNames(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x\x1b]0;pwned\x07.rules"), []byte(`prefix_rule(pattern=["ls"])`), 0o644))
	got := execPolicyAllowing([]string{dir})
	require.Len(t, got, 1)
	assert.NotContains(t, got[0], "\x1b")
	assert.Contains(t, got[0], "the default decision, allow")
}

// A relative --codex-home names a directory from where codexhost runs, for
// codex too (which runs in --cwd): the home codex reads is the one run
// checks. Here work/home, which codex would have read from --cwd work,
// allows touch; home, the one named, does not, and the policy is asked.
func TestRelativeCodexHomeIsTheOneNamed(t *testing.T) {
	rules := writeRules(t, `
[[rule]]
name = "commands"
decision = "decline"
message = "asked"
[rule.match]
hook_kind = "command"
`)
	m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch f.txt"}), hosttest.Text("done"))})
	require.NoError(t, err)
	t.Cleanup(func() { _ = m.Close() })
	requireCodex(t)
	d := t.TempDir()
	work := filepath.Join(d, "work")
	opts := &hosttest.CodexHomeOptions{OmitApprovalPolicy: true}
	require.NoError(t, hosttest.WriteCodexHome(filepath.Join(d, "home"), m.URL(), opts))
	require.NoError(t, hosttest.WriteCodexHome(filepath.Join(work, "home"), m.URL(), opts))
	require.NoError(t, os.MkdirAll(filepath.Join(work, "home", "rules"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(work, "home", "rules", "default.rules"),
		[]byte(`prefix_rule(pattern=["touch"], decision="allow")`+"\n"), 0o644))
	bin, err := filepath.Abs(e2e.CodexBin(t))
	require.NoError(t, err)
	t.Chdir(d)
	r := runCmd(t, "run", "--codex", bin, "--codex-home", "home", "--cwd", work, "--sandbox", "workspace-write", "--policy", rules, "go")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.Contains(t, r.stderr, "rule commands: asked")
	assert.NoFileExists(t, filepath.Join(work, "f.txt"))
}

// trustHooks marks every hook codex finds for cwd as trusted in
// CODEX_HOME/config.toml, with the hash hooks/list reports, as codex's own
// hook-trust prompt does for a user who accepts them.
func trustHooks(t *testing.T, home, cwd string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: cwd})
	require.NoError(t, err)
	defer c.Close()
	var resp protocol.HooksListResponse
	require.NoError(t, c.Call(ctx, string(protocol.ClientHooksList), protocol.HooksListParams{Cwds: []string{cwd}}, &resp))
	f, err := os.OpenFile(filepath.Join(home, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	n := 0
	for _, d := range resp.Data {
		for _, h := range d.Hooks {
			k, _ := json.Marshal(h.Key)
			_, err := fmt.Fprintf(f, "\n[hooks.state.%s]\ntrusted_hash = %q\n", k, h.CurrentHash)
			require.NoError(t, err)
			n++
		}
	}
	require.NotZero(t, n, "codex lists the hook")
}

// A permission-request hook that codex runs (trusted) answers approval
// requests before the client is asked: run refuses it with a policy
// loaded, naming where it is configured. An untrusted one does not run,
// and the policy is asked.
func TestRunRefusesPermissionRequestHooks(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	for _, trusted := range []bool{false, true} {
		t.Run(fmt.Sprintf("trusted=%v", trusted), func(t *testing.T) {
			t.Parallel()
			m, home := fakeCodexHome(t, hosttest.Turn(
				hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch f.txt"}), hosttest.Text("done")))
			dropApprovalPolicy(t, home)
			work := t.TempDir()
			hooks := `{"hooks": {"PermissionRequest": [{"hooks": [{"type": "command",
		"command": "echo '{\"hookSpecificOutput\":{\"hookEventName\":\"PermissionRequest\",\"decision\":{\"behavior\":\"allow\"}}}'"}]}]}}`
			require.NoError(t, os.WriteFile(filepath.Join(home, "hooks.json"), []byte(hooks), 0o644))
			if trusted {
				trustHooks(t, home, work)
			}
			r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write", "--policy", rules, "go")
			assert.NoFileExists(t, filepath.Join(work, "f.txt"))
			if !trusted { // the policy is asked, and declines (it abstains: the fallback)
				assert.Equal(t, exitDeclined, r.code, r.stderr)
				return
			}
			assert.Equal(t, exitUsage, r.code, r.stderr)
			assert.Contains(t, r.stderr, "codex runs permission-request hooks")
			assert.Contains(t, r.stderr, filepath.Join(home, "hooks.json"))
			assert.Len(t, m.Requests(), 0, "the model got no request")
		})
	}
}

// A trusted project's .codex/config.toml with an MCP server: codex would
// start its command when the thread starts, asking no one. run refuses
// before the thread starts, and nothing runs; --allow-unasked-policy makes
// it a warning. An untrusted project's config is not loaded (codex says
// so, and starts nothing): run goes on.
func TestRunRefusesProjectMCPServers(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	for _, tc := range []struct {
		name           string
		allow, trusted bool
	}{{"refused", false, true}, {"allowed", true, true}, {"untrusted", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("done")))
			dropApprovalPolicy(t, home)
			work := t.TempDir()
			marker := filepath.Join(t.TempDir(), "ran")
			writeProjectMCP(t, work, marker)
			if tc.trusted {
				trustProject(t, home, work)
			}
			args := []string{"run", "--codex-home", home, "--cwd", work, "--policy", rules}
			if tc.allow {
				args = append(args, "--allow-unasked-policy")
			}
			r := runCmd(t, append(args, "go")...)
			switch {
			case !tc.trusted:
				assert.Equal(t, exitOK, r.code, r.stderr)
				assert.NotContains(t, r.stderr, "MCP servers")
				assert.NoFileExists(t, marker, "codex started no MCP server of an untrusted project")
			case tc.allow:
				assert.Equal(t, exitOK, r.code, r.stderr)
				assert.Contains(t, r.stderr, "codexhost: warning: the project's codex config declares MCP servers")
			default:
				assert.Equal(t, exitUsage, r.code, r.stderr)
				assert.Contains(t, r.stderr, "the project's codex config declares MCP servers")
				assert.Contains(t, r.stderr, filepath.Join(work, ".codex", "config.toml")+": x")
				assert.NoFileExists(t, marker, "codex started no MCP server")
				assert.Len(t, m.Requests(), 0)
			}
		})
	}
}

// writeProjectMCP writes dir/.codex/config.toml declaring the MCP server
// x, whose command creates marker when codex starts it.
func writeProjectMCP(t *testing.T, dir, marker string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".codex"), 0o755))
	cfg := fmt.Sprintf("[mcp_servers.x]\ncommand = \"sh\"\nargs = [\"-c\", \"touch %s\"]\n", marker)
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".codex", "config.toml"), []byte(cfg), 0o644))
}

// trustProject marks dir a trusted project in CODEX_HOME/config.toml, as
// codex's own trust prompt does: codex then loads its .codex config.
func trustProject(t *testing.T, home, dir string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(home, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, "\n[projects.%q]\ntrust_level = \"trusted\"\n", dir)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

// A resumed thread runs in its stored cwd: the MCP check reads that
// project, wherever run is started from.
func TestRunRefusesProjectMCPServersOnResume(t *testing.T) {
	rules := writeRules(t, pushRules)
	_, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("one")), hosttest.Turn(hosttest.Text("two"))))
	dropApprovalPolicy(t, home)
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--policy", rules, "go")
	require.Equal(t, exitOK, r.code, r.stderr)
	id := threadIDFrom(t, r.stderr)
	marker := filepath.Join(t.TempDir(), "ran")
	writeProjectMCP(t, work, marker)
	trustProject(t, home, work)
	r = runCmd(t, "run", "--codex-home", home, "--thread", id, "--policy", rules, "again")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, filepath.Join(work, ".codex", "config.toml")+": x")
	assert.NoFileExists(t, marker)
}

// codex finds the project's root by project_root_markers, which -c sets
// as well as config.toml: here codex reads base/.codex (base has ROOT),
// although base/sub has a .git. run asks codex which project config it
// loads, and refuses the MCP server base/.codex declares.
func TestRunProjectRootMarkersFromDashC(t *testing.T) {
	t.Parallel()
	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.Text("done")))
	dropApprovalPolicy(t, home)
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	sub := filepath.Join(base, "sub")
	require.NoError(t, os.MkdirAll(filepath.Join(sub, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(base, "ROOT"), nil, 0o644))
	marker := filepath.Join(t.TempDir(), "mcp-ran")
	writeProjectMCP(t, base, marker)
	trustProject(t, home, base)
	r := runCmd(t, "run", "--no-config", "--codex-home", home, "--cwd", sub, "-c", `project_root_markers=["ROOT"]`,
		"--policy", writeRules(t, pushRules), "go")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, filepath.Join(base, ".codex", "config.toml")+": x")
	assert.NoFileExists(t, marker, "codex started the project's MCP server, unasked")
}

// A relative --cwd is the invoker's, resolved once (codex exec -C work
// runs in ./work): codex starts in it, and the thread's cwd is the same
// directory, not work/work. With a policy loaded, the MCP check reads the
// project the thread runs in: here work/work is a trusted project with an
// MCP server, which the old double resolution started unasked while the
// check read ./work.
func TestRunRelativeCwd(t *testing.T) {
	t.Setenv("CODEX_BIN", e2e.CodexBin(t)) // t.Chdir: relative paths to codex would break
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	inner := filepath.Join(base, "work", "work")
	marker := filepath.Join(base, "mcp-ran")
	writeProjectMCP(t, inner, marker)
	require.NoError(t, os.Mkdir(filepath.Join(inner, ".git"), 0o755))
	t.Chdir(base)

	_, home := fakeCodexHome(t, hosttest.Turn(hosttest.ExecCommand("pwd"), hosttest.Text("done")))
	r := runCmd(t, "run", "--no-config", "--codex-home", home, "-C", "work", "--fallback", "accept",
		"--approval-policy", "untrusted", "--render", "exec", "say where you are")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout+r.stderr, inner, "the cwd was resolved twice")
	assert.Contains(t, r.stdout, filepath.Join(base, "work")+"\n", "pwd prints ./work")

	_, home = fakeCodexHome(t, hosttest.Turn(hosttest.Text("done")))
	dropApprovalPolicy(t, home)
	trustProject(t, home, inner)
	r = runCmd(t, "run", "--no-config", "--codex-home", home, "-C", "work", "--policy", writeRules(t, pushRules), "go")
	assert.Equal(t, exitOK, r.code, "./work declares no MCP server: %s", r.stderr)
	assert.NoFileExists(t, marker, "codex started work/work's MCP server, unasked")
}

// threadIDFrom reads the thread id from run's "thread ID: continue it…"
// line.
func threadIDFrom(t *testing.T, stderr string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^thread ([0-9a-f-]+): continue it with`).FindStringSubmatch(stderr)
	require.NotNil(t, m, "no thread line in %q", stderr)
	return m[1]
}

// A trusted PreToolUse hook that answers "allow" does not answer codex's
// approval request: the request still reaches the policy, which declines
// (the rules abstain: the fallback), and the command does not run.
func TestRunPreToolUseAllowHookDoesNotBypass(t *testing.T) {
	t.Parallel()
	rules := writeRules(t, pushRules)
	_, home := fakeCodexHome(t, hosttest.Turn(
		hosttest.ExecCommandArgs(hosttest.ExecArgs{Cmd: "touch f.txt"}), hosttest.Text("done")))
	dropApprovalPolicy(t, home)
	work := t.TempDir()
	hooks := `{"hooks": {"PreToolUse": [{"hooks": [{"type": "command",
		"command": "echo '{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"allow\"}}'"}]}]}}`
	require.NoError(t, os.WriteFile(filepath.Join(home, "hooks.json"), []byte(hooks), 0o644))
	trustHooks(t, home, work)
	r := runCmd(t, "run", "--codex-home", home, "--cwd", work, "--sandbox", "workspace-write", "--policy", rules, "go")
	assert.Equal(t, exitDeclined, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codexhost: decline /bin/bash -lc 'touch f.txt'")
	assert.NoFileExists(t, filepath.Join(work, "f.txt"), "the command ran without the policy's accept")
}

// gitAbove returns the nearest directory at or above dir that holds a
// .git, or "".
func gitAbove(dir string) string {
	for {
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
