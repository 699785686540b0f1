package benchmarks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// newRuntime returns a Wasm runtime with its compilation cache in dir,
// closed with tb.
func newRuntime(tb testing.TB, dir string) *wasm.Runtime {
	tb.Helper()
	rt, err := wasm.NewRuntime(context.Background(), &wasm.RuntimeOptions{CacheDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// BenchmarkLoad is figure 3's compile figure, for the policy guest in a new
// runtime: "compile-cold" compiles it with an empty compilation cache (a
// first start), "compile-cached" takes it from the default, warm cache
// (every later start: the cache is on disk), both with Runtime.Precompile;
// "load-cached" is a whole Load from the warm cache: the cache hit and the
// first instance (instantiate, initialize, describe, configure). One op is
// one compile or load.
func BenchmarkLoad(b *testing.B) {
	var bin []byte
	if smoke {
		bin = plugintest.GuestWasm(b, plugintest.GuestDeclineAllWAT)
	} else {
		bin = plugintest.BuildGoGuest(b, policyGuest)
	}
	ctx := context.Background()
	// Loaded into the shared runtime, it is in the default cache.
	p, err := wasmRuntime(b).Load(ctx, bin, nil)
	if err != nil {
		b.Fatal(err)
	}
	_ = p.Close(ctx)
	warm := wasm.DefaultCacheDir()
	for _, tc := range []struct {
		name string
		dir  func() string
		load bool
	}{
		{"compile-cold", func() string { return b.TempDir() }, false},
		{"compile-cached", func() string { return warm }, false},
		{"load-cached", func() string { return warm }, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				rt := newRuntime(b, tc.dir())
				b.StartTimer()
				var err error
				if tc.load {
					_, err = rt.Load(ctx, bin, nil)
				} else {
					err = rt.Precompile(ctx, bin)
				}
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				_ = rt.Close(ctx)
				b.StartTimer()
			}
			b.ReportMetric(float64(len(bin))/1e6, "MB-module")
		})
	}
}

// startPlugins are the four plugins of a host start: an approval policy,
// the shipped rule policy, the exec renderer and a tool plugin.
var startPlugins = []struct {
	dir      string
	settings string
}{
	{policyGuest, ""},
	{rulesDir, `{"rules":"[[rule]]\nname = \"no-rm\"\ndecision = \"decline\"\n[rule.match]\nprogram = [\"rm\", \"rmdir\"]\n\n[[rule]]\nname = \"git-read\"\ndecision = \"accept\"\n[rule.match]\nargv_prefix = [\"git\", \"status\"]\n"}`},
	{execRenderDir, ""},
	{toolDir, ""},
}

// BenchmarkHostStart is figure 3's start figure: what a host does before
// it can start codex with 4 Wasm plugins whose compiled code is in the
// (warm) compilation cache: create the runtime, load the plugins, build
// the chain and the renderer. "sequential" loads one plugin after the
// other, "parallel" all at once (Runtime.Load is safe for concurrent use).
// One op is one start.
func BenchmarkHostStart(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "sequential"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) { benchmarkHostStart(b, parallel) })
	}
}

func benchmarkHostStart(b *testing.B, parallel bool) {
	ctx := context.Background()
	// The default cache, as a host uses it; loading each plugin into the
	// shared runtime first makes sure it is warm.
	warm := wasm.DefaultCacheDir()
	bins := make([][]byte, len(startPlugins))
	opts := make([]*wasm.Options, len(startPlugins))
	for i, sp := range startPlugins {
		bins[i] = plugintest.BuildGoGuest(b, sp.dir)
		opts[i] = &wasm.Options{Options: plugins.Options{Settings: settingsOf(i)}}
		loadWasm(b, sp.dir, opts[i])
	}
	start := func() (*wasm.Runtime, *chain.Chain) {
		rt := newRuntime(b, warm)
		ps := make([]plugins.Plugin, len(bins))
		errs := make([]error, len(bins))
		var wg sync.WaitGroup
		for i := range bins {
			load := func() {
				var p *wasm.Plugin
				p, errs[i] = rt.Load(ctx, bins[i], opts[i])
				ps[i] = p
			}
			if parallel {
				wg.Go(load)
			} else {
				load()
			}
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		ch, err := chain.New(&chain.Options{Plugins: ps})
		if err != nil {
			b.Fatal(err)
		}
		return rt, ch
	}
	for b.Loop() {
		rt, r := start()
		b.StopTimer()
		_ = r.Close()
		_ = rt.Close(ctx)
		b.StartTimer()
	}
}

// BenchmarkInstance is figure 3's instance figure: creating one more
// instance of a compiled plugin (instantiate, the Go runtime's
// initialization, describe, configure), as the pool does on demand and
// after a failure. It loads the policy guest again in a runtime that
// already holds its compiled module. One op is one instance.
func BenchmarkInstance(b *testing.B) {
	ctx := context.Background()
	rt := newRuntime(b, b.TempDir())
	defer rt.Close(ctx)
	bin := plugintest.BuildGoGuest(b, policyGuest)
	first, err := rt.Load(ctx, bin, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer first.Close(ctx)
	for b.Loop() {
		p, err := rt.Load(ctx, bin, &wasm.Options{MaxInstances: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = p.Close(ctx)
		b.StartTimer()
	}
}

// BenchmarkProcessStart is figure 3's go-plugin figure: start the policy
// as a process plugin (spawn, handshake, mTLS, describe, configure) and
// get its first answer. One op is one start; Close is not timed.
func BenchmarkProcessStart(b *testing.B) {
	bin := plugintest.BuildProcessGuest(b, policyGuest)
	ctx := context.Background()
	req := approvalABIRequest(b)
	var h hist
	for b.Loop() {
		t0 := time.Now()
		p, err := process.Load(ctx, bin, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Call(ctx, abi.HookApproval, req); err != nil {
			b.Fatal(err)
		}
		h.record(time.Since(t0))
		b.StopTimer()
		_ = p.Close(ctx)
		b.StartTimer()
	}
	h.report(b)
}

// approvalABIRequest is the ABI form of approvalRequest.
func approvalABIRequest(tb testing.TB) []byte {
	tb.Helper()
	a, err := approvalRequest(tb).Approval()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(a.ApprovalRequest)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// cachedStartPlugins builds the start plugins, compiles them into the
// default compilation cache (which a child process uses) and writes them
// to files for the child to load: cached plugins. It returns the files.
func cachedStartPlugins(b *testing.B) []string {
	dir := b.TempDir()
	var files []string
	for i, sp := range startPlugins {
		// Lazy: the load records the manifest, for the lazy loads.
		if err := loadWasm(b, sp.dir, &wasm.Options{Options: plugins.Options{Settings: settingsOf(i)}, Lazy: true}).Ready(context.Background()); err != nil {
			b.Fatal(err)
		}
		f := filepath.Join(dir, fmt.Sprintf("%d.wasm", i))
		if err := os.WriteFile(f, plugintest.BuildGoGuest(b, sp.dir), 0o644); err != nil {
			b.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// BenchmarkMemory is figure 3's memory figure, measured in a fresh child
// process (the test binary in mode "memory") so that nothing else the
// benchmarks did is in its RSS: the host's RSS with the 4 plugins of
// BenchmarkHostStart loaded (one warm instance each) and, from 8 more
// instances of the policy, the memory one pooled instance adds. One op is
// one child.
func BenchmarkMemory(b *testing.B) {
	// Build the guests and compile them into the default compilation
	// cache, which the child uses: it only loads, from the files written
	// here.
	files := cachedStartPlugins(b)
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var rss, perInstance, base float64
	for b.Loop() {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), envChild+"=memory", envGuests+"="+strings.Join(files, string(os.PathListSeparator)))
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("memory child: %v\n%s", err, out)
		}
		var res memoryResult
		if err := json.Unmarshal(out, &res); err != nil {
			b.Fatalf("memory child: %v: %s", err, out)
		}
		rss, perInstance, base = res.RSS4, res.PerInstance, res.Base
	}
	b.ReportMetric(base, "MiB-rss-base")
	b.ReportMetric(rss, "MiB-rss-4plugins")
	b.ReportMetric(perInstance, "MiB/instance")
}

// envGuests lists the guest files of the memory child, in startPlugins'
// order.
const envGuests = "CODEXHOST_BENCH_GUESTS"

type memoryResult struct {
	Base, RSS4, PerInstance float64 // MiB
}

// memoryChild measures what BenchmarkMemory reports and prints it as JSON.
func memoryChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "memory child:", err)
		return 1
	}
	ctx := context.Background()
	res := memoryResult{Base: rssMiB()}
	var bins [][]byte
	for _, f := range filepath.SplitList(os.Getenv(envGuests)) {
		b, err := os.ReadFile(f)
		if err != nil {
			return fail(err)
		}
		bins = append(bins, b)
	}
	if len(bins) != len(startPlugins) {
		return fail(fmt.Errorf("%d guest files, want %d", len(bins), len(startPlugins)))
	}
	// The default cache, which BenchmarkMemory filled: no compiling here.
	rt, err := wasm.NewRuntime(ctx, nil)
	if err != nil {
		return fail(err)
	}
	req := approvalABIRequestFromFile()
	var ps []*wasm.Plugin
	for i, b := range bins {
		p, err := rt.Load(ctx, b, &wasm.Options{Options: plugins.Options{Settings: settingsOf(i)}})
		if err != nil {
			return fail(err)
		}
		ps = append(ps, p)
	}
	warmUp := func(p *wasm.Plugin) {
		for _, h := range p.Manifest().Hooks {
			for range 200 {
				switch h {
				case abi.HookApproval:
					_, _ = p.Call(ctx, h, req)
				case abi.HookEventRender:
					_, _ = p.Call(ctx, h, []byte(`{"events":[{"kind":"agentMessageDelta","method":"item/agentMessage/delta","seq":1,"itemId":"m","delta":"hi"}]}`))
				}
			}
		}
	}
	for _, p := range ps {
		warmUp(p)
	}
	res.RSS4 = rssMiB()
	// 8 more instances of the policy (plugins of one instance each,
	// sharing its compiled module), each warmed up like a pooled one.
	more := 8
	if smoke {
		more = 1
	}
	before := rssMiB()
	for range more {
		p, err := rt.Load(ctx, bins[0], &wasm.Options{MaxInstances: 1})
		if err != nil {
			return fail(err)
		}
		warmUp(p)
		ps = append(ps, p)
	}
	res.PerInstance = (rssMiB() - before) / float64(more)
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	_ = rt.Close(ctx)
	return 0
}

func settingsOf(i int) json.RawMessage {
	if s := startPlugins[i].settings; s != "" {
		return json.RawMessage(s)
	}
	return nil
}

func approvalABIRequestFromFile() []byte {
	params, err := os.ReadFile(filepath.Join("testdata", "command-approval.json"))
	if err != nil {
		panic(err)
	}
	a, err := host.NewRequest("item/commandExecution/requestApproval", params).Approval()
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(a.ApprovalRequest)
	return b
}

// rssMiB returns this process's resident set size in MiB, after a garbage
// collection that returns freed memory to the system: the steady state,
// not the garbage of loading (read buffers of the compilation cache).
func rssMiB() float64 {
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
