package rules

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

func examplePolicy(t testing.TB) *Policy {
	t.Helper()
	data, err := os.ReadFile("testdata/example.toml")
	require.NoError(t, err)
	p, err := Parse("example.toml", data)
	require.NoError(t, err)
	return p
}

func cmd(line string) *abi.ApprovalRequest {
	return &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"}
}

func bash(script string) *abi.ApprovalRequest {
	return cmd("/bin/bash -lc " + shQuote(script))
}

func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func files(paths ...string) *abi.ApprovalRequest {
	req := &abi.ApprovalRequest{Kind: abi.ApprovalFileChange, Cwd: "/work/proj"}
	for _, p := range paths {
		req.Changes = append(req.Changes, abi.FileChange{Path: p, Kind: "update"})
	}
	return req
}

func perms(network bool, write ...string) *abi.ApprovalRequest {
	return &abi.ApprovalRequest{Kind: abi.ApprovalPermissions, Cwd: "/work/proj",
		Permissions: &abi.Permissions{Network: network, WritePaths: write}}
}

func with(req *abi.ApprovalRequest, f func(*abi.ApprovalRequest)) *abi.ApprovalRequest {
	f(req)
	return req
}

// ctx0 is the context of evaluations that are not about contexts.
var ctx0 = context.Background()

// none is the verdict when no rule matches.
const none = ""

func TestEvaluate(t *testing.T) {
	p := examplePolicy(t)
	tests := []struct {
		name string
		req  *abi.ApprovalRequest
		rule string // "" for no match (abstain)
	}{
		// Plain accepts.
		{"ls", cmd("ls -la"), "read-only-tools"},
		{"bash -lc ls", bash("ls -la"), "read-only-tools"},
		{"ls in /bin", cmd("/bin/ls"), "read-only-tools"},
		{"ls and cat", bash("ls && cat go.mod | grep module"), "read-only-tools"},
		{"ls; pwd newline wc", bash("ls; pwd\nwc -l x"), "read-only-tools"},
		{"subshell of ls", bash("(ls; cat x) || pwd"), none}, // compound commands are not vouched,
		{"ls with glob arg", bash("ls *.go"), none},          // a glob changes the argv,
		{"ls with var arg", bash("ls $HOME"), none},
		{"quoted ls", bash(`'l''s' "-la"`), "read-only-tools"},
		{"ls 2>&1 and >/dev/null", bash("ls 2>&1 >/dev/null"), "read-only-tools"},
		{"ls < input", bash("cat < go.mod"), "read-only-tools"},
		{"if with ls", bash("if ls x; then cat x; fi"), none},
		{"git status", bash("git status --short"), "git-read"},
		{"git log", cmd("git log -1"), "git-log"},
		{"echo redirect allowed by opt-in", bash("echo hi > out.txt"), "echo-to-files"},
		{"echo append", bash("echo hi >> out.txt"), "echo-to-files"},

		// Evasions of accept rules: a decline rule catches them, or nothing
		// matches.
		{"ls; rm -rf /", bash("ls; rm -rf /"), "no-rm"},
		{"raw ls; rm", cmd("ls; rm -rf /"), "no-rm"},
		{"ls && rm", bash("ls && rm x"), "no-rm"},
		{"ls || rm", bash("ls || rm x"), "no-rm"},
		{"ls | sh", bash("ls | sh"), "no-rm"}, // a shell reading stdin: unread, a decline rule matches
		{"ls $(rm x)", bash("ls $(rm x)"), "no-rm"},
		{"ls $(touch x)", bash("ls $(touch x)"), none},
		{"ls backticks rm", bash("ls `rm x`"), "no-rm"},
		{"ls backticks touch", bash("ls `touch x`"), none},
		{"ls <(touch x)", bash("cat <(touch x)"), none},
		{"nested bash", bash("ls && rm -rf /"), "no-rm"},
		{"nested sh -c bash -c", cmd(`sh -c "bash -c 'rm x'"`), "no-rm"},
		{"nested accept", cmd(`sh -c "bash -c 'ls x'"`), "read-only-tools"},
		{"ls > /etc/passwd", bash("ls > /etc/passwd"), none},
		{"ls &> file", bash("ls &> out"), none},
		{"ls >& file", bash("ls >& out"), none},
		{"ls >| file", bash("ls >| out"), none},
		{"ls & rm", bash("ls & rm x"), "no-rm"},
		{"ls &", bash("ls &"), none},
		{"/bin/rm", bash("/bin/rm -rf x"), "no-rm"},
		{"command rm", bash("command rm x"), "no-rm"},
		{"env rm", bash("env FOO=1 rm x"), "no-rm"},
		{"sudo rm", bash("sudo -u root rm x"), "no-rm"},
		{"sudo ls", bash("sudo ls"), none},
		{"xargs rm", bash("ls | xargs rm"), "no-rm"},
		{"find -exec rm", bash(`find . -exec rm {} \;`), "no-rm"},
		{"timeout sh -c rm", bash("timeout 5 sh -c 'rm x'"), "no-rm"},
		{"eval rm", bash(`eval "rm x"`), "no-rm"},
		{"eval ls", bash(`eval ls`), none},
		{"quoted 'r''m'", bash(`'r''m' x`), "no-rm"},
		{`r\m`, bash(`r\m x`), "no-rm"},
		{`"rm"`, bash(`"rm" x`), "no-rm"},
		{"newline rm", bash("ls\nrm x"), "no-rm"},
		{"$PROG", bash("$PROG x"), "no-rm"},      // may be rm: a decline rule looks at it
		{"${PROG}", bash("${P:-ls} x"), "no-rm"}, // may be rm: a decline rule looks at it
		{"here-doc with a literal body", bash("cat <<EOF\nhi\nEOF"), "read-only-tools"},
		{"here-doc that expands", bash("cat <<EOF\n$HOME\nEOF"), none},
		{"quoted here-doc", bash("cat <<'EOF'\n$HOME `x`\nEOF"), "read-only-tools"},
		{"here-doc to sh", bash("sh <<EOF\nrm x\nEOF"), "no-rm"},
		{"here-doc to cat mentioning rm", bash("cat <<EOF\nrm x\nEOF"), "read-only-tools"},
		{"echo rm | sh", bash("echo 'ls; rm x' | sh"), "no-rm"},
		{"echo rm | bash -s", bash("echo 'rm x' | bash -s"), "no-rm"},
		{"echo rm, no shell", bash("echo 'rm x'"), "echo-to-files"},
		{"exec rm", bash("exec rm x"), "no-rm"},
		{"bash -c -x rm", cmd("bash -c -x 'rm x'"), "no-rm"},
		{"bash -lc -- rm", cmd("bash -lc -- 'rm x'"), "no-rm"},
		{"./bash -c rm", cmd("./bash -c 'rm x'"), "no-rm"},
		{"zsh -c rm", cmd("zsh -c 'rm x'"), "no-rm"},
		{"env -S rm", bash("env -S 'rm x'"), "no-rm"},
		{"timeout -s KILL 5 rm", bash("timeout -s KILL 5 rm x"), "no-rm"},
		{"nice -n 5 rm", bash("nice -n 5 rm x"), "no-rm"},
		{"xargs -I{} rm", bash("ls | xargs -I{} rm {}"), "no-rm"},
		{"command -p rm", bash("command -p rm x"), "no-rm"},
		{"here-string to bash", bash("bash <<< 'rm x'"), "no-rm"},
		{"rm in a function", bash("f() { rm x; }; f"), "no-rm"},
		{"rm in a loop", bash("for i in 1; do rm x; done"), "no-rm"},
		{"rm in arithmetic", bash("echo $(( $(rm x) ))"), "no-rm"},
		{"rm after CR", bash("ls\r\nrm x"), "no-rm"},
		{"quoted rm with options", bash(`r"m" -rf /`), "no-rm"},
		{"su -c rm", bash("su -c 'rm x' root"), "no-rm"},
		{"bash script file", bash("bash ./script.sh"), none},
		{"assignment PATH", bash("PATH=/tmp ls"), none},
		{"assignment alone", bash("X=1; ls"), none},
		{"function shadowing ls", bash("ls() { touch x; }; ls"), none},
		{"ls in local dir", bash("./ls"), none},
		{"ls in /tmp", bash("/tmp/ls"), none},
		{"glob program", bash("/bin/l? x"), none},
		{"brace program", bash("{ls,-la}"), "no-rm"},   // may be rm: a decline rule looks at it
		{"ansi-c quoted", bash(`$'\x72m' x`), "no-rm"}, // it is rm
		{"export", bash("export A=1; ls"), none},
		{"unparsable", bash("ls 'unterminated"), "no-rm"}, // unread: a decline rule matches what the engine could not read
		{"parse error but rm regex", cmd("git push --force 'x"), "no-force-push"},
		{"force push", bash("git status && git push -f origin"), "no-force-push"},
		{"git status && git log", bash("git status && git log"), "git-read+git-log"}, // each command covered by an accept rule
		{"git stash", bash("git stash"), none},
		{"deep nesting", cmd(deepNest("ls", 10)), "no-rm"}, // nested deeper than the engine reads

		// Conditions.
		{"cwd outside /work", with(cmd("ls"), func(r *abi.ApprovalRequest) { r.Cwd = "/etc" }), none},
		{"cwd /workshop is not /work", with(cmd("ls"), func(r *abi.ApprovalRequest) { r.Cwd = "/workshop" }), none},
		{"go test with reason", with(cmd("go test ./..."), func(r *abi.ApprovalRequest) { r.Reason = "run the Tests" }), "tests-reason"},
		{"go test without reason", cmd("go test ./..."), none},
		{"go build with reason", with(cmd("go build"), func(r *abi.ApprovalRequest) { r.Reason = "tests" }), none},

		// File changes.
		{"src edit", files("/work/proj/src/a/b.go"), "src-edits"},
		{"relative src edit", files("src/main.go"), "src-edits"},
		{"docs md", files("/work/proj/docs/x.md", "/work/proj/src/y.go"), "src-edits"},
		{"docs nested md", files("/work/proj/docs/a/x.md"), none},
		{"src and outside", files("/work/proj/src/a.go", "/work/proj/Makefile"), none},
		{".env anywhere", files("/work/proj/src/a.go", "/work/proj/sub/.env"), "no-secrets"},
		{"secrets dir", files("/work/proj/secrets/k/key.pem"), "no-secrets"},
		{"dot-dot escape", files("/work/proj/src/../../../etc/passwd"), "no-secrets"},
		{"move to .env", with(files("/work/proj/src/a.go"), func(r *abi.ApprovalRequest) { r.Changes[0].MovePath = "/work/proj/.env" }), "no-secrets"},
		{"grant root outside src", with(files("/work/proj/src/a.go"), func(r *abi.ApprovalRequest) { r.GrantRoot = "/work" }), none},
		{"no files", files(), none},

		// Permissions.
		{"network", perms(true, "/tmp/x"), "no-network"},
		{"tmp writes", perms(false, "/tmp/a", "/tmp/b/c"), "tmp-writes"},
		{"tmp and home writes", perms(false, "/tmp/a", "/home/u"), none},
		{"nil permissions", &abi.ApprovalRequest{Kind: abi.ApprovalPermissions}, "tmp-writes"},

		// Hook kinds: command rules do not match other kinds.
		{"file change named ls", with(files("ls"), func(r *abi.ApprovalRequest) { r.Command = "ls" }), none},
		{"permissions with command text", with(perms(false, "/home"), func(r *abi.ApprovalRequest) { r.Command = "rm x" }), none},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := p.Evaluate(ctx0, tt.req)
			assert.Equal(t, tt.rule, v.Rule, "command %q", tt.req.Command)
			if tt.rule == none {
				assert.Equal(t, abi.Abstain, v.Decision)
				assert.Empty(t, v.Message)
			}
		})
	}
	assert.GreaterOrEqual(t, len(tests), 50)
}

func deepNest(script string, n int) string {
	for range n {
		script = "bash -c " + shQuote(script)
	}
	return script
}

func TestVerdict(t *testing.T) {
	p := examplePolicy(t)
	strip := func(v Verdict) Verdict { v.Analysis = nil; return v }
	assert.Equal(t, Verdict{Decision: abi.Decline, Rule: "no-rm", Message: "removing files is not allowed"}, strip(p.Evaluate(ctx0, bash("ls; rm x"))))
	v := p.Evaluate(ctx0, cmd("git status"))
	assert.Equal(t, Verdict{Decision: abi.AcceptForSession, Rule: "git-read", Message: "read-only git"}, strip(v))
	assert.Equal(t, &Analysis{Vouched: true, Commands: []Command{{Argv: []string{"git", "status"}}}}, v.Analysis)
	assert.Equal(t, Verdict{Decision: abi.Cancel, Rule: "no-force-push", Message: "force pushes are never ok"}, strip(p.Evaluate(ctx0, cmd("git push --force"))))
	assert.Equal(t, Verdict{Decision: abi.Abstain}, strip(p.Evaluate(ctx0, cmd("make"))))
	assert.Nil(t, p.Evaluate(ctx0, files("/work/proj/src/a.go")).Analysis)
}

// The first matching rule wins, and an abstain rule must cover the whole
// command like an accept rule.
func TestOrder(t *testing.T) {
	const src = `
[[rule]]
name = "first"
decision = "accept"
[rule.match]
program = "ls"

[[rule]]
name = "second"
decision = "decline"
[rule.match]
program = "ls"

[[rule]]
name = "skip-echo"
decision = "abstain"
message = "someone else decides"
[rule.match]
program = "echo"

[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "all-commands"
decision = "decline"
[rule.match]
hook_kind = "command"
`
	p, err := Parse("order.toml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, []string{"first", "second", "skip-echo", "no-rm", "all-commands"}, p.Rules())
	assert.Equal(t, "first", p.Evaluate(ctx0, cmd("ls")).Rule)
	assert.Equal(t, "second", p.Evaluate(ctx0, cmd("ls; rm x")).Rule)
	v := p.Evaluate(ctx0, cmd("echo hi"))
	v.Analysis = nil
	assert.Equal(t, Verdict{Decision: abi.Abstain, Rule: "skip-echo", Message: "someone else decides"}, v)
	assert.Equal(t, "no-rm", p.Evaluate(ctx0, cmd("echo hi; rm x")).Rule)
	assert.Equal(t, "all-commands", p.Evaluate(ctx0, cmd("make")).Rule)
	assert.Equal(t, "", p.Evaluate(ctx0, files("/a")).Rule)
}

func TestGlob(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		{"**", "a/b/c", true},
		{"/a/**", "/a", true},
		{"/a/**", "/a/b/c", true},
		{"/a/**/c", "/a/c", true},
		{"/a/**/c", "/a/x/y/c", true},
		{"/a/**/c", "/a/x/y/d", false},
		{"/a/*", "/a/b/c", false},
		{"/a/*.go", "/a/b.go", true},
		{"**/.env", "/x/y/.env", true},
		{"**/.env", "/x/y/.envrc", false},
		{"src/[ab].go", "src/a.go", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, globMatch(tt.glob, tt.path), "%s ~ %s", tt.glob, tt.path)
	}
}

// Wrappers and evaluators nest; the analysis stays bounded.
func TestPathological(t *testing.T) {
	p := examplePolicy(t)
	for _, line := range []string{
		strings.Repeat("sudo ", 300) + "rm x",
		strings.Repeat("eval sudo ", 200) + "rm x",
		strings.Repeat("env sh -c ", 100) + "'rm x'",
		strings.Repeat(`eval "`, 50) + "rm x",
		strings.Repeat("ls;", 2000) + "rm x",
	} {
		start := time.Now()
		v := p.Evaluate(ctx0, bash(line))
		assert.NotEqual(t, abi.Accept, v.Decision, "%.40s", line)
		assert.Less(t, time.Since(start), 5*time.Second, "%.40s", line)
	}
	assert.Equal(t, "no-rm", p.Evaluate(ctx0, bash(strings.Repeat("sudo ", 300)+"rm x")).Rule)
}

// The request-level conditions of issue 17.
func TestRequestConditions(t *testing.T) {
	const src = `
[[rule]]
name = "no-grant"
decision = "decline"
[rule.match]
grant_root_present = true

[[rule]]
name = "no-amendment"
decision = "decline"
[rule.match]
has_proposed_execpolicy = true

[[rule]]
name = "ci-thread"
decision = "accept"
[rule.match]
thread_id_regex = '^ci-'
turn_id_regex = '^t[0-9]+$'
program = "ls"
`
	p, err := Parse("cond.toml", []byte(src))
	require.NoError(t, err)
	req := func(thread, turn string, amend []string) *abi.ApprovalRequest {
		r := cmd("ls")
		r.ThreadID, r.TurnID, r.ProposedAmendment = thread, turn, amend
		return r
	}
	assert.Equal(t, "ci-thread", p.Evaluate(ctx0, req("ci-1", "t2", nil)).Rule)
	assert.Equal(t, "", p.Evaluate(ctx0, req("dev-1", "t2", nil)).Rule)
	assert.Equal(t, "", p.Evaluate(ctx0, req("ci-1", "x", nil)).Rule)
	assert.Equal(t, "no-amendment", p.Evaluate(ctx0, req("ci-1", "t2", []string{"ls"})).Rule)
	assert.Equal(t, "no-grant", p.Evaluate(ctx0, with(files("/work/proj/src/a.go"), func(r *abi.ApprovalRequest) { r.GrantRoot = "/work" })).Rule)
	assert.Equal(t, "", p.Evaluate(ctx0, files("/work/proj/src/a.go")).Rule)

	_, err = Parse("bad.toml", []byte("[[rule]]\nname = \"x\"\ndecision = \"decline\"\n[rule.match]\nhook_kind = \"command\"\ngrant_root_present = 1\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad.toml:6: rule \"x\": match.grant_root_present: want true or false, got an integer")
	assert.Contains(t, err.Error(), "match.grant_root_present: applies only to hook_kind fileChange, not command")
}

// An accept of a command approval would also grant what the command asks
// for besides running: extra sandbox permissions or a network host. A rule
// about commands vouches for the argv only, so it does not accept such a
// request; decline rules still match it.
func TestCommandAskingForMoreIsNotAccepted(t *testing.T) {
	p := examplePolicy(t)
	plain := cmd("git status")
	require.Equal(t, abi.AcceptForSession, p.Evaluate(ctx0, plain).Decision)

	withPerms := cmd("git status")
	withPerms.AdditionalPermissions = &abi.Permissions{WritePaths: []string{"/etc"}, Network: true}
	withNet := cmd("git status")
	withNet.Network = &abi.NetworkAccess{Host: "example.com", Protocol: "https"}
	for _, req := range []*abi.ApprovalRequest{withPerms, withNet} {
		v := p.Evaluate(ctx0, req)
		assert.NotContains(t, []abi.Decision{abi.Accept, abi.AcceptForSession}, v.Decision, "%+v", v)
		var why string
		_, trials := p.Explain(ctx0, req)
		for _, tr := range trials {
			if tr.Rule == "git-read" {
				why = tr.Why
			}
		}
		assert.Equal(t, "the command also asks for sandbox permissions or network access, which a rule about commands does not grant", why)
	}

	// The echo-to-files rule accepts a write to any file; with /etc and
	// the network asked for as well, it does not.
	req := cmd("echo '* * * * * root sh /tmp/x' > /etc/cron.d/x")
	req.AdditionalPermissions = &abi.Permissions{WritePaths: []string{"/etc"}, Network: true}
	assert.NotContains(t, []abi.Decision{abi.Accept, abi.AcceptForSession}, p.Evaluate(ctx0, req).Decision)

	rm := bash("rm -rf x")
	rm.AdditionalPermissions = &abi.Permissions{Network: true}
	assert.Equal(t, "no-rm", p.Evaluate(ctx0, rm).Rule, "a decline rule still matches")
}
