package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 10 (adversarial review of the worktree adv1). Each test
// below fails while the engine accepts its lines; each line runs here
// under real bash (and the real npm or go) to show what it does.

// npmWorkspace makes an npm project that needs no network: a package
// foo in node_modules (for npm explore) and a package create-foo whose
// bin touches INIT_PWNED (for npm init foo, which runs create-foo).
// Agent-written files, all of them.
func npmWorkspace(t *testing.T) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("npm"); err != nil {
		t.Skip("npm is not installed")
	}
	work := t.TempDir()
	files := map[string]string{
		"package.json":                         `{"name":"p","version":"1.0.0"}`,
		"node_modules/foo/package.json":        `{"name":"foo","version":"1.0.0"}`,
		"node_modules/create-foo/package.json": `{"name":"create-foo","version":"1.0.0","bin":{"create-foo":"bin/c"}}`,
		"node_modules/create-foo/bin/c":        "#!/bin/sh\ntouch \"$INIT_CWD/INIT_PWNED\"\n",
	}
	for name, text := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(work, "node_modules/.bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../create-foo/bin/c", filepath.Join(work, "node_modules/.bin/create-foo")); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=" + work,
		"npm_config_cache=" + filepath.Join(work, ".npm"), "npm_config_offline=true", "npm_config_update_notifier=false"}
	return work, env
}

const npmRules = `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "dev-tools"
decision = "accept"
[rule.match]
program = ["npm"]
`

// TestRound10NpmExecBehindAnOptionsValue: danger finds npm exec as the
// first word after npm that does not start with -, and stops there. npm
// options take their value as the next word (--prefix DIR, --loglevel
// LEVEL, -w NAME, --cache DIR), so in npm --prefix . exec -c CMD the
// first such word is ".", and exec is never looked at; npm runs exec,
// which runs CMD in a shell. npm also takes an abbreviation of a
// command (npm exe is npm exec), which danger does not know either.
// Round 9 refused npm exec -c 'rm -rf victim'; these lines are accepted
// under a rule naming npm, past a rule declining rm.
func TestRound10NpmExecBehindAnOptionsValue(t *testing.T) {
	p := mustParse(t, npmRules)
	if v, ok := acceptedBy(t, p, "npm exec -c 'rm -rf victim'"); ok || v.Decision != abi.Abstain {
		t.Fatalf("npm exec -c: %s by %q: the rules are not what this test is about", v.Decision, v.Rule)
	}
	for _, tc := range []struct{ line, demo, marker string }{
		{"npm --prefix . exec -c 'rm -rf victim'", "npm --prefix . exec -c 'touch P1'", "P1"},
		{"npm --loglevel silent exec -c 'rm -rf victim'", "npm --loglevel silent exec -c 'touch P2'", "P2"},
		{"npm exe -c 'rm -rf victim'", "npm exe -c 'touch P3'", "P3"},
		{"npm exe -- rm -rf victim", "npm exe -- touch P4", "P4"},
	} {
		work, env := npmWorkspace(t)
		out := bashIn(t, tc.demo, work, env)
		if _, err := os.Stat(filepath.Join(work, tc.marker)); err != nil {
			t.Logf("%q: npm ran nothing here (output %q): npm, not the engine, is at fault; the line is no evidence this time", tc.demo, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm; under bash %q ran touch %s",
				tc.line, v.Rule, commandsOf(v.Analysis), tc.demo, tc.marker)
		}
	}
}

// TestRound10NpmSubcommandsThatRunPrograms: round 9 refused npm exec
// because it runs its arguments as a program; two more npm commands do.
// npm init NAME (and its aliases create and innit) is npm exec
// create-NAME: it runs the bin of the package create-NAME, which npm
// takes from the project's node_modules with no network. npm explore
// PKG -- CMD runs CMD in a shell in node_modules/PKG. Neither is in
// danger, otherWrappers or the loose reading, so npm explore foo -- rm
// -rf victim is accepted past a rule declining rm. And npm edit PKG runs
// the editor the line names (--editor 'rm -rf' is rm -rf
// node_modules/PKG, split on blanks, no shell).
func TestRound10NpmSubcommandsThatRunPrograms(t *testing.T) {
	p := mustParse(t, npmRules)
	for _, tc := range []struct{ line, demo, marker string }{
		{"npm explore foo -- rm -rf victim", "npm explore foo -- touch ../../EXPLORE_PWNED", "EXPLORE_PWNED"},
		{"npm init foo", "npm init foo", "INIT_PWNED"},
		{"npm create foo", "npm create foo", "INIT_PWNED"},
		{"npm innit foo", "npm innit foo", "INIT_PWNED"},
		{"npm edit foo --editor 'rm -rf victim'", "npm edit foo --editor 'touch EDIT_PWNED'", "EDIT_PWNED"},
	} {
		work, env := npmWorkspace(t)
		out := bashIn(t, tc.demo, work, env)
		if _, err := os.Stat(filepath.Join(work, tc.marker)); err != nil {
			t.Logf("%q: npm ran nothing here (output %q): npm, not the engine, is at fault; the line is no evidence this time", tc.demo, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash %q ran a program of the agent's (%s)",
				tc.line, v.Rule, commandsOf(v.Analysis), tc.demo, tc.marker)
		}
	}
}

// goWorkspace makes a go module (no dependencies) and pwn.sh, a program
// of the agent's that touches TOOLEXEC_PWNED and runs its arguments
// (what go's -toolexec and -vettool want). GOENV is the workspace's
// goenv file, which go env -w writes.
func goWorkspace(t *testing.T) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not installed")
	}
	work := t.TempDir()
	files := map[string]string{
		"go.mod":  "module m\n\ngo 1.22\n",
		"main.go": "package main\n\nfunc main() {}\n",
		"pwn.sh":  "#!/bin/sh\ntouch " + filepath.Join(work, "TOOLEXEC_PWNED") + "\nexec \"$@\"\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=" + work, "GOCACHE=" + sharedGoCache(t),
		"GOPATH=" + filepath.Join(work, "gopath"), "GOFLAGS=", "GOPROXY=off", "GOTOOLCHAIN=local",
		"GOENV=" + filepath.Join(work, "goenv")}
	return work, env
}

// TestRound10GoOptionsThatRunPrograms: known.go holds nothing for go.
// go build, go list and go vet run no code of the module (unlike go
// test and go run), so a rule accepting them is a rule for compiling and
// reading; but their build flag -toolexec PROG runs PROG before every
// compiler and linker call, and go vet -vettool PROG runs PROG as the
// analysis tool, exactly as rg --pre and tar -I, which the engine
// refuses. go env -w NAME=VALUE writes the go environment file (as git
// config writes its config, which the engine leaves out): GOFLAGS=
// -toolexec=PROG there makes every later go build run PROG.
func TestRound10GoOptionsThatRunPrograms(t *testing.T) {
	p := mustParse(t, goRules)
	for _, line := range []string{"go build ./...", "go list -m", "go vet .", "go env GOPATH"} {
		if _, ok := acceptedBy(t, p, line); !ok {
			t.Fatalf("%q is not accepted: the rules are not what this test is about", line)
		}
	}
	for _, tc := range []struct{ line, then string }{
		{"go build -toolexec ./pwn.sh -o /dev/null .", ""},
		{"go build -toolexec=./pwn.sh -o /dev/null .", ""},
		{"go list -export -toolexec ./pwn.sh .", ""},
		{"go vet -vettool ./pwn.sh .", ""},
		{"go env -w GOFLAGS=-toolexec=WORK/pwn.sh", "go build -buildvcs=false ."}, // -o is refused now (it writes where it says)
	} {
		work, env := goWorkspace(t)
		if tc.then == "" {
			// No VCS stamping: go would stop at a .git it finds above the
			// workspace (an empty /tmp/.git, which a sandboxed codex run
			// of another test can leave), before it runs -toolexec. The
			// go env -w case keeps GOFLAGS empty, as its file sets it,
			// and its build says -buildvcs=false itself.
			env = append(slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, "GOFLAGS=") }), "GOFLAGS=-buildvcs=false")
		}
		line := strings.ReplaceAll(tc.line, "WORK", work)
		out := bashIn(t, line, work, env)
		if tc.then != "" {
			if _, ok := acceptedBy(t, p, tc.then); !ok {
				t.Fatalf("%q is not accepted: the rules are not what this test is about", tc.then)
			}
			out += " / " + bashIn(t, tc.then, work, env)
		}
		if _, err := os.Stat(filepath.Join(work, "TOOLEXEC_PWNED")); err != nil {
			t.Errorf("%q: go ran no pwn.sh here (output %q): the line is no evidence", line, out)
			continue
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash go ran the agent's pwn.sh (then: %q)",
				line, v.Rule, commandsOf(v.Analysis), tc.then)
		}
	}
}

const goRules = `
[[rule]]
name = "go-build"
decision = "accept"
[rule.match]
argv_prefix = ["go", "build"]

[[rule]]
name = "go-list"
decision = "accept"
[rule.match]
argv_prefix = ["go", "list"]

[[rule]]
name = "go-vet"
decision = "accept"
[rule.match]
argv_prefix = ["go", "vet"]

[[rule]]
name = "go-env"
decision = "accept"
[rule.match]
argv_prefix = ["go", "env"]
`

// TestRound10MakeEvalRunsShell: round 9 refused a make operand NAME=VALUE,
// which make expands at once ($(shell …) runs under -n too): make text
// on the command line is code. GNU make takes such text by two other
// ways: --eval=TEXT (also -E TEXT, and abbreviated, --ev=TEXT), which it
// evaluates as a makefile line before reading the makefiles, and -f -
// (or -f /dev/stdin) with the makefile in a here-string or a
// here-document of the line. Under -n, which the rule asks for, each
// line below runs $(shell touch …), and the engine accepts them all.
func TestRound10MakeEvalRunsShell(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	p := mustParse(t, `
[[rule]]
name = "make-dry-run"
decision = "accept"
[rule.match]
program = "make"
options = ["-n", "--dry-run"]
`)
	if v, ok := acceptedBy(t, p, "make -n 'X:=$(shell touch PWNED)'"); ok {
		t.Fatalf("round 9's line is accepted by %q: the rules are not what this test is about", v.Rule)
	}
	if _, ok := acceptedBy(t, p, "make -n all"); !ok {
		t.Fatal("make -n all is not accepted: the rules are not what this test is about")
	}
	for _, line := range []string{
		"make -n --eval='$(shell touch PWNED)'",
		"make -n -E '$(shell touch PWNED)'",
		"make -n --ev='$(shell touch PWNED)'",
		"make -n -f - <<< '$(shell touch PWNED)'",
		"make -n -f /dev/stdin <<'EOF'\n$(shell touch PWNED)\nall: ;\nEOF",
	} {
		work := t.TempDir()
		out := bashIn(t, line, work, []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work})
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: make ran no $(shell) here (output %q): the line is no evidence", line, out)
			continue
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash make -n ran $(shell touch PWNED)",
				line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// TestRound10CargoConfigRunsPrograms: cargo metadata and cargo tree
// build nothing and run no code of the package, so a rule may accept
// them as reading; but cargo's --config KEY=VALUE sets any configuration value, and build.rustc-wrapper (or
// build.rustc) names a program cargo runs to ask rustc for its version
// and target, for these commands too. known.go holds nothing for cargo.
// (A .cargo/config.toml the agent writes in the workspace can name the
// wrapper as well, as a repository's config names git's programs: the
// README's limits say so for git only.)
func TestRound10CargoConfigRunsPrograms(t *testing.T) {
	_, noCargo := exec.LookPath("cargo")
	p := mustParse(t, `
[[rule]]
name = "cargo-metadata"
decision = "accept"
[rule.match]
argv_prefix = ["cargo", "metadata"]

[[rule]]
name = "cargo-tree"
decision = "accept"
[rule.match]
argv_prefix = ["cargo", "tree"]
`)
	for _, line := range []string{"cargo metadata --format-version 1 --offline", "cargo tree --offline"} {
		if _, ok := acceptedBy(t, p, line); !ok {
			t.Fatalf("%q is not accepted: the rules are not what this test is about", line)
		}
	}
	for _, line := range []string{
		`cargo metadata --format-version 1 --offline --config build.rustc-wrapper='"./pwn.sh"'`,
		`cargo tree --offline --config build.rustc-wrapper='"./pwn.sh"'`,
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; --config may name a program cargo runs", line, v.Rule, commandsOf(v.Analysis))
		}
		if noCargo != nil {
			continue // the demonstration needs cargo (not on a fresh machine)
		}
		work := t.TempDir()
		files := map[string]string{
			"Cargo.toml":  "[package]\nname = \"m\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
			"src/main.rs": "fn main() {}\n",
			"pwn.sh":      "#!/bin/sh\ntouch " + filepath.Join(work, "CARGO_PWNED") + "\nexec \"$@\"\n",
		}
		for name, text := range files {
			_ = os.MkdirAll(filepath.Dir(filepath.Join(work, name)), 0o755)
			if err := os.WriteFile(filepath.Join(work, name), []byte(text), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=" + os.Getenv("HOME"),
			"CARGO_TARGET_DIR=" + filepath.Join(work, "target")}
		if h := os.Getenv("CARGO_HOME"); h != "" {
			env = append(env, "CARGO_HOME="+h)
		}
		if h := os.Getenv("RUSTUP_HOME"); h != "" {
			env = append(env, "RUSTUP_HOME="+h)
		}
		out := bashIn(t, line, work, env)
		if _, err := os.Stat(filepath.Join(work, "CARGO_PWNED")); err != nil {
			t.Logf("%q: cargo ran no pwn.sh here (output %q): the line is no evidence this time", line, out)
		}
	}
}

// TestRound10AcceptOptionTurnedOffByALaterValue: negated refuses a later
// --no-LONG, and a required option counts only as a word of its own, not
// as --LONG=VALUE. But a later word may give the option a value of its
// own: npm's option parser (nopt) takes the last value of an option, so
// npm pack --dry-run --dry-run=false is no dry run, and it takes a true
// or false right after a boolean option as its value, so npm pack
// --dry-run false is none either. Both write the package's tarball (and
// npm publish would publish); a rule for npm's dry runs accepts them.
func TestRound10AcceptOptionTurnedOffByALaterValue(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "npm-dry-run"
decision = "accept"
[rule.match]
program = "npm"
argv_prefix = ["npm", "pack"]
options = ["--dry-run"]
`)
	for _, line := range []string{"npm pack", "npm pack --dry-run=false", "npm pack --dry-run --no-dry-run"} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Fatalf("%q accepted by %q: the rules are not what this test is about", line, v.Rule)
		}
	}
	if _, ok := acceptedBy(t, p, "npm pack --dry-run"); !ok {
		t.Fatal("npm pack --dry-run is not accepted: the rules are not what this test is about")
	}
	for _, line := range []string{"npm pack --dry-run --dry-run=false", "npm pack --dry-run false"} {
		work, env := npmWorkspace(t)
		out := bashIn(t, line, work, env)
		if _, err := os.Stat(filepath.Join(work, "p-1.0.0.tgz")); err != nil {
			t.Logf("%q: npm wrote no tarball here (output %q): npm, not the engine, is at fault; the line is no evidence this time", line, out)
			continue
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash npm was no dry run: it wrote p-1.0.0.tgz",
				line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// TestRound10MoreProgramsThatRunTheirArguments: otherWrappers has
// moreutils' chronic and ifne (round 7) but not their siblings pee,
// which runs each argument as a shell command (fed the same stdin),
// mispipe, which runs its two arguments as shell commands, and zrun,
// which runs its arguments as a program; nor ccache, which runs its
// arguments as a compiler and runs a program it does not know as one
// unchanged. The loose reading does not look behind them, so an accept
// rule without command conditions accepts each past a rule declining rm.
func TestRound10MoreProgramsThatRunTheirArguments(t *testing.T) {
	p := mustParse(t, "[[rule]]\nname = \"no-rm\"\ndecision = \"decline\"\n[rule.match]\nprogram = \"rm\"\n"+anyLineRule)
	if v, ok := acceptedBy(t, p, "chronic rm -rf victim"); ok || v.Decision != abi.Decline {
		t.Fatalf("chronic rm -rf victim: %s by %q: the rules are not what this test is about", v.Decision, v.Rule)
	}
	for _, tc := range []struct{ line, demo string }{
		{"pee 'rm -rf victim' < /dev/null", "pee 'touch PWNED' < /dev/null"},
		{"mispipe 'rm -rf victim' cat", "mispipe 'touch PWNED' cat"},
		{"zrun rm -rf victim", "zrun touch PWNED"},
		{"ccache rm -rf victim", "ccache touch PWNED"},
	} {
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm", tc.line, v.Rule, commandsOf(v.Analysis))
		}
		if _, err := exec.LookPath(strings.Fields(tc.demo)[0]); err != nil {
			t.Logf("%s is not installed: no demonstration", strings.Fields(tc.demo)[0])
			continue
		}
		work := t.TempDir()
		out := bashIn(t, tc.demo, work, []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "CCACHE_DIR=" + filepath.Join(work, ".ccache")})
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: did not run touch PWNED here (output %q): the line is no evidence", tc.demo, out)
		}
		if v, ok := acceptedBy(t, p, tc.demo); ok {
			t.Errorf("%q: accepted by rule %q; under bash it ran touch PWNED", tc.demo, v.Rule)
		}
	}
}
