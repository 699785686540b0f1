package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 8 (adversarial review of the worktree adv1). Each test
// below fails while the engine accepts its lines; each line runs here
// under real bash (and the real tar, git or util-linux program) to show
// what it does.

// globWorkspace makes a workspace holding the named empty files and a
// bin directory of stand-ins that print the argv they get, and returns
// the workspace and the environment for bash.
func globWorkspace(t *testing.T, files, progs []string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	bin, work := filepath.Join(dir, "bin"), filepath.Join(dir, "work")
	for _, d := range []string{bin, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(work, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, prog := range progs {
		if err := os.WriteFile(filepath.Join(bin, prog), []byte("#!/bin/sh\necho "+prog+" \"$@\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return work, []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C", "LC_ALL=C", "HOME=" + dir}
}

// bashIn runs line under bash --noprofile --norc in work with env and
// returns its combined output.
func bashIn(t *testing.T, line, work string, env []string) string {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
	cmd.Dir, cmd.Env = work, env
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	return strings.TrimSpace(string(out))
}

// TestRound8GlobExpandsToSeveralWords: round 7 made a decline rule see
// what a glob pattern may expand to, but as one word: matchArgv tries the
// pattern against one word of argv_prefix at a time, and mayMatchCommand
// puts one literal word of the regex in its place. A pattern becomes as
// many words as it matches files, in sorted order, so one pattern can
// fill two words of a three-word argv_prefix (or of a command_regex):
// with files named cache and clean in the cwd (any accepted write makes
// them), npm c* is npm cache clean, and kubectl de* web is kubectl delete
// deployment web. The engine accepts both past the rules that decline
// exactly those commands, although it declines npm cache c* and kubectl
// delete dep* (one pattern for one word).
func TestRound8GlobExpandsToSeveralWords(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "no-cache-clean"
decision = "decline"
[rule.match]
argv_prefix = ["npm", "cache", "clean"]

[[rule]]
name = "no-deployment-delete"
decision = "decline"
[rule.match]
argv_prefix = ["kubectl", "delete", "deployment"]

[[rule]]
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["npm", "kubectl"]
`)
	// The one-word forms are declined: the rules do what they say there.
	for _, line := range []string{"npm cache clean --force", "npm cache c* --force", "kubectl delete deployment web",
		"kubectl delete dep* web"} {
		if v, ok := acceptedBy(t, p, line); ok || v.Decision != abi.Decline {
			t.Fatalf("%q: %s by %q, want decline", line, v.Decision, v.Rule)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	for _, tc := range []struct {
		line  string
		files []string
		want  string
	}{
		{"npm c* --force", []string{"cache", "clean"}, "npm cache clean --force"},
		{"npm c[al]* --force", []string{"cache", "clean"}, "npm cache clean --force"},
		{"kubectl de* web", []string{"delete", "deployment"}, "kubectl delete deployment web"},
	} {
		work, env := globWorkspace(t, tc.files, []string{"npm", "kubectl"})
		out := bashIn(t, tc.line, work, env)
		if out != tc.want {
			t.Errorf("%q: bash did not run %q here (output %q): the line is no evidence", tc.line, tc.want, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; a decline rule names what bash ran: %q",
				tc.line, v.Rule, commandsOf(v.Analysis), out)
		}
	}
	// The same with command_regex: mayMatchCommand tries kubectl de*,
	// kubectl delete and kubectl deployment, never both words at once.
	p2 := mustParse(t, `
[[rule]]
name = "no-deployment-delete"
decision = "decline"
[rule.match]
command_regex = '^kubectl delete deployment\b'

[[rule]]
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["kubectl"]
`)
	if v, ok := acceptedBy(t, p2, "kubectl delete deployment web"); ok || v.Decision != abi.Decline {
		t.Fatalf("kubectl delete deployment web: %s by %q, want decline", v.Decision, v.Rule)
	}
	work, env := globWorkspace(t, []string{"delete", "deployment"}, []string{"kubectl"})
	line := "kubectl de* web"
	out := bashIn(t, line, work, env)
	if out != "kubectl delete deployment web" {
		t.Errorf("%q: bash did not run kubectl delete deployment web here (output %q)", line, out)
	}
	if v, ok := acceptedBy(t, p2, line); ok {
		t.Errorf("%q: accepted by rule %q as %q past command_regex ^kubectl delete deployment; bash ran %q",
			line, v.Rule, commandsOf(v.Analysis), out)
	}
}

// TestRound8CommandRegexLiteralsSplitByTheParser: mayMatchCommand tries a
// glob pattern as each "literal word of the regex", taken from the
// literal nodes of the parsed regex. But regexp/syntax factors the
// common prefix out of an alternation (deploy|destroy is de(?:ploy|
// stroy), publish|pack is p(?:ublish|ack)), and a word written across
// a group (deploy-(prod|staging)) is two nodes: the literal words are
// then "de", "ploy", "stroy" or "deploy-", "prod", none of them a word
// the command has. So make dep* (files deploy, or deploy-prod) is
// accepted past '^make (deploy|destroy)\b' and make deploy-p* past
// '^make deploy-(prod|staging)\b', while make dep* is declined under
// README's own example '^make deploy\b'.
func TestRound8CommandRegexLiteralsSplitByTheParser(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "no-deploy"
decision = "decline"
[rule.match]
command_regex = '^make (deploy|destroy)\b'

[[rule]]
name = "no-env-deploy"
decision = "decline"
[rule.match]
command_regex = '^make deploy-(prod|staging)\b'

[[rule]]
name = "no-publish"
decision = "decline"
[rule.match]
command_regex = '^npm (publish|pack)\b'

[[rule]]
name = "no-kube-delete"
decision = "decline"
[rule.match]
command_regex = '^kubectl (delete|drain)\b'

[[rule]]
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["npm", "make", "kubectl"]
`)
	for _, line := range []string{"make deploy", "make destroy", "make deploy-prod", "npm publish", "kubectl delete pod x"} {
		if v, ok := acceptedBy(t, p, line); ok || v.Decision != abi.Decline {
			t.Fatalf("%q: %s by %q, want decline", line, v.Decision, v.Rule)
		}
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	for _, tc := range []struct {
		line, file, want string
	}{
		{"make dep*", "deploy", "make deploy"},
		{"make deplo[y]", "deploy", "make deploy"},
		{"make deploy-p*", "deploy-prod", "make deploy-prod"},
		{"npm pub*", "publish", "npm publish"},
		{"kubectl del* pod x", "delete", "kubectl delete pod x"},
	} {
		work, env := globWorkspace(t, []string{tc.file}, []string{"npm", "make", "kubectl"})
		out := bashIn(t, tc.line, work, env)
		if out != tc.want {
			t.Errorf("%q: bash did not run %q here (output %q): the line is no evidence", tc.line, tc.want, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; a decline rule's regex matches what bash ran: %q",
				tc.line, v.Rule, commandsOf(v.Analysis), out)
		}
	}
}

// TestRound8TarOldStyleArchiveTakesTheDashDash: a pattern without a
// literal prefix is allowed after a "--" with no option before it
// (operandAfterDashDash: optionLike words only). But tar's old-style
// first word is a cluster of options with no dash (tar tf), and its f
// takes the next word as the archive, whatever it is: in tar tf -- *=*
// the "--" is the archive's name, not the end of the options, and the
// names *=* expands to are options. With an archive named "--" and files
// named --checkpoint=1 and --checkpoint-action=exec=touch PWNED in the
// cwd, tar runs touch PWNED. The engine accepts the line under a rule
// for listing archives (and any tar rule with allow_globs), although it
// refuses --checkpoint-action written out.
func TestRound8TarOldStyleArchiveTakesTheDashDash(t *testing.T) {
	list := mustParse(t, `
[[rule]]
name = "list-archives"
decision = "accept"
allow_globs = true
[rule.match]
argv_prefix = ["tar", "tf"]
`)
	anyTar := mustParse(t, `
[[rule]]
name = "tar"
decision = "accept"
allow_globs = true
[rule.match]
program = "tar"
`)
	if _, ok := acceptedBy(t, list, "tar tf x.tar --checkpoint=1 --checkpoint-action=exec='touch PWNED'"); ok {
		t.Fatal("--checkpoint-action accepted; the engine is meant to refuse it")
	}
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar is not installed")
	}
	for _, line := range []string{"tar tf -- *=*", "tar tf -- --c*", "tar tvf -- --?*"} {
		work := t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "a.txt"), []byte("a\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("tar", "cf", "./--", "a.txt")
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("tar cf: %v %s", err, out)
		}
		for _, name := range []string{"--checkpoint=1", "--checkpoint-action=exec=touch PWNED"} {
			if err := os.WriteFile(filepath.Join(work, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out := bashIn(t, line, work, []string{"PATH=/usr/bin:/bin", "LANG=C", "LC_ALL=C", "HOME=" + work})
		ran := "touch PWNED (tar's --checkpoint-action)"
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: tar ran no touch PWNED here (output %q): the line is no evidence", line, out)
			ran = "nothing here"
		}
		for name, p := range map[string]*Policy{"list-archives": list, "tar": anyTar} {
			if v, ok := acceptedBy(t, p, line); ok {
				t.Errorf("%s: %q accepted by rule %q as %q; the \"--\" is the archive of tar's old-style f, and under bash tar ran: %s",
					name, line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}

// TestRound8TarListingWritesFiles: the engine knows tar's options that
// run programs, but not those that write a file of the caller's
// choosing in any mode, listing (tar t) included: --index-file=FILE
// writes the listing to FILE, --volno-file=FILE writes the volume
// number to FILE (abbreviated too, --ind=). A rule for listing archives
// accepts them as it would refuse sort -o.
func TestRound8TarListingWritesFiles(t *testing.T) {
	list := mustParse(t, `
[[rule]]
name = "list-archives"
decision = "accept"
[rule.match]
argv_prefix = ["tar", "-tf"]
`)
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar is not installed")
	}
	for _, line := range []string{
		"tar -tf a.tar --index-file=PWNED",
		"tar -tf a.tar --ind=PWNED",
		"tar -tf a.tar --volno-file=PWNED",
	} {
		work := t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "a.txt"), []byte("a\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("tar", "cf", "a.tar", "a.txt")
		cmd.Dir = work
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("tar cf: %v %s", err, out)
		}
		out := bashIn(t, line, work, []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work})
		ran := "wrote PWNED"
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: tar wrote no PWNED here (output %q): the line is no evidence", line, out)
			ran = "nothing here"
		}
		for name, p := range map[string]*Policy{"list-archives": list, "anything-in-work": anythingInWork(t, false)} {
			if v, ok := acceptedBy(t, p, line); ok {
				t.Errorf("%s: %q accepted by rule %q as %q; under bash tar %s", name, line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}

// TestRound8GitPatchModeOpensTheEditor: gitEditor refuses git add -e
// (the editor), but git's patch mode (add -p, --patch, -i, checkout -p,
// restore -p, stash -p, commit -p) asks what to do with each hunk on
// stdin, and the answer e edits the hunk in the editor (core.editor,
// $GIT_EDITOR, $VISUAL, $EDITOR, else editor or vi). A here-string is
// vouched, so git add -p <<< e runs the editor under a rule accepting
// git add, and under any rule without command conditions.
func TestRound8GitPatchModeOpensTheEditor(t *testing.T) {
	change := [][]string{{"write", "b", "changed"}}
	checkPreparedCases(t, []preparedCase{
		{line: "git add -p <<< e", policy: prefixRule("git", "add"), prep: change},
		{line: "git add --patch <<< e", policy: prefixRule("git", "add"), prep: change},
		{line: "git add -i <<'EOF'\np\n1\n\ne\nEOF", policy: prefixRule("git", "add"), prep: change},
		{line: "git checkout -p <<< e", policy: prefixRule("git", "checkout"), prep: change},
		{line: "git restore -p <<< e", policy: prefixRule("git", "restore"), prep: change},
		{line: "git stash -p <<< e", policy: prefixRule("git", "stash"), prep: change},
		{line: "git commit -p -m fix <<< e", policy: prefixRule("git", "commit"), prep: change},
	}, []string{"editor"}, "git's patch mode runs the editor for the answer e")
}

// TestRound8GitApplyBuildFakeAncestorWrites: git apply
// --build-fake-ancestor=FILE writes an index file at FILE, with --check
// (a dry run) too; the engine refuses git's --output but knows nothing
// of it. A rule for dry runs of patches (git apply with --check) accepts
// a write of any path.
func TestRound8GitApplyBuildFakeAncestorWrites(t *testing.T) {
	check := mustParse(t, `
[[rule]]
name = "git-apply-check"
decision = "accept"
[rule.match]
argv_prefix = ["git", "apply"]
options = ["--check"]
`)
	work, env, _ := gitRepoWithStandIns(t)
	git := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(work, "b"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("diff", "--output=x.patch")
	git("checkout", "b")
	for _, line := range []string{
		"git apply --check --build-fake-ancestor=PWNED x.patch",
		"git apply --check --build=PWNED x.patch",
	} {
		marker := filepath.Join(work, "PWNED")
		os.Remove(marker)
		out := bashIn(t, line, work, env)
		ran := "wrote PWNED"
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("%q: git wrote no PWNED here (output %q): the line is no evidence", line, out)
			ran = "nothing here"
		}
		for name, p := range map[string]*Policy{"git-apply-check": check, "anything-in-work": anythingInWork(t, false)} {
			if v, ok := acceptedBy(t, p, line); ok {
				t.Errorf("%s: %q accepted by rule %q as %q; under bash git %s", name, line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}

// TestRound8MoreProgramsThatRunTheirArguments: round 7's list of
// programs that run their arguments (otherWrappers) has util-linux's
// script but not its sibling scriptlive (bsdutils, essential on Debian),
// whose -c runs a shell command, nor python-dotenv's dotenv run, which
// runs its arguments as a program. An accept rule without command
// conditions accepts them past a rule declining rm.
func TestRound8MoreProgramsThatRunTheirArguments(t *testing.T) {
	p := mustParse(t, "[[rule]]\nname = \"no-rm\"\ndecision = \"decline\"\n[rule.match]\nprogram = \"rm\"\n"+anyLineRule)
	for _, line := range []string{
		"scriptlive -c 'rm -rf victim' -t timing -I in.log",
		"dotenv run rm -rf victim",
		"dotenv -f x.env run -- rm -rf victim",
	} {
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q, past the rule declining rm", line, v.Rule, commandsOf(v.Analysis))
		}
	}
	for _, tc := range []struct {
		line string
		env  []string
	}{
		{"scriptlive -c 'touch PWNED' -t timing -I in.log", nil},
		{"dotenv run touch PWNED", os.Environ()},
	} {
		if _, err := exec.LookPath(strings.Fields(tc.line)[0]); err != nil {
			t.Logf("%s is not installed: no demonstration", strings.Fields(tc.line)[0])
			continue
		}
		work := t.TempDir()
		for name, body := range map[string]string{"timing": "0.1 3\n", "in.log": "hi\n", ".env": ""} {
			if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		env := tc.env
		if env == nil {
			env = []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work}
		}
		out := bashIn(t, tc.line, work, env)
		if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
			t.Errorf("%q: did not run touch PWNED here (output %q): the line is no evidence", tc.line, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash it ran touch PWNED", tc.line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// TestRound8AcceptOptionsMatchAnOptionsValue: options, the one condition
// that can only admit, stops at the first "--" because a "--" may be an
// option's argument (RATIONALE.md), but it counts -x in any cluster and
// any word -x, where the letter or the word may just as well be another
// option's value: make -In is make -I n (an include directory), make -I
// -n and make -on the same, and git clean -fen is git clean -f -e n (an
// exclude pattern). A rule for dry runs (make -n, git clean -n) accepts
// them, and make runs the Makefile's recipes, git clean deletes the
// untracked files.
func TestRound8AcceptOptionsMatchAnOptionsValue(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "make-dry-run"
decision = "accept"
[rule.match]
program = "make"
options = ["-n", "--dry-run", "--just-print", "--recon"]

[[rule]]
name = "git-clean-dry-run"
decision = "accept"
[rule.match]
argv_prefix = ["git", "clean"]
options = ["-n", "--dry-run"]
`)
	for _, line := range []string{"make -n", "git clean -n -d"} {
		if _, ok := acceptedBy(t, p, line); !ok {
			t.Fatalf("%q is not accepted: the rules are not what this test is about", line)
		}
	}
	for _, line := range []string{"make", "git clean -f"} {
		if _, ok := acceptedBy(t, p, line); ok {
			t.Fatalf("%q accepted: the rules are not what this test is about", line)
		}
	}
	for _, tc := range []struct {
		line, prog string
	}{
		{"make -In", "make"},
		{"make -I -n", "make"},
		{"make -on", "make"},
		{"git clean -fen", "git"},
		{"git clean -f -e -n", "git"},
		{"git clean -f --exclude --dry-run", "git"},
	} {
		ran := "(not run: " + tc.prog + " is not installed)"
		if _, err := exec.LookPath(tc.prog); err == nil {
			work := t.TempDir()
			env := []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1"}
			marker := filepath.Join(work, "PWNED")
			if tc.prog == "make" {
				if err := os.WriteFile(filepath.Join(work, "Makefile"), []byte("all:\n\ttouch PWNED\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				cmd := exec.Command("git", "init", "-q", ".")
				cmd.Dir, cmd.Env = work, env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("git init: %v %s", err, out)
				}
				marker = filepath.Join(work, "untracked.txt")
				if err := os.WriteFile(marker, []byte("keep me\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := bashIn(t, tc.line, work, env)
			_, err := os.Stat(marker)
			switch {
			case tc.prog == "make" && err != nil:
				t.Errorf("%q: make ran no recipe here (output %q): the line is no evidence", tc.line, out)
			case tc.prog == "make":
				ran = "make ran the Makefile's recipe (touch PWNED)"
			case err == nil:
				t.Errorf("%q: git clean deleted nothing here (output %q): the line is no evidence", tc.line, out)
			default:
				ran = "git clean deleted untracked.txt"
			}
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, a dry run by its options; the option is another option's value, and under bash %s",
				tc.line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// TestRound8SedDelimiterAfterDoubleByteCharacter: round 7 refuses, in
// the line and in each argument, the shell and regex characters a
// double-byte encoding (GBK, Big5, Shift_JIS) can take as the second
// byte of a character after a non-ASCII one (legacyTrail: \ ` | { } [ ]
// and ^). But every byte from 0x40 to 0x7E is such a trail byte, and GNU
// sed takes any of them as the s command's delimiter: @, _, ~ or a
// letter. In s@中@x@;s@e;e touch PWNED #@y@ the engine reads two
// harmless substitutions; GNU sed in zh_CN.GBK reads 中@ as one
// character, so the first regex runs to the next @ (中@x), the
// replacement is ";s", the flags are e, and after the ; comes the
// command e touch PWNED. example.toml's read-only-tools rule accepts it.
func TestRound8SedDelimiterAfterDoubleByteCharacter(t *testing.T) {
	example := diffPolicy(t, "example.toml")
	perm := diffPolicy(t, "rules-permissive.toml")
	lines := []string{
		`sed -n 's@中@x@;s@e;e touch PWNED #@y@' a.txt`,
		`sed -n 's_中_x_;s_e;e touch PWNED #_y_' a.txt`,
		`sed -n 'sq中qxq;sqe;e touch PWNED #qyq' a.txt`,
		`sed -e 's~中~x~;s~e;e touch PWNED #~y~' a.txt`,
	}
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
				out := bashIn(t, line, work, []string{"PATH=/usr/bin:/bin", "LOCPATH=" + locdir, "LC_ALL=" + loc, "HOME=" + work})
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
				t.Errorf("%s: %q accepted by rule %q as %q; GNU sed in a GBK locale reads 中 and the delimiter after it as one character and runs: %s",
					name, line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}

// TestRound8AcceptOptionsWithAValue: options counts --long=v as --long
// ("also as --long=v"), which is right for a decline rule and wrong for
// one that admits: the value may turn the option off. npm (nopt) reads
// --dry-run=false as no dry run, as Go's flag packages do for boolean
// flags (gh, helm), and kubectl's --dry-run=none is a real run. A rule
// for npm dry runs accepts npm pack --dry-run=false, which writes the
// package's tarball, and npm publish --dry-run=false, which publishes.
func TestRound8AcceptOptionsWithAValue(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "npm-dry-runs"
decision = "accept"
[rule.match]
program = "npm"
options = ["--dry-run"]
`)
	if _, ok := acceptedBy(t, p, "npm pack"); ok {
		t.Fatal("npm pack accepted: the rule is not what this test is about")
	}
	for _, line := range []string{"npm publish --dry-run=false", "npm pack --dry-run=false"} {
		ran := "(not run: npm is not installed)"
		if line == "npm pack --dry-run=false" {
			if _, err := exec.LookPath("npm"); err == nil {
				work := t.TempDir()
				if err := os.WriteFile(filepath.Join(work, "package.json"), []byte(`{"name":"x","version":"1.0.0"}`+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=" + work, "npm_config_cache=" + filepath.Join(work, ".npm"), "npm_config_offline=true", "npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false"}
				out := bashIn(t, line, work, env)
				if _, err := os.Stat(filepath.Join(work, "x-1.0.0.tgz")); err != nil {
					t.Logf("%q: npm wrote no x-1.0.0.tgz here (output %q): npm, not the engine, is at fault (it may want the network); the line is no evidence this time", line, out)
					ran = "nothing here"
				} else {
					ran = "npm wrote x-1.0.0.tgz"
				}
			}
		} else {
			ran = "npm would publish the package (not run here)"
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q, a dry run by its options; the value turns it off, and %s",
				line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// TestRound8AcceptOptionsNegatedLater: options admits a line on the
// presence of the option, but git's parse-options and npm's nopt take
// the last of --opt and --no-opt: git clean -n --no-dry-run -f deletes,
// git apply --check --no-check applies the patch, npm pack --dry-run
// --no-dry-run writes the tarball. Rules for dry runs accept them.
func TestRound8AcceptOptionsNegatedLater(t *testing.T) {
	p := mustParse(t, `
[[rule]]
name = "git-clean-dry-run"
decision = "accept"
[rule.match]
argv_prefix = ["git", "clean"]
options = ["-n", "--dry-run"]

[[rule]]
name = "git-apply-check"
decision = "accept"
[rule.match]
argv_prefix = ["git", "apply"]
options = ["--check"]

[[rule]]
name = "npm-dry-runs"
decision = "accept"
[rule.match]
program = "npm"
options = ["--dry-run"]
`)
	for _, line := range []string{"git clean -f", "git apply x.patch", "npm pack"} {
		if _, ok := acceptedBy(t, p, line); ok {
			t.Fatalf("%q accepted: the rules are not what this test is about", line)
		}
	}
	type demo func(t *testing.T, line string) string
	gitClean := func(t *testing.T, line string) string {
		work := t.TempDir()
		env := []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1"}
		cmd := exec.Command("git", "init", "-q", ".")
		cmd.Dir, cmd.Env = work, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git init: %v %s", err, out)
		}
		marker := filepath.Join(work, "untracked.txt")
		if err := os.WriteFile(marker, []byte("keep me\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := bashIn(t, line, work, env)
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%q: git clean deleted nothing here (output %q): the line is no evidence", line, out)
			return "nothing here"
		}
		return "git clean deleted untracked.txt"
	}
	gitApply := func(t *testing.T, line string) string {
		work, env, _ := gitRepoWithStandIns(t)
		b := filepath.Join(work, "b")
		if err := os.WriteFile(b, []byte("changed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"diff", "--output=x.patch"}, {"checkout", "b"}} {
			cmd := exec.Command("git", args...)
			cmd.Dir, cmd.Env = work, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %v: %v %s", args, err, out)
			}
		}
		out := bashIn(t, line, work, env)
		if got, _ := os.ReadFile(b); string(got) != "changed\n" {
			t.Errorf("%q: git applied nothing here (output %q): the line is no evidence", line, out)
			return "nothing here"
		}
		return "git apply changed b"
	}
	npmPack := func(t *testing.T, line string) string {
		if _, err := exec.LookPath("npm"); err != nil {
			return "(not run: npm is not installed)"
		}
		work := t.TempDir()
		if err := os.WriteFile(filepath.Join(work, "package.json"), []byte(`{"name":"x","version":"1.0.0"}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		env := []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "HOME=" + work, "npm_config_cache=" + filepath.Join(work, ".npm"), "npm_config_offline=true", "npm_config_update_notifier=false", "npm_config_audit=false", "npm_config_fund=false"}
		out := bashIn(t, line, work, env)
		if _, err := os.Stat(filepath.Join(work, "x-1.0.0.tgz")); err != nil {
			t.Logf("%q: npm wrote no x-1.0.0.tgz here (output %q): npm, not the engine, is at fault (it may want the network); the line is no evidence this time", line, out)
			return "nothing here"
		}
		return "npm wrote x-1.0.0.tgz"
	}
	for _, tc := range []struct {
		line string
		run  demo
	}{
		{"git clean -n --no-dry-run -f", gitClean},
		{"git clean --dry-run -f --no-dry-run", gitClean},
		{"git apply --check --no-check x.patch", gitApply},
		{"npm pack --dry-run --no-dry-run", npmPack},
	} {
		ran := tc.run(t, tc.line)
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q, a dry run by its options; a later --no- turns it off, and under bash %s",
				tc.line, v.Rule, commandsOf(v.Analysis), ran)
		}
	}
}

// TestRound8DashBracketCaret: a decline rule reads a glob pattern with
// bash's rules (mayExpandTo: [^u] and [!u] both negate), also in the
// script of sh -c and dash -c, which the engine reads as POSIX sh. But
// dash negates a bracket with ! only: its [^u] is the set of ^ and u.
// So p[^u]blish, which bash never expands to publish (the engine is
// right to accept npm p[^u]blish), is publish to dash when a file of
// that name is in the cwd: dash -c 'npm p[^u]blish' runs npm publish
// past a rule declining it (sh -c too where sh is dash: Debian, Ubuntu).
func TestRound8DashBracketCaret(t *testing.T) {
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
name = "dev-tools"
decision = "accept"
allow_globs = true
[rule.match]
program = ["npm", "make"]
`)
	for _, line := range []string{"dash -c 'npm publish'", "sh -c 'make deploy'", "dash -c 'npm p[!x]blish'"} {
		if v, ok := acceptedBy(t, p, line); ok || v.Decision != abi.Decline {
			t.Fatalf("%q: %s by %q, want decline", line, v.Decision, v.Rule)
		}
	}
	if _, err := exec.LookPath("dash"); err != nil {
		t.Skip("dash is not installed")
	}
	shIsDash := false
	if target, err := filepath.EvalSymlinks("/bin/sh"); err == nil && filepath.Base(target) == "dash" {
		shIsDash = true
	}
	for _, tc := range []struct{ line, want string }{
		{"dash -c 'npm p[^u]blish'", "npm publish"},
		{"dash -c 'make d[^e]ploy'", "make deploy"},
		{"sh -c 'npm p[^u]blish'", "npm publish"},
		{"sh -c 'make dep[^l]oy'", "make deploy"},
	} {
		work, env := globWorkspace(t, []string{"publish", "deploy"}, []string{"npm", "make"})
		out := bashIn(t, tc.line, work, env)
		switch {
		case out == tc.want:
		case strings.HasPrefix(tc.line, "sh ") && !shIsDash:
			t.Logf("%q: /bin/sh is not dash here (output %q)", tc.line, out)
		default:
			t.Errorf("%q: dash did not run %q here (output %q): the line is no evidence", tc.line, tc.want, out)
		}
		if v, ok := acceptedBy(t, p, tc.line); ok {
			t.Errorf("%q: accepted by rule %q as %q; dash's [^x] is the set of ^ and x, and it ran %q",
				tc.line, v.Rule, commandsOf(v.Analysis), out)
		}
	}
}
