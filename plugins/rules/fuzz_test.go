package rules

// A grammar-aware fuzzer for the differential proof: it mutates accepted
// lines at token boundaries and inside words (quotes, $, backslashes, CR,
// operators, substitutions, redirections, wrappers), and every mutant a
// rules file accepts runs under bash (internal/bashtrace). FuzzDifferential
// is the long run (make fuzz-rules); TestDifferentialGenerated is a short,
// deterministic run of the same mutator in go test.

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/rules/internal/bashtrace"
)

// fragments are inserted at token boundaries: operators, quotes,
// substitutions, redirections, dangerous options, odd characters.
var fragments = []string{
	"'", `"`, "$", `\`, "\r", "\n", "\t", ";", "&&", "||", "|", "&", "|&", "#", "(", ")", "{", "}",
	"!", "=", "x=1", "*", "?", "[a]", "~", "~+", "{a,b}", "$(id)", "`id`", "$((1))", "$[1]",
	"${x}", "${x:-$(id)}", "\"${x:-'$(id)'}\"", "$'\\x41'", `$"x"`, "$0", "$@", "$HOME", "${PWD:a[$(id)]}",
	"> PWNED", ">> PWNED", ">| PWNED", "&> PWNED", ">& PWNED", "2> PWNED", "<> PWNED", "< a.txt",
	"> /dev/null", "2>/dev/null", "2>&1", "< /dev/tcp/127.0.0.1/9", "> /dev/udp/127.0.0.1/9",
	"<<< x", "<(id)", ">(id)", "<<EOF\n$(id)\nEOF\n", "<<'EOF'\nx\nEOF\n",
	"--output=PWNED", "--outp''ut=PWNED", "-c core.fsmonitor='touch PWNED'", "--ext-diff",
	"-exec touch PWNED ;", "-i", "-e", "-x", "--", "-o", "-lc",
	"touch PWNED", "id", "./bash", "sh", "bash -c", "eval", "exec", "command", "env", "builtin",
	"source", ".", "alias", "function", "coproc", "time", "\x01", "\x7f", "\x1b[0m", "\u00a0",
	"\u2028", "\uff1b", "ⅼs", "\\\n", "# x \\\n", "\r\n",
}

// wrappers wrap a whole line: the script of a shell, a prefix program.
var wrappers = []func(string) string{
	func(s string) string { return "bash -lc " + fzQuote(s) },
	func(s string) string { return "/bin/bash -lc " + fzQuote(s) },
	func(s string) string { return "bash -c " + fzQuote(s) },
	func(s string) string { return "sh -c " + fzQuote(s) },
	func(s string) string { return "dash -c " + fzQuote(s) },
	func(s string) string { return "bash -lc -- " + fzQuote(s) },
	func(s string) string { return "bash -c -x " + fzQuote(s) },
	func(s string) string { return "bash -o errexit -c " + fzQuote(s) },
	func(s string) string { return "./bash -c " + fzQuote(s) },
	func(s string) string { return "bash --rcfile script.sh -ic " + fzQuote(s) },
	func(s string) string {
		return "bash -lc \"" + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`").Replace(s) + "\""
	},
	func(s string) string { return "env " + s },
	func(s string) string { return "nice " + s },
	func(s string) string { return "timeout 5 " + s },
	func(s string) string { return "command " + s },
	func(s string) string { return "exec " + s },
	func(s string) string { return "sudo " + s },
	func(s string) string { return "{ " + s + "; }" },
	func(s string) string { return "(" + s + ")" },
	func(s string) string { return s + " | cat" },
	func(s string) string { return s + " && git status" },
	func(s string) string { return "ls; " + s },
}

// fzQuote single-quotes s for bash.
func fzQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// boundaries returns the byte offsets between tokens of a line (outside
// quotes: at whitespace and around operators) and the offsets inside
// words, as a light lexer of bash sees them.
func boundaries(s string) (between, inside []int) {
	between = append(between, 0)
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			}
			inside = append(inside, i)
		case quote == '"':
			inside = append(inside, i)
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
			inside = append(inside, i)
		case c == '\\':
			inside = append(inside, i)
			i++
		case strings.IndexByte(" \t\n;&|<>()", c) >= 0:
			between = append(between, i, i+1)
		default:
			inside = append(inside, i)
		}
	}
	between = append(between, len(s))
	return between, inside
}

// mutate applies n grammar-aware mutations to line.
func mutate(line string, r *rand.Rand, n int) string {
	for range n {
		between, inside := boundaries(line)
		switch op := r.IntN(10); {
		case op < 4: // a fragment between tokens
			at := between[r.IntN(len(between))]
			f := fragments[r.IntN(len(fragments))]
			if r.IntN(2) == 0 {
				f = " " + f + " "
			}
			line = line[:at] + f + line[at:]
		case op < 6 && len(inside) > 0: // a character or quote inside a word
			at := inside[r.IntN(len(inside))]
			f := []string{"'", `"`, "''", `""`, `\`, "$", "\r", "$'", "{", "}", "*", "[", "]", "=", "~", "#", "`", "\x00", "\u200b"}[r.IntN(19)]
			line = line[:at] + f + line[at:]
		case op < 7 && len(inside) > 0: // a character deleted
			if at := inside[r.IntN(len(inside))]; at < len(line) {
				line = line[:at] + line[at+1:]
			}
		case op < 9: // a wrapper
			line = wrappers[r.IntN(len(wrappers))](line)
		default: // a word quoted another way
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			i := r.IntN(len(f))
			switch r.IntN(4) {
			case 0:
				f[i] = "'" + f[i] + "'"
			case 1:
				f[i] = `"` + f[i] + `"`
			case 2:
				f[i] = "$'" + f[i] + "'"
			default:
				f[i] = `\` + f[i]
			}
			line = strings.Join(f, " ")
		}
	}
	return line
}

// checked caches differential results by line: a line's trace does not
// depend on the test that asks (same workspace, same environment).
var checked sync.Map // string → diffResult

// fuzzPolicies are the two rules files, parsed once per process.
var fuzzPolicies = sync.OnceValues(func() ([2]*Policy, error) {
	var ps [2]*Policy
	for i, name := range []string{"rules-strict.toml", "rules-permissive.toml"} {
		p, err := loadPolicyFile(name)
		if err != nil {
			return ps, err
		}
		ps[i] = p
	}
	return ps, nil
})

func loadPolicyFile(name string) (*Policy, error) {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		return nil, err
	}
	return Parse(name, data)
}

// checkLine evaluates line with both rules files and, when one accepts it,
// runs the differential check. It returns whether a rules file accepted
// it, and the result.
func checkLine(t testing.TB, tr *bashtrace.Runner, line string) (bool, diffResult) {
	ps, err := fuzzPolicies()
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ps {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision != abi.Accept && v.Decision != abi.AcceptForSession {
			continue
		}
		j := judged{corpusLine: corpusLine{file: "fuzz", text: line, bytes: len(line)},
			rules: []string{"rules-strict.toml", "rules-permissive.toml"}[i], accepted: true, verdict: v}
		_, cached := checked.Load(line)
		res := differential(t, tr, []judged{j})[0]
		if !cached {
			logTraced(line, res)
		}
		return true, res
	}
	return false, diffResult{}
}

// seedStride thins the seed corpus when go test runs it without -fuzz.
const seedStride = 6

// logTraced appends a traced line and its number of violations to the
// file CODEXHOST_FUZZ_LOG names, if any: the fuzzing workers print
// nothing, and this is how a run tells how many lines it executed.
func logTraced(line string, res diffResult) {
	name := os.Getenv("CODEXHOST_FUZZ_LOG")
	if name == "" {
		return
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%d %s\n", len(res.violations), strconv.Quote(line))
}

// FuzzDifferential mutates accepted lines; every mutant a rules file
// accepts must run under bash exactly as the engine vouched. The seeds are
// the allowed corpus. make fuzz-rules runs it for FUZZTIME.
func FuzzDifferential(f *testing.F) {
	tr := newTracer(f)
	lines := loadCorpus(f, "allowed")
	// Fuzzing starts from every line; go test runs one seed in
	// seedStride, to stay within its time budget.
	stride := seedStride
	if fl := flag.Lookup("test.fuzz"); fl != nil && fl.Value.String() != "" {
		stride = 1
	}
	for i, l := range lines {
		if i%stride == 0 {
			f.Add(l.text, uint64(i))
		}
	}
	f.Fuzz(func(t *testing.T, line string, seed uint64) {
		if len(line) > 4096 {
			return // the differential is about meaning, not size (see bench_test.go)
		}
		r := rand.New(rand.NewPCG(seed, seed>>32|1))
		for _, cand := range []string{line, mutate(line, r, 1+r.IntN(3))} {
			ok, res := checkLine(t, tr, cand)
			if !ok {
				continue
			}
			if res.err != nil {
				t.Errorf("%s: the run cannot be judged: %v", clipLine(cand), res.err)
			}
			if len(res.violations) > 0 {
				t.Errorf("violation: %s (%s): commands %q: %s", clipLine(cand), res.j.rules,
					commandsOf(res.j.verdict.Analysis), strings.Join(res.violations, "; "))
			}
		}
	})
}

// genCount and genTraceCap size TestDifferentialGenerated: every mutant is
// evaluated, the first genTraceCap distinct accepted ones run under bash.
// CODEXHOST_DIFF_GEN=N,M overrides them for a longer run.
var genCount, genTraceCap = func() (int, int) {
	n, m := 4000, 120
	if v := os.Getenv("CODEXHOST_DIFF_GEN"); v != "" {
		a, b, _ := strings.Cut(v, ",")
		if x, err := strconv.Atoi(a); err == nil && x > 0 {
			n = x
		}
		if x, err := strconv.Atoi(b); err == nil && x > 0 {
			m = x
		}
	}
	return n, m
}()

// TestDifferentialGenerated is a deterministic run of the fuzzer's
// mutator: genCount mutants of the allowed and the evasion corpora (fixed
// seed), evaluated with both rules files; the accepted ones run under bash.
func TestDifferentialGenerated(t *testing.T) {
	tr := newTracer(t)
	seeds := loadCorpus(t, "allowed")
	// Mutants of evasion lines too: one edit may make the engine accept
	// what bash still reads as hostile.
	for _, l := range loadCorpus(t, "evasion") {
		if l.bytes <= 300 {
			seeds = append(seeds, l)
		}
	}
	r := rand.New(rand.NewPCG(14, 2026))
	var gen []corpusLine
	for i := range genCount {
		s := seeds[r.IntN(len(seeds))]
		m := mutate(s.text, r, 1+r.IntN(3))
		gen = append(gen, corpusLine{file: "generated", line: i + 1, text: m, bytes: len(m)})
	}
	var js []judged
	for _, rules := range []string{"rules-strict.toml", "rules-permissive.toml"} {
		js = append(js, judge(t, diffPolicy(t, rules), rules, gen)...)
	}
	// The first genTraceCap distinct accepted mutants, in generation order.
	seen := map[string]bool{}
	accepted := 0
	var run []judged
	for _, j := range js {
		if !j.accepted || seen[j.text] {
			continue
		}
		seen[j.text] = true
		accepted++
		if len(run) < genTraceCap {
			run = append(run, j)
		}
	}
	res := differential(t, tr, run)
	t.Logf("generated: %d mutants, %d distinct accepted by a rules file, %d of them traced", genCount, accepted, len(run))
	reportDifferential(t, fmt.Sprintf("generated (seed 14, %d mutants, %d accepted)", genCount, accepted), genCount, res, nil)
}
