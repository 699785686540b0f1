package hostile

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// maxGrowth bounds how much the host's peak RSS (VmHWM, reset before each
// guest through /proc/self/clear_refs) may exceed its RSS before the
// guest.
const maxGrowth = 100 << 20

// TestHostile runs every guest of the suite, one at a time (the deadlines
// are real: the guests run in parallel with nothing else of this test).
func TestHostile(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the suite reads /proc and kills process trees: Linux only")
	}
	rt, err := wasm.NewRuntime(t.Context(), nil)
	require.NoError(t, err)
	defer func() {
		start := time.Now()
		require.NoError(t, rt.Close(context.Background()))
		t.Logf("Runtime.Close: %v", time.Since(start))
	}()
	guests := Guests()
	warm(t, rt)
	// A plugin of the Go guest, loaded for the whole suite, keeps its
	// compiled module in the runtime: the loads of the Go guests share
	// it (as plugins loaded from the same bytes do).
	keep := Guest{Name: "go-keeper", Runtime: Wasm, Go: true, Stage: AtCall, Deadline: WasmCall, Settings: mode("")}
	kp, err := keep.Load(t.Context(), &Setup{Wasm: rt, Logger: slog.New(slog.DiscardHandler), TempDir: t.TempDir()})
	require.NoError(t, err)
	defer kp.Close(context.Background())

	var mu sync.Mutex
	counts := map[Class]int{}
	overshoot := map[Runtime]time.Duration{}
	for i := range guests {
		counts[guests[i].Class]++
	}
	// One guest at a time: the deadlines are real, and the host's memory
	// is measured for each.
	for i := range guests {
		g := &guests[i]
		t.Run(g.Runtime.String()+"/"+g.Name, func(t *testing.T) {
			over := runGuest(t, rt, g)
			mu.Lock()
			overshoot[g.Runtime] = max(overshoot[g.Runtime], over)
			mu.Unlock()
		})
	}

	// The host is still up: the runtime loads and runs a plugin.
	p, err := rt.Load(t.Context(), plugintest.GuestWasm(t, plugintest.GuestDeclineAllWAT), nil)
	require.NoError(t, err)
	resp, err := plugins.Call[abi.ApprovalResponse](t.Context(), p, abi.HookApproval, &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: "ls"})
	require.NoError(t, err)
	assert.Equal(t, abi.Decline, resp.Decision)

	classes := slices.Sorted(func(yield func(Class) bool) {
		for c := range counts {
			if !yield(c) {
				return
			}
		}
	})
	for _, c := range classes {
		t.Logf("%-28s %3d guests", c, counts[c])
	}
	t.Logf("%d guests; largest overshoot past a deadline: wasm %v, process %v", len(guests), overshoot[Wasm], overshoot[Process])
	assert.GreaterOrEqual(t, len(guests), 60)
}

// warm compiles the Go guest and builds its process binary before the
// timed runs: a first compile under the race detector can take longer
// than a start timeout (make warm fills the cache ahead of `make test`).
func warm(t *testing.T, rt *wasm.Runtime) {
	g := Guest{Go: true}
	m, err := g.Module()
	require.NoError(t, err)
	require.NoError(t, rt.Precompile(t.Context(), m))
	_, err = Binary()
	require.NoError(t, err)
}

// runGuest runs g's stage and checks its outcome; it returns how far past
// its deadline the stage ended (0 if it did not).
func runGuest(t *testing.T, rt *wasm.Runtime, g *Guest) time.Duration {
	logs := &logCheck{}
	s := &Setup{Wasm: rt, Logger: slog.New(logs), TempDir: t.TempDir()}
	require.NoError(t, g.Prepare())
	before := rss(t)
	resetPeak(t)

	var p plugins.Plugin
	var err error
	var elapsed time.Duration
	switch g.Stage {
	case AtLoad:
		start := time.Now()
		p, err = g.Load(t.Context(), s)
		elapsed = time.Since(start)
		if p != nil {
			defer p.Close(context.Background())
		}
	case AtCall:
		p, err = g.Load(t.Context(), s)
		require.NoError(t, err, "load")
		defer func() {
			start := time.Now()
			require.NoError(t, p.Close(context.Background()))
			// Close is bounded: 1 s of grace for a process plugin.
			assert.Less(t, time.Since(start), ProcessMargin+g.Margin(), "Close")
		}()
		for n := max(g.Calls, 1); n > 0; n-- {
			start := time.Now()
			_, err = g.Call(t.Context(), p)
			elapsed = time.Since(start)
		}
	}
	if cerr := g.Check(err); cerr != nil {
		t.Errorf("%s: %v", g.Name, cerr)
	}
	if err != nil && hasControl(strings.ReplaceAll(err.Error(), "\n", "")) {
		t.Errorf("the error carries raw control characters: %q", err)
	}
	t.Logf("%s (%s), %s: %v after %v", g.Name, g.Class, g.Want, err, elapsed.Round(time.Millisecond))

	margin := g.Margin()
	if raceEnabled {
		margin = g.RaceMargin()
	}
	if g.KnownLimit != "" {
		margin = 0
		t.Logf("%s: known limit: %s; it ended after %v", g.Name, g.KnownLimit, elapsed)
	}
	assert.LessOrEqual(t, elapsed, g.Deadline+margin, "the stage ends within its deadline (%v) + %v", g.Deadline, margin)
	growth := peak(t) - before
	limitRSS := int64(maxGrowth)
	if g.MaxRSSGrowth != 0 {
		limitRSS = g.MaxRSSGrowth
	}
	if raceEnabled {
		// The race detector's shadow memory doubles and more what the
		// host allocates (a guest's linear memory is Go memory).
		limitRSS = limitRSS * 5 / 2
	}
	assert.Less(t, growth, limitRSS, "peak RSS growth %d MiB", growth>>20)

	if g.Children {
		checkChild(t, g, s.TempDir)
	}
	for _, bad := range logs.unsafe() {
		t.Errorf("a log record carries raw control characters: %q", bad)
	}
	if n := logs.bytes(); n > 4<<20 {
		t.Errorf("%d bytes logged: the output budgets do not hold", n)
	}
	if g.KnownLimit != "" {
		return 0
	}
	return max(elapsed-g.Deadline, 0)
}

// checkChild checks that the child g started died with it, or, for one
// that escapes by design, kills it.
func checkChild(t *testing.T, g *Guest, tmp string) {
	b, err := os.ReadFile(g.PidFile(tmp))
	require.NoError(t, err, "the guest wrote its child's pid")
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	if g.Escapes {
		if !waitDead(t, pid, 0) {
			t.Logf("child %d escaped, as documented (a double-forked daemon); killing it", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return
	}
	assert.True(t, waitDead(t, pid, time.Second), "the guest's child %d outlived it", pid)
}

// rss returns the process's resident set size, in bytes.
func rss(t *testing.T) int64 { return status(t, "VmRSS:") }

// peak returns the process's peak resident set size since resetPeak.
func peak(t *testing.T) int64 { return status(t, "VmHWM:") }

func resetPeak(t *testing.T) {
	require.NoError(t, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0))
}

func status(t *testing.T, field string) int64 {
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// logCheck is a slog.Handler that keeps the records whose message or
// string attributes carry raw control characters (ESC, BEL, CR, C1...),
// and counts the bytes logged.
type logCheck struct {
	mu    sync.Mutex
	bad   []string
	n     int
	attrs []slog.Attr
}

func (l *logCheck) Enabled(context.Context, slog.Level) bool { return true }

func (l *logCheck) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any())
		return true
	}
	for _, a := range l.attrs {
		add(a)
	}
	r.Attrs(add)
	s := b.String()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n += len(s)
	if hasControl(s) {
		l.bad = append(l.bad, s)
	}
	return nil
}

func (l *logCheck) WithAttrs(as []slog.Attr) slog.Handler {
	// Shares the store; a handler with attributes reports into its parent.
	return &logChild{parent: l, attrs: as}
}

func (l *logCheck) WithGroup(string) slog.Handler { return l }

func (l *logCheck) unsafe() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.bad)
}

func (l *logCheck) bytes() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

type logChild struct {
	parent *logCheck
	attrs  []slog.Attr
}

func (c *logChild) Enabled(context.Context, slog.Level) bool { return true }
func (c *logChild) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.attrs...)
	return c.parent.Handle(ctx, r)
}
func (c *logChild) WithAttrs(as []slog.Attr) slog.Handler {
	return &logChild{parent: c.parent, attrs: append(slices.Clone(c.attrs), as...)}
}
func (c *logChild) WithGroup(string) slog.Handler { return c }

// hasControl reports whether s carries a byte or rune a terminal obeys:
// C0 controls but tab, DEL, C1 controls.
func hasControl(s string) bool {
	for _, r := range s {
		if (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return bytes.ContainsAny([]byte(s), "\x1b\x07\r")
}
