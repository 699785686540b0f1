package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
	// envFirstTurnLazy is "1" for lazy loads (wasm.Options.Lazy, what
	// `codexhost run` does): Load returns with the recorded manifests and
	// the plugins load on while the turn starts.
	envFirstTurnLazy = "CODEXHOST_BENCH_LAZY"
	// envFirstTurnAdmitted is "1" for a variant's admitted (see
	// firstTurnVariants).
	envFirstTurnAdmitted = "CODEXHOST_BENCH_ADMITTED"
)

// firstTurnVariants are the hosts BenchmarkFirstTurn starts, in the
// rotating order of its runs.
var firstTurnVariants = []struct {
	name string
	// guests are the indexes in startPlugins of the plugins it loads.
	guests []int
	lazy   bool
	// admitted wires the plugins as the handler only and holds their loads
	// until the turn has ended: the turn sees what admitting them costs,
	// and nothing else (no event is rendered, no request comes).
	admitted bool
}{
	{"none", nil, false, false},
	{"plugins", []int{0, 1, 2, 3}, true, false},
	{"plugins-norender", []int{0, 1, 3}, true, false},
	{"plugins-admitted", []int{0, 1, 2, 3}, true, true},
	{"plugins-eager", []int{0, 1, 2, 3}, false, false},
}

// BenchmarkFirstTurn is figure 3's start-to-turn figure, on the real
// codex: the time from a host's start (the exec of a host process) to its
// first turn request reaching the (fake) model, with no plugin ("none")
// and with the 4 cached Wasm plugins of BenchmarkHostStart: loaded lazily
// (wasm.Options.Lazy: Load returns with each plugin's recorded manifest;
// the renderer loads at the first event it renders, the others one at a
// time once the turn has started; what `codexhost run` does, "plugins"),
// the same without the Wasm renderer ("plugins-norender": a policy, the
// rule policy and a tool), the 4 admitted but neither called nor loaded
// before the turn request ("plugins-admitted": what admission alone
// costs), or loaded at once while codex starts (host.Options.Prepare,
// "plugins-eager"); and the host process's peak RSS (VmHWM) once the turn
// has ended and every plugin has loaded, and the time from the start until
// they all have (ready-ms).
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
		var guests []string
		for _, g := range variant.guests {
			guests = append(guests, files[g])
		}
		cmd := exec.Command(exe)
		lazy, admitted := "", ""
		if variant.lazy {
			lazy = "1"
		}
		if variant.admitted {
			admitted = "1"
		}
		cmd.Env = append(os.Environ(), envChild+"=firstturn", envGuests+"="+strings.Join(guests, string(os.PathListSeparator)),
			envFirstTurnLazy+"="+lazy, envFirstTurnAdmitted+"="+admitted,
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
		if len(variant.guests) > 0 {
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
// parallel, from the default compilation cache) while codex starts, lazily
// or not as envFirstTurnLazy says, runs one turn and prints its peak RSS.
func firstTurnChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "first-turn child:", err)
		return 1
	}
	ctx := context.Background()
	t0 := time.Now()
	lazy := os.Getenv(envFirstTurnLazy) == "1"
	admitted := os.Getenv(envFirstTurnAdmitted) == "1"
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
				// The file is named by its index in startPlugins.
				k, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(f), ".wasm"))
				if err != nil {
					errs[i] = err
					return
				}
				p, err := rt.Load(ctx, bin, &wasm.Options{Options: plugins.Options{Settings: settingsOf(k)}, Lazy: lazy})
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
		if admitted {
			return &host.Prepared{Handler: ch}, nil
		}
		return &host.Prepared{Handler: ch, Observers: []host.EventObserver{ch}}, nil
	}
	opts := &host.Options{Codex: os.Getenv(envFirstTurnCodex), CodexHome: os.Getenv(envFirstTurnHome), Dir: os.Getenv(envFirstTurnDir), Prepare: load}
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
	// on, those a call has not loaded already; with admitted, once the
	// turn has ended.
	ready := make(chan error, 1)
	turnDone := make(chan struct{})
	go func() {
		if admitted {
			<-turnDone
		}
		for _, p := range ps {
			if err := p.(*wasm.Plugin).Ready(ctx); err != nil {
				ready <- err
				return
			}
		}
		res.ReadyMs = float64(time.Since(t0)) / 1e6
		ready <- nil
	}()
	_, err = t.Wait(ctx)
	close(turnDone)
	if err != nil {
		<-ready
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
