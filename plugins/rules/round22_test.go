package rules

import "testing"

// Review round 22 (adversarial review of the worktree adv2, at f168a1e):
// the flow of text into arithmetic (flow.go), read against bash.

// TestRound22ArithmeticTextMaterialMissed: flow's gate, text (the line
// holds the material of a command substitution), was set only by a word
// that is a literal as a whole, or by a $'…' holding one of eight escape
// spellings of $ or `. Without it no value counts as built, and
// arithmetic on it is the program's business. But a quoted piece joined
// with an expansion ('a[$(rm x)]'$y, "a[\$(rm x)]$y") is no literal, and
// bash decodes $ from more spellings: \u24 and \U24 (any number of
// digits) in printf's format and in $'…', printf %b's and echo -e's
// \0044, sed's \o44 and \d36; and ${x@E} decodes the escapes of a value that was no copy
// of built text. Each line runs rm -rf victim under bash, and the
// reading was sure (abstain, past the rule declining rm).
func TestRound22ArithmeticTextMaterialMissed(t *testing.T) {
	for _, line := range []string{
		`z='a[$(rm -rf victim)]'$y; echo $((z))`,
		`z="a[\$(rm -rf victim)]$y"; echo $((z))`,
		`z=$(echo 'a[$(rm -rf victim)]'$y); echo $((z))`,
		`read z <<< 'a[$(rm -rf victim)]'$y; echo $((z))`,
		`z=$(printf '%b' 'a[\0044(rm -rf victim)]'); echo $((z))`,
		`printf -v z '%b' 'a[\0044(rm -rf victim)]'; echo $((z))`,
		`z=$(echo -e 'a[\0044(rm -rf victim)]'); echo $((z))`,
		`printf -v z 'a[\u24(rm -rf victim)]'; echo $((z))`,
		`z=$'a[\u24(rm -rf victim)]'; echo $((z))`,
		`z=$'a[\U24(rm -rf victim)]'; echo $((z))`,
		`let $'a[\u24(rm -rf victim)]'`,
		`echo $(($'a[\u24(rm -rf victim)]'))`,
		`a=(1); a[$'\u24(rm -rf victim)']=1`,
		`a=(1); echo ${a[$'\u24(rm -rf victim)']}`,
		`z=$(echo 'a[%(rm -rf victim)]' | sed 's/%/\d36/'); echo $((z))`,
		`z=$(echo 'a[%(rm -rf victim)]' | sed 's/%/\o44/'); echo $((z))`,
		`x='a[\x24(rm -rf victim)]'; z=${x@E}; echo $((z))`,
		`x='a[\u24(rm -rf victim)]'; z=${x@E}; echo $((z))`,
	} {
		round14Decline(t, line, round13RemovesVictim(t, line))
	}
}
