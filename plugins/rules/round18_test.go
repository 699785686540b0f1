package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Review round 18 (adversarial review of the worktree adv3, at 5dfb078):
// programs people allow as "read-only" (or by argv_prefix) whose own
// options, config files or program text write files or run programs, and
// of which known.go knows nothing. Each line runs here under real bash in
// a fresh directory and makes a file the engine did not vouch for; a
// missing tool is logged and the verdict is asserted either way.

// round18ReadOnly is the kind of rule the brief names: a list of programs.
const round18ReadOnly = `
[[rule]]
name = "read-only-tools"
decision = "accept"
[rule.match]
program = ["ls","cat","head","tail","wc","grep","rg","find","sed","awk","sort","uniq","diff","jq","yq","tree","file","stat","du","df","env","which","less","more","man","git","go","npm","pnpm","yarn","cargo","make","python","pytest","node","docker","kubectl","curl"]
`

// round18Prefixes makes one accept rule per argv_prefix.
func round18Prefixes(ps ...[]string) string {
	s := ""
	for _, p := range ps {
		s += strings.Replace(prefixRule(p...), `"prefix"`, `"`+strings.Join(p, "-")+`"`, 1)
	}
	return s
}

type round18Case struct {
	line  string            // the line judged and run
	files map[string]string // written into the work directory first
	made  string            // the file the line makes (pwn makes PWNED)
}

// round18Run runs c.line under bash in a fresh directory holding c.files
// and pwn (a program that touches PWNED), and reports whether c.made
// exists afterwards.
func round18Run(t *testing.T, c round18Case) bool {
	t.Helper()
	tool := strings.Fields(c.line)[0]
	if _, err := exec.LookPath(tool); err != nil {
		t.Logf("%s is not installed: no demonstration of %q", tool, c.line)
		return false
	}
	work := t.TempDir()
	files := map[string]string{"x": "hello\n", "pwn": "#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\n"}
	for k, v := range c.files {
		files[k] = v
	}
	for name, text := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "WORK", work)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	line := strings.ReplaceAll(c.line, "WORK", work)
	out := bashIn(t, "timeout 60 "+line, filepath.Join(work, "m"), append(os.Environ(), "KUBECONFIG="))
	if _, err := os.Stat(filepath.Join(work, c.made)); err != nil {
		t.Logf("%q made no %s (output %q): no evidence this time", line, c.made, out)
		return false
	}
	return true
}

func round18Check(t *testing.T, rules string, cases []round18Case) {
	t.Helper()
	p := mustParse(t, rules)
	for _, c := range cases {
		ran := round18Run(t, c)
		if v, ok := acceptedBy(t, p, c.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash it made %s: %v",
				c.line, v.Rule, commandsOf(v.Analysis), c.made, ran)
		}
	}
}

// The work directory is WORK; every line runs in WORK/m (a Go module).
var round18Module = map[string]string{
	"m/go.mod":    "module m\n\ngo 1.21\n",
	"m/main.go":   "package main\n\nfunc main() {}\n",
	"m/m_test.go": "package main\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
	"m/x":         "hello\n",
}

func round18With(extra map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range round18Module {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// TestRound18AwkRunsAndWrites: awk is on every read-only list, and its
// program text runs commands (system(), print | "cmd", "cmd" | getline)
// and writes files (print > "f"), as sed's e and w do; known.go reads
// sed's script but has no awk at all.
func TestRound18AwkRunsAndWrites(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: `awk 'BEGIN{system("../pwn")}'`, files: round18Module, made: "PWNED"},
		{line: `awk 'BEGIN{print "x" | "../pwn"}'`, files: round18Module, made: "PWNED"},
		{line: `awk 'BEGIN{"../pwn" | getline}'`, files: round18Module, made: "PWNED"},
		{line: `awk '{print > "../OUT"}' x`, files: round18Module, made: "OUT"},
		{line: `awk -f ../prog.awk x`, files: round18With(map[string]string{"prog.awk": "BEGIN{system(\"../pwn\")}\n"}), made: "PWNED"},
	})
}

// TestRound18CurlWrites: curl -o/-O/-D/--trace/-c/--libcurl write any
// path the user can, and -K reads a config whose "output" does too.
func TestRound18CurlWrites(t *testing.T) {
	round18Check(t, round18ReadOnly+round18Prefixes([]string{"curl", "-s"}), []round18Case{
		{line: "curl -s -o ../OUT file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s -D ../OUT file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s --trace ../OUT file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s -K ../cfg file://WORK/x", files: round18With(map[string]string{"cfg": "output = \"WORK/OUT\"\n"}), made: "OUT"},
	})
}

// TestRound18KubectlKubeconfigExec: kubectl get --kubeconfig FILE runs
// the credential plugin FILE names (users[].user.exec.command) before it
// talks to the server; the file is one the agent writes.
func TestRound18KubectlKubeconfigExec(t *testing.T) {
	kc := `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: WORK/pwn, interactiveMode: Never}}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`
	round18Check(t, round18Prefixes([]string{"kubectl", "get"}), []round18Case{
		{line: "kubectl get pods --kubeconfig=../k", files: round18With(map[string]string{"k": kc}), made: "PWNED"},
		{line: "kubectl get pods --kubeconfig ../k", files: round18With(map[string]string{"k": kc}), made: "PWNED"},
	})
}

// TestRound18GoWritesByOption: go build -o, go test -c -o, the test
// profiles (-coverprofile, -cpuprofile, …; -outputdir) and the compiler's
// own -cpuprofile behind -gcflags write any path the user can (an
// executable, too: go build -o ~/bin/ls). known.go reads go's options
// for programs it runs, not for files it writes.
func TestRound18GoWritesByOption(t *testing.T) {
	rules := round18Prefixes([]string{"go", "build"}, []string{"go", "test"})
	round18Check(t, rules, []round18Case{
		{line: "go build -o ../OUT .", files: round18Module, made: "OUT"},
		{line: "go build --o=../OUT .", files: round18Module, made: "OUT"},
		{line: "go test -c -o ../OUT .", files: round18Module, made: "OUT"},
		{line: "go test -count=1 -coverprofile=../OUT .", files: round18Module, made: "OUT"},
		{line: "go test -count=1 -cpuprofile ../OUT .", files: round18Module, made: "OUT"},
		{line: "go build -a -gcflags=-cpuprofile=WORK/OUT .", files: round18Module, made: "OUT"},
	})
}

// TestRound18YqInPlace: yq -i (both yq's: kislyuk's wants -y/-Y with
// it, mikefarah's does not) rewrites its file.
func TestRound18YqInPlace(t *testing.T) {
	p := mustParse(t, round18ReadOnly)
	for _, line := range []string{"yq -i '.a=2' f.yaml", "yq --inplace '.a=2' f.yaml", "yq -y -i '.a=2' f.yaml", "yq -yi '.a=2' f.yaml"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; yq rewrites f.yaml", line, v.Rule)
		}
	}
	if _, err := exec.LookPath("yq"); err != nil {
		t.Log("yq is not installed: no demonstration")
		return
	}
	work := t.TempDir()
	f := filepath.Join(work, "f.yaml")
	if err := os.WriteFile(f, []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bashIn(t, "yq -y -i '.a=2' f.yaml || yq -i '.a=2' f.yaml", work, os.Environ())
	got, _ := os.ReadFile(f)
	t.Logf("after yq -i: f.yaml holds %q", got)
}
