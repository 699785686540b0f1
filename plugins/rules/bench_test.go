package rules

// Resources (issue 14): a wrapper followed by 100,000 arguments, in
// process, is declined in under 100 ms and grows the host's RSS by less
// than 50 MB. BenchmarkHugeWrapper shows the figures; the tests below
// check the decisions, not the time.

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
)

// hugeArgs is the number of arguments after the wrapper.
const hugeArgs = 100_000

// hugeLines are the lines of the resource benchmark: a wrapper, 100,000
// arguments, and a command the strict rules file would accept alone.
func hugeLines() map[string]string {
	args := strings.Repeat("x ", hugeArgs)
	return map[string]string{
		"sudo":      "sudo " + args + "ls",
		"env":       "env " + strings.Repeat("A=1 ", hugeArgs) + "ls",
		"env-chain": strings.Repeat("env ", hugeArgs) + "ls",
		"nice":      "nice " + args + "ls",
	}
}

// procStatusKB reads a field of /proc/self/status in KiB (0 if absent).
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// resetPeakRSS resets the kernel's peak RSS of this process (VmHWM);
// it reports whether it could.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// BenchmarkHugeWrapper evaluates a wrapper followed by 100,000 arguments
// with the strict rules file, in process. Besides ns/op it reports the
// bytes allocated per evaluation (MB-alloc/op), the growth of the live
// heap (MB-heap-growth) and the growth of the process's peak RSS over its
// RSS before the loop (MB-rss-growth; Linux). The bounds: under
// 100 ms (1e8 ns/op) and under 50 MB of RSS growth.
func BenchmarkHugeWrapper(b *testing.B) {
	strict := diffPolicy(b, "rules-strict.toml")
	for name, line := range hugeLines() {
		b.Run(name, func(b *testing.B) {
			req := &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			peakOK := resetPeakRSS()
			rss0 := procStatusKB("VmRSS")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				v := strict.Evaluate(context.Background(), req)
				if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
					b.Fatalf("%s followed by %d arguments was accepted", name, hugeArgs)
				}
			}
			b.StopTimer()
			hwm := procStatusKB("VmHWM")
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "MB-alloc/op")
			b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/1e6, "MB-heap-growth")
			if peakOK && hwm > 0 {
				b.ReportMetric(float64(hwm-rss0)/1024, "MB-rss-growth")
			}
		})
	}
}

// TestHugeWrapperDeclined: each huge line is declined (not accepted, its
// analysis not vouched, with a reason), by the strict and the permissive
// rules files.
func TestHugeWrapperDeclined(t *testing.T) {
	for _, rules := range []string{"rules-strict.toml", "rules-permissive.toml"} {
		p := diffPolicy(t, rules)
		for name, line := range hugeLines() {
			v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
			if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
				t.Errorf("%s: %s with %d arguments: %s", rules, name, hugeArgs, v.Decision)
			}
			if v.Analysis == nil || v.Analysis.Vouched || v.Analysis.Reason == "" {
				t.Errorf("%s: %s with %d arguments: want a not-vouched analysis with a reason, got %+v", rules, name, hugeArgs, v.Analysis)
			}
		}
	}
}

// TestEvaluateCancelled: with its context cancelled, Evaluate returns a
// not-vouched, not-accepting verdict, for a line it would otherwise
// accept and for a huge one.
func TestEvaluateCancelled(t *testing.T) {
	p := diffPolicy(t, "rules-strict.toml")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	lines := []string{"ls -la", "ls && git status", "/bin/bash -lc 'git status'", hugeLines()["sudo"]}
	for _, line := range lines {
		v := p.Evaluate(ctx, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision == abi.Accept || v.Decision == abi.AcceptForSession {
			t.Errorf("%s: accepted with a cancelled context", clipLine(line))
		}
		if v.Analysis != nil && v.Analysis.Vouched {
			t.Errorf("%s: vouched with a cancelled context", clipLine(line))
		}
	}
	// The same lines with a live context: the first three are accepted, so
	// the declines above are the context's doing.
	for _, line := range lines[:3] {
		v := p.Evaluate(t.Context(), &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: "/work/proj"})
		if v.Decision != abi.Accept && v.Decision != abi.AcceptForSession {
			t.Errorf("%s: not accepted with a live context: %s", clipLine(line), reasonOf(v))
		}
	}
}
