package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 7 (adversarial review of the worktree adv1). Each test
// below fails while the engine accepts its lines; each line runs here
// under real bash to show what it does.

func init() {
	// The trace workspace of TestEvasionCorpusHostile holds no crafted
	// git directory, so there git --bare diff fails without running
	// anything: it is dangerous elsewhere (see TestRound7GitBareIsGitDirDot).
	elsewhereOnly["git --bare diff HEAD~1 HEAD"] = true
}

func acceptedBy(t *testing.T, p *Policy, line string) (Verdict, bool) {
	t.Helper()
	v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
	return v, v.Decision == abi.Accept || v.Decision == abi.AcceptForSession
}

// TestRound7GitBareIsGitDirDot: README.md and known.go refuse git's
// --git-dir and --work-tree (the evasion corpus has git --git-dir=.
// status), yet gitGlobalHarmless lets --bare through, and argv_prefix
// rules for git skip it like -C. git's --bare is --git-dir=$PWD: git.c
// sets GIT_DIR to the cwd. So git reads HEAD, objects/, refs/ and config
// of the workspace itself, ordinary files the agent writes (not the
// .git directory, which codex's sandbox keeps read-only), and runs the
// programs that config names: diff.external for git diff, a textconv
// driver (attributes from info/attributes) for git log -p. Because the
// repository is named explicitly, safe.bareRepository=explicit does not
// stop it, as it stops an embedded bare repository reached with -C.
//
// The rules files of the differential tests accept the first line
// (rules-strict.toml: git-diff), example.toml the log line (git-log)
// and git --bare status (git-read, acceptForSession).
func TestRound7GitBareIsGitDirDot(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	strict := diffPolicy(t, "rules-strict.toml")
	example := diffPolicy(t, "example.toml")
	anyLine := anythingInWork(t, false)

	// The spelt-out equivalent is refused: the engine means to.
	for _, p := range []*Policy{strict, anyLine} {
		if v, ok := acceptedBy(t, p, "git --git-dir=. diff HEAD~1 HEAD"); ok {
			t.Fatalf("git --git-dir=. diff accepted by %q; the engine is meant to refuse it", v.Rule)
		}
	}

	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q", "-b", "main", ".")
	git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "--allow-empty", "-m", "one")
	write := func(name, body string) {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.txt", "a\n")
	git("add", "a.txt")
	git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "-q", "-m", "two")
	head := git("rev-parse", "HEAD")

	// What the agent writes: plain files of the workspace, none under .git.
	ext, conv := filepath.Join(dir, "PWNED-external"), filepath.Join(dir, "PWNED-textconv")
	write("HEAD", head+"\n")
	write("objects/info/alternates", filepath.Join(work, ".git", "objects")+"\n")
	write("refs/heads/.keep", "")
	write("info/attributes", "* diff=x\n")
	write("config", "[diff]\n\texternal = touch "+ext+"\n[diff \"x\"]\n\ttextconv = touch "+conv+"\n")

	for _, tc := range []struct {
		line     string
		marker   string // "" if the line only fails here (a bare repository has no work tree)
		policies map[string]*Policy
	}{
		{"git --bare diff HEAD~1 HEAD", ext, map[string]*Policy{"rules-strict.toml": strict, "anything-in-work": anyLine}},
		{"git --no-pager --bare diff HEAD~1 HEAD", ext, map[string]*Policy{"rules-strict.toml": strict}},
		{"git --bare -C . diff HEAD~1 HEAD", ext, map[string]*Policy{"rules-strict.toml": strict}},
		{"git --bare log -p -1", conv, map[string]*Policy{"example.toml": example, "anything-in-work": anyLine}},
		{"git --bare status", "", map[string]*Policy{"example.toml": example, "rules-strict.toml": strict}},
	} {
		ran := "nothing here (git status refuses a bare repository), but it is the same --git-dir=."
		if tc.marker != "" {
			os.Remove(ext)
			os.Remove(conv)
			cmd := exec.Command("bash", "--noprofile", "--norc", "-c", tc.line)
			cmd.Dir, cmd.Env = work, env
			out, _ := cmd.CombinedOutput()
			if _, err := os.Stat(tc.marker); err != nil {
				t.Errorf("%q: git ran no program of the workspace's config here (output %q): the line is no evidence", tc.line, out)
			}
			ran = "touch " + filepath.Base(tc.marker)
		}
		for name, p := range tc.policies {
			if v, ok := acceptedBy(t, p, tc.line); ok {
				t.Errorf("%s: %q accepted by rule %q as %q; --bare is --git-dir=$PWD (refused when spelt so): git reads the workspace's own config; under bash: %s",
					name, tc.line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}

// TestRound7DeclineRulesSeeGlobPatterns: a restrictive rule reads the
// line loosely and covers "a glob pattern any program whose name it
// matches (r[m])", but matchArgv skips every word that is not a literal
// for argv_prefix and arg_regex, and command_regex sees the pattern's
// text. Under an accept rule with allow_globs, a subcommand or file name
// spelt as a pattern (publis[h], src/*.env) is then accepted although
// bash expands it to exactly what the decline rule names: npm publis[h]
// runs npm publish when the cwd holds a file named publish (the agent
// creates one with any accepted write, or one is there), and cat
// src/*.env prints src/prod.env although the pattern's own text ends in
// .env and the rule declines cat of any .env file.
func TestRound7DeclineRulesSeeGlobPatterns(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "no-publish"
decision = "decline"
[rule.match]
argv_prefix = ["npm", "publish"]

[[rule]]
name = "no-deploy"
decision = "decline"
[rule.match]
command_regex = '^make deploy\b'

[[rule]]
name = "no-env-files"
decision = "decline"
[rule.match]
program = ["cat", "head"]
arg_regex = '\.env$'

[[rule]]
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["npm", "make", "cat", "head"]
`)
	// The literal forms are declined: the rules do what they say there.
	for _, line := range []string{"npm publish", "make deploy", "cat src/prod.env"} {
		if v, ok := acceptedBy(t, p, line); ok || v.Decision != abi.Decline {
			t.Fatalf("%q: %s by %q, want decline", line, v.Decision, v.Rule)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	for _, tc := range []struct{ line, want string }{
		{"npm publis[h]", "npm publish"},
		{"npm pub*", "npm publish"},
		{"make deplo[y]", "make deploy"},
		{"make dep*", "make deploy"},
		{"make de?loy", "make deploy"},
		{"cat src/*.env", "SECRET=1"},
		{"head -n 5 src/*.env", "SECRET=1"},
	} {
		// Real bash, in a workspace with a file named publish (and
		// deploy), a .env file, and stand-ins for npm and make that print
		// the argv they get.
		dir := t.TempDir()
		bin, work := filepath.Join(dir, "bin"), filepath.Join(dir, "work")
		for _, d := range []string{bin, filepath.Join(work, "src")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, body := range map[string]string{"publish": "", "deploy": "", "src/prod.env": "SECRET=1\n"} {
			if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, prog := range []string{"npm", "make"} {
			if err := os.WriteFile(filepath.Join(bin, prog), []byte("#!/bin/sh\necho "+prog+" \"$@\"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", tc.line)
		cmd.Dir = work
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C", "HOME=" + dir}
		out, _ := cmd.CombinedOutput()
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%q: bash did not run %q here (output %q): the line is no evidence", tc.line, tc.want, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; a decline rule names what bash ran: %q",
				tc.line, v.Rule, commandsOf(v.Analysis), strings.TrimSpace(string(out)))
		}
	}
}

// TestRound7SedInDoubleByteLocale: review 7 (F) found that bash in a
// double-byte locale (zh_CN.GBK, zh_TW.BIG5) reads the last byte of a
// UTF-8 character with a backslash after it as one character, and the
// fix refuses such a backslash in the line (prescan). But GNU sed is
// multibyte-aware too (match_slash skips a multibyte character whole),
// and it sees the script after quote removal: the line closes and reopens
// its quotes between 中 and the backslash (see the lines below); the line
// has no backslash right after 中, yet sed gets "中\/x". The engine
// reads \/ as an escaped delimiter and the rest as the replacement, GNU
// sed in GBK reads 中\ as two characters, ends the regex at the /, and
// runs ";e touch PWNED #/" as an e command. example.toml's
// read-only-tools rule, which says the engine never accepts sed's e,
// accepts the line. A [ (also a GBK trail byte) works the same way
// through the engine's reading of bracket expressions.
func TestRound7SedInDoubleByteLocale(t *testing.T) {
	example := diffPolicy(t, "example.toml")
	perm := diffPolicy(t, "rules-permissive.toml")
	lines := []string{
		`sed -n 's/中''\/x/;e touch PWNED #/' a.txt`,
		`sed -n "s/中"'\/x/;e touch PWNED #/' a.txt`,
		`sed -e 's/中''\/x/;e touch PWNED #/' a.txt`,
		// A [ taken into 中 the same way: the engine reads a bracket
		// expression [/x/;e … #] in the regex, sed in GBK no bracket.
		`sed -n 's/中''[/x/;e touch PWNED #]/y/' a.txt`,
	}

	// Real bash and GNU sed in zh_CN.GBK, compiled here with localedef
	// (as a user of that locale has it installed).
	locdir := ""
	if _, err := exec.LookPath("localedef"); err == nil {
		locdir = t.TempDir()
		if out, err := exec.Command("localedef", "-f", "GBK", "-i", "zh_CN", filepath.Join(locdir, "zh_CN.GBK")).CombinedOutput(); err != nil {
			t.Logf("localedef zh_CN.GBK: %v %s: no demonstration under bash", err, out)
			locdir = ""
		}
	}
	for _, line := range lines {
		ran := "(not run: no GBK locale here)"
		if locdir != "" {
			for _, loc := range []string{"zh_CN.GBK", "C.UTF-8"} {
				work := t.TempDir()
				if err := os.WriteFile(filepath.Join(work, "a.txt"), []byte("hello\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
				cmd.Dir = work
				cmd.Env = []string{"PATH=/usr/bin:/bin", "LOCPATH=" + locdir, "LC_ALL=" + loc, "HOME=" + work}
				out, _ := cmd.CombinedOutput()
				_, err := os.Stat(filepath.Join(work, "PWNED"))
				switch {
				case loc == "zh_CN.GBK" && err != nil:
					t.Errorf("%q: GNU sed in %s did not run touch PWNED here (output %q): the line is no evidence", line, loc, out)
				case loc == "zh_CN.GBK":
					ran = "touch PWNED (sed's e command)"
				case err == nil:
					t.Logf("%q: sed ran touch PWNED in %s too", line, loc)
				}
			}
		}
		for name, p := range map[string]*Policy{"example.toml": example, "rules-permissive.toml": perm} {
			if v, ok := acceptedBy(t, p, line); ok {
				t.Errorf("%s: %q accepted by rule %q as %q; GNU sed in a GBK locale reads 中\\ as one character and runs: %s",
					name, line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}

// TestRound7ProgramsThatRunTheirArgumentsUnlisted: otherWrappers refuses
// the programs that run their arguments as a command, and the loose
// reading of decline rules looks at every suffix of their arguments
// (sudo -u root rm is rm). Programs missing from the list run their
// arguments all the same: gettext's msgexec (runs the command for each
// message) and msgfilter (pipes each message through the filter
// program), util-linux's uclampset, systemd-run's siblings
// systemd-inhibit, systemd-cat and systemd-socket-activate, coreutils'
// runcon, luit, pg_virtualenv, debconf-apt-progress. So a rule without
// command conditions accepts msgexec -i x.po rm -rf victim past a rule
// declining rm. msgexec and msgfilter run here under bash (the others
// need logind, journald, SELinux or a terminal to get that far).
func TestRound7ProgramsThatRunTheirArgumentsUnlisted(t *testing.T) {
	p := mustParse(t, "[[rule]]\nname = \"no-rm\"\ndecision = \"decline\"\n[rule.match]\nprogram = \"rm\"\n"+anyLineRule)
	for _, line := range []string{
		"msgexec -i x.po rm -rf victim",
		"msgfilter -i x.po -o /dev/null rm -rf victim",
		"uclampset -m 0 rm -rf victim",
		"systemd-inhibit rm -rf victim",
		"systemd-cat rm -rf victim",
		"systemd-socket-activate -l 9 rm -rf victim",
		"runcon -t x rm -rf victim",
		"luit -- rm -rf victim",
		"pg_virtualenv rm -rf victim",
		"debconf-apt-progress -- rm -rf victim",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	po := "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\nmsgid \"a\"\nmsgstr \"b\"\n"
	for _, line := range []string{"msgexec -i x.po touch PWNED", "msgfilter -i x.po -o /dev/null sh -c 'touch PWNED; cat'"} {
		if _, err := exec.LookPath(strings.Fields(line)[0]); err != nil {
			t.Logf("%s is not installed: no demonstration", strings.Fields(line)[0])
			continue
		}
		work := t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "x.po"), []byte(po), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
		cmd.Dir = work
		cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work}
		out, _ := cmd.CombinedOutput()
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: did not run touch PWNED here (output %q): the line is no evidence", line, out)
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash it ran touch PWNED", line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// What the decline rules' reading of patterns costs: a pattern that
// cannot expand to what a rule names is still accepted (an argv_prefix or
// a command_regex is matched against the names the pattern may become),
// while arg_regex takes any pattern as a possible match.
func TestDeclineRulesGlobPatternsPrecision(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "no-publish"
decision = "decline"
[rule.match]
argv_prefix = ["npm", "publish"]

[[rule]]
name = "no-deploy"
decision = "decline"
[rule.match]
command_regex = '^make deploy\b'

[[rule]]
name = "no-env-files"
decision = "decline"
[rule.match]
program = ["cat"]
arg_regex = '\.env$'

[[rule]]
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["npm", "make", "cat"]
`)
	for line, accepted := range map[string]bool{
		"npm test*":     true,  // cannot become publish
		"npm p[ae]b*":   true,  // nor this
		"npm p[u]b*":    false, // may
		"make build*":   false, // make reads a name with = as an assignment: no pattern for make (round 9)
		"make d*":       false,
		"cat src/*.go":  false, // arg_regex: any pattern may match
		"cat README.md": true,
	} {
		_, ok := acceptedBy(t, p, line)
		if ok != accepted {
			t.Errorf("%q: accepted %v, want %v", line, ok, accepted)
		}
	}
}
