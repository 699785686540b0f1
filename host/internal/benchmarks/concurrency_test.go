package benchmarks

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// The shape of figure 4: concurrentThreads threads on one app-server
// connection, each running a turn of threadDeltas deltas and then
// threadApprovals command approvals, one after the other (codex waits for
// each answer), all threads at once.
var (
	concurrentThreads = 64
	threadApprovals   = 10
	threadDeltas      = 20
)

func init() {
	if smoke {
		concurrentThreads, threadApprovals = 8, 2
	}
}

// lockedHist is a hist for concurrent use.
type lockedHist struct {
	mu sync.Mutex
	h  hist
}

func (l *lockedHist) record(d time.Duration) {
	l.mu.Lock()
	l.h.record(d)
	l.mu.Unlock()
}

// BenchmarkConcurrentThreads is figure 4: the fake app-server (the test
// binary) plays 64 turns at once on one connection, each with deltas and
// approvals; the chain answers each approval with one plugin. approvals/s
// is the throughput; p50-ns and p99-ns are the latency of the hook, the
// host's handling of one approval (Chain.HandleRequest, including the wait
// for a free Wasm instance). One op is one round of 64 turns.
func BenchmarkConcurrentThreads(b *testing.B) {
	abs, err := filepath.Abs(filepath.Join("testdata", "command-approval.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, ap := range approvalPlugins {
		if ap.name == "inproc-sdk" {
			continue
		}
		b.Run(ap.name, func(b *testing.B) {
			ch, err := chain.New(&chain.Options{Plugins: []plugins.Plugin{ap.load(b)}})
			if err != nil {
				b.Fatal(err)
			}
			var lat lockedHist
			handler := timedApprovals{Chain: ch, lat: &lat}
			c := startFake(b, "threads", []string{
				fmt.Sprintf("%s=%d", envApprovals, threadApprovals),
				fmt.Sprintf("%s=%d", envDeltas, threadDeltas),
				envApprovalFile + "=" + abs,
			}, handler)
			ctx := context.Background()
			threads := make([]string, concurrentThreads)
			for i := range threads {
				th, err := c.StartThread(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				threads[i] = th.ID
			}
			round := func() {
				var wg sync.WaitGroup
				errs := make(chan error, len(threads))
				for _, id := range threads {
					wg.Go(func() {
						t, err := c.StartTurn(ctx, id, []host.Input{host.TextInput("go")}, nil)
						if err == nil {
							_, err = t.Wait(ctx)
						}
						if err != nil {
							errs <- err
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					b.Fatal(err)
				}
			}
			round() // warm up
			lat.mu.Lock()
			lat.h = hist{}
			lat.mu.Unlock()
			for b.Loop() {
				round()
			}
			n := float64(b.N * concurrentThreads * threadApprovals)
			b.ReportMetric(n/b.Elapsed().Seconds(), "approvals/s")
			lat.mu.Lock()
			if lat.h.n != uint64(n) {
				b.Fatalf("%d approvals answered, want %v", lat.h.n, n)
			}
			lat.h.report(b)
			lat.mu.Unlock()
		})
	}
}

// timedApprovals measures the chain's approval latency.
type timedApprovals struct {
	*chain.Chain
	lat *lockedHist
}

func (h timedApprovals) Approval(ctx context.Context, req *host.ApprovalRequest) (*abi.ApprovalResponse, error) {
	t0 := time.Now()
	resp, err := h.Chain.Approval(ctx, req)
	h.lat.record(time.Since(t0))
	return resp, err
}
