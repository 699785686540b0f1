package rules

import (
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// Review round 15 (adversarial review of the worktree adv3, at 7083bc3).
// Lines run under real bash 5.2 with round13RemovesVictim; the rules are
// round13Rules (rm declined). Each test fails while the engine gets its
// lines wrong.

// TestRound15DataReachesAnEvaluatingContext: since ec58eb6 the quoted
// arguments of programs outside mayEvaluate are not read for $(…), and
// "arith && computed" is the only check on built values. But text a
// program prints (echo, base64 -d, a here-document read by read) reaches
// bash's evaluating contexts through a variable or a substitution: a
// name argument of printf -v / test -v, arithmetic on a variable set by
// read, for or printf -v (no Assign node), ${x:y} and ${a[y]} (an
// ArithmExpr, not an ArithmExp), ${!v}, declare -n, declare -i, ${x@P}.
// The reading is not unsure, and rm -rf victim runs.
func TestRound15DataReachesAnEvaluatingContext(t *testing.T) {
	for _, line := range []string{
		`printf -v "$(echo 'a[$(rm -rf victim)]')" 1`,
		`test -v "$(echo 'a[$(rm -rf victim)]')"`,
		`printf -v "$(echo YVskKHJtIC1yZiB2aWN0aW0pXQo= | base64 -d)" 1`,
		"read v <<'EOF'\na[$(rm -rf victim)]\nEOF\nprintf -v \"$v\" 1",
		`echo 'a[$(rm -rf victim)]' > f; read v < f; printf -v "$v" 1`,
		`v=$(echo 'a[$(rm -rf victim)]'); test -v "$v"`,
		`read x <<< "$(echo 'a[$(rm -rf victim)]')"; echo $((x))`,
		`echo 'a[$(rm -rf victim)]' | while read x; do echo $((x)); done`,
		`for x in "$(echo 'a[$(rm -rf victim)]')"; do echo $((x)); done`,
		`printf -v x %s "$(echo 'a[$(rm -rf victim)]')"; echo $((x))`,
		`set -- "$(echo 'a[$(rm -rf victim)]')"; echo $(($1))`,
		`read x <<< "$(echo 'a[$(rm -rf victim)]')"; [[ $x -eq 1 ]]`,
		`declare -i x; x="$(echo 'a[$(rm -rf victim)]')"`,
		`declare -i x="$(echo 'a[$(rm -rf victim)]')"`,
		`y=$(echo 'a[$(rm -rf victim)]'); echo ${PWD:y}`,
		`y=$(echo 'a[$(rm -rf victim)]'); echo ${a[y]}`,
		`y=$(echo 'a[$(rm -rf victim)]'); for ((i=y;0;)); do :; done`,
		`v=$(echo 'a[$(rm -rf victim)]'); echo ${!v}`,
		`v=$(echo 'a[$(rm -rf victim)]'); declare -n r="$v"; echo $r`,
		`x=$(echo '$(rm -rf victim)'); echo ${x@P}`,
		`jobs -x printf -v 'a[$(rm${IFS}-rf${IFS}victim)]' 1`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound15HeredocInSubstEndsAtAnyParen: in $(…) bash 5.2 ends a
// here-document at any body line that starts with the delimiter and holds
// a ")" later on it, not only at "EOF)": "EOF )", "EOF\t)", "EOF#)",
// "EOFx)", "EOF) x" all end it (heredocEndsEarly checks only delim+")").
func TestRound15HeredocInSubstEndsAtAnyParen(t *testing.T) {
	for _, tail := range []string{" )", "\t)", "#)", "x)", " x) y"} {
		line := "echo $(cat <<EOF\nhi\nEOF" + tail + "\nrm -rf victim\nEOF\n)"
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound15StdinShellWithOperands: shellArgs counts any operand as a
// script, so a shell reading stdin with positional parameters (-s x, -s
// -- a b), an option taking a value (--rcfile x, --init-file x), or the
// script file /dev/stdin or /proc/self/fd/0 is not a stdin shell: the
// pipe's words (echo rm -rf victim) are not read and the reading is not
// unsure.
func TestRound15StdinShellWithOperands(t *testing.T) {
	for _, line := range []string{
		"echo rm -rf victim | bash -s x",
		"echo rm -rf victim | sh -s -- a b",
		"echo rm -rf victim | bash --rcfile x",
		"echo rm -rf victim | bash --init-file x",
		"echo rm -rf victim | bash -o errexit -s x",
		"echo rm -rf victim | env bash -s x",
		"echo rm -rf victim | bash /dev/stdin",
		"echo rm -rf victim | bash /proc/self/fd/0",
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}

// TestRound15OrdinaryLinesNotDeclined: everyday agent lines that run no
// rm must not be declined by the rule declining rm. "arith && computed"
// treats every [[ a OP b ]] (a BinaryTest: ==, =~ too) as arithmetic, and
// any $((…)) after a count=$(…) as a risk, so the unsure pass declines
// them ("an arithmetic expression may evaluate a value the line builds").
func TestRound15OrdinaryLinesNotDeclined(t *testing.T) {
	p := mustParse(t, round13Rules)
	for _, line := range []string{
		// declined at 7083bc3:
		`branch=$(git branch --show-current); [[ "$branch" == main ]] && echo on-main`,
		`out=$(go test ./... 2>&1); [[ $out =~ FAIL ]] && echo failed`,
		`count=$(wc -l < f); echo $((count + 1))`,
		`n=$(nproc); make -j$((n+1))`,
		`i=0; while [ $i -lt 3 ]; do i=$((i+1)); done`,
		`start=$(date +%s); go test ./...; echo "took $(( $(date +%s) - start ))s"`,
		// "[" is read as a glob (literal), so the program is not a
		// literal and "might be rm": every [ … ] line is declined.
		`[ -f go.mod ] && go test ./...`,
		`[ -n "$x" ] && echo y`,
		`[ "$(git status --porcelain)" ] || echo clean`,
		// not declined at 7083bc3 (kept so):
		"git commit -m \"fix: handle \\`nil\\` map (closes #12)\"",
		"git commit -m \"$(cat <<'EOF'\nfeat: add parser\n\nAdds `parse()` and fixes $(weird) text.\nEOF\n)\"",
		// (A body line "EOF handling (closes #3)" is not here: bash 5.2 ends the
		// here-document at it, so that line is broken in bash; declining it is right.)
		"gh pr create --title \"Add X\" --body \"## Summary\n- uses \\`foo()\\` and \\$HOME\n- fixes (a|b)\"",
		"gh pr create --body \"$(cat <<'EOF'\nFixes `$(foo)` usage\nEOF\n)\"",
		"python3 - <<'EOF'\nimport os\nprint(os.getcwd())\nEOF",
		"cat > notes.md <<'EOF'\n# Title\nRun `make` then $(echo hi)\nEOF",
		`jq '.items[] | select(.name == $n)' --arg n foo data.json`,
		`awk '{ s += $2 } END { print s }' file`,
		`sed -i 's/$(OLD)/$(NEW)/g' Makefile`,
		`make -C sub test`,
		`go test -run 'Test(A|B)$' ./...`,
		`npm run build -- --flag`,
		`bash scripts/x.sh`,
		`sh -c 'cd x && make'`,
		`for f in *.go; do gofmt -l "$f"; done`,
		`find . -name '*.go' -exec grep -l foo {} +`,
		`git ls-files -z | xargs -0 grep -l TODO`,
		`timeout 60 go test ./...`,
		`for i in $(seq 3); do echo $((i*2)); done`,
		`git log --format='%h %s' | while read h s; do echo "$h"; done`,
		`x=$(git rev-parse HEAD); [[ -n $x ]] && echo ok`,
		`git commit -m 'fix: use $(pwd) not ` + "`pwd`'",
	} {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Decline {
			t.Errorf("%q: declined (rule %q, unread %q; %s): it runs no rm", line, v.Rule, v.Unread, reasonOf(v))
		}
	}
}
