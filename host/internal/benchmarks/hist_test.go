package benchmarks

import (
	"math/bits"
	"testing"
	"time"
)

// A hist is a log-linear latency histogram with 1/128 relative precision
// (under 0.8% error). Recording allocates nothing, so it can run inside a
// benchmark loop without adding to B/op.
type hist struct {
	counts [histSub * 40]uint64
	n      uint64
}

const histSub = 128

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - 8 // v>>e is in [128, 256)
	return histSub + e*histSub + int(v>>e) - histSub
}

// histValue is the middle of bucket i.
func histValue(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := (i - histSub) / histSub
	m := uint64(i-histSub-e*histSub) + histSub
	return m<<e + (uint64(1)<<e)/2
}

func (h *hist) record(d time.Duration) {
	v := uint64(max(d, 0))
	i := histIndex(v)
	if i >= len(h.counts) {
		i = len(h.counts) - 1
	}
	h.counts[i]++
	h.n++
}

// quantile returns the q-quantile (0 < q <= 1) of the recorded values.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(histValue(i))
		}
	}
	return time.Duration(histValue(len(h.counts) - 1))
}

// report adds the median and the 99th percentile to b's results, in
// nanoseconds: benchstat reads them as units "p50-ns" and "p99-ns".
func (h *hist) report(b *testing.B) {
	b.ReportMetric(float64(h.quantile(0.50)), "p50-ns")
	b.ReportMetric(float64(h.quantile(0.99)), "p99-ns")
}

func TestHist(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, 1000 * time.Microsecond}} {
		got := h.quantile(tc.q)
		if diff := float64(got-tc.want) / float64(tc.want); diff > 0.01 || diff < -0.01 {
			t.Errorf("quantile(%v) = %v, want %v ±1%%", tc.q, got, tc.want)
		}
	}
	for _, v := range []uint64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 1<<40 + 12345} {
		got := histValue(histIndex(v))
		if d := float64(got) - float64(v); d > float64(v)/128+1 || -d > float64(v)/128+1 {
			t.Errorf("bucket of %d is centred on %d", v, got)
		}
	}
}
