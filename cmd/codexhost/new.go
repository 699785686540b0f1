package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

const pluginNewSynopsis = `plugin new [--dir DIR] [--module PATH] NAME

Writes a new sdk-guest approval policy plugin into DIR (default ./NAME):
main.go (the policy), main_test.go (a unit test, and a test that builds it
for Wasm with plugintest and asks it in the sandbox), cases.toml (cases for
'codexhost plugin test') and README.md. Outside a Go module it also writes
a go.mod (module PATH, default NAME) that requires codexhost, replaced by
the codexhost source tree when you run it from one, and runs go mod tidy.`

// pluginNameRE is what a plugin's name may be: it names the plugin in logs
// and audit records, and the directory and binary.
var pluginNameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func cmdPluginNew(ctx context.Context, cio *cmdIO, args []string) error {
	var dir, module string
	fs := newFlagSet(cio, "plugin new", pluginNewSynopsis)
	fs.StringVar(&dir, "dir", "", "write the plugin into `DIR` (default ./NAME); it must not exist or be empty")
	fs.StringVar(&module, "module", "", "module `PATH` of the go.mod written outside a Go module (default NAME)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin new: want exactly one NAME, got %d arguments", fs.NArg())
	}
	name := fs.Arg(0)
	if !pluginNameRE.MatchString(name) || len(name) > 64 {
		return usageErr("plugin new %q: a name is lower-case letters and digits, in words joined by '-' (e.g. deny-push), at most 64 bytes", name)
	}
	if dir == "" {
		dir = name
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return usageErr("plugin new: %s exists and is not empty; choose another --dir", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return usageErr("plugin new: %v", unwrapPathError(err))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return usageErr("plugin new: %v", err)
	}
	data := scaffoldData{Name: name, Dir: dir}
	files := map[string]*template.Template{
		"main.go": scaffoldMain, "main_test.go": scaffoldTest,
		"cases.toml": scaffoldCases, "README.md": scaffoldReadme,
		".gitignore": scaffoldGitignore,
	}
	inModule := enclosingModule(filepath.Dir(abs)) != ""
	if !inModule {
		if module == "" {
			module = name
		}
		data.Module = module
		data.Replace = codexhostSource(ctx)
		files["go.mod"] = scaffoldGoMod
	}
	for file, tmpl := range files {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, data); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			return usageErr("plugin new: %v", unwrapPathError(err))
		}
	}
	fmt.Fprintf(cio.stdout, "created %s: main.go, main_test.go, cases.toml, README.md, .gitignore", dir)
	if !inModule {
		fmt.Fprint(cio.stdout, ", go.mod")
	}
	fmt.Fprintln(cio.stdout)
	if !inModule {
		if data.Replace == "" {
			fmt.Fprintf(cio.stderr, "codexhost: %s/go.mod requires github.com/codexhost/codexhost %s; point it at a codexhost source tree with a replace directive if that version cannot be downloaded, then run go mod tidy\n", dir, scaffoldVersion)
		} else if out, err := goModTidy(ctx, abs, data.Replace); err != nil {
			fmt.Fprintf(cio.stderr, "codexhost: go mod tidy in %s failed; run it yourself (%s)\n", dir, oneLine(out))
		}
	}
	fmt.Fprintf(cio.stdout, "next:\n  cd %s\n  go test .\n  codexhost plugin build .\n  codexhost plugin test %s.wasm --cases cases.toml\n", dir, name)
	return nil
}

// enclosingModule returns the go.mod in dir or a parent, or "".
func enclosingModule(dir string) string {
	for {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !st.IsDir() {
			return filepath.Join(dir, "go.mod")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// codexhostSource is the root of the codexhost source tree around the
// working directory, or "".
func codexhostSource(ctx context.Context) string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	gomod := enclosingModule(wd)
	if gomod == "" {
		return ""
	}
	b, err := os.ReadFile(gomod)
	if err != nil || !bytes.Contains(b, []byte("module github.com/codexhost/codexhost\n")) {
		return ""
	}
	return filepath.Dir(gomod)
}

// goModTidy completes the new go.mod and go.sum. The codexhost tree's
// go.sum is copied first, so that a machine that built codexhost needs no
// network.
func goModTidy(ctx context.Context, dir, root string) (string, error) {
	if sum, err := os.ReadFile(filepath.Join(root, "go.sum")); err == nil {
		_ = os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
	}
	cmd := exec.CommandContext(ctx, "go", "mod", "tidy")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) == 0 {
		out = []byte(err.Error())
	}
	return strings.TrimSpace(string(out)), err
}

// scaffoldVersion is the codexhost version a new go.mod requires; a replace
// directive points it at a source tree.
const scaffoldVersion = "v0.0.0-00010101000000-000000000000"

type scaffoldData struct {
	Name, Dir       string
	Module, Replace string
}

func (d scaffoldData) Version() string { return scaffoldVersion }

var (
	scaffoldMain = template.Must(template.New("main.go").Parse(`// Command {{.Name}} is a codexhost approval policy plugin: it declines
// commands that remove files or publish anything, accepts commands that
// only read, and leaves everything else to the next plugin (and, at the end
// of the chain, to the host's fallback, which declines).
//
// Build it as a sandboxed WebAssembly plugin, or as a process plugin:
//
//	codexhost plugin build .                    # {{.Name}}.wasm
//	codexhost plugin build --runtime process .  # {{.Name}}
package main

import (
	"context"
	"slices"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("{{.Name}}", "0.1.0", "declines rm and git push, accepts read-only commands")
	guest.OnApproval(decide)
}

// Programs whose commands are declined, and programs that only read.
var (
	denied   = []string{"rm", "rmdir", "shred", "git push", "npm publish"}
	readOnly = []string{"ls", "cat", "head", "tail", "grep", "rg", "wc", "pwd", "git status", "git diff", "git log"}
)

// decide answers one approval request. The command is the line codex runs,
// e.g. "/bin/bash -lc 'rm -rf build'"; codex's parse of it is in
// req.Actions.
func decide(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	if req.Kind != abi.ApprovalCommand {
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	}
	cmd := script(req.Command)
	if p := startsWithAny(cmd, denied); p != "" {
		return &abi.ApprovalResponse{Decision: abi.Decline, Reason: p + " is not allowed"}, nil
	}
	if p := startsWithAny(cmd, readOnly); p != "" && !strings.ContainsAny(cmd, ";&|><$` + "`" + `") {
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: p + " only reads"}, nil
	}
	return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
}

// script is the shell script of "/bin/bash -lc '...'", or the command.
func script(command string) string {
	fields := strings.Fields(command)
	if len(fields) >= 3 && strings.HasSuffix(fields[0], "sh") && slices.Contains([]string{"-c", "-lc"}, fields[1]) {
		s := strings.TrimSpace(strings.SplitN(command, fields[1], 2)[1])
		return strings.Trim(s, "'\"")
	}
	return command
}

// startsWithAny returns the entry of programs that cmd runs, or "".
func startsWithAny(cmd string, programs []string) string {
	for _, p := range programs {
		if cmd == p || strings.HasPrefix(cmd, p+" ") {
			return p
		}
	}
	return ""
}

func main() { guest.Main() }
`))

	scaffoldTest = template.Must(template.New("main_test.go").Parse(`package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// decide, called directly: fast, and easy to debug.
func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		command string
		want    abi.Decision
	}{
		{"/bin/bash -lc 'rm -rf build'", abi.Decline},
		{"/bin/bash -lc 'git push origin main'", abi.Decline},
		{"/bin/bash -lc 'ls -la'", abi.Accept},
		{"/bin/bash -lc 'cat a > b'", abi.Abstain},
		{"/bin/bash -lc 'make'", abi.Abstain},
	} {
		resp, err := decide(context.Background(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.command})
		require.NoError(t, err)
		assert.Equal(t, tc.want, resp.Decision, tc.command)
	}
}

// The plugin built for WebAssembly and asked in the sandbox, as codexhost
// runs it.
func TestWasm(t *testing.T) {
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil)
	require.NoError(t, err)
	defer rt.Close(ctx)
	p, err := rt.Load(ctx, plugintest.BuildGoGuest(t, "."), nil)
	require.NoError(t, err)
	defer p.Close(ctx)
	assert.Equal(t, "{{.Name}}", p.Manifest().Name)
	assert.Equal(t, []abi.Hook{abi.HookApproval}, p.Manifest().Hooks)

	resp, err := plugins.Call[abi.ApprovalResponse](ctx, p, abi.HookApproval,
		&abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "/bin/bash -lc 'rm -rf /'"})
	require.NoError(t, err)
	assert.Equal(t, abi.Decline, resp.Decision)
	assert.Equal(t, "rm is not allowed", resp.Reason)

	// cases.toml, as codexhost plugin test --cases runs it.
	plugintest.RunCases(t, p, "cases.toml")
}
`))

	// The build outputs and signing keys stay out of the plugin's
	// repository: plugin keygen writes NAME.key next to them.
	scaffoldGitignore = template.Must(template.New(".gitignore").Parse(`# Signing keys (codexhost plugin keygen): keep them out of version control.
*.key
# Build outputs (codexhost plugin build).
/{{.Name}}.wasm
/{{.Name}}
`))
	scaffoldCases = template.Must(template.New("cases.toml").Parse(`# Cases for codexhost plugin test: each asks the plugin one request and
# says what it must answer. Run them with
#
#   codexhost plugin build .
#   codexhost plugin test {{.Name}}.wasm --cases cases.toml
#
# Requests are in the plugin ABI's form (docs/abi.md), or as codex sends
# them ([case.codex]); docs/cli.md lists every key.

[[case]]
name = "rm is declined"
[case.approval]
kind = "command"
command = "/bin/bash -lc 'rm -rf build'"
[case.expect]
decision = "decline"
reason = "rm is not allowed"

[[case]]
name = "git push is declined"
[case.approval]
kind = "command"
command = "/bin/bash -lc 'git push origin main'"
[case.expect]
decision = "decline"

[[case]]
name = "ls is accepted"
[case.approval]
kind = "command"
command = "/bin/bash -lc 'ls -la'"
[case.expect]
decision = "accept"
reason_contains = "only reads"

[[case]]
name = "a redirect is not read-only: the next plugin decides"
[case.approval]
kind = "command"
command = "/bin/bash -lc 'cat a > b'"
[case.expect]
decision = "abstain"

[[case]]
name = "file changes are left to the fallback, which declines"
[case.codex]
method = "item/fileChange/requestApproval"
params = '{"threadId":"thr_1","turnId":"turn_1","itemId":"call_1"}'
[case.expect]
decision = "abstain"
answer = '{"decision":"decline"}'
`))

	scaffoldReadme = template.Must(template.New("README.md").Parse("# {{.Name}}\n\n" +
		"A codexhost approval policy plugin, written with sdk-guest: it declines\n" +
		"`rm` and `git push`, accepts read-only commands (`ls`, `cat`, `git status`,\n" +
		"...) and abstains on the rest, which the host's fallback declines.\n\n" +
		"```sh\n" +
		"go test .                                          # unit test, and the Wasm build in the sandbox\n" +
		"codexhost plugin build .                           # {{.Name}}.wasm, sandboxed\n" +
		"codexhost plugin test {{.Name}}.wasm --cases cases.toml\n" +
		"codexhost run --plugin {{.Name}}.wasm \"tidy up the build directory\"\n" +
		"```\n\n" +
		"The last command is a real turn: it uses your codex login and model.\n" +
		"Offline, `codexhost run --scripted AGENT.toml ...` plays an agent from a\n" +
		"script on the real codex with a fake model instead (see \"Agent scripts\"\n" +
		"in codexhost's docs/cli.md).\n\n" +
		"`codexhost plugin build --runtime process .` builds the same source as a\n" +
		"process plugin, for a policy that needs the network or a database.\n\n" +
		"Record a real turn with `codexhost run --record turn.jsonl ...`, then\n" +
		"`codexhost plugin test {{.Name}}.wasm --transcript turn.jsonl` replays its\n" +
		"requests against the plugin and checks it answers them as before.\n"))

	scaffoldGoMod = template.Must(template.New("go.mod").Parse(`module {{.Module}}

go 1.26

require github.com/codexhost/codexhost {{.Version}}
{{- if .Replace}}

replace github.com/codexhost/codexhost => {{.Replace}}
{{- end}}
`))
)
