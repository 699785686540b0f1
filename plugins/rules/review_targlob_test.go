package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// tar reads its first word, without a dash, as a cluster of options (the
// old style: tar xIf PROG a.tar), so a glob pattern there with a literal
// prefix (s*) may expand to options: sItf makes the next name -I's
// compression program, which tar runs (split into words, with -d). The
// engine refuses tar -I spelt out, but accepts the pattern.
func TestTarGlobMayBecomeOptions(t *testing.T) {
	const line = "tar s* x.tar"
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("tar is not installed")
	}
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "a"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mk := exec.Command("tar", "cf", "x.tar", "a")
	mk.Dir = work
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("tar cf: %v\n%s", err, out)
	}
	for _, name := range []string{"sItf", `sh -c "touch PWNED;cat"`} {
		if err := os.WriteFile(filepath.Join(work, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", "-c", line)
	cmd.Dir = work
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C", "HOME=" + work}
	out, _ := cmd.CombinedOutput()
	if _, err := os.Stat(filepath.Join(work, "PWNED")); err != nil {
		t.Fatalf("%q did not run tar -I under bash here (output %q): no evidence", line, out)
	}
	for _, p := range []*Policy{anythingInWork(t, true), mustParse(t, `
[[rule]]
name = "tar-globs"
decision = "accept"
allow_globs = true
[rule.match]
program = "tar"
`)} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
			t.Errorf("%q: accepted by rule %q as %q; under bash s* became sItf (tar -I 'sh -c …'), which ran touch PWNED", line, v.Rule, commandsOf(v.Analysis))
		}
	}
}

// The same for git: a name in the workspace may be an address (evil::x
// runs git-remote-evil) or a merge strategy. And the patterns that stay
// file operands are still vouched.
func TestGlobsThatStayOperands(t *testing.T) {
	p := anythingInWork(t, true)
	for line, want := range map[string]abi.Decision{
		"git fetch o*":              abi.Abstain,
		"git merge -s o* side":      abi.Abstain,
		"git ls-remote x*":          abi.Abstain,
		"tar cf x* a.txt":           abi.Abstain,
		"tar -cf x* a.txt":          abi.Abstain,
		"tar -czf out.tgz src/*.go": abi.Accept,
		"tar -tf a.tar 'src/*.go'":  abi.Accept,
		"git add src/*.go":          abi.Accept,
		"git diff -- src/*.go":      abi.Accept,
	} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/p"})
		accepted := v.Decision == abi.Accept
		if accepted != (want == abi.Accept) {
			t.Errorf("%q: %s, want accepted %v (%q)", line, v.Decision, want == abi.Accept, commandsOf(v.Analysis))
		}
	}
}
