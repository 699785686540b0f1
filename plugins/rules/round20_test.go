package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Review round 20 (adversarial review of the worktree adv2, at 6b48bdd):
// option and script parsers of known.go that read a program's arguments
// otherwise than the program does, and programs next to known ones that
// run what an option names. Each line runs here under real bash in a
// fresh directory where the tool exists (a missing tool is logged), and
// the verdict is asserted either way.

// round20Repo makes a git repository in a fresh directory, with a commit
// on main and one on feature (main checked out, one more commit on it, so
// that a merge of feature is no fast-forward), and an editor script
// WORK/ed that touches WORK/PWNED. It returns the directory of the
// repository (WORK/r) and the environment to run git in.
func round20Repo(t *testing.T) (string, []string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	work := t.TempDir()
	repo := filepath.Join(work, "r")
	if err := os.MkdirAll(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	ed := filepath.Join(work, "ed")
	if err := os.WriteFile(ed, []byte("#!/bin/sh\ntouch \"$(dirname \"$0\")/PWNED\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_COMMITTER_NAME=a",
		"GIT_COMMITTER_EMAIL=a@example.com", "GIT_EDITOR=" + ed, "TERM=dumb"}
	out := bashIn(t, `git init -q -b main . && git commit -q --allow-empty -m init &&
git checkout -q -b feature && echo f > f && git add f && git commit -q -m f &&
git checkout -q main && echo m > m && git add m && git commit -q -m m && echo x > x && git add x && echo ok`, repo, env)
	if !strings.HasSuffix(out, "ok") {
		t.Skipf("cannot make a repository: %s", out)
	}
	return repo, env
}

// round20Edited reports whether the editor ran (WORK/PWNED exists) and
// removes its mark.
func round20Edited(repo string) bool {
	p := filepath.Join(filepath.Dir(repo), "PWNED")
	_, err := os.Stat(p)
	os.Remove(p)
	return err == nil
}

// TestRound20GitCommitUntrackedModeHidesEditor: gitEditor reads a cluster
// of short options up to one whose value is the rest of the cluster
// (-mfeature), but knows only m, F, C and t; commit's -u takes its mode
// attached too (-unormal), and the m of "normal" passes for -m: the
// commit has no message, and git runs the editor (core.editor,
// $GIT_EDITOR, …) to ask for one.
func TestRound20GitCommitUntrackedModeHidesEditor(t *testing.T) {
	p := mustParse(t, prefixRule("git", "commit"))
	repo, env := round20Repo(t)
	for _, line := range []string{"git commit -unormal", "git commit -qunormal", "git commit -vunormal x"} {
		out := bashIn(t, line, repo, env)
		ran := round20Edited(repo)
		bashIn(t, "git reset -q --soft HEAD~1 2>/dev/null; git add x", repo, env)
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q as %q; under bash git ran the editor: %v (%.100q)", line, v.Rule, commandsOf(v.Analysis), ran, out)
		}
	}
	// What the engine means to accept still is.
	wantAccepted(t, p, "it gives git its message", "git commit -m fix", "git commit -am fix", "git commit -uno -m fix", "git commit --no-edit --amend")
}

// TestRound20SedFlagsAfterBlank: GNU sed skips blanks between the flags
// of an s command (s/a/b/ i e is s/a/b/ie), where sedScriptDanger ended
// the flags at the blank and read the next flag as a command: i as the
// insert command, whose text (e, w FILE) it skipped. sed runs the
// pattern space as a command (e) or writes a file (w).
func TestRound20SedFlagsAfterBlank(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: `sed 's|hello|../pwn| i e' x`, files: round18Module, made: "PWNED"},
		{line: "sed 's|hello|../pwn|\ti\te' x", files: round18Module, made: "PWNED"},
		{line: `sed 's/hello/x/ i w ../OUT' x`, files: round18Module, made: "OUT"},
		{line: `sed -n 's/hello/x/  g  i  w ../OUT' x`, files: round18Module, made: "OUT"},
	})
	p := mustParse(t, round18ReadOnly)
	wantAccepted(t, p, "it neither writes nor runs", `sed 's/a/b/ g' x`, `sed 's/a/b/ ; p' x`, `sed -e 's/a/b/g ' -e 'i\' -e 'x' x`)
}

// TestRound20GawkIncludeAndIndirectCall: the awk check looks for system,
// |, > and getline in the program text, but gawk's @include reads more
// program from a file (which may call system), @load loads a shared
// library, and an indirect call (@f() with f = "sys" "tem") calls a
// builtin whose name the text never spells.
func TestRound20GawkIncludeAndIndirectCall(t *testing.T) {
	rules := round20Gawk
	inc := round18With(map[string]string{"inc.awk": "BEGIN{system(\"../pwn\")}\n"})
	round18Check(t, rules, []round18Case{
		{line: `gawk '@include "../inc.awk"'`, files: inc, made: "PWNED"},
		{line: `gawk 'BEGIN{f="sys" "tem"; @f("../pwn")}'`, files: round18Module, made: "PWNED"},
		{line: `awk '@include "../inc.awk"'`, files: inc, made: "PWNED"},
		{line: `awk '@load "../evil"'`, files: round18Module, made: "PWNED"},
	})
}

// TestRound20GitMergeEditorOnTerminal: git merge (and git pull, which
// merges) opens the editor for the merge commit's message when its stdin
// and stdout are one terminal (merge.c, default_edit_option), as they
// are for a command codex runs with a pty; gitEditor refused only -e,
// --edit and --continue. -Xrenormalize's m also passed for -m. Here
// script(1) gives the line a pty.
//
// NOT FIXED: refusing a merge that may commit without --no-edit, -m,
// --ff-only, --squash or --no-commit (and a pull that may merge) would
// decline "git merge feature", which TestGitAndTarEverydayFormsAreVouched
// keeps accepted; whether codex's commands have a terminal is the
// maintainers' call.
func TestRound20GitMergeEditorOnTerminal(t *testing.T) {
	p := mustParse(t, round18Prefixes([]string{"git", "merge"}, []string{"git", "pull"}))
	_, err := exec.LookPath("script")
	for _, line := range []string{
		"git merge --no-ff feature",
		"git merge -Xrenormalize feature",
		"git merge --ff-only --no-ff feature",
		"git pull --no-rebase . feature",
	} {
		ran := false
		if err == nil {
			repo, env := round20Repo(t)
			out := bashIn(t, "git rm -q --cached x && rm x && script -qec '"+line+"' /dev/null", repo, env)
			ran = round20Edited(repo)
			if !ran {
				t.Logf("%q: no editor under script here (%.100q)", line, out)
			}
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; on a terminal git ran the editor: %v", line, v.Rule, ran)
		}
	}
	wantAccepted(t, p, "it makes no merge commit without a message", "git merge --no-edit feature", "git merge -m 'merge feature' feature", "git merge --ff-only feature",
		"git merge --abort", "git pull --rebase", "git pull --ff-only", "git pull -r origin main", "git merge --squash feature")
}

// TestRound20DiffSiblingsRunAndWrite: diff's siblings in diffutils, which
// a rule naming diff is likely to name too, run the program
// --diff-program names (diff3 and sdiff, abbreviated too), and sdiff -o
// writes the merged file (stdin at its end merges nothing, yet the file is
// made). known.go knows diff's -l only.
func TestRound20DiffSiblingsRunAndWrite(t *testing.T) {
	rules := `
[[rule]]
name = "diff-tools"
decision = "accept"
[rule.match]
program = ["diff", "diff3", "sdiff", "cmp"]
`
	files := round18With(map[string]string{"m/y": "other\n", "m/z": "third\n"})
	round18Check(t, rules, []round18Case{
		{line: "diff3 --diff-program=../pwn x y z", files: files, made: "PWNED"},
		{line: "diff3 --diff-prog ../pwn x y z", files: files, made: "PWNED"},
		{line: "sdiff --diff-program=../pwn x y", files: files, made: "PWNED"},
		{line: "sdiff -o ../OUT x y", files: files, made: "OUT"},
		{line: "sdiff -so../OUT x y", files: files, made: "OUT"},
		{line: "sdiff --output=../OUT x y", files: files, made: "OUT"},
	})
	p := mustParse(t, rules)
	wantAccepted(t, p, "it neither writes nor runs", "diff3 x y z", "sdiff -s x y", "diff3 -m x y z", "cmp x y")
}

// TestRound20KubectlConfigWritesExecPlugin: round 18 refused --kubeconfig
// because a kubeconfig's credential plugin (users[].user.exec.command)
// runs; kubectl config set-credentials --exec-command (and kubectl config
// set users.NAME.exec.command) write one into the kubeconfig in use, and
// the next vouched kubectl get runs it. (kubectl stores the path relative
// to the kubeconfig; one with a slash stays a path.)
func TestRound20KubectlConfigWritesExecPlugin(t *testing.T) {
	rules := round18ReadOnly + round18Prefixes([]string{"kubectl", "config"})
	p := mustParse(t, rules)
	setup := "kubectl config set-cluster c --server=https://127.0.0.1:9 && kubectl config set-context c --cluster=c --user=u && kubectl config use-context c"
	for _, line := range []string{
		"kubectl config set-credentials u --exec-command=WORK/bin/pwn --exec-api-version=client.authentication.k8s.io/v1beta1",
		"kubectl config set-credentials u --exec-api-version client.authentication.k8s.io/v1beta1 --exec-command WORK/bin/pwn",
		"kubectl config set users.u.exec.command WORK/bin/pwn",
		"kubectl config set users.u.auth-provider.config.cmd-path WORK/bin/pwn",
	} {
		ran := false
		if _, err := exec.LookPath("kubectl"); err == nil && strings.Contains(line, "set-credentials") {
			work := t.TempDir()
			if err := os.MkdirAll(filepath.Join(work, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(work, "bin", "pwn"), []byte("#!/bin/sh\ntouch \"$(dirname \"$0\")/../PWNED\"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			env := []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work, "KUBECONFIG=" + filepath.Join(work, "kc")}
			out := bashIn(t, setup+" && "+strings.ReplaceAll(line, "WORK", work)+" && timeout 60 kubectl get pods --request-timeout=5s", work, env)
			ran = exists(filepath.Join(work, "PWNED"))
			if !ran {
				t.Logf("%q: kubectl get ran no plugin here (%.200q)", line, out)
			}
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; the next kubectl get runs the plugin it writes: %v", line, v.Rule, ran)
		}
	}
	wantAccepted(t, p, "it names no program", "kubectl config use-context prod", "kubectl config get-contexts", "kubectl config set-context --current --namespace=web")
}

// TestRound20CurlWriteOutOutput: curl 8.3's -w/--write-out variable
// %output{FILE} (and %output{>>FILE}) writes the rest of the format into
// FILE; -w @FILE reads the format from a file, which may hold one. (The
// curl here may be older: then it prints the text and writes nothing.)
func TestRound20CurlWriteOutOutput(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "curl -s -w '%output{../OUT}x' file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s --write-out '%output{>>../OUT}x' file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s -w @../fmt file://WORK/x", files: round18With(map[string]string{"fmt": "%output{WORK/OUT}x"}), made: "OUT"},
		{line: "curl -sw@../fmt file://WORK/x", files: round18With(map[string]string{"fmt": "%output{WORK/OUT}x"}), made: "OUT"},
		{line: "curl -s --write=@../fmt file://WORK/x", files: round18With(map[string]string{"fmt": "%output{WORK/OUT}x"}), made: "OUT"},
	})
	p := mustParse(t, round18ReadOnly)
	wantAccepted(t, p, "it writes no file", "curl -s -w '%{http_code}' https://example.com", "curl -s -d @body.json https://example.com")
}

// round20Gawk is round18ReadOnly and a rule accepting gawk.
const round20Gawk = round18ReadOnly + `
[[rule]]
name = "gawk"
decision = "accept"
[rule.match]
program = ["gawk"]
`

// wantAccepted reports each of lines that p does not accept: each is a
// line the rules mean to vouch for, and why says what makes it safe.
func wantAccepted(t *testing.T, p *Policy, why string, lines ...string) {
	t.Helper()
	for _, line := range lines {
		if _, ok := acceptedBy(t, p, line); !ok {
			t.Errorf("%q: not accepted; %s", line, why)
		}
	}
}
