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
	wantAccepted(t, p, "it makes no merge commit without a message", "git merge --no-edit feature", "git merge --ff-only origin/main", "git merge --no-ff --no-edit feature",
		"git merge -m 'merge feature' feature", "git merge --squash feature", "git merge --abort", "git pull --rebase", "git pull --rebase origin main",
		"git pull --ff-only", "git pull -r", "git pull --no-edit origin main", "git merge -sours --no-edit feature", "git merge --log -m x feature")
}

// TestRound21CurlExpandPrefix: curl 8.3 reads --expand-OPTION as --OPTION
// whose value expands {{variables}}; the long-option checks compared the
// word with --output, --config, --write-out …, which --expand-output is
// not, and a --expand-write-out format built from a variable
// ({{v:64dec}}, a file's text) holds an %output{FILE} its words do not
// spell. (The curl here may be older: then it knows no --expand- and
// writes nothing.)
func TestRound21CurlExpandPrefix(t *testing.T) {
	round18Check(t, round18ReadOnly, []round18Case{
		{line: "curl -s --expand-output ../OUT file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s --expand-config ../cfg file://WORK/x", files: round18With(map[string]string{"cfg": "output = \"WORK/OUT\"\n"}), made: "OUT"},
		{line: "curl -s --variable v=JW91dHB1dHsuLi9PVVR9eA== --expand-write-out '{{v:64dec}}' file://WORK/x", files: round18Module, made: "OUT"},
		{line: "curl -s --variable v@../fmt --expand-write-out '{{v}}' file://WORK/x", files: round18With(map[string]string{"fmt": "%output{WORK/OUT}x"}), made: "OUT"},
		{line: "curl -s --expand-write-out @../fmt file://WORK/x", files: round18With(map[string]string{"fmt": "%output{WORK/OUT}x"}), made: "OUT"},
		{line: "curl -s --expand-upload-file ../x file://WORK/OUT", files: round18Module, made: "OUT"},
	})
	p := mustParse(t, round18ReadOnly)
	wantAccepted(t, p, "it writes no file", "curl -s --variable host=example --expand-url 'https://{{host}}.com'", "curl -sSLw '%{http_code}' https://example.com")
}

// TestRound21AwkAtInText: round 20 refused any awk program with an @,
// for gawk's @include, @load and indirect calls; but an @ in a regexp or
// a string (awk '/@/', print $1 "@" $2: mail addresses) or a typed
// regexp (@/x/) runs nothing, and those were declined. What gawk reads as
// @NAME, blanks or a backslash-newline between included, is still
// refused.
func TestRound21AwkAtInText(t *testing.T) {
	rules := round20Gawk
	inc := round18With(map[string]string{"inc.awk": "BEGIN{system(\"../pwn\")}\n"})
	round18Check(t, rules, []round18Case{
		{line: `gawk 'BEGIN{f="sys" "tem"; @ f("../pwn")}'`, files: round18Module, made: "PWNED"},
		{line: "gawk 'BEGIN{f=\"sys\" \"tem\"; @\t f(\"../pwn\")}'", files: round18Module, made: "PWNED"},
		{line: "gawk 'BEGIN{f=\"sys\" \"tem\"; @\\\nf(\"../pwn\")}'", files: round18Module, made: "PWNED"},
		{line: `gawk '@ include "../inc.awk"'`, files: inc, made: "PWNED"},
		{line: `gawk 'BEGIN{f="sys" "tem"; @awk::f("../pwn")}'`, files: round18Module, made: "PWNED"},
	})
	p := mustParse(t, rules)
	wantAccepted(t, p, "its @ is text and runs nothing", `awk '/@/' x`, `awk '{print $1 "@" $2}' x`, `awk -F, '$2 ~ /@/ {print $1}' x`, `gawk '@/hel/' x`)
}
