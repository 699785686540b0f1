package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// Environment of the "firstturn" child.
const (
	envFirstTurnCodex = "CODEXHOST_BENCH_CODEX"
	envFirstTurnHome  = "CODEXHOST_BENCH_CODEX_HOME"
	envFirstTurnDir   = "CODEXHOST_BENCH_DIR"
	// envFirstTurnLoad is "overlap" (the plugins load while codex starts,
	// through host.Options.Prepare) or "before" (they load first, then
	// codex starts: the sequential start of the previous release).
	envFirstTurnLoad = "CODEXHOST_BENCH_LOAD"
	// envFirstTurnLazy is "1" for lazy loads (wasm.Options.Lazy, what
	// `codexhost run` does): Load returns with the recorded manifests and
	// the plugins load on while the turn starts.
	envFirstTurnLazy = "CODEXHOST_BENCH_LAZY"
)

// firstTurnVariants are the hosts BenchmarkFirstTurn starts, in the
// rotating order of its runs.
var firstTurnVariants = []struct {
	name    string
	plugins bool
	load    string
	lazy    bool
}{
	{"none", false, "overlap", false},
	{"plugins", true, "overlap", true},
	{"plugins-eager", true, "overlap", false},
	{"plugins-before", true, "before", false},
}

// BenchmarkFirstTurn is figure 3's start-to-turn figure, on the real
// codex: the time from a host's start (the exec of a host process) to its
// first turn request reaching the (fake) model, with no plugin ("none")
// and with the 4 cached Wasm plugins of BenchmarkHostStart: loaded lazily
// (wasm.Options.Lazy: Load returns with each plugin's recorded manifest,
// and the plugins load one at a time while codex starts and the turn
// runs; what `codexhost run` does, "plugins"), loaded at once while codex
// starts (host.Options.Prepare, "plugins-eager"), or before it starts
// ("plugins-before", what `codexhost run` did two releases ago); and the
// host process's peak RSS (VmHWM) once the turn has ended and every plugin
// has loaded, and the time from the start until they all have (ready-ms).
//
// One op is one run of each variant, in an order that rotates from op to
// op, so that the machine's drift falls on all of them alike. It reports
// the medians of the times and of the per-op ratios to "none".
func BenchmarkFirstTurn(b *testing.B) {
	// Each turn request's arrival, in order; the script answers at once.
	arrived := make(chan time.Time, 16)
	codex, home, work := realCodex(b, hosttest.ScriptFunc(func(*hosttest.ModelRequest) hosttest.Reply {
		select {
		case arrived <- time.Now():
		default:
		}
		return hosttest.Text("ok")
	}))
	// The guests go to files the child loads, and into the default
	// compilation cache, which the child uses: they are cached plugins.
	files := cachedStartPlugins(b)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	run := func(v int) (time.Duration, firstTurnResult) {
		variant := firstTurnVariants[v]
		guests := ""
		if variant.plugins {
			guests = strings.Join(files, string(os.PathListSeparator))
		}
		cmd := exec.Command(exe)
		lazy := ""
		if variant.lazy {
			lazy = "1"
		}
		cmd.Env = append(os.Environ(), envChild+"=firstturn", envGuests+"="+guests, envFirstTurnLoad+"="+variant.load, envFirstTurnLazy+"="+lazy,
			envFirstTurnCodex+"="+codex, envFirstTurnHome+"="+home, envFirstTurnDir+"="+work)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		for len(arrived) > 0 { // requests of an earlier run, if any
			<-arrived
		}
		t0 := time.Now()
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("first-turn child (%s): %v\n%s", variant.name, err, stderr.String())
		}
		var res firstTurnResult
		if err := json.Unmarshal(out, &res); err != nil {
			b.Fatalf("first-turn child (%s): %v: %s", variant.name, err, out)
		}
		select {
		case t := <-arrived:
			return t.Sub(t0), res
		default:
			b.Fatalf("first-turn child (%s): its turn never reached the model", variant.name)
			return 0, res
		}
	}
	times := make([][]float64, len(firstTurnVariants))  // ms, per variant
	ratios := make([][]float64, len(firstTurnVariants)) // to "none", per op
	hwm := make([][]float64, len(firstTurnVariants))
	readyMs := make([][]float64, len(firstTurnVariants))
	loadMs := make([][]float64, len(firstTurnVariants))
	startMs := make([][]float64, len(firstTurnVariants))
	op := 0
	for b.Loop() {
		got := make([]float64, len(firstTurnVariants))
		for k := range firstTurnVariants {
			v := (op + k) % len(firstTurnVariants)
			d, res := run(v)
			got[v] = float64(d) / 1e6
			hwm[v] = append(hwm[v], res.HWMMiB)
			loadMs[v] = append(loadMs[v], res.LoadMs)
			readyMs[v] = append(readyMs[v], res.ReadyMs)
			startMs[v] = append(startMs[v], res.StartMs)
		}
		for v := range firstTurnVariants {
			times[v] = append(times[v], got[v])
			ratios[v] = append(ratios[v], got[v]/got[0])
		}
		op++
	}
	for v, variant := range firstTurnVariants {
		b.ReportMetric(median(times[v]), variant.name+"-ms")
		b.ReportMetric(median(hwm[v]), variant.name+"-MiB-hwm")
		b.ReportMetric(median(startMs[v]), variant.name+"-start-ms")
		if variant.plugins {
			b.ReportMetric(median(loadMs[v]), variant.name+"-load-ms")
			b.ReportMetric(median(readyMs[v]), variant.name+"-ready-ms")
		}
		if v > 0 {
			b.ReportMetric(median(ratios[v]), variant.name+"-ratio")
		}
	}
}

// firstTurnResult is what the "firstturn" child prints.
type firstTurnResult struct {
	HWMMiB float64 // VmHWM at the end of the turn
	// LoadMs is how long loading the plugins took (until Load returned),
	// StartMs how long host.Start took (with the load, when it overlaps),
	// ReadyMs the time from the child's start until every plugin had
	// loaded (Plugin.Ready).
	LoadMs, StartMs, ReadyMs float64
}

// firstTurnChild is a host process: it loads the plugins of envGuests (in
// parallel, from the default compilation cache) while or before codex
// starts, as envFirstTurnLoad says, runs one turn and prints its peak RSS.
func firstTurnChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "first-turn child:", err)
		return 1
	}
	ctx := context.Background()
	t0 := time.Now()
	lazy := os.Getenv(envFirstTurnLazy) == "1"
	var files []string
	if g := os.Getenv(envGuests); g != "" {
		files = filepath.SplitList(g)
	}
	var rt *wasm.Runtime
	var ps []plugins.Plugin
	var res firstTurnResult
	load := func(ctx context.Context) (*host.Prepared, error) {
		t0 := time.Now()
		defer func() { res.LoadMs = float64(time.Since(t0)) / 1e6 }()
		if len(files) == 0 {
			return nil, nil
		}
		var err error
		if rt, err = wasm.NewRuntime(ctx, nil); err != nil {
			return nil, err
		}
		ps = make([]plugins.Plugin, len(files))
		errs := make([]error, len(files))
		var wg sync.WaitGroup
		for i, f := range files {
			wg.Go(func() {
				bin, err := os.ReadFile(f)
				if err != nil {
					errs[i] = err
					return
				}
				p, err := rt.Load(ctx, bin, &wasm.Options{Options: plugins.Options{Settings: settingsOf(i)}, Lazy: lazy})
				if err != nil {
					errs[i] = err
					return
				}
				ps[i] = p
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
		ch, err := chain.New(&chain.Options{Plugins: ps})
		if err != nil {
			return nil, err
		}
		return &host.Prepared{Handler: ch, Observers: []host.EventObserver{ch}}, nil
	}
	opts := &host.Options{Codex: os.Getenv(envFirstTurnCodex), CodexHome: os.Getenv(envFirstTurnHome), Dir: os.Getenv(envFirstTurnDir)}
	if os.Getenv(envFirstTurnLoad) == "before" {
		ready, err := load(ctx)
		if err != nil {
			return fail(err)
		}
		if ready != nil {
			opts.Handler, opts.Observers = ready.Handler, ready.Observers
		}
	} else {
		opts.Prepare = load
	}
	t1 := time.Now()
	c, err := host.Start(ctx, opts)
	if err != nil {
		return fail(err)
	}
	res.StartMs = float64(time.Since(t1)) / 1e6
	defer func() {
		_ = c.Close()
		_ = c.Wait()
		for _, p := range ps {
			if p != nil {
				_ = p.Close(ctx)
			}
		}
		if rt != nil {
			_ = rt.Close(ctx)
		}
	}()
	th, err := c.StartThread(ctx, &host.ThreadOptions{Cwd: opts.Dir})
	if err != nil {
		return fail(err)
	}
	t, err := c.StartTurn(ctx, th.ID, []host.Input{host.TextInput("hi")}, nil)
	if err != nil {
		return fail(err)
	}
	// As `codexhost run` does (its loadGate), the plugins load from here
	// on, those a call has not loaded already.
	ready := make(chan error, 1)
	go func() {
		for _, p := range ps {
			if err := p.(*wasm.Plugin).Ready(ctx); err != nil {
				ready <- err
				return
			}
		}
		res.ReadyMs = float64(time.Since(t0)) / 1e6
		ready <- nil
	}()
	if _, err := t.Wait(ctx); err != nil {
		return fail(err)
	}
	if err := <-ready; err != nil {
		return fail(err)
	}
	res.HWMMiB = hwmMB() * 1e6 / (1 << 20)
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	return 0
}
