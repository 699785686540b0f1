// Package metrics measures a codexhost host (plugin calls, decisions,
// plugin status, reloads; the process and the Go runtime) with the
// Prometheus client library, and serves them with its standard handler,
// in the OpenMetrics or the Prometheus text format.
//
//	m := metrics.NewHost(nil)
//	policy = m.Instrument(policy) // every call: count, errors, latency
//	ch, _ := chain.New(&chain.Options{Plugins: []plugins.Plugin{policy}, OnDecision: m.ObserveDecision})
//	m.SetStatus(ch.Status)        // plugin info and state at each scrape
//	srv, _ := metrics.Listen("127.0.0.1:9464", m, nil)
//	defer srv.Close()
//
// The metrics and their labels are listed in docs/operations.md. The
// series of a plugin's hooks are bound once, in [Host.Instrument], so that
// measuring a call costs two clock reads and a few atomic adds and does
// not allocate.
package metrics

import (
	"context"
	"errors"
	"github.com/codexhost/codexhost/plugins/chain"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain/audit"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// durationBuckets are the upper bounds, in seconds, of the latency
// histograms: from 50µs (a warm Wasm call) to 10s (beyond the default
// plugin timeout).
var durationBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Values of the outcome label of codexhost_plugin_calls_total.
const (
	OutcomeOK      = "ok"
	OutcomeError   = "error"
	OutcomeTimeout = "timeout"
)

// errorKinds are the values of the kind label of
// codexhost_plugin_errors_total, indexed by errorKind.
var errorKinds = [...]string{"plugin_error", "trap", "timeout", "memory", "bad_output", "too_large", "unavailable", "closed", "canceled", "other"}

const (
	kindPluginError = iota
	kindTrap
	kindTimeout
	kindMemory
	kindBadOutput
	kindTooLarge
	kindUnavailable
	kindClosed
	kindCanceled
	kindOther
)

// ErrorKind names why a plugin call failed, as the kind label of
// codexhost_plugin_errors_total does: plugin_error, trap, timeout,
// memory, bad_output, too_large, unavailable, closed, canceled or other.
func ErrorKind(err error) string { return errorKinds[errorKind(err)] }

// errorKind classifies a failed call.
func errorKind(err error) int {
	// errors.AsType, not errors.As: it does not move its target to the
	// heap, so a failed call does not allocate either.
	if ce, ok := errors.AsType[*plugins.CallError](err); ok {
		switch ce.Kind {
		case plugins.FailTrap:
			return kindTrap
		case plugins.FailTimeout:
			return kindTimeout
		case plugins.FailMemory:
			return kindMemory
		case plugins.FailBadOutput:
			return kindBadOutput
		case plugins.FailTooLarge:
			return kindTooLarge
		case plugins.FailUnavailable:
			return kindUnavailable
		}
		return kindOther
	}
	switch {
	case isABIError(err):
		return kindPluginError
	case errors.Is(err, plugins.ErrClosed):
		return kindClosed
	case errors.Is(err, context.DeadlineExceeded):
		return kindTimeout
	case errors.Is(err, context.Canceled):
		return kindCanceled
	}
	return kindOther
}

func isABIError(err error) bool {
	_, ok := errors.AsType[*abi.Error](err)
	return ok
}

// HostOptions configure [NewHost]. A nil *HostOptions means defaults.
type HostOptions struct {
	// NoRuntimeMetrics leaves out the process (process_*) and Go runtime
	// (go_*) collectors, which are registered by default.
	NoRuntimeMetrics bool
}

// Host is codexhost's set of metrics, in a prometheus.Registry of its own.
// It implements http.Handler: the standard promhttp handler, which
// negotiates the format (the OpenMetrics text format when the scraper asks
// for it, the Prometheus text format otherwise). All methods are safe for
// concurrent use.
type Host struct {
	reg     *prometheus.Registry
	handler http.Handler

	calls     *prometheus.CounterVec
	errs      *prometheus.CounterVec
	callDur   *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	decDur    *prometheus.HistogramVec
	answers   *prometheus.CounterVec
	disagree  *prometheus.CounterVec

	// live counts the instrumented plugins of each name not closed yet:
	// the series of a name go when its last one is closed.
	liveMu sync.Mutex
	live   map[string]int

	reloadsOnce sync.Once
	reloads     *Reloads
	status      atomic.Pointer[func() []chain.PluginStatus]
}

// NewHost registers codexhost's metrics, and unless opts say otherwise
// the process and Go runtime collectors.
func NewHost(opts *HostOptions) *Host {
	var o HostOptions
	if opts != nil {
		o = *opts
	}
	h := &Host{reg: prometheus.NewRegistry()}
	h.calls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexhost_plugin_calls_total",
		Help: "Plugin hook calls, by plugin, hook and outcome (ok, error, timeout)."}, []string{"plugin", "hook", "outcome"})
	h.errs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexhost_plugin_errors_total",
		Help: "Failed plugin hook calls, by plugin, hook and kind (plugin_error, trap, timeout, memory, bad_output, too_large, unavailable, closed, canceled, other)."},
		[]string{"plugin", "hook", "kind"})
	h.callDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "codexhost_plugin_call_duration_seconds",
		Help: "Latency of plugin hook calls, failed ones included.", Buckets: durationBuckets}, []string{"plugin", "hook"})
	h.decisions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexhost_decisions_total",
		Help: "Requests the chain answered, by hook, decision (approvals: accept, acceptForSession, decline, cancel; other hooks: answer) and source (plugin or fallback)."},
		[]string{"hook", "decision", "source"})
	h.decDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "codexhost_decision_duration_seconds",
		Help: "Time the chain took to answer a request, every plugin included.", Buckets: durationBuckets}, []string{"hook"})
	h.answers = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexhost_plugin_answers_total",
		Help: "Each plugin's part in the chain's answers, by plugin, hook, answer (a decision, answer, failed or disabled) and mode (enforce or monitor)."},
		[]string{"plugin", "hook", "answer", "mode"})
	h.disagree = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexhost_monitor_disagreements_total",
		Help: "Approvals where a monitor-mode plugin decided (not abstain) differently from the chain."}, []string{"plugin"})
	h.reg.MustRegister(h.calls, h.errs, h.callDur, h.decisions, h.decDur, h.answers, h.disagree, statusCollector{h})
	if !o.NoRuntimeMetrics {
		h.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	}
	h.handler = promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          h.reg, // promhttp_metric_handler_errors_total
	})
	return h
}

var (
	infoDesc = prometheus.NewDesc("codexhost_plugin_info",
		"The plugins of the current set (value 1), with version, sha256 digest, source, mode (enforce or monitor) and state (enabled or disabled).",
		[]string{"plugin", "version", "digest", "source", "mode", "state"}, nil)
	enabledDesc = prometheus.NewDesc("codexhost_plugin_enabled",
		"1 if the plugin is called, 0 if its crash budget disabled it.", []string{"plugin"}, nil)
	failuresDesc = prometheus.NewDesc("codexhost_plugin_failures",
		"Failures charged to the plugin's crash budget since its set was loaded.", []string{"plugin"}, nil)
	generationDesc = prometheus.NewDesc("codexhost_plugin_set_generation",
		"Generation of the current plugin set: 1 at start, one more per successful reload.", nil, nil)
)

// statusCollector reads the plugin status at each scrape.
type statusCollector struct{ h *Host }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- infoDesc
	ch <- enabledDesc
	ch <- failuresDesc
	ch <- generationDesc
}

// Collect writes the status of each plugin. Two plugins of one name (the
// same plugin loaded twice, say) make one series each: enabled is 0 if
// either is disabled, failures are added up; a registry refuses two
// samples with the same labels.
func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	sts := c.h.statuses()
	type agg struct {
		enabled  float64
		failures float64
	}
	byName := map[string]*agg{}
	var names []string
	infos := map[[6]string]bool{}
	for _, st := range sts {
		mode := "enforce"
		if st.Monitor {
			mode = "monitor"
		}
		info := [6]string{st.Name, st.Version, st.Digest, st.Source, mode, st.State.String()}
		if !infos[info] {
			infos[info] = true
			ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1, info[:]...)
		}
		a := byName[st.Name]
		if a == nil {
			a = &agg{enabled: 1}
			byName[st.Name] = a
			names = append(names, st.Name)
		}
		if st.State == chain.PluginDisabled {
			a.enabled = 0
		}
		a.failures += float64(st.Failures)
	}
	for _, n := range names {
		ch <- prometheus.MustNewConstMetric(enabledDesc, prometheus.GaugeValue, byName[n].enabled, n)
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.GaugeValue, byName[n].failures, n)
	}
	if len(sts) > 0 {
		ch <- prometheus.MustNewConstMetric(generationDesc, prometheus.GaugeValue, float64(sts[0].Generation))
	}
}

// Reloads registers the configuration-reload metrics (once) and returns
// them: codexhost_config_reloads_total{result},
// codexhost_config_last_reload_successful and
// codexhost_config_last_reload_success_timestamp_seconds, the latter set to
// now.
func (h *Host) Reloads() *Reloads {
	h.reloadsOnce.Do(func() {
		total := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codexhost_config_reloads_total",
			Help: "Reloads of the configuration file, by result (success or failure)."}, []string{"result"})
		lastOK := prometheus.NewGauge(prometheus.GaugeOpts{Name: "codexhost_config_last_reload_successful",
			Help: "1 if the last reload succeeded (or none happened), 0 if it failed and the previous plugin set is still in use."})
		ts := prometheus.NewGauge(prometheus.GaugeOpts{Name: "codexhost_config_last_reload_success_timestamp_seconds",
			Help: "When the plugin set in use was loaded (Unix time)."})
		h.reg.MustRegister(total, lastOK, ts)
		r := &Reloads{success: total.WithLabelValues("success"), failure: total.WithLabelValues("failure"), lastOK: lastOK, ts: ts}
		r.lastOK.Set(1)
		r.ts.SetToCurrentTime()
		h.reloads = r
	})
	return h.reloads
}

// Reloads are a Host's configuration-reload metrics. Observe is safe for
// concurrent use.
type Reloads struct {
	success, failure prometheus.Counter
	lastOK, ts       prometheus.Gauge
}

// Observe counts one reload attempt.
func (r *Reloads) Observe(ok bool) {
	if !ok {
		r.failure.Inc()
		r.lastOK.Set(0)
		return
	}
	r.success.Inc()
	r.lastOK.Set(1)
	r.ts.SetToCurrentTime()
}

// ServeHTTP serves the metrics (GET or HEAD) with promhttp, in the format
// the request's Accept header negotiates: OpenMetrics 1.0 for a scraper
// that asks for it (Prometheus does), the Prometheus text format 0.0.4
// otherwise.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h.handler.ServeHTTP(w, r)
}

// SetStatus sets where plugin status comes from, e.g. a chain.Chain's
// Status method. It is called at each scrape.
func (h *Host) SetStatus(status func() []chain.PluginStatus) { h.status.Store(&status) }

func (h *Host) statuses() []chain.PluginStatus {
	if f := h.status.Load(); f != nil && *f != nil {
		return (*f)()
	}
	return nil
}

// hookName is the hook label value.
func hookName(h abi.Hook) string {
	if h == 0 {
		return "none"
	}
	return h.String()
}

// ObserveDecision counts a chain's answer and each plugin's part in it.
// Its signature fits chain.Options.OnDecision.
func (h *Host) ObserveDecision(rec *chain.DecisionRecord) {
	hook := hookName(rec.Hook)
	decision := string(rec.Decision)
	if decision == "" {
		decision = "answer"
	}
	source := "plugin"
	if rec.Why.Fallback() {
		source = "fallback"
	}
	h.decisions.WithLabelValues(hook, decision, source).Inc()
	h.decDur.WithLabelValues(hook).Observe(rec.Latency.Seconds())
	for _, a := range rec.Answers {
		answer := string(a.Decision)
		switch {
		case errors.Is(a.Err, chain.ErrPluginDisabled):
			answer = "disabled"
		case a.Err != nil:
			answer = "failed"
		case answer == "":
			answer = "answer"
		}
		mode := "enforce"
		if a.Monitor {
			mode = "monitor"
			if rec.Hook == abi.HookApproval && a.Err == nil && a.Decision != abi.Abstain && a.Decision != rec.Decision {
				h.disagree.WithLabelValues(a.Plugin).Inc()
			}
		}
		h.answers.WithLabelValues(a.Plugin, hook, answer, mode).Inc()
	}
}

// Instrument returns p measured: every call counts in
// codexhost_plugin_calls_total, codexhost_plugin_errors_total and
// codexhost_plugin_call_duration_seconds, labelled with the manifest's
// name. Closing the result closes p; when no plugin of that name is left
// open (a reload removed it), the plugin's series are deleted from every
// metric, so that a scrape shows only the plugins that run. The series of
// the hooks p implements are resolved here, so a call costs two clock
// reads and a few atomic adds, without allocating.
func (h *Host) Instrument(p plugins.Plugin) plugins.Plugin {
	m := p.Manifest()
	ip := &instrumented{Plugin: p, h: h, name: m.Name}
	h.liveMu.Lock()
	if h.live == nil {
		h.live = map[string]int{}
	}
	h.live[m.Name]++
	h.liveMu.Unlock()
	for _, hk := range m.Hooks {
		if int(hk) < len(ip.hooks) && ip.hooks[hk] == nil {
			ip.hooks[hk] = h.series(m.Name, hk)
		}
	}
	return ip
}

type hookSeries struct {
	ok, failed, timeout prometheus.Counter
	kinds               [len(errorKinds)]prometheus.Counter
	dur                 prometheus.Observer
	once                sync.Once
	h                   *Host
	plugin, hook        string
}

func (h *Host) series(plugin string, hook abi.Hook) *hookSeries {
	name := hookName(hook)
	return &hookSeries{
		ok:      h.calls.WithLabelValues(plugin, name, OutcomeOK),
		failed:  h.calls.WithLabelValues(plugin, name, OutcomeError),
		timeout: h.calls.WithLabelValues(plugin, name, OutcomeTimeout),
		dur:     h.callDur.WithLabelValues(plugin, name),
		h:       h, plugin: plugin, hook: name,
	}
}

// kind returns the error counter of kind k. The error series of a hook
// are created together at its first failure, so a plugin that never
// failed exports none, and one that did exports every kind (zeros
// included), which keeps rate() queries simple.
func (s *hookSeries) kind(k int) prometheus.Counter {
	s.once.Do(func() {
		for i, name := range errorKinds {
			s.kinds[i] = s.h.errs.WithLabelValues(s.plugin, s.hook, name)
		}
	})
	return s.kinds[k]
}

type instrumented struct {
	plugins.Plugin
	h    *Host
	name string
	// hooks are the series of the manifest's hooks, by hook number;
	// read-only after Instrument.
	hooks     [8]*hookSeries
	closeOnce sync.Once
}

// Close closes the plugin, and forgets its series if it was the last
// open plugin of its name. It is idempotent.
func (ip *instrumented) Close(ctx context.Context) error {
	err := ip.Plugin.Close(ctx)
	ip.closeOnce.Do(func() { ip.h.release(ip.name) })
	return err
}

// release counts one plugin of the name closed, and deletes the name's
// series when none is left.
func (h *Host) release(name string) {
	h.liveMu.Lock()
	defer h.liveMu.Unlock()
	if h.live[name]--; h.live[name] > 0 {
		return
	}
	delete(h.live, name)
	l := prometheus.Labels{"plugin": name}
	h.calls.DeletePartialMatch(l)
	h.errs.DeletePartialMatch(l)
	h.callDur.DeletePartialMatch(l)
	h.answers.DeletePartialMatch(l)
	h.disagree.DeletePartialMatch(l)
}

// Ready is plugins.Ready of the plugin: a lazy Wasm plugin loads then.
func (ip *instrumented) Ready(ctx context.Context) error {
	return plugins.Ready(ctx, ip.Plugin)
}

func (ip *instrumented) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	var s *hookSeries
	if int(hook) < len(ip.hooks) {
		s = ip.hooks[hook]
	}
	if s == nil { // a hook the manifest does not list
		s = ip.h.series(ip.name, hook)
	}
	t0 := time.Now()
	out, err := ip.Plugin.Call(ctx, hook, req)
	s.dur.Observe(time.Since(t0).Seconds())
	if err == nil {
		s.ok.Inc()
		return out, nil
	}
	k := errorKind(err)
	if k == kindTimeout {
		s.timeout.Inc()
	} else {
		s.failed.Inc()
	}
	s.kind(k).Inc()
	return out, err
}

var (
	logExportedDesc = prometheus.NewDesc("codexhost_decision_log_exported_total",
		"Decision records the OTLP decision log stream exported.", nil, nil)
	logDroppedDesc = prometheus.NewDesc("codexhost_decision_log_dropped_total",
		"Decision records the OTLP decision log stream did not export, by reason: queue_full (the export queue was full), export_failed (the collector did not take the batch), unsent (sent after shutdown, or still queued when it ended).",
		[]string{"reason"}, nil)
)

// SetDecisionLog registers codexhost_decision_log_exported_total and
// codexhost_decision_log_dropped_total{reason}, read from stats (e.g. an
// audit.Stream's Stats method) at each scrape. Call it once.
func (h *Host) SetDecisionLog(stats func() audit.StreamStats) {
	h.reg.MustRegister(decisionLogCollector(stats))
}

type decisionLogCollector func() audit.StreamStats

func (decisionLogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- logExportedDesc
	ch <- logDroppedDesc
}

func (c decisionLogCollector) Collect(ch chan<- prometheus.Metric) {
	st := c()
	ch <- prometheus.MustNewConstMetric(logExportedDesc, prometheus.CounterValue, float64(st.Exported))
	ch <- prometheus.MustNewConstMetric(logDroppedDesc, prometheus.CounterValue, float64(st.QueueFull), "queue_full")
	ch <- prometheus.MustNewConstMetric(logDroppedDesc, prometheus.CounterValue, float64(st.ExportFailed), "export_failed")
	ch <- prometheus.MustNewConstMetric(logDroppedDesc, prometheus.CounterValue, float64(st.Unsent), "unsent")
}
