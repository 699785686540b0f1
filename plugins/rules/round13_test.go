package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 13 (adversarial review of the worktree adv3). Each test
// fails while the engine gets its lines wrong; each line is also run under
// real bash (in a fresh directory) to show what it does. A demonstration
// whose tool is missing, or that does not do it here, is logged, and the
// engine's verdict is asserted either way.

// round13Rules are realistic rules: rm declined, the usual read-only
// tools, make, go test / go vet, and (round13GoRules) the go command.
const round13Rules = `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "go-test"
decision = "accept"
[rule.match]
argv_prefix = ["go", "test"]

[[rule]]
name = "go-vet"
decision = "accept"
[rule.match]
argv_prefix = ["go", "vet"]

[[rule]]
name = "tools"
decision = "accept"
[rule.match]
program = ["ls", "cat", "grep", "find", "make", "head", "echo", "true"]
`

const round13GoRules = `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "go"
decision = "accept"
[rule.match]
program = "go"
`

// round13Dir makes a fresh directory holding victim/ (which rm -rf victim
// removes), x, and pwn (an agent-written program that appends its
// arguments to PWNED and runs them, if any).
func round13Dir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "victim"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pwn := "#!/bin/sh\necho \"pwn $*\" >> \"$(dirname \"$0\")/PWNED\"\n"
	if err := os.WriteFile(filepath.Join(dir, "pwn"), []byte(pwn), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// round13RemovesVictim runs line under bash and reports whether it
// removed victim/.
func round13RemovesVictim(t *testing.T, line string) bool {
	t.Helper()
	dir := round13Dir(t)
	out := bashIn(t, line, dir, []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + dir})
	if exists(filepath.Join(dir, "victim")) {
		t.Logf("%.80q: victim is still there here (output %.200q): no evidence this time", line, out)
		return false
	}
	return true
}

// TestRound13UnparsedLineEvadesDeclines: the loose reading (the one
// decline rules match) walks only what mvdan/sh parses. A line it cannot
// parse yields no command at all, so a rule declining rm does not match
// it, and the verdict is the fallback's (abstain: the next plugin, the
// judge or --fallback decide). But bash runs a -c string one command at a
// time and meets the syntax error only after it ran the commands before
// it (a stray fi or ) on a later line); it reads an unclosed here-document
// to the end and expands it ($(…) runs); and it reads ((cmd) ) as two
// subshells where mvdan/sh insists on arithmetic.
func TestRound13UnparsedLineEvadesDeclines(t *testing.T) {
	p := mustParse(t, round13Rules)
	for _, line := range []string{
		"rm -rf victim\nfi",
		"rm -rf victim\n)",
		"true\nrm -rf victim\nesac",
		"cat <<EOF\n$(rm -rf victim)",
		"((rm -rf victim) )",
	} {
		ran := round13RemovesVictim(t, line)
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision != abi.Decline {
			t.Errorf("%q: %s (%s), past the rule declining rm; under bash it ran rm -rf victim: %v", line, v.Decision, reasonOf(v), ran)
		}
	}
}

// TestRound13ShScriptReadAsBashEvadesDeclines: the strict reading parses
// an sh or dash script as POSIX (RATIONALE: "&> there is a background job
// and a redirection"), but the loose reading parses every script as bash.
// To bash, true &>/dev/null rm -rf victim is one command (true with three
// arguments); dash runs true in the background and then rm -rf victim.
// dash also reads ((cmd)) as nested subshells, which mvdan/sh in bash mode
// does not parse at all.
func TestRound13ShScriptReadAsBashEvadesDeclines(t *testing.T) {
	p := mustParse(t, round13Rules)
	for _, line := range []string{
		"sh -c 'true &>/dev/null rm -rf victim'",
		"dash -c 'true &>/dev/null rm -rf victim'",
		"/bin/sh -c 'true &>>/dev/null rm -rf victim'",
		"sh -c '((rm -rf victim))'",
	} {
		ran := false
		if _, err := exec.LookPath("dash"); err != nil && strings.HasPrefix(line, "dash") {
			t.Logf("dash is not installed: no demonstration of %q", line)
		} else {
			ran = round13RemovesVictim(t, line)
		}
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision != abi.Decline {
			t.Errorf("%q: %s (%s), past the rule declining rm; under bash (sh = dash) it ran rm -rf victim: %v", line, v.Decision, reasonOf(v), ran)
		}
	}
}

// TestRound13LooseBudgetSpentOnDecoys: the loose reading's parse budget
// (256 KiB) is charged len+64 bytes for every quoted word holding "$(",
// when the word is queued, during the walk of the line; once it is spent,
// alive() is false and the walk adds no more commands. 5000 words '$('
// (a 25 KB line, well under the 64 KiB limit) spend it before the walk
// reaches rm -rf victim; a $x first stops the strict reading, so rm is
// in neither reading. The README says the strict reading refuses such a
// line (no accept), but the decline rule is evaded too.
func TestRound13LooseBudgetSpentOnDecoys(t *testing.T) {
	p := mustParse(t, round13Rules)
	line := "echo" + strings.Repeat(" '$('", 5000) + "; $x; rm -rf victim"
	ran := round13RemovesVictim(t, line)
	v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
	if v.Decision != abi.Decline {
		t.Errorf("echo '$(' ×5000; $x; rm -rf victim: %s (%.80s), past the rule declining rm; under bash it ran rm -rf victim: %v", v.Decision, reasonOf(v), ran)
	}
}

// TestRound13QuickLexerQuotes: a line over 64 KiB (codex can still run
// one up to 128 KiB, the kernel's limit on one argument) is read for
// decline rules by the quick lexer, which ends a double-quoted string at
// the next " even when a backslash escapes it, and knows no comments. So
// it reads "a\" as a whole string and the ' after it as the start of a
// single-quoted one that swallows rm -rf victim; bash reads one
// double-quoted string a" 'b, then runs rm -rf victim. Likewise a # comment
// holding a quote.
func TestRound13QuickLexerQuotes(t *testing.T) {
	p := mustParse(t, round13Rules)
	pad := "; : " + strings.Repeat("x", 70000)
	for _, line := range []string{
		`echo "a\" 'b"; rm -rf victim; echo "'"` + pad,
		"true # '\nrm -rf victim\necho \"'\"" + pad,
	} {
		ran := round13RemovesVictim(t, line)
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision != abi.Decline {
			t.Errorf("%.50q…: %s (%s), past the rule declining rm; under bash it ran rm -rf victim: %v", line, v.Decision, reasonOf(v), ran)
		}
	}
}

// round13GoModule makes a Go module (a test, and a go:generate directive
// that runs ./pwn) in a fresh round13Dir.
func round13GoModule(t *testing.T) string {
	t.Helper()
	dir := round13Dir(t)
	for name, text := range map[string]string{
		"go.mod":    "module x\n\ngo 1.21\n",
		"x_test.go": "package x\n\nimport \"testing\"\n\nfunc TestX(t *testing.T) {}\n",
		"gen.go":    "package x\n\n//go:generate ./pwn generate\n",
		// Go's telemetry off: no child outlives the demonstration.
		".config/go/telemetry/mode": "off",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// round13GoDemo runs line under bash in a Go module and reports whether
// ./pwn ran, or (goenv) whether the go command's configuration file now
// names ./pwn.
func round13GoDemo(t *testing.T, line string, goenv bool) bool {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Logf("go is not installed: no demonstration of %q", line)
		return false
	}
	cache, _ := exec.Command(goBin, "env", "GOCACHE").Output()
	dir := round13GoModule(t)
	env := []string{"PATH=" + filepath.Dir(goBin) + ":/usr/bin:/bin", "LANG=C", "HOME=" + dir,
		"GOCACHE=" + strings.TrimSpace(string(cache)), "GOFLAGS=", "GOENV=" + filepath.Join(dir, "goenv"),
		"GOTOOLCHAIN=local", "GOPROXY=off"}
	out := bashIn(t, line, dir, env)
	if goenv {
		b, _ := os.ReadFile(filepath.Join(dir, "goenv"))
		if strings.Contains(string(b), "pwn") {
			return true
		}
	} else if exists(filepath.Join(dir, "PWNED")) {
		return true
	}
	t.Logf("%q: ./pwn did not run here (output %.300q): no evidence this time", line, out)
	return false
}

// TestRound13GoFlagsWithTwoDashes: danger refuses go's -toolexec, -vettool
// and -exec by trimming one '-', but Go's flag package takes every flag
// with one dash or two: --toolexec=./pwn and --exec ./pwn are the same
// flags, and go test runs ./pwn around every tool or as the test binary's
// launcher. The linker runs the program -ldflags names with -extld (under
// -linkmode=external) too.
func TestRound13GoFlagsWithTwoDashes(t *testing.T) {
	p := mustParse(t, round13Rules)
	for _, line := range []string{
		"go test --toolexec=./pwn ./...",
		"go test --exec ./pwn ./...",
		"go vet --vettool=./pwn ./...",
		"go test '-ldflags=-linkmode=external -extld=./pwn' ./...",
	} {
		ran := round13GoDemo(t, line, false)
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; under bash it ran ./pwn: %v", line, v.Rule, ran)
		}
	}
}

// TestRound13GoFlagBeforeSubcommand: danger looks for go generate and go
// env -w only when the subcommand is argv[1] and -w is that exact word.
// go -C DIR (or -C=DIR) comes before the subcommand; and -w is a boolean
// flag that go also takes as --w or -w=true. go generate runs the
// programs of its directives; go env -w writes the go command's
// configuration, whose GOFLAGS=-toolexec=./pwn every later go command
// (an accepted go test) obeys.
func TestRound13GoFlagBeforeSubcommand(t *testing.T) {
	p := mustParse(t, round13GoRules)
	for _, tc := range []struct {
		line  string
		goenv bool
	}{
		{"go -C . generate", false},
		{"go -C=. generate", false},
		{"go -C . env -w GOFLAGS=-toolexec=./pwn", true},
		{"go env --w GOFLAGS=-toolexec=./pwn", true},
		{"go env -w=true GOFLAGS=-toolexec=./pwn", true},
	} {
		ran := round13GoDemo(t, tc.line, tc.goenv)
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q; under bash it ran ./pwn or made go's configuration name it: %v", tc.line, v.Rule, ran)
		}
	}
}

// TestRound13MakefileFromStdin: danger refuses a makefile from stdin or a
// device only as -f FILE, -fFILE, --file FILE, --file=FILE, --makefile
// FILE or --makefile=FILE with FILE "-" or starting with /dev/ or /proc/.
// make's getopt takes -f at the end of a cluster (-sf -, -kf-), long
// options abbreviated (--fil=-, --makef -), and the kernel resolves
// //dev/stdin and ../../dev/stdin (from any directory, with enough ..) to
// /dev/stdin. The here-document is the makefile, and its recipe runs.
func TestRound13MakefileFromStdin(t *testing.T) {
	p := mustParse(t, round13Rules)
	up := strings.Repeat("../", 24)
	for _, f := range []string{"-sf -", "-kf-", "--fil=-", "--makef -", "-f //dev/stdin", "-f " + up + "dev/stdin"} {
		line := "make " + f + " <<'EOF'\nall:\n\trm -rf victim\nEOF"
		demo := "make " + f + " <<'EOF'\nall:\n\ttouch PWNED\nEOF"
		ran := demoMarker(t, demo)
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q past the rule declining rm (under bash, %q ran its recipe: %v)", line, v.Rule, demo, ran)
		}
	}
}
