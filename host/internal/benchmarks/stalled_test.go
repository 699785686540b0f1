package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// The stalled consumer: the fake app-server (child mode "stream") writes
// the recorded turn of figure 2 with stalledDeltas deltas as fast as the
// pipe takes it, while the host's consumer reads nothing for stalledFor;
// then it reads every event. The client runs in a child process of its
// own ("stalled") and reports its peak RSS (VmHWM) at the end of the
// stall and at the end of the turn.
var stalledDeltas = 1_000_000

const stalledFor = time.Second

func init() {
	if smoke {
		stalledDeltas = 20_000
	}
}

// Environment of the "stalled" child.
const (
	envStalledDeltas = "CODEXHOST_BENCH_STALLED_DELTAS"
	// envQueuedBytes sets host.Options.MaxQueuedBytes (default: host's).
	envQueuedBytes = "CODEXHOST_BENCH_QUEUED_BYTES"
)

type stalledResult struct {
	StalledMB, PeakMB float64 // VmHWM at the end of the stall, at the end of the turn
	Deltas            int     // deltas received, in order
	Observed          int     // events the router had delivered when the stall ended
}

// streamTurn writes the recorded turn in one go, buffered.
func streamTurn(f *fakeServer, threadID, _ string) {
	n, _ := strconv.Atoi(os.Getenv(envStalledDeltas))
	f.mu.Lock()
	defer f.mu.Unlock()
	w := bufio.NewWriterSize(f.out, 1<<16)
	writeTurnStream(w, threadID, n)
	w.Flush()
	f.out.Flush()
}

// countObserver counts the events the router has delivered.
type countObserver struct{ n chan int }

func (o *countObserver) ObserveEvent(*host.Event) {
	select {
	case v := <-o.n:
		o.n <- v + 1
	default:
	}
}

func stalledChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "stalled child:", err)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	n, _ := strconv.Atoi(os.Getenv(envStalledDeltas))
	queued, _ := strconv.Atoi(os.Getenv(envQueuedBytes))
	obs := &countObserver{n: make(chan int, 1)}
	obs.n <- 0
	ctx := context.Background()
	c, err := host.Start(ctx, &host.Options{Codex: exe, MaxQueuedBytes: queued,
		Env:       []string{envChild + "=stream", envStalledDeltas + "=" + strconv.Itoa(n)},
		Observers: []host.EventObserver{obs}})
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	th, err := c.StartThread(ctx, nil)
	if err != nil {
		return fail(err)
	}
	turn, err := c.StartTurn(ctx, th.ID, []host.Input{host.TextInput("go")}, nil)
	if err != nil {
		return fail(err)
	}
	// The stall: a measured workload, not a synchronisation. The fake
	// writes faster than the host can queue, so the queues are full
	// within a few milliseconds of it.
	time.Sleep(stalledFor)
	res := stalledResult{StalledMB: hwmMB()}
	v := <-obs.n
	res.Observed = v
	obs.n <- v
	// The deltas are checked against the final text by hash: the check
	// must not hold a copy of the text itself.
	sum := fnv.New64a()
	for ev, err := range turn.Events(ctx) {
		if err != nil {
			return fail(err)
		}
		if ev.Kind == abi.EventAgentMessageDelta {
			if want := " " + deltaWords[res.Deltas%len(deltaWords)]; !strings.HasPrefix(ev.Delta, want) {
				return fail(fmt.Errorf("delta %d is %q, want %q", res.Deltas, ev.Delta, want))
			}
			res.Deltas++
			sum.Write([]byte(ev.Delta))
		}
		if ev.Kind == abi.EventItemCompleted {
			final := fnv.New64a()
			final.Write([]byte(ev.Item.Text))
			if final.Sum64() != sum.Sum64() {
				return fail(fmt.Errorf("the deltas do not add up to the final text"))
			}
		}
	}
	res.PeakMB = hwmMB()
	b, _ := json.Marshal(res)
	os.Stdout.Write(b)
	return 0
}

// hwmMB returns this process's peak resident set size (VmHWM) in MB
// (10^6 bytes, as the target states it).
func hwmMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb * 1024 / 1e6
		}
	}
	return 0
}

// BenchmarkStalledConsumer reports the peak RSS of a client whose consumer
// stalls on a stream of stalledDeltas deltas, with host's default
// MaxQueuedBytes (sub-benchmark "default") and with the bound of the
// previous release, 64 MiB of raw lines in the rpc inbox ("inbox-64MiB",
// MaxQueuedBytes 128 MiB). Every delta must
// arrive, in order.
func BenchmarkStalledConsumer(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		bytes int
	}{{"default", 0}, {"inbox-64MiB", 128 << 20}} {
		b.Run(bc.name, func(b *testing.B) {
			var res stalledResult
			for b.Loop() {
				cmd := exec.Command(exe)
				cmd.Env = append(os.Environ(), envChild+"=stalled", envStalledDeltas+"="+strconv.Itoa(stalledDeltas),
					envQueuedBytes+"="+strconv.Itoa(bc.bytes))
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("stalled child: %v\n%s", err, out)
				}
				if err := json.Unmarshal(out, &res); err != nil {
					b.Fatalf("stalled child: %v: %s", err, out)
				}
				if res.Deltas != stalledDeltas {
					b.Fatalf("%d deltas arrived, want %d", res.Deltas, stalledDeltas)
				}
			}
			b.ReportMetric(res.StalledMB, "MB-peak-rss-stalled")
			b.ReportMetric(res.PeakMB, "MB-peak-rss")
			b.ReportMetric(float64(res.Observed), "events-delivered-in-stall")
		})
	}
}
