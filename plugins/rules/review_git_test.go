package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review 18 (program knowledge): git runs programs the
// engine does not vouch for through option spellings and operands it does
// not read. Each line is accepted by a rule without command conditions
// (danger is the only guard there) and, where it says so, by a rule of
// the example policy shape; each runs here under real bash, in a fresh
// repository, with a PATH whose first directory holds stand-ins that
// record being run (as a workspace directory on PATH, ~/.local/bin or
// node_modules/.bin would).

const anyLineRule = `
[[rule]]
name = "anything-in-work"
decision = "accept"
[rule.match]
hook_kind = "command"
cwd_prefix = "/work"
`

// gitRepoWithStandIns makes a repository with two diverging branches (main and
// side), a commit carrying a (bogus) PGP signature (branch signed), and a
// bin directory of stand-ins named in fakes. It returns the work tree,
// the environment for bash, and the marker file the stand-ins append to.
func gitRepoWithStandIns(t *testing.T, fakes ...string) (work string, env []string, marker string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	work = filepath.Join(dir, "work")
	marker = filepath.Join(dir, "PWNED")
	for _, d := range []string{bin, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range fakes {
		body := "#!/bin/sh\necho \"" + f + " $*\" >> " + marker + "\nexit 1\n"
		if err := os.WriteFile(filepath.Join(bin, f), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env = []string{"PATH=" + bin + ":/usr/local/bin:/usr/bin:/bin", "LANG=C", "HOME=" + dir,
		"GIT_CONFIG_NOSYSTEM=1", "TERM=xterm", "EDITOR=editor"}
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = work
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main", ".")
	run("config", "user.name", "a")
	run("config", "user.email", "a@b")
	run("commit", "-q", "--allow-empty", "-m", "base")
	tree, base := run("rev-parse", "HEAD^{tree}"), run("rev-parse", "HEAD")
	obj := "tree " + tree + "\nparent " + base + "\nauthor a <a@b> 1 +0000\ncommitter a <a@b> 1 +0000\n" +
		"gpgsig -----BEGIN PGP SIGNATURE-----\n \n x\n -----END PGP SIGNATURE-----\n\nsigned\n"
	if err := os.WriteFile(filepath.Join(dir, "commit.txt"), []byte(obj), 0o644); err != nil {
		t.Fatal(err)
	}
	run("update-ref", "refs/heads/signed", run("hash-object", "-t", "commit", "-w", filepath.Join(dir, "commit.txt")))
	run("checkout", "-q", "-b", "side")
	if err := os.WriteFile(filepath.Join(work, "a"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "a")
	run("commit", "-q", "-m", "side")
	run("checkout", "-q", "main")
	if err := os.WriteFile(filepath.Join(work, "b"), []byte("b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("add", "b")
	run("commit", "-q", "-m", "main")
	return work, env, marker
}

// runWithStandIns runs line under real bash in work and returns what the
// stand-ins recorded ("" if none ran).
func runWithStandIns(t *testing.T, line, work string, env []string) string {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
	cmd.Dir = work
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	out, _ := cmd.CombinedOutput()
	got, err := os.ReadFile(filepath.Join(filepath.Dir(work), "PWNED"))
	if err != nil {
		t.Errorf("%q ran no stand-in here (output %q): the line is no evidence", line, out)
		return ""
	}
	return strings.TrimSpace(string(got))
}

type standInCase struct {
	line   string
	policy string // a second policy besides anything-in-work ("" for none)
}

// checkStandIns runs each case (see checkPreparedCases, with nothing to
// prepare).
func checkStandIns(t *testing.T, cases []standInCase, fakes []string, why string) {
	t.Helper()
	prepared := make([]preparedCase, len(cases))
	for i, c := range cases {
		prepared[i] = preparedCase{line: c.line, policy: c.policy}
	}
	checkPreparedCases(t, prepared, fakes, why)
}

const gitLogRules = `
[[rule]]
name = "git-log"
decision = "accept"
[rule.match]
argv_prefix = ["git", "log"]
[[rule]]
name = "git-show"
decision = "accept"
[rule.match]
argv_prefix = ["git", "show"]
[[rule]]
name = "git-rev-list"
decision = "accept"
[rule.match]
argv_prefix = ["git", "rev-list"]
`

// TestGitFormatSignatureMagic: the engine refuses a pretty format's
// signature placeholders (%G?, %GG, …) by looking for "%G" in the
// arguments, but git's placeholder magic puts a character between the %
// and the G: %+GG, %-GK, % GG are %GG, %GK with a line feed or blank
// added or removed. git verifies the signature of a signed commit for
// them by running gpg.program (gpg on PATH).
func TestGitFormatSignatureMagic(t *testing.T) {
	plain := mustParse(t, anyLineRule).Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand,
		Command: "git log -1 --format=%GG signed", Cwd: "/work/proj"})
	if plain.Decision == abi.Accept {
		t.Fatalf("%q accepted; the engine is meant to refuse it", "git log --format=%GG")
	}
	checkStandIns(t, []standInCase{
		{"git log -1 --format=%+GG signed", gitLogRules},
		{"git log -1 '--format=% GG' signed", gitLogRules},
		{"git log -1 --pretty=tformat:%-GK signed", gitLogRules},
		{"git show -s --format=%+GS signed", gitLogRules},
		{"git rev-list -1 --format=%-GF signed", gitLogRules},
	}, []string{"gpg"}, "the format's signature placeholder runs gpg.program")
}

// TestGitMergeStrategyProgram: -s/--strategy NAME of merge, pull,
// rebase and cherry-pick runs git-merge-NAME, found on git's exec path or
// PATH, as git runs git-NAME for a subcommand that is no builtin (which
// the engine refuses).
func TestGitMergeStrategyProgram(t *testing.T) {
	rule := `
[[rule]]
name = "git-merge"
decision = "accept"
[rule.match]
argv_prefix = ["git", "merge"]
[[rule]]
name = "git-rebase"
decision = "accept"
[rule.match]
argv_prefix = ["git", "rebase"]
[[rule]]
name = "git-cherry-pick"
decision = "accept"
[rule.match]
argv_prefix = ["git", "cherry-pick"]
`
	checkStandIns(t, []standInCase{
		{"git merge -s evil side", rule},
		{"git merge --strategy=evil side", rule},
		{"git rebase -s evil side", rule},
		{"git cherry-pick --strategy=evil side", rule},
	}, []string{"git-merge-evil"}, "git runs git-merge-evil from PATH")
}

// TestGitRemoteHelperAndSSH: a URL NAME::ADDRESS makes git run the
// remote helper git-remote-NAME from its exec path or PATH (protocol
// policy "user" allows unknown helpers from the command line), and a
// HOST:PATH or ssh:// URL runs ssh (which the engine refuses by name)
// with a remote command.
func TestGitRemoteHelperAndSSH(t *testing.T) {
	rule := `
[[rule]]
name = "git-ls-remote"
decision = "accept"
[rule.match]
argv_prefix = ["git", "ls-remote"]
[[rule]]
name = "git-fetch"
decision = "accept"
[rule.match]
argv_prefix = ["git", "fetch"]
`
	checkStandIns(t, []standInCase{
		{"git ls-remote evil::x", rule},
		{"git fetch evil::x", rule},
		{"git clone -q evil::x d", ""},
		{"git ls-remote git@example.invalid:x", rule},
		{"git fetch ssh://example.invalid/x", rule},
	}, []string{"git-remote-evil", "ssh"}, "git runs git-remote-evil or ssh")
}

// TestGitEditor: the engine refuses git branch --edit-description
// (and, as abbreviations of it, --edit) because it runs the editor, but
// the short -e and the subcommands that open the editor without an
// option run it all the same ($EDITOR, else Debian's `editor` or vi).
func TestGitEditor(t *testing.T) {
	plain := mustParse(t, anyLineRule).Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand,
		Command: "git branch --edit-description", Cwd: "/work/proj"})
	if plain.Decision == abi.Accept {
		t.Fatal("git branch --edit-description accepted; the engine is meant to refuse it")
	}
	checkStandIns(t, []standInCase{
		{"git add -e", ""},
		{"git commit --allow-empty -e -m x", ""},
		{"git tag -a v1", ""},
		{"git notes add", ""},
		{"git rebase -i HEAD", ""},
	}, []string{"editor"}, "git runs the editor")
}

// The forms of git and tar that run nothing but the vouched argv are
// still accepted: the checks above refuse what names a program, not the
// everyday commands around it.
func TestGitAndTarEverydayFormsAreVouched(t *testing.T) {
	p := anythingInWork(t, false)
	for _, line := range []string{
		"git commit -m fix", "git commit -mfeature", `git commit -am"fix the bug"`, "git commit --amend --no-edit",
		"git commit -F msg.txt", "git tag --no-sign v1", "git tag -a v1 -m rel", "git merge --no-edit feature", "git merge -s ort --no-edit feature",
		"git merge --strategy=recursive --ff-only x", "git rebase main", "git revert --no-edit HEAD", "git fetch origin",
		"git push origin main", "git pull --rebase origin main", "git clone https://github.com/a/b", "git ls-remote origin",
		"git log --format=%H%n%s", "git log --pretty=%an", "git cherry-pick abc123", "git notes show", "git add -A",
		"tar -czf a.tgz src", "tar -xf a.tar", "tar xzf a.tgz", "tar -tvf a.tar", "tar --file=a.tar -x",
	} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/p"})
		if v.Decision != abi.Accept {
			t.Errorf("%q: %s, want accept", line, v.Decision)
		}
	}
}

// tar runs programs through its own options: --to-command and
// --checkpoint-action run a shell command, -I a compressor, and an
// archive HOST:FILE runs rsh (or ssh) (review 18).
func TestTarOptionsThatRunPrograms(t *testing.T) {
	p := anythingInWork(t, false)
	dir := t.TempDir()
	require := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	require(os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644))
	cmd := exec.Command("tar", "-cf", "a.tar", "a.txt")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("no tar: %v %s", err, out)
	}
	for _, line := range []string{
		"tar -xf a.tar --to-command='touch PWNED'",
		"tar -xf a.tar --to-com='touch PWNED'",
		"tar -tf a.tar --checkpoint=1 --checkpoint-action=exec='touch PWNED'",
		"tar -I 'sh -c \"touch PWNED; cat\"' -tf a.tar",
		"tar -tIcat -f a.tar",
		"tar -tf evil.example:a.tar",
		"tar --file=evil.example:a.tar -t",
	} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/p"})
		if v.Decision == abi.Accept {
			t.Errorf("%q: accepted as %q", line, commandsOf(v.Analysis))
		}
	}
	// The first one, under bash: tar runs the command.
	cmd = exec.Command("bash", "--noprofile", "--norc", "-c", "tar -xf a.tar --to-command='touch PWNED'")
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	if _, err := os.Stat(filepath.Join(dir, "PWNED")); err != nil {
		t.Errorf("tar --to-command did not run the command here (%q): the line is no evidence", out)
	}
}
