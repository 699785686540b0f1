package rules

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

func policyFile(t testing.TB, name string) *Policy {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	p, err := Parse(name, data)
	require.NoError(t, err)
	return p
}

func argv(words ...string) Command { return Command{Argv: words} }

// The lines the engine vouches for, and exactly what bash executes.
func TestAnalyzeVouched(t *testing.T) {
	tests := []struct {
		line string
		want []Command
	}{
		{"ls -la", []Command{argv("ls", "-la")}},
		{"", nil},
		{"git --no-pager diff", []Command{argv("git", "--no-pager", "diff")}},
		{"git -C sub status", []Command{argv("git", "-C", "sub", "status")}},
		{"ls && git status", []Command{argv("ls"), argv("git", "status")}},
		{"ls; pwd\nwc -l x || true", []Command{argv("ls"), argv("pwd"), argv("wc", "-l", "x"), argv("true")}},
		{"ls | grep x | head -1", []Command{argv("ls"), argv("grep", "x"), argv("head", "-1")}},
		{"/bin/bash -lc 'git status'", []Command{argv("git", "status")}},
		{"bash -c -x 'ls'", []Command{argv("ls")}},
		{"bash -lc -- 'ls -l'", []Command{argv("ls", "-l")}},
		{"bash --login --norc -euo pipefail -c 'ls' name arg", []Command{argv("ls")}},
		{"/bin/sh -c 'ls; cat x'", []Command{argv("ls"), argv("cat", "x")}},
		{`bash -c "sh -c 'ls x'"`, []Command{argv("ls", "x")}},
		{`'l''s' "-la" a\ b`, []Command{argv("ls", "-la", "a b")}},
		{`echo "a b" 'c $d'`, []Command{argv("echo", "a b", "c $d")}},
		{"ls \\\n  -l", []Command{argv("ls", "-l")}},
		{"git log HEAD~1 @{u} x{y}", []Command{argv("git", "log", "HEAD~1", "@{u}", "x{y}")}},
		{"ls # a comment", []Command{argv("ls")}},
		{"ls \\\\ # a comment after a backslash", []Command{argv("ls", "\\")}},
		{"cat <<'EOF'\nhello $x `y` \\z\nEOF", []Command{{Argv: []string{"cat"}, Redirects: []Redirect{{Fd: 0, Op: "<<"}}}}},
		{"cat <<EOF\nplain text\nEOF", []Command{{Argv: []string{"cat"}, Redirects: []Redirect{{Fd: 0, Op: "<<"}}}}},
		{"cat <<E\\\nOF\nfoo\nEOF\nls", []Command{{Argv: []string{"cat"}, Redirects: []Redirect{{Fd: 0, Op: "<<"}}}, argv("ls")}},
		{"cat <<\\EOF && cat <<-\"END_1\"\n$a\nEOF\n\t$b\n\tEND_1", []Command{{Argv: []string{"cat"}, Redirects: []Redirect{{Fd: 0, Op: "<<"}}}, {Argv: []string{"cat"}, Redirects: []Redirect{{Fd: 0, Op: "<<-"}}}}},
		{"cat <<< 'a b'", []Command{{Argv: []string{"cat"}, Redirects: []Redirect{{Fd: 0, Op: "<<<"}}}}},
		{"ls 2>&1 >/dev/null", []Command{{Argv: []string{"ls"}, Redirects: []Redirect{{2, ">&", "1"}, {1, ">", "/dev/null"}}}}},
		{"echo hi > out.txt 2>> err.txt", []Command{{Argv: []string{"echo", "hi"}, Redirects: []Redirect{{1, ">", "out.txt"}, {2, ">>", "err.txt"}}}}},
		{"echo hi &> out >| x", []Command{{Argv: []string{"echo", "hi"}, Redirects: []Redirect{{1, "&>", "out"}, {1, ">|", "x"}}}}},
		{"cat < in 3<&0 >&-", []Command{{Argv: []string{"cat"}, Redirects: []Redirect{{0, "<", "in"}, {3, "<&", "0"}, {1, ">&", "-"}}}}},
		{"timeout -s KILL 5 nice -n 3 ls", []Command{{Argv: []string{"timeout", "-s", "KILL", "5", "nice", "-n", "3", "ls"}, Inner: 7}}},
		{"env ls", []Command{{Argv: []string{"env", "ls"}, Inner: 1}}},
		{"command ls; stdbuf -oL ls", []Command{{Argv: []string{"command", "ls"}, Inner: 1}, {Argv: []string{"stdbuf", "-oL", "ls"}, Inner: 2}}},
		{"ls; exec git status", []Command{argv("ls"), {Argv: []string{"exec", "git", "status"}, Inner: 1}}},
		{"cd sub && git status > /tmp/out", []Command{argv("cd", "sub"), {Argv: []string{"git", "status"}, Redirects: []Redirect{{1, ">", "/tmp/out"}}}}},
		{"echo ünïcode\tx", []Command{argv("echo", "ünïcode", "x")}},
		{"[ -f x ] && cat x", []Command{argv("[", "-f", "x", "]"), argv("cat", "x")}},
		{"echo a[ ]b", []Command{argv("echo", "a[", "]b")}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			a := Analyze(context.Background(), tt.line)
			require.True(t, a.Vouched, a.Reason)
			assert.Empty(t, a.Reason)
			assert.Equal(t, tt.want, a.Commands)
		})
	}
}

// Each construct off the allow-list, with its exact reason and column.
func TestAnalyzeNotVouched(t *testing.T) {
	tests := []struct{ line, reason string }{
		// Expansions and substitutions.
		{"echo $HOME", "parameter expansion at column 6"},
		{"echo ${x:-y}", "parameter expansion at column 6"},
		{"echo ${x@P}", "parameter expansion at column 6"},
		{`echo "${x:-$(id)}"`, "parameter expansion in double quotes at column 7"},
		{"echo $(id)", "command substitution at column 6"},
		{"echo `id`", "command substitution at column 6"},
		{"echo $((1+2))", "arithmetic expansion at column 6"},
		{"echo $[1+2]", "arithmetic expansion $[ ] at column 6"},
		{"cat <(ls)", "process substitution at column 5"},
		{"ls >(cat)", "process substitution at column 4"},
		{"echo $'\\x41'", "ANSI-C quoting $'…' at column 6"},
		{`echo $"x"`, `locale quoting $"…" at column 6`},
		{"echo *.go", "glob character '*' at column 6"},
		{"echo a?", "glob character '?' at column 7"},
		{"echo [ab]", "glob character '[' at column 6"},
		{"echo a[b']'", "glob character '[' at column 7"},
		{"[ -v 'a[$(id)]' ]", "[ -v at column 3"},
		{"test -R x", "test -R at column 6"},
		{"sh -c \"'[[' 'a[1]' -eq 1 ']]'\"", "builtin [[ at column 8"},
		{"echo @(a|b)", "extended glob at column 6"},
		{"echo {a,b}", "brace expansion at column 6"},
		{"echo x{1..3}", "brace expansion at column 7"},
		{"echo ~/x", "tilde expansion at column 6"},
		{"echo --dir=~", "tilde expansion at column 12"},
		{"echo a:~", "tilde expansion at column 8"},
		{"echo a$", "dollar sign at column 7"},
		{`echo "a\"b"`, "backslash in double quotes at column 8"},
		{`echo "a$"`, "dollar sign in double quotes at column 8"},
		// Compound commands and other statements.
		{"(ls)", "subshell ( ) at column 1"},
		{"{ ls; }", "command group { } at column 1"},
		{"if ls; then ls; fi", "if clause at column 1"},
		{"while ls; do ls; done", "while loop at column 1"},
		{"until ls; do ls; done", "until loop at column 1"},
		{"for i in a; do ls; done", "for loop at column 1"},
		{"case x in x) ls;; esac", "case clause at column 1"},
		{"f() { ls; }; f", "function definition at column 1"},
		{"((x = 1))", "arithmetic command (( )) at column 1"},
		{"[[ -f x ]]", "test clause [[ ]] at column 1"},
		{"declare -x A=1", "declaration declare at column 1"},
		{"export A=1", "declaration export at column 1"},
		{"let x=1", "let clause at column 1"},
		{"time ls", "time keyword at column 1"},
		{"coproc ls", "coprocess at column 1"},
		{"! ls", "negation ! at column 1"},
		{"ls &", "background job & at column 4"},
		{"ls |& cat", "operator |& at column 4"},
		{"A=1 ls", "assignment prefix at column 1"},
		{"PATH=/tmp ls", "assignment prefix at column 1"},
		{"> out", "redirection without a command at column 1"},
		// Builtins that change the shell.
		{"eval ls", "builtin eval at column 1"},
		{"source x", "builtin source at column 1"},
		{". x", "builtin . at column 1"},
		{"ls; 'alias' ls=rm", "builtin alias at column 5"},
		{"hash -p /tmp/x ls; ls", "builtin hash at column 1"},
		{"set -e", "builtin set at column 1"},
		{"printf -v PATH x; ls", "printf -v at column 8"},
		{"read PATH < f", "builtin read at column 1"},
		{"exit; ls", "builtin exit at column 1"},
		{"exec ls; rm x", "command after exec at column 10"},
		// Redirections.
		{"cat < /dev/tcp/example.com/80", "redirection < /dev/tcp/example.com/80 at column 7"},
		{"ls > /dev/sda", "redirection > /dev/sda at column 6"},
		{"ls > //dev/tcp/h/1", "redirection > //dev/tcp/h/1 at column 6"},
		{"cat < /proc/self/environ", "redirection < /proc/self/environ at column 7"},
		{"ls <> f", "redirection <> at column 4"},
		{"ls >&f", "duplication >& to a file at column 6"},
		{"ls {fd}>f", "named file descriptor at column 4"},
		{"ls > $f", "parameter expansion at column 6"},
		{"cat <<EOF\n$x\nEOF", "parameter expansion in a here-document at line 2, column 1"},
		{"cat <<EOF\na \\$x\nEOF", `'\\' in a here-document with an unquoted delimiter at line 2, column 3`},
		{"cd /dev && echo x > tcp", "relative redirection after cd at column 21"},
		{"cat <<$x\nfoo\n$x\nid", "bash does not parse it (expansions not allowed in heredoc words) at column 7"},
		{"cat <<'a b'\nfoo\na b\nid", `here-document delimiter "a b" at column 7`},
		{"command cd /dev && echo x > sda", "relative redirection after cd at column 29"},
		{"command exec ls; ls", "command after exec at column 18"},
		// Characters.
		{"ls\rrm x", "carriage return at column 3"},
		{"ls\x00", "NUL byte at column 3"},
		{"ls \x1b[2J", "control character U+001B at column 4"},
		{"ls \x7f", "control character U+007F at column 4"},
		{"ls \u0085", "control character U+0085 at column 4"},
		{"ls \xff", "invalid UTF-8 at column 4"},
		{"ls # comment \\\nrm x", "backslash in a comment at column 14"},
		{"cat <<'EOF'# ; touch PWNED\nx\nEOF", "# glued to the word before it at column 12"},
		{"ls;#x", "# glued to the word before it at column 4"},
		{"bash -c 'ls;#x'", "# glued to the word before it at column 13"},
		{"cat <<'EOF'\\\n#; id\nx\nEOF", "# glued to the word before it at line 2, column 1"},
		{"cat <<'EOF'\\ #; id\nx\nEOF", "bash does not parse it (unclosed here-document `EOF #`) at column 5"},
		{"ls 'unterminated", "bash does not parse it (reached EOF without closing quote `'`) at column 4"},
		// Shells and wrappers.
		{"./bash -c ls", "shell ./bash not unwrapped (only bash, sh and dash at their system paths, with -c) at column 1"},
		{"/usr/local/bin/bash -c ls", "shell /usr/local/bin/bash not unwrapped (only bash, sh and dash at their system paths, with -c) at column 1"},
		{"zsh -lc ls", "shell zsh not unwrapped (only bash, sh and dash at their system paths, with -c) at column 1"},
		{"bash script.sh", "shell bash without -c (it reads its script from a file or stdin) at column 1"},
		{"ls | bash", "shell bash without -c (it reads its script from a file or stdin) at column 6"},
		{"bash -i -c ls", "bash option -i at column 1"},
		{"bash --rcfile x -c ls", "bash option --rcfile at column 1"},
		{"bash -c --login ls", "bash long option --login after a short one at column 1"},
		{"bash -O extglob -c ls", "bash option -O at column 1"},
		{"bash -o posix -c ls", "bash option -o posix at column 1"},
		{"sh --login -c ls", "sh option --login at column 1"},
		{"bash -c", "bash -c without a script at column 1"},
		{"bash -c 'ls' > out", "redirection of a shell at column 14"},
		{"sh -c 'ls &> x'", "POSIX sh does not have `&>` redirects at column 11"},
		{"bash -lc 'ls; echo $((1))'", "arithmetic expansion at column 20"},
		{`bash -lc 'echo a'\''b'\'' $(id)'`, "command substitution at column 27"},
		{"bash -c 'echo \"$(id)\"'", "command substitution in double quotes at column 16"},
		{"sudo ls", "sudo runs another program at column 1"},
		{"ls | xargs rm", "xargs runs another program at column 6"},
		{"env A=1 ls", "environment assignment A=1 at column 5"},
		{"env -i ls", "env option -i at column 5"},
		{"command -vx ls", "command option -vx at column 9"},
		{"command eval ls", "builtin eval at column 9"},
		{"timeout 5 bash -c ls", "shell bash behind a wrapper at column 11"},
		{"timeout --bogus 5 ls", "timeout option --bogus at column 9"},
		{"nice", "nice without a program to run at column 1"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			a := Analyze(context.Background(), tt.line)
			assert.False(t, a.Vouched)
			assert.Equal(t, "not vouched: "+tt.reason, a.Reason)
		})
	}
}

func TestAnalyzeBudget(t *testing.T) {
	a := Analyze(context.Background(), deepNest("ls", 8))
	assert.True(t, a.Vouched, a.Reason)
	a = Analyze(context.Background(), deepNest("ls", 9))
	assert.False(t, a.Vouched)
	assert.Contains(t, a.Reason, "not vouched: shell nesting deeper than 8 at column ")

	a = Analyze(context.Background(), "ls "+strings.Repeat("x", MaxLineBytes))
	assert.False(t, a.Vouched)
	assert.Equal(t, "not vouched: line longer than 65536 bytes", a.Reason)
	assert.Empty(t, a.Commands)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a = Analyze(ctx, "ls")
	assert.False(t, a.Vouched)
	assert.Equal(t, "not vouched: context canceled", a.Reason)
	v := examplePolicy(t).Evaluate(ctx, cmd("ls"))
	assert.Equal(t, abi.Abstain, v.Decision, "a cancelled evaluation accepts nothing")
}

// The must-show lines: a rules file that allows only
// ls/cat/git status/git diff/echo accepts these.
func TestMustAccept(t *testing.T) {
	p := policyFile(t, "readonly.toml")
	for _, line := range []string{
		"ls -la",
		"git --no-pager diff",
		"git -C sub status",
		"ls && git status",
		"/bin/bash -lc 'git status'",
		"/bin/bash -lc 'ls && git status'",
		"/bin/bash -lc 'cat <<'\\''EOF'\\''\nhello $x\nEOF'",
		"bash -c ls -c id", // $0 is -c, $1 id
		"cat <<'EOF'\nhello $x\nEOF",
		"git diff --stat | cat",
		"echo hi > /dev/null",
		"timeout 10 git status",
	} {
		v := p.Evaluate(context.Background(), cmd(line))
		assert.Contains(t, []abi.Decision{abi.Accept, abi.AcceptForSession}, v.Decision, "%q: %s", line, v.Response().Reason)
		require.NotNil(t, v.Analysis)
		assert.True(t, v.Analysis.Vouched)
	}
}

// Lines of each class of the attack are not accepted by the same
// rules file (the full evasion corpus is in differential_test.go).
func TestMustNotAccept(t *testing.T) {
	p := policyFile(t, "readonly.toml")
	for _, line := range []string{
		// Quoting read differently.
		`echo $(( a[$(id)] ))`, `echo $[$(id)]`, `echo "${x:-$(id)}"`, `[[ $x -eq 1 ]] && ls`, `echo ${x@P}`,
		`echo ${x:=$(id)}`, `for x in '$(id)'; do echo $x; done`, `echo ${x:0:$(id)}`,
		// Characters read differently.
		"ls\rid", "ls # x \\\nid", "ls\x00id",
		// The wrong dialect.
		"sh -c 'ls &> out'", "dash -c 'echo {a,b}'",
		// Shell wrappers.
		"./bash -c ls", "sub/bash -lc ls", "bash -c -x 'ls; id'", "bash -lc -- 'ls; id'",
		// Redirections and options.
		"cat < /dev/tcp/example.com/80", "ls > out", "git diff --outp''ut=x", "git diff --output=x", "git diff --ext-diff",
		"git -c core.pager=id diff", "git --config-env=core.pager=X diff", "git --exec-path=. status", "git -p diff",
		"git diff --textconv", "git --git-dir=x status", "GIT_DIR=x git status", "env GIT_PAGER=id git diff",
		// Resources.
		"sudo " + strings.Repeat("ls ", 1000), "env " + strings.Repeat("A=1 ", 1000) + "ls",
	} {
		v := p.Evaluate(context.Background(), cmd(line))
		assert.NotContains(t, []abi.Decision{abi.Accept, abi.AcceptForSession}, v.Decision, "%q: %s", line, v.Response().Reason)
	}
}

func TestDanger(t *testing.T) {
	tests := []struct {
		argv string
		want string
	}{
		{"git status", ""},
		{"git -C sub --no-pager diff --stat", ""},
		{"git -c a=b status", "git option -c"},
		{"git --exec-path=x status", "git option --exec-path=x"},
		{"git --git-dir=x status", "git option --git-dir=x"},
		{"git --paginate log", "git option --paginate"},
		{"git diff --output=x", "git --output=x writes or executes"},
		{"git diff --out=x", "git --out=x writes or executes"},
		{"git diff --ext-diff", "git --ext-diff writes or executes"},
		{"git status --help", "git --help writes or executes"},
		{"git log --textconv", "git --textconv writes or executes"},
		{"git grep -O x", "git grep -O runs a pager"},
		{"git diff -- --output=x", "git --output=x writes or executes"}, // a -- may be an option's argument: every word counts
		{"git st", "git st is not one of git's builtin commands (git would run an alias or git-st from its exec path or PATH)"},
		{"git diff./bash", "git diff./bash is not one of git's builtin commands (git would run an alias or git-diff./bash from its exec path or PATH)"},
		{"git difftool", "git difftool is not one of git's builtin commands (git would run an alias or git-difftool from its exec path or PATH)"},
		{"find . -name x", ""},
		{"find . -exec rm {} ;", "find -exec executes or writes"},
		{"find . -delete", "find -delete executes or writes"},
		{"find . -fprint x", "find -fprint executes or writes"},
		{"sed -n 1,5p f", ""},
		{"sed s/a/b/g f", ""},
		{"sed -e s/we/ew/ -e /x/d f", ""},
		{"sed -i s/a/b/ f", "sed option -i (in -i)"},
		{"sed -ni p f", "sed option -i (in -ni)"},
		{"sed --in-place s/a/b/ f", "sed option --in-place"},
		{"sed -f script f", "sed option -f (in -f)"},
		{"sed s/a/b/e f", "sed s///e executes"},
		{"sed s/a/b/w\tout f", "sed s///w writes a file"},
		{"sed 1e\tid f", "sed e executes"},
		{"sed -- 1e\tid f", "sed e executes"},
		{"sed -n -- p f", ""},
		{"sed -n /x/w\tout f", "sed w writes a file"},
		{"sed s/a/b f", "sed script: unterminated s"},
		{"sort -o x f", "sort -o writes or executes"},
		{"sort --outp=x f", "sort --outp=x writes or executes"},
		{"sort -r f", ""},
		{"uniq -c f", ""},
		{"rg -n foo", ""},
		{"rg --pre=sh foo", "rg --pre=sh runs other programs"},
		{"rg -uz foo", "rg -uz runs other programs"},
		{"file -C -m x", "file -C writes a file"},
		{"file x", ""},
		{"tree -o out", "tree -o writes a file"},
		{"tree -a", ""},
		{"uniq -f 1 f", ""},
		{"uniq a.txt PWNED", "uniq writes its second operand"},
		{"uniq -c -- a -b", "uniq writes its second operand"},
	}
	for _, tt := range tests {
		args := strings.Split(tt.argv, " ")
		for i := range args {
			args[i] = strings.ReplaceAll(args[i], "\t", " ")
		}
		assert.Equal(t, tt.want, danger(args), tt.argv)
	}
}

func TestOptionIn(t *testing.T) {
	opts := []string{"--output", "-o", "-exec"}
	for arg, want := range map[string]string{
		"--output": "--output", "--output=x": "--output", "--outp": "--output", "--outp=x": "--output",
		"--ou": "--output", "--o": "--output", "--": "", "--other": "", "-o": "-o", "-xo": "-o", "-ofile": "-o", "-exec": "-exec", "-execdir": "",
		"-x": "", "x": "",
	} {
		assert.Equal(t, want, optionIn(arg, opts), arg)
	}
}

// The quick lexer of lines too long to parse splits words and commands
// and removes quotes; a word with an expansion is not a literal.
func TestLex(t *testing.T) {
	l := &loose{parseLeft: maxParse, suffixLeft: maxSuffixArgs}
	l.lex(`a b'c d'e "f g" h\ i; j $k|l  `)
	var got [][]string
	for _, c := range l.cands {
		got = append(got, c.argv)
	}
	assert.Equal(t, [][]string{{"a", "bc de", "f g", "h i"}, {"j", "$k"}, {"l"}}, got)
	assert.Equal(t, []bool{true, false}, l.cands[1].lit)

	// A decline rule sees the rm of a line too long for the strict reading.
	line := "ls " + strings.Repeat("x ", MaxLineBytes) + "; sudo -u root 'r'm -rf /"
	v := examplePolicy(t).Evaluate(context.Background(), cmd(line))
	assert.Equal(t, "no-rm", v.Rule)
	assert.Equal(t, "not vouched: line longer than 65536 bytes", v.Analysis.Reason)
}

// Rules with allow_globs accept glob patterns whose expansion cannot be
// an option; others do not.
func TestAllowGlobs(t *testing.T) {
	p := examplePolicy(t)
	tests := []struct {
		line, rule string
		patterns   [][]int
	}{
		{"ls src/*.go", "read-only-tools", [][]int{{1}}},
		{"ls -la src/*.go docs/[ab].md x?", "read-only-tools", [][]int{{2, 3, 4}}},
		{"cat -- *.txt -x*", "read-only-tools", [][]int{{2, 3}}},
		{"/bin/bash -lc 'ls src/*.go && git status'", "read-only-tools+git-read", [][]int{{1}, nil}},
		{"ls *.go", "", nil},
		{"ls -*", "", nil},
		{"ls src/{a,b}*.go", "", nil},
		{"ls ~/*.go", "", nil},
		{"l? src", "", nil},
		{"timeout 5* ls", "", nil},
		{"ls > out*", "", nil},
		{"git diff src/*.go", "", nil}, // git-read does not set allow_globs
		{"echo src/*.go", "", nil},
		{"ls src/*.go; rm x", "no-rm", nil},
	}
	for _, tt := range tests {
		v := p.Evaluate(context.Background(), cmd(tt.line))
		assert.Equal(t, tt.rule, v.Rule, "%q: %s", tt.line, v.Response().Reason)
		if tt.patterns != nil {
			require.True(t, v.Analysis.Vouched, tt.line)
			var got [][]int
			for _, c := range v.Analysis.Commands {
				got = append(got, c.Patterns)
			}
			assert.Equal(t, tt.patterns, got, tt.line)
		}
	}
	// Analyze itself never vouches for a pattern.
	a := Analyze(context.Background(), "ls src/*.go")
	assert.False(t, a.Vouched)
	assert.Equal(t, "not vouched: glob character '*' at column 8", a.Reason)
}
