package prom

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRegistryFormat(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("x_total", "A counter\\with \"quotes\"\nand a newline.", "a", "b")
	c.With("1", `q"uo\te`+"\n").Add(2)
	c.With("0", "z").Inc()
	g := r.Gauge("g", "A gauge.")
	g.With().Set(1.5)
	h := r.Histogram("h_seconds", "A histogram.", []float64{0.1, 1}, "k")
	h.With("v").Observe(0.05)
	h.With("v").Observe(0.1)
	h.With("v").Observe(0.5)
	h.With("v").Observe(7)
	r.GaugeFunc("f", "A func.", []string{"n"}, func(emit func(float64, ...string)) {
		emit(2, "b")
		emit(1, "a")
	})
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	assert.Equal(t, `# HELP x_total A counter\\with "quotes"\nand a newline.
# TYPE x_total counter
x_total{a="0",b="z"} 1
x_total{a="1",b="q\"uo\\te\n"} 2
# HELP g A gauge.
# TYPE g gauge
g 1.5
# HELP h_seconds A histogram.
# TYPE h_seconds histogram
h_seconds_bucket{k="v",le="0.1"} 2
h_seconds_bucket{k="v",le="1"} 3
h_seconds_bucket{k="v",le="+Inf"} 4
h_seconds_sum{k="v"} 7.65
h_seconds_count{k="v"} 4
# HELP f A func.
# TYPE f gauge
f{n="a"} 1
f{n="b"} 2
`, b.String())

	assert.Panics(t, func() { r.Counter("x_total", "again") }, "duplicate")
	assert.Panics(t, func() { r.Counter("bad-name", "x") })
	assert.Panics(t, func() { r.Counter("ok_total", "x", "le") })
	assert.Panics(t, func() { c.With("only one") })
}
