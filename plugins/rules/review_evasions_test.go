package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

// Evasions found by an adversarial review (bash 5.2, dash 0.5.12, GNU sed
// 4.9): each line makes bash run or write something its accept would not
// vouch for, under the rules file named.
func TestReviewEvasions(t *testing.T) {
	anyLine := mustParse(t, `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "anything-in-work"
decision = "accept"
allow_globs = true
[rule.match]
hook_kind = "command"
cwd_prefix = "/work"
`)
	catOnly := mustParse(t, `
[[rule]]
name = "no-rm"
decision = "decline"
[rule.match]
program = "rm"

[[rule]]
name = "cat"
decision = "accept"
[rule.match]
program = "cat"
`)
	echoOnly := mustParse(t, "[[rule]]\nname = \"echo\"\ndecision = \"accept\"\n[rule.match]\nprogram = \"echo\"\n")
	perm := diffPolicy(t, "rules-permissive.toml")
	ex := diffPolicy(t, "example.toml")
	git := mustParse(t, "[[rule]]\nname = \"git\"\ndecision = \"accept\"\n[rule.match]\nprogram = \"git\"\n")
	touch := [][]string{{"touch", "PWNED"}}
	for _, c := range []struct {
		p    *Policy
		line string
		// vouched is what an accept must vouch for; nil: no accept.
		vouched [][]string
	}{
		// A. A backslash-newline inside an unquoted here-document body.
		{catOnly, "cat <<EOF\nEO\\\nF\nrm victim\nEOF", nil},
		{catOnly, "cat <<EOF\nEO\\\nF\ntouch PWNED\nEOF", nil},
		{catOnly, "cat <<-EOF\n\tEO\\\nF\ntouch PWNED\nEOF", nil},
		{anyLine, "cat <<EOF\nEO\\\nF\nrm victim\nEOF", nil},
		{catOnly, "cat <<EOF\n\\\nEOF\ntouch PWNED\nEOF", nil},
		{catOnly, "cat <<EOF\nEOF\\\n\ntouch PWNED\nEOF", nil},
		{catOnly, "/bin/bash -lc 'cat <<EOF\nEO\\\nF\ntouch PWNED\nEOF'", nil},
		// B. GNU sed: a label ends at ';' or a blank, so do b, t, T and v's arguments.
		{perm, "sed -n ':a;e touch PWNED' a.txt", nil},
		{perm, "sed -n ':a w PWNED' a.txt", nil},
		{perm, "sed -n 'b a w PWNED\n:a' a.txt", nil},
		{perm, "sed -n 't a;w PWNED\n:a' a.txt", nil},
		{perm, "sed -n 'T a;e id\n:a' a.txt", nil},
		{perm, "sed -n 'v 4.2 w PWNED' a.txt", nil},
		{perm, "sed -n 'v;w PWNED' a.txt", nil},
		{perm, "sed -n ':a\tw PWNED' a.txt", nil},
		{perm, "sed -n -e ':a' -e 'b a;e id' a.txt", nil},
		// C. getopt_long takes any unambiguous prefix of a long option.
		{perm, "sort --o=PWNED a.txt", nil},
		{perm, "sort --ou=PWNED a.txt", nil},
		{perm, "sort --o PWNED a.txt", nil},
		{perm, "sed --in=.bak s/a/b/ a.txt", nil},
		{perm, "sed --in s/a/b/ a.txt", nil},
		// D. Globs expand to names that a program reads as options, outputs or scripts.
		{perm, "uniq src/*.txt", nil},
		{perm, "uniq -- *.txt", nil},
		{perm, "find -- *", nil},
		{perm, "find . -name x -- *", nil},
		{perm, "sed -n s*x*y* a.txt", nil},
		{perm, "sed -n -- s*x*y* a.txt", nil},
		{perm, "sed -s s*x*y* a.txt", nil},
		{perm, "git -C s* status", nil},
		// A "--" that an option takes as its argument does not end the
		// options (third review).
		{perm, "sort -T -- -o PWNED a.txt", nil},
		{perm, "sort --temporary-directory -- --output PWNED a.txt", nil},
		{perm, "git diff --no-index -S -- --output=PWNED a.txt a.txt", nil},
		{perm, "git diff --no-index -G -- --output=PWNED a.txt a.txt", nil},
		{perm, "git -C . diff --no-index -O -- --output=PWNED a.txt a.txt", nil},
		{perm, "echo '0 string hello HELLO' > m; file -m -- -C -m m", nil},
		{perm, "tree -P -- -o PWNED", nil},
		{ex, "git branch --format -- -D victim", nil},
		{ex, "git branch --format -- -m master renamed", nil},
		{perm, "sort -T -- *", nil},
		{perm, "file -m -- *", nil},
		// sed's -e argument as a glob pattern.
		{perm, "sed -e s*x*y* a.txt", nil},
		{perm, "sed --expression s*x*y* a.txt", nil},
		{perm, "sed -n -e p -e s*x*y* a.txt", nil},
		{perm, "sed --e s*x*y* a.txt", nil},
		{perm, "sed -n p a.txt -e s*x*y*", nil}, // getopt permutes: -e after the operands
		// tree groups short options; -R with -H writes in every directory.
		{perm, "tree -ao PWNED", nil},
		{perm, "tree -do PWNED .", nil},
		{perm, "tree -R -H . -L 1", nil},
		// file -z runs decompressors.
		{perm, "file -z a.txt", nil},
		{perm, "file -bZ a.txt", nil},
		// A program path that is not clean: .. after a symbolic link.
		{catOnly, "/tmp/adv3/X/l/../../../../usr/bin/cat a.txt", nil},
		{catOnly, "/usr/bin/../bin/cat a.txt", nil},
		{catOnly, "/usr/local/bin/x/../../../bin/cat a.txt", nil},
		{anyLine, "/work/proj/l/../../../usr/bin/env rm -rf x", nil},
		{anyLine, "./env rm -rf x", nil},
		{anyLine, "./timeout 5 rm -rf x", nil},
		// git subcommands that run programs through short options, or by design.
		{git, "git clone -c protocol.ext.allow=always 'ext::sh -c touch% PWNED' x", nil},
		{git, "git clone --config protocol.ext.allow=always 'ext::sh -c touch% PWNED' x", nil},
		{git, "git clone -uid file:///tmp/x", nil},
		{git, "git clone -q -u id file:///tmp/x", nil},
		{git, "git ls-remote -u id file:///tmp/x", nil},
		{git, "git rebase -x 'touch PWNED' HEAD~1", nil},
		{git, "git rebase -ix 'touch PWNED' HEAD~1", nil},
		{git, "git bisect run touch PWNED", nil},
		{perm, "git branch --edit-description", nil},
		// Fourth review. GNU sed reads a bracket expression whole: a
		// delimiter inside it does not end the regex.
		{perm, "sed -n 's/[/]/g;#/w PWNED' a.txt", nil},
		{perm, "sed -n '/[/p;#]/w PWNED' a.txt", nil},
		{perm, "sed -n 's/[/]/g;#/e' a.txt", nil},
		{perm, "sed -n 's/[]/]/g;#/w PWNED' a.txt", nil},
		{perm, "sed -n 's/[^]/]/g;#/w PWNED' a.txt", nil},
		{perm, "sed -n 's/[[:alpha:]/]/g;#/w PWNED' a.txt", nil},
		{perm, "sed -n '\\,[,],w PWNED' a.txt", nil},
		{perm, "sed -e 's/[/]/g;#/w PWNED' a.txt", nil},
		// A wrapper's "--" ends the wrapper's options, not the program's.
		{perm, "timeout -- 5 sort *", nil},
		{perm, "env -- rg -n x *", nil},
		{perm, "nice -- sed -n p *", nil},
		{perm, "nice -n 5 -- sort *", nil},
		{perm, "command -- sort *", nil},
		{perm, "exec -- sort *", nil},
		// tree gives each argument-taking letter of a cluster a word.
		{perm, "tree -LP 1 -- -o PWNED", nil},
		{perm, "tree -LI 1 -- -o PWNED", nil},
		{perm, "tree -HLP . 1 -- -R", nil},
		// A word with a blank passing for several under command_regex.
		{perm, "git -C 'x status' config core.fsmonitor 'touch PWNED'; git status", nil},
		{perm, "git -C 'x\tstatus' config core.fsmonitor 'touch PWNED'", nil},
		// nohup writes nohup.out on a terminal.
		{perm, "nohup ls", nil},
		// Decline rules look inside find -exec, and at programs that
		// are not literals.
		{anyLine, "find . -maxdepth 0 -exec timeout 5 rm -rf victim \\;", nil},
		{anyLine, "find . -maxdepth 0 -exec env rm -rf victim \\;", nil},
		{anyLine, "find . -maxdepth 0 -exec sh -c 'rm -rf victim' \\;", nil},
		{anyLine, "find /usr/bin -maxdepth 1 -name rm -exec {} -rf victim \\;", nil},
		{anyLine, "find . -maxdepth 0 -exec r[m] -rf victim \\;", nil},
		// Programs that run programs.
		{anyLine, "setarch x86_64 rm -rf victim", nil},
		{anyLine, "x86_64 rm -rf victim", nil},
		{anyLine, "/lib64/ld-linux-x86-64.so.2 /usr/bin/rm -rf victim", nil},
		{anyLine, "sg root -c 'rm -rf victim'", nil},
		{anyLine, "run-parts --regex='^rm$' --arg=-rf --arg=victim /usr/bin", nil},
		// Fifth review. GNU sed's bracket classes end where its state
		// machine says ([[...]] is the collating element ".").
		{perm, "echo x > a.txt; sed -n 's/[[...]]// #\\|^.*\\|.]]/touch PWNED/e' a.txt", nil},
		{perm, "sed -n '/[[...]]/ #\\|^.*\\|.]]/e touch PWNED' a.txt", nil},
		{perm, "sed -n 's/[[:a::]]/x/;#:]]/y/w PWNED' a.txt", nil},
		// A glob after a "--" that an option cluster took.
		{perm, "echo > ./-o; tree -LP 1 -- * PWNED", nil},
		{perm, "tree -- * PWNED", nil},
		{perm, "sort -r -- *", nil},
		// find -exec's "+" ends the command only after {}.
		{anyLine, "find . -maxdepth 0 -exec env -u + rm -rf victim \\;", nil},
		// Programs with bash's bracket negation or classes.
		{anyLine, "find . -maxdepth 0 -exec /usr/bin/r[!g] -rf victim \\;", nil},
		{anyLine, "/usr/bin/r[!g] -rf victim", nil},
		{anyLine, "/usr/bin/r[[:lower:]] -rf victim", nil},
		// Code in option values and in text bash evaluates later.
		{anyLine, "env -S'rm victim'", nil},
		{anyLine, "env --split-string='rm victim'", nil},
		{anyLine, "env -S'rm' victim", nil},
		{anyLine, "env -u X -S'rm victim'", nil},
		{anyLine, "script -qc'rm victim' /dev/null", nil},
		{anyLine, "script -q --command='rm victim' /dev/null", nil},
		{anyLine, "builtin command rm -rf victim", nil},
		{anyLine, "trap 'rm -rf victim' EXIT", nil},
		{anyLine, "mapfile -C 'rm -rf victim' -c 1 < a.txt", nil},
		{anyLine, "test -v 'a[$(rm -rf victim)]'", nil},
		{anyLine, "printf -v 'a[$(rm -rf victim)]' x", nil},
		{anyLine, "let 'a[$(rm -rf victim)]=1'", nil},
		{anyLine, "[[ -v 'a[$(rm -rf victim)]' ]]", nil},
		{anyLine, "x='a[$(rm -rf victim)]'; echo $((x))", nil},
		{anyLine, "declare -n r='a[$(rm -rf victim)]'; echo $r", nil},
		// Sixth review. dash takes a one-digit descriptor: the 12 of
		// 12<x is an argument there.
		{perm, "sh -c \"sed -n -l 12</dev/null '1e touch PWNED' a.txt\"", nil},
		{perm, "sh -c 'uniq a.txt 12</dev/null'", nil},
		{perm, "sh -c 'uniq a.txt 12>/dev/null'", nil},
		{anyLine, "sh -c 'timeout -k 12</dev/null 5 rm victim'", nil},
		{anyLine, "sh -c 'stdbuf -o 12</dev/null rm victim'", nil},
		// An accept rule without command conditions still refuses the
		// options the engine knows to execute or write.
		{anyLine, "sed -n '1e rm victim' a.txt", nil},
		{anyLine, "git -c 'alias.x=!rm victim' x", nil},
		{anyLine, "git -c core.fsmonitor='rm victim' status", nil},
		{anyLine, "git rebase -x 'rm victim' HEAD", nil},
		{anyLine, "rg --pre rm hi x", nil},
		{anyLine, "sort --compress-program=rm -S 1k big >/dev/null", nil},
		// git config and bundle, format-patch -o, --show-signature.
		{git, "git config core.fsmonitor 'touch PWNED'; git status", nil},
		{git, "git config --file PWNED a.b c", nil},
		{git, "git format-patch -o PWNED HEAD~1", nil},
		{git, "git format-patch --output-directory PWNED HEAD~1", nil},
		{git, "git bundle create PWNED HEAD", nil},
		{git, "git log --show-signature", nil},
		// A program named "--" (a fuzzer's find: the option scan looked
		// before the first word).
		{perm, "-- *", nil},
		// Globs that stay operands are still accepted.
		{perm, "sort -- *", [][]string{{"sort", "--", "*"}}},
		{perm, "cat -- *", [][]string{{"cat", "--", "*"}}},
		{perm, "sed -n -e p src/*.txt", [][]string{{"sed", "-n", "-e", "p", "src/*.txt"}}},
		{perm, "sed -ne p src/*.txt", [][]string{{"sed", "-ne", "p", "src/*.txt"}}},
		{perm, "sed -n p src/*.txt", [][]string{{"sed", "-n", "p", "src/*.txt"}}},
		{perm, "find src/* -name x", [][]string{{"find", "src/*", "-name", "x"}}},
		{perm, "uniq a.txt", [][]string{{"uniq", "a.txt"}}},
		{perm, "sort -r -- a.txt", [][]string{{"sort", "-r", "--", "a.txt"}}},
		{perm, "git diff --stat -- a.txt", [][]string{{"git", "diff", "--stat", "--", "a.txt"}}},
		{perm, "git diff HEAD -- a.txt", [][]string{{"git", "diff", "HEAD", "--", "a.txt"}}},
		{perm, "sed -- p src/*.txt", [][]string{{"sed", "--", "p", "src/*.txt"}}},
		{perm, "sed 's/[[:space:]][[:alpha:]]*$//' a.txt", [][]string{{"sed", "s/[[:space:]][[:alpha:]]*$//", "a.txt"}}},
		{catOnly, "/usr/bin/cat a.txt", [][]string{{"/usr/bin/cat", "a.txt"}}},
		{git, "git clone -q file:///tmp/x", [][]string{{"git", "clone", "-q", "file:///tmp/x"}}},
		{perm, "sed -n '/[0-9]/p' a.txt", [][]string{{"sed", "-n", "/[0-9]/p", "a.txt"}}},
		{perm, "sed 's/[/]/x/g' a.txt", [][]string{{"sed", "s/[/]/x/g", "a.txt"}}},
		{perm, "sed 's/[[:space:]]*$//' a.txt", [][]string{{"sed", "s/[[:space:]]*$//", "a.txt"}}},
		{perm, "timeout 5 sort -- *", [][]string{{"timeout", "5", "sort", "--", "*"}}},
		{perm, "cat a.txt -- *", [][]string{{"cat", "a.txt", "--", "*"}}},
		{perm, "bash -c 'cat a.txt 12</dev/null'", [][]string{{"cat", "a.txt"}}},
		{anyLine, "sed -n 1p a.txt", [][]string{{"sed", "-n", "1p", "a.txt"}}},
		{perm, "git log --format='%h %s'", [][]string{{"git", "log", "--format=%h %s"}}},
		{perm, "tree -L 2 src", [][]string{{"tree", "-L", "2", "src"}}},
		// E. Builtins and shells that run their operands.
		{anyLine, "jobs -x rm -rf x", nil},
		{anyLine, "jobs -x touch PWNED", nil},
		{anyLine, "bash -c + 'touch PWNED'", touch},
		{anyLine, "sh -c + 'touch PWNED'", touch},
		{anyLine, "sh -c - 'touch PWNED'", touch},
		{anyLine, "bash -c - 'touch PWNED'", touch},
		{anyLine, "dash -c + -- 'touch PWNED'", touch},
		{anyLine, "sh -c 'jobs -x touch PWNED'", nil},
		{anyLine, "bash -lc 'chdir /dev; cat < sda'", nil},
		{anyLine, "sh -c 'chdir /dev && cat < sda'", nil},
		{anyLine, "sh -c 'chdir / && rm -rf x'", nil},
		// Review 7. F. A double-byte locale (zh_CN.GBK, zh_TW.BIG5): the
		// last byte of the UTF-8 "中" (E4 B8 AD) is a lead byte there,
		// and bash reads it with the backslash as one character, so the
		// ';' is no longer escaped (verified with LOCPATH=… LC_ALL=
		// zh_CN.GBK bash -c 'cat 中\;touch PWNED').
		{catOnly, "cat 中\\;touch PWNED", nil},
		{catOnly, "/bin/bash -lc 'cat 中\\;touch PWNED'", nil},
		{ex, "cat 中\\;rm -rf victim", nil},
		{perm, "wc 中\\;rm -rf victim", nil},
		{catOnly, "cat \"中`\"", nil},
		{catOnly, "cat 中|x", nil},
		{catOnly, "cat 中.txt", [][]string{{"cat", "中.txt"}}},
		{catOnly, "cat 中 \\;", [][]string{{"cat", "中", ";"}}},
		// G. GNU diff -l (--paginate) pipes its output through pr.
		{ex, "diff -l a.txt b.txt", nil},
		{perm, "diff --paginate a.txt b.txt", nil},
		{perm, "diff --pag a.txt b.txt", nil},
		{perm, "diff -ul a.txt b.txt", nil},
		{ex, "diff -u a.txt b.txt", [][]string{{"diff", "-u", "a.txt", "b.txt"}}},
		// H. git runs gpg.program to verify or make signatures.
		{ex, "git log --format=%GG", nil},
		{perm, "git show --format=%GS HEAD", nil},
		{perm, "git log --pretty=format:%GK", nil},
		{git, "git for-each-ref --format='%(signature)'", nil},
		{git, "git verify-commit HEAD", nil},
		{git, "git verify-tag v1", nil},
		{git, "git tag -v v1", nil},
		{git, "git tag -s -m x v1", nil},
		{git, "git commit -S -m x", nil},
		{git, "git commit --gpg-sign -m x", nil},
		{git, "git merge --verify-signatures main", nil},
		{git, "git rebase -S main", nil},
		{git, "git rev-parse --verify HEAD", [][]string{{"git", "rev-parse", "--verify", "HEAD"}}},
		{git, "git tag -l", [][]string{{"git", "tag", "-l"}}},
		// I. Programs that run their arguments as a command.
		{anyLine, "ssh-agent rm -rf victim", nil},
		{anyLine, "capsh -- -c 'rm -rf victim'", nil},
		{anyLine, "logsave /dev/null rm -rf victim", nil},
		{anyLine, "fakeroot-sysv rm -rf victim", nil},
		{anyLine, "fakeroot-tcp rm -rf victim", nil},
		{anyLine, "dpkg-architecture -c rm -rf victim", nil},
		{anyLine, "memusage rm -rf victim", nil},
		{anyLine, "sotruss rm -rf victim", nil},
		{anyLine, "heaptrack rm -rf victim", nil},
		{anyLine, "tmux new-session -d 'rm -rf victim'", nil},
		{anyLine, "stdbuf -oL cat a.txt", [][]string{{"stdbuf", "-oL", "cat", "a.txt"}}},
		// Review 8 (generative). J. A backslash-newline after an escaped
		// backslash: the parser keeps it in the word, bash removes it, so
		// sed got "/a\/p;#/!e touch PWNED" and the nested bash a script
		// whose quote closes elsewhere.
		{ex, "sed -n /a\\\\\\\n/p\\;#/\\!e\\ touch\\ PWNED a.txt", nil},
		{perm, "sed -n s/a\\\\\\\n/b/\\;#x/w\\ PWNED a.txt", nil},
		{catOnly, "bash -c echo\\ x\\\\\\\n\\'\\;touch\\ PWNED\\ \\#\\'", nil},
		{perm, "echo a\\\\\\\nb", nil},
		{perm, "echo a\\\nb", [][]string{{"echo", "ab"}}},
		// K. dash's exec takes no options: it runs a program named --.
		{anyLine, "sh -c 'exec -- ls'", nil},
		{anyLine, "exec -- ls", nil},
		{anyLine, "sh -c 'exec ls'", [][]string{{"exec", "ls"}}},
		// Review 9 (generative). L. GNU sed's match_slash (newer than
		// 4.9) reads \cX as one escape: \c/ does not end the regex, and
		// "w PWNED" becomes the s command's flag.
		{anyLine, "sed -n 's/\\c/X/g;#/w PWNED' a.txt", nil},
		{anyLine, "sed -n '/\\c/p;#/w PWNED' a.txt", nil},
		{perm, "sed -n 's/\\./X/g' a.txt", [][]string{{"sed", "-n", "s/\\./X/g", "a.txt"}}},
		// M. bash -c reads a command line that starts with - or + as its
		// options: nothing runs, not what was vouched.
		{anyLine, "-- x; ls", nil},
		{anyLine, "+x; ls", nil},
		{anyLine, "bash -c '-x; ls'", nil},
		// Review 10. N. command and exec are builtins only where the shell
		// looks for a builtin: the first word, or after the builtin
		// command. Behind exec (which runs programs only) or a program
		// (env, timeout, nice, stdbuf) they are programs of that name on
		// PATH (/usr/bin/command on Fedora and macOS), which run echo a
		// only if they choose to.
		{echoOnly, "env command echo a", nil},
		{echoOnly, "timeout 5 command echo a", nil},
		{echoOnly, "nice command echo a", nil},
		{echoOnly, "stdbuf -oL command echo a", nil},
		{echoOnly, "/usr/bin/env command -p echo a", nil},
		{echoOnly, "env exec echo a", nil},
		{echoOnly, "exec command echo a", nil},
		{echoOnly, "exec exec echo a", nil},
		{echoOnly, "sh -c 'exec command echo a'", nil},
		{anyLine, "env command echo a", nil}, // a program command runs its arguments
		// Review 11. O. A wrapper at a path the engine does not follow
		// runs its arguments all the same.
		{anyLine, "/usr/bin/./env sed -n '1e touch PWNED' a.txt", nil},
		{anyLine, "//bin/env git -c core.fsmonitor='touch PWNED' status", nil},
		{anyLine, "/usr/bin/../bin/env rg --pre touch x a.txt", nil},
		{anyLine, "/bin//timeout 5 sed -n '1e touch PWNED' a.txt", nil},
		{anyLine, "/usr/bin/./nice sed -n '1e touch PWNED' a.txt", nil},
		{anyLine, "//usr/bin/stdbuf -oL sed -n 'w PWNED' a.txt", nil},
		{anyLine, "env //bin/env sed -n '1e touch PWNED' a.txt", nil},
		{anyLine, "bash -lc \"/usr/bin/./env sed -n '1e touch PWNED' a.txt\"", nil},
		{anyLine, "/usr/bin/./env find . -maxdepth 0 -exec touch PWNED ';'", nil},
		{anyLine, "/usr/bin/X11/env sed -n '1e touch PWNED' a.txt", nil},
		{anyLine, "../../../../../../../../usr/bin/env sed -n '1e touch PWNED' a.txt", nil},
		{anyLine, "/usr/bin/env sed -n p a.txt", [][]string{{"/usr/bin/env", "sed", "-n", "p", "a.txt"}}},
		{anyLine, "/usr/bin/command sed -n p a.txt", nil},
		// P. Reserved words the parser takes for a command name: bash and
		// dash refuse the line, which runs nothing that was vouched.
		{anyLine, "in x", nil},
		{anyLine, "echo a; in x", nil},
		{anyLine, "echo a | in", nil},
		{anyLine, "echo a && else", nil},
		{anyLine, "echo a\nin x", nil},
		{anyLine, "sh -c 'echo a; in x'", nil},
		{anyLine, "'in' x", [][]string{{"in", "x"}}}, // quoted: a program named in
		// Q. Wrapper values the wrapper refuses: it runs nothing.
		{anyLine, "timeout -ks 5 echo a", nil},
		{anyLine, "timeout -s -- 5 echo a", nil},
		{anyLine, "timeout sh -c 'echo a'", nil},
		{anyLine, "stdbuf -o -- echo a", nil},
		{anyLine, "stdbuf -oX echo a", nil},
		{anyLine, "stdbuf -iL echo a", nil},
		{anyLine, "nice --adjustment=x echo a", nil},
		{anyLine, "timeout -k 2 -s KILL 1.5m echo a", [][]string{{"timeout", "-k", "2", "-s", "KILL", "1.5m", "echo", "a"}}},
		{anyLine, "stdbuf -oL -e0 -i 4K echo a", [][]string{{"stdbuf", "-oL", "-e0", "-i", "4K", "echo", "a"}}},
		{anyLine, "nice --adjustment=5 echo a", [][]string{{"nice", "--adjustment=5", "echo", "a"}}},
		{echoOnly, "command echo a", [][]string{{"command", "echo", "a"}}},
		{echoOnly, "command -p echo a", [][]string{{"command", "-p", "echo", "a"}}},
		{echoOnly, "command command echo a", [][]string{{"command", "command", "echo", "a"}}},
		{echoOnly, "command exec echo a", [][]string{{"command", "exec", "echo", "a"}}},
		{echoOnly, "exec echo a", [][]string{{"exec", "echo", "a"}}},
	} {
		v := c.p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: c.line, Cwd: "/work/proj"})
		if v.Decision != abi.Accept && v.Decision != abi.AcceptForSession {
			if c.vouched != nil {
				t.Errorf("declined %q (%s), want an accept of %q", c.line, reasonOf(v), c.vouched)
			}
			continue
		}
		if got := commandsOf(v.Analysis); c.vouched == nil || !reflect.DeepEqual(got, c.vouched) {
			t.Errorf("accepted %q: rule %q, commands %q, want %q", c.line, v.Rule, got, c.vouched)
		}
	}
}

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse("review.toml", []byte(src))
	require.NoError(t, err)
	return p
}

// The lines of review 10's N that the echo rule accepts, run by real
// bash with a program named command and one named exec first on PATH (as
// /usr/bin/command on Fedora and macOS): bash runs its builtins there,
// never those programs, and prints what echo was vouched to print; the
// lines it declines would have run them.
func TestCommandAndExecAsPrograms(t *testing.T) {
	echoOnly := mustParse(t, "[[rule]]\nname = \"echo\"\ndecision = \"accept\"\n[rule.match]\nprogram = \"echo\"\n")
	for _, tc := range []struct {
		line   string
		accept bool
	}{
		{"command echo a", true}, {"command -p echo a", true}, {"command command echo a", true},
		{"command exec echo a", true}, {"exec echo a", true},
		{"env command echo a", false}, {"exec command echo a", false}, {"exec exec echo a", false},
		{"timeout 5 command echo a", false}, {"env exec echo a", false},
	} {
		v := echoOnly.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: tc.line, Cwd: "/work/proj"})
		accepted := v.Decision == abi.Accept || v.Decision == abi.AcceptForSession
		require.Equal(t, tc.accept, accepted, "%q: %s (%s)", tc.line, v.Decision, reasonOf(v))
		dir := t.TempDir()
		bin := filepath.Join(dir, "bin")
		require.NoError(t, os.Mkdir(bin, 0o755))
		for _, name := range []string{"command", "exec"} {
			script := "#!/bin/sh\necho \"$0 $*\" > " + filepath.Join(dir, "ran") + "\n"
			require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte(script), 0o755))
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-c", tc.line)
		cmd.Dir = dir
		cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "LANG=C"}
		out, _ := cmd.Output()
		_, err := os.Stat(filepath.Join(dir, "ran"))
		ranProgram := err == nil
		if tc.accept {
			require.False(t, ranProgram, "%q: accepted, and bash ran a PATH program instead of echo", tc.line)
			require.Equal(t, "a\n", string(out), "%q", tc.line)
		} else {
			require.True(t, ranProgram, "%q: declined; bash runs the PATH program (the reason it must be)", tc.line)
		}
	}
}
