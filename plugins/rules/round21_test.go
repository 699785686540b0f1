package rules

import (
	"os/exec"
	"testing"
)

// Review round 21 (adversarial review of the worktree adv2, at ca7248e):
// the checks round 20 added, read against the programs' own parsers.

// TestRound21GitMergeOptionsUndoneOrValues: gitNoMergeEdit asked whether
// a word anywhere among merge's (or pull's) arguments was --no-edit,
// --squash, --no-commit, --abort, -m …, but git reads them in order: a
// later option undoes an earlier one (--squash --no-squash, --no-commit
// --commit, --abort --no-abort, --ff-only --no-f, where --no-f
// abbreviates --no-ff), and the word after an option that takes a value
// is that value (merge --into-name --no-edit, pull -o --rebase, -o
// --no-edit: a server option, which a local fetch ignores). Each line
// makes a merge commit whose message git edits on a terminal (a pull with
// pull.rebase false in the repository's config, the agent's to write).
func TestRound21GitMergeOptionsUndoneOrValues(t *testing.T) {
	p := mustParse(t, round18Prefixes([]string{"git", "merge"}, []string{"git", "pull"}))
	_, err := exec.LookPath("script")
	for _, line := range []string{
		"git merge --squash --no-squash feature",
		"git merge --no-commit --commit feature",
		"git merge --abort --no-abort feature",
		"git merge --ff-only --no-f feature",
		"git merge --into-name --no-edit feature",
		"git merge --into-name --ff-only feature",
		"git merge --into-name -m feature",
		"git merge --into-name --abort feature",
		"git pull -o --rebase . feature",
		"git pull --server-option --no-edit . feature",
		"git pull --no-commit --commit . feature",
		"git pull -rfalse . feature",
	} {
		ran := false
		if err == nil {
			repo, env := round20Repo(t)
			out := bashIn(t, "git config pull.rebase false && git rm -q --cached x && rm x && script -qec '"+line+"' /dev/null", repo, env)
			ran = round20Edited(repo)
			if !ran {
				t.Logf("%q: no editor under script here (%.100q)", line, out)
			}
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; on a terminal git ran the editor: %v", line, v.Rule, ran)
		}
	}
	for _, line := range []string{"git merge --no-edit feature", "git merge --ff-only origin/main", "git merge --no-ff --no-edit feature",
		"git merge -m 'merge feature' feature", "git merge --squash feature", "git merge --abort", "git pull --rebase", "git pull --rebase origin main",
		"git pull --ff-only", "git pull -r", "git pull --no-edit origin main", "git merge -sours --no-edit feature", "git merge --log -m x feature"} {
		if _, ok := acceptedBy(t, p, line); !ok {
			t.Errorf("%q: not accepted; it makes no merge commit without a message", line)
		}
	}
}
