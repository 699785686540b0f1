package rules

import "testing"

// Review round 23 (adversarial review of the worktree adv2, at d71fe8a):
// git commands that run a program named in repository state the agent
// can write.

// TestRound23GitTagSignConfigEditor: the engine refuses what may open the
// editor, including where the repository's config decides (a pull without
// --rebase, where pull.rebase does). tag.gpgSign=true in the config makes
// git tag NAME a signed annotated tag: git asks the editor for its
// message (and runs gpg.program). --no-sign, -m or -F keep it from that.
func TestRound23GitTagSignConfigEditor(t *testing.T) {
	p := mustParse(t, prefixRule("git", "tag"))
	repo, env := round20Repo(t)
	bashIn(t, "git config tag.gpgSign true", repo, env)
	for _, line := range []string{"git tag v1", "git tag v2 HEAD", "git tag -f v3"} {
		out := bashIn(t, line+" </dev/null", repo, env)
		ran := round20Edited(repo)
		if !ran {
			t.Logf("%q: no editor here (%.100q)", line, out)
		}
		if v, ok := acceptedBy(t, p, line); ok {
			t.Errorf("%q: accepted by rule %q; with tag.gpgSign git ran the editor: %v", line, v.Rule, ran)
		}
	}
	wantAccepted(t, p, "it opens no editor", "git tag", "git tag -l", "git tag -l 'v*'", "git tag --contains HEAD", "git tag -d v1",
		"git tag --no-sign v1", "git tag -m rel v1", "git tag -a v1 -m rel", "git tag --points-at HEAD")
}
