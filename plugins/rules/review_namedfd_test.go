package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// anythingInWork is the reviews' permissive rule: any command in /work,
// without command conditions; globs allowed if asked.
func anythingInWork(t *testing.T, globs bool) *Policy {
	t.Helper()
	g := ""
	if globs {
		g = "allow_globs = true\n"
	}
	return mustParse(t, `
[[rule]]
name = "anything-in-work"
decision = "accept"
`+g+`[rule.match]
hook_kind = "command"
cwd_prefix = "/work"
`)
}

// runShIsBash runs line under real bash (as codex does, bash -c) with
// a PATH whose sh is bash (Fedora, Arch, openSUSE, macOS), in a fresh
// work directory that it returns with bash's output. A line starting
// with "/bin/sh " is rewritten to that sh.
func runShIsBash(t *testing.T, line string, files map[string]string) (string, string) {
	t.Helper()
	bashPath, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	work := filepath.Join(dir, "work")
	for _, d := range []string{bin, work} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bashPath, filepath.Join(bin, "sh")); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(work, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if strings.HasPrefix(line, "/bin/sh ") {
		line = filepath.Join(bin, "sh") + line[len("/bin/sh"):]
	}
	cmd := exec.Command(bashPath, "--noprofile", "--norc", "-c", line)
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C", "HOME=" + work}
	out, _ := cmd.CombinedOutput()
	return work, string(out)
}

// TestArrayElementNamedDescriptor (review 17): mvdan's
// POSIX parser refuses bash's {varname}> redirection for a plain name
// ({fd}>x: "POSIX sh does not have {varname} redirects"), but not for
// an array element: {a[1]}>x is a word {a[1]} and a redirection >x to it.
// Bash, also as sh (POSIX mode), reads {a[SUB]}>x as a named-descriptor
// redirection: it drops the word from the argv, opens x on a new
// descriptor >= 10 (not the vouched fd 1), and assigns its number to
// a[SUB], which evaluates SUB arithmetically after expanding it: a
// single-quoted $(…) in SUB (plain text to the engine) runs, and so does
// a[_], where $_ holds the previous command's last argument. Under a
// rule with allow_globs (the word is a pattern starting with '{'), the
// engine vouches for echo with stdout to /dev/null; bash-as-sh runs
// touch PWNED.
func TestArrayElementNamedDescriptor(t *testing.T) {
	policies := []struct {
		name string
		p    *Policy
	}{
		{"anything-in-work", anythingInWork(t, true)},
		{"echo-globs", mustParse(t, `
[[rule]]
name = "echo-globs"
decision = "accept"
allow_globs = true
[rule.match]
program = "echo"
`)},
	}
	for _, line := range []string{
		`sh -c 'echo {a['\''$(touch PWNED)'\'']}>/dev/null x'`,
		`/bin/sh -c 'echo {a['\''$(touch PWNED)'\'']}>/dev/null x'`,
		`sh -c 'echo '\''a[$(touch PWNED)]'\''; echo {a[_]}>/dev/null x'`,
		// In the bash dialect too (the line codex runs, and bash -c): the
		// parser keeps {a[…]} whole for a redirect only while it is
		// unquoted; a quote in the subscript makes it a word to the
		// engine and still a {varname} redirection to bash.
		`echo {a['$(touch PWNED)']}>/dev/null x`,
		`bash -c 'echo {a['\''$(touch PWNED)'\'']}>/dev/null x'`,
	} {
		work, out := runShIsBash(t, line, nil)
		_, err := os.Stat(filepath.Join(work, "PWNED"))
		ran := err == nil
		if !ran {
			t.Errorf("%q: bash-as-sh did not create PWNED here (output %q): the line is no evidence", line, out)
		}
		for _, pol := range policies {
			name, p := pol.name, pol.p
			v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
			if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
				t.Errorf("%s: %q accepted by rule %q as %q with redirections %v; bash (sh = bash) ran `touch PWNED` (created: %v) and printed %q",
					name, line, v.Rule, commandsOf(v.Analysis), redirectsOf(v.Analysis), ran, out)
			}
		}
	}
}

func redirectsOf(a *Analysis) [][]Redirect {
	if a == nil {
		return nil
	}
	var out [][]Redirect
	for _, c := range a.Commands {
		out = append(out, c.Redirects)
	}
	return out
}
