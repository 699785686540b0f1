package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// TestGitUnderItsDashedNames (review 16): git's exec
// path (/usr/lib/git-core on Debian, /usr/libexec/git-core on Fedora and
// Homebrew) holds git under the name of each builtin: git-grep, git-log,
// git-diff, git-config, … are git, and git run as git-NAME runs its
// builtin NAME. The options the engine knows to write or execute (danger)
// are looked up by the program's base name, "git" only, so under a rule
// without command conditions `git grep -O'touch PWNED'` and `git diff
// --output=PWNED` are refused while the same git under its dashed name is
// accepted: git-grep runs `touch PWNED` through the shell (its pager),
// git-diff writes PWNED, git-config writes a configuration (git config
// is refused for naming programs for later commands).
func TestGitUnderItsDashedNames(t *testing.T) {
	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Skip("git is not installed")
	}
	execPath := strings.TrimSpace(string(out))
	if _, err := os.Stat(filepath.Join(execPath, "git-grep")); err != nil {
		t.Skip("no git-grep in git's exec path")
	}
	anyLine := anythingInWork(t, false)
	for _, tc := range []struct{ plain, dashed string }{
		{"git grep --no-index -O'touch PWNED' hi", execPath + "/git-grep --no-index -O'touch PWNED' hi"},
		{"git diff --no-index --output=PWNED a.txt b.txt", execPath + "/git-diff --no-index --output=PWNED a.txt b.txt"},
		{"git config --file PWNED core.fsmonitor 'touch x'", execPath + "/git-config --file PWNED core.fsmonitor 'touch x'"},
	} {
		plain := anyLine.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.plain, Cwd: "/work/proj"})
		if plain.Decision == abi.Accept {
			t.Fatalf("%q: accepted; the engine is meant to refuse it", tc.plain)
		}
		v := anyLine.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.dashed, Cwd: "/work/proj"})
		accepted := v.Decision == abi.Accept || v.Decision == abi.AcceptForSession

		dir := t.TempDir()
		for name, body := range map[string]string{"a.txt": "hi\n", "b.txt": "ho\n"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", tc.dashed)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", "HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1"}
		got, _ := cmd.CombinedOutput()
		_, err := os.Stat(filepath.Join(dir, "PWNED"))
		if err != nil {
			t.Errorf("%q: did not create PWNED here (%q): the line is no evidence", tc.dashed, got)
		}
		if accepted {
			t.Errorf("%q: accepted by rule %q as %q (the same git as %q, which is refused); under bash it created PWNED: %v",
				tc.dashed, v.Rule, commandsOf(v.Analysis), tc.plain, err == nil)
		}
	}
}
