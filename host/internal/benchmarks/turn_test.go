package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/host/internal/codexbin"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// realTurn is figure 5's turn, scripted on the fake model: a message in 40
// deltas with a command that needs approval, the command's run, then a
// closing message in 20 deltas.
func realTurn() hosttest.Script {
	return hosttest.Turn(
		hosttest.Text("I will look at the repository first, then summarize what I find in it for you.").InDeltas(40).
			And(hosttest.ExecCommand("echo benchmark")),
		hosttest.Text("The command printed benchmark; nothing else needs to be done here.").InDeltas(20),
	)
}

// A bareClient is the least a client of app-server can be: JSON-RPC
// written and read directly on its pipes, every approval accepted, no
// plugins, no rendering. It is figure 5's floor.
type bareClient struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	nextID int
}

func startBare(tb testing.TB, codex, home, work string) *bareClient {
	tb.Helper()
	cmd := exec.Command(codex, "app-server")
	cmd.Env = append(os.Environ(), "CODEX_HOME="+home)
	cmd.Dir = work
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &bareClient{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	tb.Cleanup(func() {
		_ = in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	c.call(tb, "initialize", map[string]any{"clientInfo": map[string]any{"name": "bare", "version": "0"},
		"capabilities": map[string]any{"experimentalApi": true}})
	c.send(tb, map[string]any{"method": "initialized"})
	return c
}

type bareMsg struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  json.RawMessage `json:"error"`
}

func (c *bareClient) send(tb testing.TB, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.in.Write(append(b, '\n')); err != nil {
		tb.Fatal(err)
	}
}

// next reads the next message, answering server requests (every approval
// accepted) on the way.
func (c *bareClient) next(tb testing.TB) *bareMsg {
	for {
		line, err := c.out.ReadBytes('\n')
		if err != nil {
			tb.Fatalf("bare client: read: %v", err)
		}
		var m bareMsg
		if err := json.Unmarshal(line, &m); err != nil {
			tb.Fatalf("bare client: %v: %s", err, line)
		}
		if m.Method != "" && m.ID != nil {
			switch {
			case strings.HasSuffix(m.Method, "/requestApproval"):
				c.send(tb, map[string]any{"id": m.ID, "result": map[string]any{"decision": "accept"}})
			default:
				c.send(tb, map[string]any{"id": m.ID, "error": map[string]any{"code": -32601, "message": "bare client: no " + m.Method}})
			}
			continue
		}
		return &m
	}
}

func (c *bareClient) call(tb testing.TB, method string, params any) json.RawMessage {
	c.nextID++
	id := c.nextID
	c.send(tb, map[string]any{"id": id, "method": method, "params": params})
	for {
		m := c.next(tb)
		if m.Method == "" && string(m.ID) == fmt.Sprint(id) {
			if m.Error != nil {
				tb.Fatalf("bare client: %s: %s", method, m.Error)
			}
			return m.Result
		}
	}
}

// turn runs one turn on a new thread and returns how long the turn took,
// from turn/start to turn/completed.
func (c *bareClient) turn(tb testing.TB, work, prompt string) time.Duration {
	var th struct {
		Thread struct {
			ID string `json:"id"`
		} `json:"thread"`
	}
	if err := json.Unmarshal(c.call(tb, "thread/start", map[string]any{"cwd": work}), &th); err != nil {
		tb.Fatal(err)
	}
	t0 := time.Now()
	c.call(tb, "turn/start", map[string]any{"threadId": th.Thread.ID, "input": []any{map[string]any{"type": "text", "text": prompt}}})
	for {
		m := c.next(tb)
		if m.Method == "turn/completed" {
			d := time.Since(t0)
			var p struct {
				Turn struct {
					Status string `json:"status"`
				} `json:"turn"`
			}
			_ = json.Unmarshal(m.Params, &p)
			if p.Turn.Status != "completed" {
				tb.Fatalf("bare client: turn %s: %s", p.Turn.Status, m.Params)
			}
			return d
		}
	}
}

// BenchmarkRealTurn is figure 5: the same scripted turn on the real,
// pinned codex with the fake model, driven by the bare client (A) and by
// codexhost with the shipped Wasm rule policy deciding the approval and
// the Wasm exec renderer rendering every event (B). Each has its own
// app-server; the turns alternate on new threads, A B, B A, A B, ... so
// that drift on a shared machine hits both alike. One op is one pair;
// overhead-% is the median over the pairs of (B-A)/A, with a bootstrap 95%
// confidence interval (the noise of a shared machine is far above 1%: read
// the interval). The wall time of a turn runs from turn/start to
// turn/completed (for codexhost: Turn.Wait, then the renderer's Flush: its
// output is written). critical-ms is codexhost's own time on the turn's
// critical path (the chain deciding the approval, the renderer's drain
// after turn/completed); bare-cpu-ms and codexhost-cpu-ms the CPU time the
// test process used per turn as each client, which competes with codex for
// the machine's cores.
func BenchmarkRealTurn(b *testing.B) {
	codex, home, work := realCodex(b, realTurn())
	const prompt = "look at the repository"

	bare := startBare(b, codex, home, work)

	policy := loadWasm(b, rulesDir, &wasm.Options{Options: plugins.Options{Settings: json.RawMessage(
		`{"rules":"[[rule]]\nname = \"echo\"\ndecision = \"accept\"\n[rule.match]\nprogram = \"echo\"\n"}`)}})
	renderer := loadWasm(b, execRenderDir, &wasm.Options{MaxInstances: 1})
	var rendered countingWriter
	r, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{renderer}, Render: chain.RenderOptions{Output: &rendered}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = r.Close() })
	var decided atomic.Int64 // the chain's time on this turn's approvals, ns
	ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{policy},
		OnDecision: func(rec *chain.DecisionRecord) { decided.Add(int64(rec.Latency)) }})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	c, err := host.Start(ctx, &host.Options{Codex: codex, CodexHome: home, Dir: work, Handler: ch, Observers: []host.EventObserver{r}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = c.Close()
		_ = c.Wait()
	})
	// critical is codexhost's own time on the turn's critical path: the
	// chain's answers to the approvals (codex waits for them) and the
	// renderer's drain after turn/completed.
	var critical []float64
	hostTurn := func() time.Duration {
		th, err := c.StartThread(ctx, &host.ThreadOptions{Cwd: work})
		if err != nil {
			b.Fatal(err)
		}
		decided.Store(0)
		t0 := time.Now()
		t, err := c.StartTurn(ctx, th.ID, []host.Input{host.TextInput(prompt)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		res, err := t.Wait(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tf := time.Now()
		if err := r.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t0)
		critical = append(critical, float64(time.Duration(decided.Load())+time.Since(tf))/1e6)
		if res.Status != host.TurnCompleted || !strings.Contains(res.Text, "printed benchmark") {
			b.Fatalf("codexhost turn %s: %q", res.Status, res.Text)
		}
		return d
	}
	// Warm up both (codex's first turn loads more).
	if !smoke {
		bare.turn(b, work, prompt)
		hostTurn()
	}
	var as, bs, over, cpuA, cpuB []float64
	critical = critical[:0]
	bareTurn := func() time.Duration {
		c0 := cpuTime()
		d := bare.turn(b, work, prompt)
		cpuA = append(cpuA, float64(cpuTime()-c0)/1e6)
		return d
	}
	cbTurn := func() time.Duration {
		c0 := cpuTime()
		d := hostTurn()
		cpuB = append(cpuB, float64(cpuTime()-c0)/1e6)
		return d
	}
	for b.Loop() {
		var a, h time.Duration
		if len(as)%2 == 0 {
			a = bareTurn()
			h = cbTurn()
		} else {
			h = cbTurn()
			a = bareTurn()
		}
		as = append(as, float64(a)/1e6)
		bs = append(bs, float64(h)/1e6)
		over = append(over, 100*float64(h-a)/float64(a))
	}
	if rendered.n == 0 {
		b.Fatal("the renderer wrote nothing")
	}
	b.ReportMetric(median(as), "bare-ms")
	b.ReportMetric(median(bs), "codexhost-ms")
	lo, hi := bootstrapMedian(over)
	b.ReportMetric(median(over), "overhead-%")
	b.ReportMetric(lo, "overhead-ci-lo-%")
	b.ReportMetric(hi, "overhead-ci-hi-%")
	b.ReportMetric(median(critical), "critical-ms")
	b.ReportMetric(median(cpuA), "bare-cpu-ms")
	b.ReportMetric(median(cpuB), "codexhost-cpu-ms")
}

// bootstrapMedian returns a 95% confidence interval of the median of xs
// (percentile bootstrap, fixed seed).
func bootstrapMedian(xs []float64) (lo, hi float64) {
	if len(xs) < 2 {
		return median(xs), median(xs)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	meds := make([]float64, 2000)
	s := make([]float64, len(xs))
	for i := range meds {
		for j := range s {
			s[j] = xs[rng.IntN(len(xs))]
		}
		meds[i] = median(s)
	}
	return quantile(meds, 0.025), quantile(meds, 0.975)
}

// cpuTime is the CPU time this process (the host, and the bare client:
// both run in it) has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 { return quantile(xs, 0.5) }

// quantile interpolates the q-quantile of xs.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}

// realCodex skips b without the real codex, and returns the codex binary
// to run (codexbin.Env's, else the pinned one) with a CODEX_HOME whose
// model is a fake playing script, closed when b ends, and a work
// directory.
func realCodex(b *testing.B, script hosttest.Script) (codex, home, work string) {
	e2e.RequireCodex(b)
	codex = codexbin.Pinned()
	if v := os.Getenv(codexbin.Env); v != "" {
		codex = v
	}
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = model.Close() })
	home, work = b.TempDir(), b.TempDir()
	if err := hosttest.WriteCodexHome(home, model.URL(), nil); err != nil {
		b.Fatal(err)
	}
	return codex, home, work
}
