package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review 19, of the review-18 fixes in known.go. Each
// line below is accepted by anything-in-work and by an argv_prefix rule
// for its subcommand, and under real bash (in the repository that
// gitRepoWithStandIns makes, PATH starting with recording stand-ins,
// EDITOR=editor) it runs a stand-in the engine claims to refuse.

// preparedCase is a stand-in case with a preparation run before the line
// (plain git commands in the work tree, not through the engine).
type preparedCase struct {
	line   string
	policy string
	prep   [][]string
}

func checkPreparedCases(t *testing.T, cases []preparedCase, fakes []string, why string) {
	t.Helper()
	for _, tc := range cases {
		work, env, _ := gitRepoWithStandIns(t, fakes...)
		for _, args := range tc.prep {
			if args[0] == "write" { // write FILE TEXT
				if err := os.WriteFile(filepath.Join(work, args[1]), []byte(args[2]+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			cmd := exec.Command("git", args...)
			cmd.Dir = work
			cmd.Env = env
			// Preparations may fail on purpose (a merge that conflicts).
			_ = cmd.Run()
		}
		ran := runWithStandIns(t, tc.line, work, env)
		for _, src := range []string{anyLineRule, tc.policy} {
			if src == "" {
				continue
			}
			p := mustParse(t, src)
			v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.line, Cwd: "/work/proj"})
			if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
				t.Errorf("%q: accepted by rule %q as %q; %s; under bash it ran: %q",
					tc.line, v.Rule, commandsOf(v.Analysis), why, ran)
			}
		}
	}
}

func prefixRule(words ...string) string {
	s := "[[rule]]\nname = \"prefix\"\ndecision = \"accept\"\n[rule.match]\nargv_prefix = ["
	for i, w := range words {
		if i > 0 {
			s += ", "
		}
		s += `"` + w + `"`
	}
	return s + "]\n"
}

// TestGitSSHInOptionValue: gitRunsByName reads HOST:PATH only in a
// word that does not start with '-', but git push --repo=HOST:PATH and
// git archive --remote=HOST:PATH name the repository in the option's
// value (also abbreviated, --rep=): git runs ssh from PATH.
func TestGitSSHInOptionValue(t *testing.T) {
	checkPreparedCases(t, []preparedCase{
		{line: "git push --repo=localhost:x --all", policy: prefixRule("git", "push")},
		{line: "git push --rep=localhost:x --tags", policy: prefixRule("git", "push")},
		{line: "git archive --remote=localhost:x HEAD", policy: prefixRule("git", "archive")},
	}, []string{"ssh"}, "git runs ssh for the HOST:PATH in the option's value")
}

// TestGitRemoteHelperByScheme: besides NAME::ADDRESS, a URL
// NAME://ADDRESS whose scheme git does not handle itself makes git run
// the remote helper git-remote-NAME from its exec path or PATH
// (gitremote-helpers(7)); protocol policy "user" allows it from the
// command line.
func TestGitRemoteHelperByScheme(t *testing.T) {
	checkPreparedCases(t, []preparedCase{
		{line: "git ls-remote evil://x", policy: prefixRule("git", "ls-remote")},
		{line: "git fetch evil://x", policy: prefixRule("git", "fetch")},
		{line: "git clone -q evil://x d", policy: prefixRule("git", "clone")},
	}, []string{"git-remote-evil"}, "git runs git-remote-evil from PATH")
}

// TestGitEditorUnread: ways to open the editor that gitEditor does
// not read. commit --fixup=amend:X and --fixup=reword:X open it (only a
// plain --fixup=X does not); pull --rebase=interactive (=i, -ri) runs an
// interactive rebase; merge --continue runs git commit without a
// message; rebase --continue after a conflict edits the message.
func TestGitEditorUnread(t *testing.T) {
	// A conflict on file c between branches x and y, then op run
	// from x (merge y, rebase y, cherry-pick y), then c resolved and
	// staged.
	conf := func(op ...string) [][]string {
		return [][]string{
			{"checkout", "-q", "-b", "y", "main"},
			{"write", "c", "y"},
			{"add", "c"},
			{"commit", "-q", "-m", "y"},
			{"checkout", "-q", "-b", "x", "main"},
			{"write", "c", "x"},
			{"add", "c"},
			{"commit", "-q", "-m", "x"},
			op,
			{"write", "c", "z"},
			{"add", "c"},
		}
	}
	checkPreparedCases(t, []preparedCase{
		{line: "git commit --fixup=amend:HEAD", policy: prefixRule("git", "commit")},
		{line: "git commit --fixup=reword:HEAD", policy: prefixRule("git", "commit")},
		{line: "git pull --rebase=interactive . side", policy: prefixRule("git", "pull")},
		{line: "git pull --rebase=i . side", policy: prefixRule("git", "pull")},
		{line: "git pull -ri . side", policy: prefixRule("git", "pull")},
		{line: "git merge --continue", policy: prefixRule("git", "merge"), prep: conf("merge", "y")},
		{line: "git rebase --continue", policy: prefixRule("git", "rebase"), prep: conf("rebase", "y")},
	}, []string{"editor"}, "git runs the editor")
}

// TestTarOldStyleCompressor: tarDanger reads -I and -F only in a word
// that starts with '-', but tar's old style takes its options from a
// first word without one (tar xzf): tar tIf PROG a.tar runs PROG -d as
// its decompressor (tar cIf PROG … as its compressor), tar cMFf PROG …
// runs PROG as the info script between volumes.
func TestTarOldStyleCompressor(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "PWNED")
	if err := os.WriteFile(filepath.Join(bin, "prog"), []byte("#!/bin/sh\necho \"prog $*\" >> "+marker+"\ncat\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("tar", "-cf", "a.tar", "a.txt")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("no tar: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "big"), make([]byte, 30<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"tar tIf prog a.tar", "tar xIf prog a.tar", "tar cIf prog b.tar a.txt",
		// -F (--info-script) runs PROG at the end of each volume of a
		// multi-volume archive (-M, volumes of -L 10 KiB).
		"tar cMFf prog m.tar -L 10 big"} {
		os.Remove(marker)
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C"}
		cmd.Stdin = strings.NewReader("")
		out, _ := cmd.CombinedOutput()
		ran, err := os.ReadFile(marker)
		if err != nil {
			t.Errorf("%q ran no stand-in (output %q): the line is no evidence", line, out)
		}
		for _, src := range []string{anyLineRule, prefixRule("tar")} {
			v := mustParse(t, src).Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
			if v.Decision == abi.Accept {
				t.Errorf("%q: accepted by rule %q as %q; under bash tar ran %q", line, v.Rule, commandsOf(v.Analysis), ran)
			}
		}
	}
}
