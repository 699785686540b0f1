// Command benchtab runs codexhost's benchmarks (package benchmarks, one
// `go test -bench` per group of figures) and prints one table: each figure,
// its value, its floor, the ratio, the target and whether it is met. It is
// what `make bench` runs.
//
//	go run ./host/internal/benchmarks/benchtab [-out .cache/bench] [-quick]
//
// The raw `go test` output of every run is kept in -out (bench-*.txt, all
// of it in bench.txt), in the format benchstat reads, so that two runs can
// be compared with `benchstat old.txt new.txt`. The table goes to stdout
// and to -out/table.md.
//
// Ratios are computed from figures measured in the same run, so they hold
// on a shared, noisy machine where absolute times drift. Each figure is
// the median of its samples (-count).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

const pkg = "./host/internal/benchmarks"

// A run is one `go test -bench` invocation.
type run struct {
	name  string // file name part
	bench string // -bench regexp
	time  string // -benchtime
	count int
	cpu   string // -cpu, or "" for GOMAXPROCS
}

// runs are the invocations of a full table; quick shrinks them.
func runs(quick bool) []run {
	rs := []run{
		{"approval", "^BenchmarkApproval$", "1s", 3, ""},
		{"approval-wire", "^BenchmarkApprovalWire$", "10x", 3, ""},
		{"delta-wire", "^BenchmarkDeltaWire$", "10x", 3, ""},
		{"package-init", "^BenchmarkPackageInit$", "20x", 1, ""},
		{"pipeline", "^BenchmarkPipeline$/^(none|builtin|wasm)$", "3x", 3, "1"},
		{"pipeline-unbatched", "^BenchmarkPipeline$/^(wasm-nomerge|wasm-batch1)$", "1x", 1, "1"},
		{"render-latency", "^BenchmarkRenderLatency$", "1s", 3, ""},
		{"load", "^BenchmarkLoad$", "1x", 3, ""},
		{"host-start", "^(BenchmarkHostStart|BenchmarkInstance)$", "3x", 3, ""},
		{"first-turn", "^BenchmarkFirstTurn$", "15x", 1, ""},
		{"process-start", "^BenchmarkProcessStart$", "20x", 3, ""},
		{"memory", "^BenchmarkMemory$", "1x", 1, ""},
		{"threads", "^BenchmarkConcurrentThreads$", "5x", 3, ""},
		{"stalled", "^BenchmarkStalledConsumer$", "1x", 3, ""},
		{"real-turn", "^BenchmarkRealTurn$", "16x", 1, ""},
		{"plugin-call", "^BenchmarkPluginCall$", "1s", 3, ""},
		{"decision-log", "^BenchmarkDecisionLog$", "1s", 3, ""},
	}
	if quick {
		for i := range rs {
			rs[i].count = 1
			if strings.HasSuffix(rs[i].time, "s") {
				rs[i].time = "100x"
			} else if rs[i].time != "1x" {
				rs[i].time = "2x"
			}
		}
	}
	return rs
}

func main() { os.Exit(run1(os.Args[1:], os.Stdout, os.Stderr)) }

func run1(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtab", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join(".cache", "bench"), "directory for the raw results and the table")
	quick := fs.Bool("quick", false, "one short sample of each figure (a check that everything runs, not a measurement)")
	parse := fs.String("parse", "", "print the table of an existing bench.txt instead of running the benchmarks")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	start := time.Now()
	m := machine()
	var raw []byte
	if *parse != "" {
		b, err := os.ReadFile(*parse)
		if err != nil {
			fmt.Fprintln(stderr, "benchtab:", err)
			return 1
		}
		raw = b
	} else {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintln(stderr, "benchtab:", err)
			return 1
		}
		var all bytes.Buffer
		for _, r := range runs(*quick) {
			b, err := goTest(r, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "benchtab: %s: %v\n", r.name, err)
				return 1
			}
			if err := os.WriteFile(filepath.Join(*out, "bench-"+r.name+".txt"), b, 0o644); err != nil {
				fmt.Fprintln(stderr, "benchtab:", err)
				return 1
			}
			all.Write(b)
		}
		raw = all.Bytes()
		if err := os.WriteFile(filepath.Join(*out, "bench.txt"), raw, 0o644); err != nil {
			fmt.Fprintln(stderr, "benchtab:", err)
			return 1
		}
	}
	res := parseResults(raw)
	var table bytes.Buffer
	fmt.Fprintf(&table, "Machine: %s\n", m)
	if *parse == "" {
		fmt.Fprintf(&table, "Run: %s, %s in all; load average after: %s\n\n", start.UTC().Format("2006-01-02 15:04 MST"), time.Since(start).Round(time.Second), loadavg())
	} else {
		table.WriteString("\n")
	}
	failed := writeTable(&table, res)
	stdout.Write(table.Bytes())
	if *parse == "" {
		_ = os.WriteFile(filepath.Join(*out, "table.md"), table.Bytes(), 0o644)
		fmt.Fprintf(stderr, "benchtab: raw results in %s (benchstat format)\n", filepath.Join(*out, "bench.txt"))
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "benchtab: %d target(s) missed\n", failed)
	}
	return 0
}

// goTest runs one invocation and returns its output (also copied to
// stderr as it comes).
func goTest(r run, stderr io.Writer) ([]byte, error) {
	args := []string{"test", "-run", "^$", "-bench", r.bench, "-benchmem", "-benchtime", r.time,
		"-count", strconv.Itoa(r.count), "-timeout", "20m"}
	if r.cpu != "" {
		args = append(args, "-cpu", r.cpu)
	}
	args = append(args, pkg)
	fmt.Fprintf(stderr, "benchtab: go %s\n", strings.Join(args, " "))
	cmd := exec.Command("go", args...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, stderr)
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return out.Bytes(), err
	}
	return out.Bytes(), nil
}

// results maps a benchmark name (without the -GOMAXPROCS suffix) to its
// samples, each a map from unit to value.
type results map[string][]map[string]float64

func parseResults(raw []byte) results {
	res := results{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		s := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			s[f[i+1]] = v
		}
		res[name] = append(res[name], s)
	}
	return res
}

// get returns the median of unit over name's samples, and whether there
// was any.
func (r results) get(name, unit string) (float64, bool) {
	var vs []float64
	for _, s := range r[name] {
		if v, ok := s[unit]; ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2], true
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2, true
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("%d CPUs (%s), %s/%s, %s, load average before: %s", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, goVersion, loadavg())
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
