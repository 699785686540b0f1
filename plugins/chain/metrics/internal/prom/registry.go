// Package prom is a small Prometheus client: a registry of counters,
// gauges and histograms written in the text exposition format, version
// 0.0.4. It is internal: package metrics exposes measurements, not a
// metrics library.
package prom

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// maxLabels bounds the labels of one metric.
const maxLabels = 6

// ContentType is the media type of the Prometheus text exposition format
// that [Registry.ServeHTTP] writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// A Registry holds metrics and writes them in the Prometheus text format
// (version 0.0.4). Register every metric before the first scrape; the
// series of a metric (one per set of label values) are created on first
// use.
//
// A Registry is safe for concurrent use; counters, gauges and histograms
// are updated with atomics and never allocate once their series exists.
// Registering an invalid or duplicate metric name panics: names are
// constants, so that is a programming error.
type Registry struct {
	mu       sync.Mutex
	families []family
	names    map[string]bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{names: map[string]bool{}} }

// A family is one metric with all its series.
type family interface {
	write(w *bufio.Writer)
}

var nameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

func (r *Registry) register(name string, labels []string, f family) {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", name))
	}
	if len(labels) > maxLabels {
		panic(fmt.Sprintf("metrics: %s: more than %d labels", name, maxLabels))
	}
	for _, l := range labels {
		if !nameRE.MatchString(l) || strings.HasPrefix(l, "__") || strings.Contains(l, ":") || l == "le" {
			panic(fmt.Sprintf("metrics: %s: invalid label name %q", name, l))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] {
		panic(fmt.Sprintf("metrics: %s registered twice", name))
	}
	r.names[name] = true
	r.families = append(r.families, f)
}

// labelKey is the label values of one series.
type labelKey [maxLabels]string

func makeKey(n int, values []string) labelKey {
	if len(values) != n {
		panic(fmt.Sprintf("metrics: %d label values for %d labels", len(values), n))
	}
	var k labelKey
	copy(k[:], values)
	return k
}

// vec is the series of one metric, by label values.
type vec[T any] struct {
	name, help, typ string
	labels          []string
	mu              sync.RWMutex
	series          map[labelKey]*T
	newT            func() *T
}

func (v *vec[T]) with(values []string) *T {
	k := makeKey(len(v.labels), values)
	v.mu.RLock()
	s, ok := v.series[k]
	v.mu.RUnlock()
	if ok {
		return s
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if s, ok = v.series[k]; !ok {
		s = v.newT()
		v.series[k] = s
	}
	return s
}

// sorted returns the series sorted by label values, for stable output.
func (v *vec[T]) sorted() ([]labelKey, []*T) {
	v.mu.RLock()
	keys := make([]labelKey, 0, len(v.series))
	for k := range v.series {
		keys = append(keys, k)
	}
	v.mu.RUnlock()
	slices.SortFunc(keys, func(a, b labelKey) int { return slices.Compare(a[:], b[:]) })
	vals := make([]*T, len(keys))
	v.mu.RLock()
	for i, k := range keys {
		vals[i] = v.series[k]
	}
	v.mu.RUnlock()
	return keys, vals
}

func (v *vec[T]) header(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", v.name, escapeHelp(v.help), v.name, v.typ)
}

// A Counter is a monotonically increasing count.
type Counter struct{ n atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.n.Add(n) }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.n.Load() }

// A CounterVec is a counter with labels.
type CounterVec struct{ v vec[Counter] }

// Counter registers a counter. By convention its name ends in _total.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	cv := &CounterVec{v: vec[Counter]{name: name, help: help, typ: "counter", labels: labels,
		series: map[labelKey]*Counter{}, newT: func() *Counter { return new(Counter) }}}
	r.register(name, labels, cv)
	return cv
}

// With returns the series of these label values (in the order of the
// labels), creating it at zero.
func (cv *CounterVec) With(values ...string) *Counter { return cv.v.with(values) }

func (cv *CounterVec) write(w *bufio.Writer) {
	keys, vals := cv.v.sorted()
	cv.v.header(w)
	for i, k := range keys {
		writeSample(w, cv.v.name, "", cv.v.labels, k, "", "", strconv.FormatUint(vals[i].Value(), 10))
	}
}

// A Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Value returns the value.
func (g *Gauge) Value() float64 { return math.Float64frombits(g.bits.Load()) }

// A GaugeVec is a gauge with labels.
type GaugeVec struct{ v vec[Gauge] }

// Gauge registers a gauge.
func (r *Registry) Gauge(name, help string, labels ...string) *GaugeVec {
	gv := &GaugeVec{v: vec[Gauge]{name: name, help: help, typ: "gauge", labels: labels,
		series: map[labelKey]*Gauge{}, newT: func() *Gauge { return new(Gauge) }}}
	r.register(name, labels, gv)
	return gv
}

// With returns the series of these label values, creating it at zero.
func (gv *GaugeVec) With(values ...string) *Gauge { return gv.v.with(values) }

func (gv *GaugeVec) write(w *bufio.Writer) {
	keys, vals := gv.v.sorted()
	gv.v.header(w)
	for i, k := range keys {
		writeSample(w, gv.v.name, "", gv.v.labels, k, "", "", formatFloat(vals[i].Value()))
	}
}

// gaugeFunc is a gauge whose series are computed at each scrape.
type gaugeFunc struct {
	name, help string
	labels     []string
	collect    func(emit func(value float64, labelValues ...string))
}

// GaugeFunc registers a gauge whose series collect reports at each scrape,
// by calling emit once per series. Use it for state that lives elsewhere
// (a plugin's status); collect must be safe for concurrent use.
func (r *Registry) GaugeFunc(name, help string, labels []string, collect func(emit func(value float64, labelValues ...string))) {
	r.register(name, labels, &gaugeFunc{name: name, help: help, labels: labels, collect: collect})
}

func (g *gaugeFunc) write(w *bufio.Writer) {
	type sample struct {
		k labelKey
		v float64
	}
	var samples []sample
	g.collect(func(v float64, values ...string) {
		samples = append(samples, sample{makeKey(len(g.labels), values), v})
	})
	slices.SortStableFunc(samples, func(a, b sample) int { return slices.Compare(a.k[:], b.k[:]) })
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s gauge\n", g.name, escapeHelp(g.help), g.name)
	for _, s := range samples {
		writeSample(w, g.name, "", g.labels, s.k, "", "", formatFloat(s.v))
	}
}

// A Histogram counts observations in buckets.
type Histogram struct {
	upper  []float64       // bucket upper bounds, ascending, without +Inf
	counts []atomic.Uint64 // per bucket (not cumulative); the last is +Inf
	sum    atomic.Uint64   // float64 bits
}

// Observe records one observation. It does not allocate.
func (h *Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.upper, v) // the first bucket with v <= upper
	h.counts[i].Add(1)
	for {
		old := h.sum.Load()
		if h.sum.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Count returns the number of observations.
func (h *Histogram) Count() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// Sum returns the sum of the observations.
func (h *Histogram) Sum() float64 { return math.Float64frombits(h.sum.Load()) }

// A HistogramVec is a histogram with labels.
type HistogramVec struct {
	v     vec[Histogram]
	upper []float64
}

// Histogram registers a histogram with these bucket upper bounds
// (ascending; +Inf is implied).
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	if !slices.IsSorted(buckets) || len(buckets) == 0 {
		panic(fmt.Sprintf("metrics: %s: buckets must be ascending and not empty", name))
	}
	upper := slices.Clone(buckets)
	hv := &HistogramVec{upper: upper, v: vec[Histogram]{name: name, help: help, typ: "histogram", labels: labels,
		series: map[labelKey]*Histogram{},
		newT: func() *Histogram {
			return &Histogram{upper: upper, counts: make([]atomic.Uint64, len(upper)+1)}
		}}}
	r.register(name, labels, hv)
	return hv
}

// With returns the series of these label values, creating it empty.
func (hv *HistogramVec) With(values ...string) *Histogram { return hv.v.with(values) }

func (hv *HistogramVec) write(w *bufio.Writer) {
	keys, vals := hv.v.sorted()
	hv.v.header(w)
	for i, k := range keys {
		h := vals[i]
		// Read the buckets once; _count is their total, so it always
		// equals the +Inf bucket.
		var cum uint64
		for b := range h.counts {
			cum += h.counts[b].Load()
			le := "+Inf"
			if b < len(h.upper) {
				le = formatFloat(h.upper[b])
			}
			writeSample(w, hv.v.name, "_bucket", hv.v.labels, k, "le", le, strconv.FormatUint(cum, 10))
		}
		writeSample(w, hv.v.name, "_sum", hv.v.labels, k, "", "", formatFloat(h.Sum()))
		writeSample(w, hv.v.name, "_count", hv.v.labels, k, "", "", strconv.FormatUint(cum, 10))
	}
}

// writeSample writes one line: name+suffix{labels,extra="value"} value.
func writeSample(w *bufio.Writer, name, suffix string, labels []string, k labelKey, extraName, extraValue, value string) {
	w.WriteString(name)
	w.WriteString(suffix)
	if len(labels) > 0 || extraName != "" {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l)
			w.WriteString(`="`)
			w.WriteString(escapeLabel(k[i]))
			w.WriteByte('"')
		}
		if extraName != "" {
			if len(labels) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extraName)
			w.WriteString(`="`)
			w.WriteString(extraValue)
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(value)
	w.WriteByte('\n')
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteText writes every metric in the Prometheus text format, in
// registration order.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	fams := slices.Clone(r.families)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

// ServeHTTP writes the metrics (GET or HEAD only).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", ContentType)
	if req.Method == http.MethodHead {
		return
	}
	_ = r.WriteText(w)
}
