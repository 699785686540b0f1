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
