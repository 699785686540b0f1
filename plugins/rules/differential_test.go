package rules

// The differential proof against real bash (issue 14): every line the
// engine accepts, from the corpora under testdata/corpus and from the
// fuzzer, runs under bash traced by strace (internal/bashtrace), and the
// trace must show exactly the argv vectors the engine vouched for, only
// the vouched redirections, and no socket.

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/rules/internal/bashtrace"
)

// A corpusLine is one entry of a corpus file.
type corpusLine struct {
	file  string // the file's base name without .txt: the class
	line  int    // its line number in the file
	text  string // the command line
	bytes int    // len(text), for reports
}

func (c corpusLine) String() string {
	return fmt.Sprintf("%s:%d %s", c.file, c.line, clipLine(c.text))
}

// clipLine quotes a line for a report, cut to 200 bytes.
func clipLine(s string) string {
	if len(s) > 200 {
		return strconv.Quote(s[:200]) + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// parseCorpus reads a corpus file (see testdata/corpus/README.md).
func parseCorpus(name string, data []byte) ([]corpusLine, error) {
	class := strings.TrimSuffix(filepath.Base(name), ".txt")
	var out []corpusLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		raw := sc.Text()
		if raw == "" || strings.HasPrefix(raw, "#") {
			continue
		}
		text := raw
		switch {
		case strings.HasPrefix(raw, "@"):
			s, err := strconv.Unquote(raw[1:])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad @ string: %v", name, n, err)
			}
			text = s
		case strings.HasPrefix(raw, "%repeat ") || strings.HasPrefix(raw, "%nest "):
			s, err := expandDirective(raw)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", name, n, err)
			}
			text = s
		case strings.HasPrefix(raw, "%"):
			return nil, fmt.Errorf("%s:%d: unknown directive %q", name, n, raw)
		}
		out = append(out, corpusLine{file: class, line: n, text: text, bytes: len(text)})
	}
	return out, sc.Err()
}

// expandDirective expands %repeat N "prefix" "unit" "suffix" and
// %nest N "open" "close" "core".
func expandDirective(raw string) (string, error) {
	f := strings.SplitN(raw, " ", 3)
	if len(f) != 3 {
		return "", fmt.Errorf("want %%directive N \"a\" \"b\" \"c\": %q", raw)
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || n < 0 || n > 1_000_000 {
		return "", fmt.Errorf("bad count %q", f[1])
	}
	var parts []string
	rest := strings.TrimSpace(f[2])
	for rest != "" {
		q, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return "", fmt.Errorf("bad string in %q: %v", rest, err)
		}
		s, _ := strconv.Unquote(q)
		parts = append(parts, s)
		rest = strings.TrimSpace(rest[len(q):])
	}
	if len(parts) != 3 {
		return "", fmt.Errorf("want three strings, got %d", len(parts))
	}
	if f[0] == "%repeat" {
		return parts[0] + strings.Repeat(parts[1], n) + parts[2], nil
	}
	return strings.Repeat(parts[0], n) + parts[2] + strings.Repeat(parts[1], n), nil
}

// loadCorpus reads every *.txt under testdata/corpus/<dir>, in name order.
func loadCorpus(t testing.TB, dir string) []corpusLine {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "corpus", dir, "*.txt"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no corpus in testdata/corpus/%s: %v", dir, err)
	}
	slices.Sort(names)
	var all []corpusLine
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := parseCorpus(name, data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, lines...)
	}
	return all
}

// newTracer starts a bashtrace.Runner. Without strace the test is skipped,
// unless CI is set: there a missing strace is a failure (make strace
// installs it).
func newTracer(t testing.TB) *bashtrace.Runner {
	t.Helper()
	if err := bashtrace.Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v: the differential tests need it under CI (make strace)", err)
		}
		t.Skipf("%v: skipping the differential test against bash", err)
	}
	r, err := bashtrace.NewRunner(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// traceWorkers bounds the lines traced at once.
func traceWorkers() int { return max(1, min(4, runtime.GOMAXPROCS(0))) }

// forEach calls fn for every index below n on traceWorkers goroutines and
// returns when all are done.
func forEach(n int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range traceWorkers() {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// allowedByIssue is the allow-list of the strict rules file as argv: ls,
// cat and echo with any arguments, and git status and git diff after the
// harmless global options -C DIR and --no-pager.
func allowedByIssue(path string, argv []string) bool {
	if len(argv) == 0 {
		return false
	}
	base := filepath.Base(path)
	if filepath.Base(argv[0]) != base {
		return false
	}
	switch path {
	case "/usr/bin/ls", "/bin/ls", "/usr/bin/cat", "/bin/cat", "/usr/bin/echo", "/bin/echo":
		return true
	case "/usr/bin/git", "/bin/git":
		for i := 1; i < len(argv); i++ {
			switch a := argv[i]; {
			case a == "--no-pager":
			case a == "-C" && i+1 < len(argv):
				i++
			default:
				return a == "status" || a == "diff"
			}
		}
	}
	return false
}

// elsewhereOnly are evasion lines that are dangerous only with something
// the trace workspace lacks (a terminal for git's pager, a hook, ssh, an
// editor, a program that is not installed, a shared object): they run
// nothing outside the allow-list here, so TestEvasionCorpusHostile does
// not hold them to it.
var elsewhereOnly = map[string]bool{}

// TestEvasionCorpusHostile checks the evasion corpus itself: every line,
// run under bash, does something outside ls, cat, git status, git diff and
// echo. It traces every line, so it runs only when
// CODEXHOST_CORPUS_HOSTILE=1 (after editing the corpus).
func TestEvasionCorpusHostile(t *testing.T) {
	if os.Getenv("CODEXHOST_CORPUS_HOSTILE") == "" {
		t.Skip("set CODEXHOST_CORPUS_HOSTILE=1 to check that every evasion line is hostile under bash")
	}
	tr := newTracer(t)
	lines := loadCorpus(t, "evasion")
	res := make([][]string, len(lines))
	errs := make([]error, len(lines))
	forEach(len(lines), func(i int) {
		if lines[i].bytes > 32<<10 {
			return // the resources class: too large to trace in full
		}
		// A C string ends at a NUL: a line with one is what execve would
		// pass, its first part.
		text, _, _ := strings.Cut(lines[i].text, "\x00")
		trace, err := tr.Run(t.Context(), bashtrace.Bash, text)
		if err != nil {
			errs[i] = err
			return
		}
		res[i] = tr.Outside(trace, allowedByIssue)
	})
	tame := 0
	for i, l := range lines {
		switch {
		case l.bytes > 32<<10:
		case errs[i] != nil:
			t.Errorf("%s: %v", l, errs[i])
		case len(res[i]) == 0 && !elsewhereOnly[l.text]:
			tame++
			t.Errorf("%s: stays within the allow-list under bash", l)
		}
	}
	t.Logf("evasion corpus: %d lines, %d not hostile here", len(lines), tame)
}

// The rules files of the differential tests.
func diffPolicy(t testing.TB, name string) *Policy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A judged line is a line and what a rules file decided for it.
type judged struct {
	corpusLine
	rules    string // the rules file
	accepted bool
	verdict  Verdict
}

// judge evaluates lines with a rules file, in parallel.
func judge(t testing.TB, p *Policy, rulesName string, lines []corpusLine) []judged {
	out := make([]judged, len(lines))
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for i := range next {
				v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: lines[i].text, Cwd: "/work/proj"})
				out[i] = judged{corpusLine: lines[i], rules: rulesName, verdict: v,
					accepted: v.Decision == abi.Accept || v.Decision == abi.AcceptForSession}
			}
		})
	}
	for i := range lines {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// vouchedOf converts the engine's analysis for bashtrace.Check.
func vouchedOf(a *Analysis) []bashtrace.Vouched {
	if a == nil {
		return nil
	}
	var vs []bashtrace.Vouched
	for _, c := range a.Commands {
		v := bashtrace.Vouched{Argv: c.Argv, Inner: c.Inner, Patterns: c.Patterns}
		for _, r := range c.Redirects {
			v.Redirects = append(v.Redirects, bashtrace.Redirect{Fd: r.Fd, Op: r.Op, Path: r.Path, Writes: r.Writes()})
		}
		vs = append(vs, v)
	}
	return vs
}

// A diffResult is one accepted line run under bash.
type diffResult struct {
	j          judged
	violations []string
	err        error
}

// differential runs every accepted line (once per text) under bash and
// checks the trace against the analysis.
func differential(t testing.TB, tr *bashtrace.Runner, js []judged) []diffResult {
	seen := map[string]bool{}
	var run []judged
	for _, j := range js {
		if j.accepted && !seen[j.text] {
			seen[j.text] = true
			run = append(run, j)
		}
	}
	res := make([]diffResult, len(run))
	forEach(len(run), func(i int) {
		j := run[i]
		if c, ok := checked.Load(j.text); ok {
			res[i] = c.(diffResult)
			res[i].j = j
			return
		}
		defer func() { checked.Store(j.text, res[i]) }()
		res[i].j = j
		if j.verdict.Analysis == nil || !j.verdict.Analysis.Vouched {
			res[i].violations = []string{fmt.Sprintf("accepted by rule %q without a vouched analysis", j.verdict.Rule)}
			return
		}
		if strings.ContainsRune(j.text, 0) {
			res[i].violations = []string{"accepted a line with a NUL, which bash cannot receive"}
			return
		}
		trace, err := tr.Run(t.Context(), bashtrace.Bash, j.text)
		if err != nil {
			res[i].err = err
			return
		}
		res[i].violations = tr.Check(trace, bashtrace.Bash, j.text, vouchedOf(j.verdict.Analysis))
	})
	return res
}

// knownFailing lists the corpus lines the engine still gets wrong (see
// /work/wt/notes/rules-findings.md): they are reported loudly on every run,
// and a line that passes again must be taken off the list.
func knownFailing(t testing.TB) map[string]bool {
	data, err := os.ReadFile(filepath.Join("testdata", "corpus", "known-failing.txt"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	lines, err := parseCorpus("known-failing.txt", data)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, l := range lines {
		m[l.text] = true
	}
	return m
}

// mustAccept are the lines the issue requires the strict rules file to
// accept.
var mustAccept = []string{
	"ls -la",
	"git --no-pager diff",
	"git -C sub status",
	"ls && git status",
	"/bin/bash -lc 'git status'",
}

// TestEvasionCorpusDeclined: the strict rules file (ls, cat, git status,
// git diff, echo) accepts no line of the evasion corpus.
func TestEvasionCorpusDeclined(t *testing.T) {
	lines := loadCorpus(t, "evasion")
	known := knownFailing(t)
	js := judge(t, diffPolicy(t, "rules-strict.toml"), "rules-strict.toml", lines)
	perClass := map[string][2]int{} // lines, accepted
	var classes []string
	accepted, knownAccepted := 0, 0
	for _, j := range js {
		c := perClass[j.file]
		if c[0] == 0 {
			classes = append(classes, j.file)
		}
		c[0]++
		if j.accepted {
			c[1]++
			if known[j.text] {
				knownAccepted++
				t.Logf("KNOWN FAILING (accepted): %s", j.corpusLine)
			} else {
				accepted++
				t.Errorf("accepted evasion %s: rule %q, commands %q", j.corpusLine, j.verdict.Rule, commandsOf(j.verdict.Analysis))
			}
		} else if known[j.text] {
			t.Errorf("known-failing line %s is declined now: take it off testdata/corpus/known-failing.txt", j.corpusLine)
		}
		perClass[j.file] = c
	}
	var parts []string
	for _, c := range classes {
		parts = append(parts, fmt.Sprintf("%s %d/%d", c, perClass[c][1], perClass[c][0]))
	}
	summary := fmt.Sprintf("evasion corpus: %d lines, %d accepted (%d of them known failing); accepted/lines per class: %s",
		len(js), accepted+knownAccepted, knownAccepted, strings.Join(parts, ", "))
	t.Log(summary)
	fmt.Println(summary)
	if knownAccepted > 0 {
		fmt.Printf("evasion corpus: WARNING: %d known-failing lines are still accepted (testdata/corpus/known-failing.txt)\n", knownAccepted)
	}
}

func commandsOf(a *Analysis) [][]string {
	if a == nil {
		return nil
	}
	var out [][]string
	for _, c := range a.Commands {
		out = append(out, c.Argv)
	}
	return out
}

// TestAllowedCorpus counts the false declines of the allowed corpus and
// requires the lines of the issue to be accepted.
func TestAllowedCorpus(t *testing.T) {
	strict := diffPolicy(t, "rules-strict.toml")
	for _, l := range mustAccept {
		v := strict.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: l, Cwd: "/work/proj"})
		if v.Decision != abi.Accept && v.Decision != abi.AcceptForSession {
			t.Errorf("the strict rules file does not accept %q: %s (%s)", l, v.Decision, reasonOf(v))
		}
	}
	for _, f := range []struct{ corpus, rules string }{
		{"strict", "rules-strict.toml"},
		{"permissive", "rules-permissive.toml"},
	} {
		var lines []corpusLine
		for _, l := range loadCorpus(t, "allowed") {
			if l.file == f.corpus {
				lines = append(lines, l)
			}
		}
		js := judge(t, diffPolicy(t, f.rules), f.rules, lines)
		declined := 0
		for _, j := range js {
			if !j.accepted {
				declined++
				t.Logf("false decline (%s): %s: %s", f.rules, j.corpusLine, reasonOf(j.verdict))
			}
		}
		summary := fmt.Sprintf("allowed corpus %s.txt with %s: %d lines, %d declined (%.1f%% false declines)",
			f.corpus, f.rules, len(js), declined, 100*float64(declined)/float64(max(1, len(js))))
		t.Log(summary)
		fmt.Println(summary)
	}
}

func reasonOf(v Verdict) string {
	if v.Analysis != nil && v.Analysis.Reason != "" {
		return v.Analysis.Reason
	}
	if v.Rule != "" {
		return "rule " + v.Rule
	}
	return "no rule matched"
}

// TestDifferential runs every line of the corpora that either rules file
// accepts under bash and requires the trace to match the analysis exactly.
func TestDifferential(t *testing.T) {
	tr := newTracer(t)
	var js []judged
	all := append(loadCorpus(t, "allowed"), loadCorpus(t, "evasion")...)
	for _, rules := range []string{"rules-strict.toml", "rules-permissive.toml"} {
		js = append(js, judge(t, diffPolicy(t, rules), rules, all)...)
	}
	reportDifferential(t, "differential", len(all), differential(t, tr, js), knownFailing(t))
}

// reportDifferential fails the test for each violation and prints the
// summary line.
func reportDifferential(t testing.TB, what string, lines int, res []diffResult, known map[string]bool) {
	t.Helper()
	violations, knownBad := 0, 0
	for _, r := range res {
		switch {
		case r.err != nil:
			violations++
			t.Errorf("%s (%s): the run cannot be judged: %v", r.j.corpusLine, r.j.rules, r.err)
		case len(r.violations) > 0 && known[r.j.text]:
			knownBad++
			t.Logf("KNOWN FAILING (violation): %s (%s): %s", r.j.corpusLine, r.j.rules, strings.Join(r.violations, "; "))
		case len(r.violations) > 0:
			violations++
			t.Errorf("violation: %s (%s): commands %q: %s", r.j.corpusLine, r.j.rules, commandsOf(r.j.verdict.Analysis), strings.Join(r.violations, "; "))
		}
	}
	summary := fmt.Sprintf("%s: %d lines, %d accepted and executed under bash, %d violations", what, lines, len(res), violations)
	if knownBad > 0 {
		summary += fmt.Sprintf(" (and %d known failing)", knownBad)
	}
	t.Log(summary)
	fmt.Println(summary)
}
