// Package metrics measures a codexhost host (plugin calls, decisions,
// plugin status) and serves the measurements in the Prometheus text
// exposition format, version 0.0.4.
//
//	m := metrics.NewHost(nil)
//	policy = m.Instrument(policy) // every call: count, errors, latency
//	ch, _ := chain.New(&chain.Options{Plugins: []plugins.Plugin{policy}, OnDecision: m.ObserveDecision})
//	m.SetStatus(ch.Status)        // plugin info and state at each scrape
//	srv, _ := metrics.Listen("127.0.0.1:9464", m, nil)
//	defer srv.Close()
//
// The metrics and their labels are listed in docs/operations.md. The
// Prometheus format is written by hand (a small internal registry); there is no
// dependency on a Prometheus client library.
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
	"github.com/codexhost/codexhost/plugins/chain/metrics/internal/prom"
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

// HostOptions configure [NewHost]. A nil *HostOptions means defaults;
// there are no options yet.
type HostOptions struct{}

// Host is codexhost's set of metrics. It implements http.Handler (the
// Prometheus text output). All methods are safe for concurrent use.
type Host struct {
	reg *prom.Registry

	calls     *prom.CounterVec
	errs      *prom.CounterVec
	callDur   *prom.HistogramVec
	decisions *prom.CounterVec
	decDur    *prom.HistogramVec
	answers   *prom.CounterVec
	disagree  *prom.CounterVec

	reloadsOnce sync.Once
	reloads     *Reloads
	status      atomic.Pointer[func() []chain.PluginStatus]
}

// NewHost registers codexhost's metrics.
func NewHost(opts *HostOptions) *Host {
	h := &Host{}
	h.reg = prom.NewRegistry()
	r := h.reg
	h.calls = r.Counter("codexhost_plugin_calls_total",
		"Plugin hook calls, by plugin, hook and outcome (ok, error, timeout).", "plugin", "hook", "outcome")
	h.errs = r.Counter("codexhost_plugin_errors_total",
		"Failed plugin hook calls, by plugin, hook and kind (plugin_error, trap, timeout, memory, bad_output, too_large, unavailable, closed, canceled, other).",
		"plugin", "hook", "kind")
	h.callDur = r.Histogram("codexhost_plugin_call_duration_seconds",
		"Latency of plugin hook calls, failed ones included.", durationBuckets, "plugin", "hook")
	h.decisions = r.Counter("codexhost_decisions_total",
		"Requests the chain answered, by hook, decision (approvals: accept, acceptForSession, decline, cancel; other hooks: answer) and source (plugin or fallback).",
		"hook", "decision", "source")
	h.decDur = r.Histogram("codexhost_decision_duration_seconds",
		"Time the chain took to answer a request, every plugin included.", durationBuckets, "hook")
	h.answers = r.Counter("codexhost_plugin_answers_total",
		"Each plugin's part in the chain's answers, by plugin, hook, answer (a decision, answer, failed or disabled) and mode (enforce or monitor).",
		"plugin", "hook", "answer", "mode")
	h.disagree = r.Counter("codexhost_monitor_disagreements_total",
		"Approvals where a monitor-mode plugin decided (not abstain) differently from the chain.", "plugin")
	r.GaugeFunc("codexhost_plugin_info",
		"The plugins of the current set (value 1), with version, sha256 digest, source, mode (enforce or monitor) and state (enabled or disabled).",
		[]string{"plugin", "version", "digest", "source", "mode", "state"}, h.collectInfo)
	r.GaugeFunc("codexhost_plugin_enabled",
		"1 if the plugin is called, 0 if its crash budget disabled it.", []string{"plugin"}, func(emit func(float64, ...string)) {
			for _, st := range h.statuses() {
				v := 1.0
				if st.State == chain.PluginDisabled {
					v = 0
				}
				emit(v, st.Name)
			}
		})
	r.GaugeFunc("codexhost_plugin_failures",
		"Failures charged to the plugin's crash budget since its set was loaded.", []string{"plugin"}, func(emit func(float64, ...string)) {
			for _, st := range h.statuses() {
				emit(float64(st.Failures), st.Name)
			}
		})
	r.GaugeFunc("codexhost_plugin_set_generation",
		"Generation of the current plugin set: 1 at start, one more per successful reload.", nil, func(emit func(float64, ...string)) {
			if sts := h.statuses(); len(sts) > 0 {
				emit(float64(sts[0].Generation))
			}
		})
	return h
}

// Reloads registers the configuration-reload metrics (once) and returns
// them: codexhost_config_reloads_total{result},
// codexhost_config_last_reload_successful and
// codexhost_config_last_reload_success_timestamp_seconds, the latter set to
// now.
func (h *Host) Reloads() *Reloads {
	h.reloadsOnce.Do(func() {
		r := &Reloads{}
		r.total = h.reg.Counter("codexhost_config_reloads_total", "Reloads of the configuration file, by result (success or failure).", "result")
		r.lastOK = h.reg.Gauge("codexhost_config_last_reload_successful", "1 if the last reload succeeded (or none happened), 0 if it failed and the previous plugin set is still in use.").With()
		r.ts = h.reg.Gauge("codexhost_config_last_reload_success_timestamp_seconds", "When the plugin set in use was loaded (Unix time).").With()
		r.total.With("success")
		r.total.With("failure")
		r.lastOK.Set(1)
		r.ts.Set(float64(time.Now().UnixNano()) / 1e9)
		h.reloads = r
	})
	return h.reloads
}

// Reloads are a Host's configuration-reload metrics. Observe is safe for
// concurrent use.
type Reloads struct {
	total      *prom.CounterVec
	lastOK, ts *prom.Gauge
}

// Observe counts one reload attempt.
func (r *Reloads) Observe(ok bool) {
	if !ok {
		r.total.With("failure").Inc()
		r.lastOK.Set(0)
		return
	}
	r.total.With("success").Inc()
	r.lastOK.Set(1)
	r.ts.Set(float64(time.Now().UnixNano()) / 1e9)
}

// ServeHTTP serves the registry's metrics.
func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.reg.ServeHTTP(w, r) }

// SetStatus sets where plugin status comes from, e.g. a chain.Chain's
// Status method. It is called at each scrape.
func (h *Host) SetStatus(status func() []chain.PluginStatus) { h.status.Store(&status) }

func (h *Host) statuses() []chain.PluginStatus {
	if f := h.status.Load(); f != nil && *f != nil {
		return (*f)()
	}
	return nil
}

func (h *Host) collectInfo(emit func(float64, ...string)) {
	for _, st := range h.statuses() {
		mode := "enforce"
		if st.Monitor {
			mode = "monitor"
		}
		emit(1, st.Name, st.Version, st.Digest, st.Source, mode, st.State.String())
	}
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
	h.decisions.With(hook, decision, source).Inc()
	h.decDur.With(hook).Observe(rec.Latency.Seconds())
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
				h.disagree.With(a.Plugin).Inc()
			}
		}
		h.answers.With(a.Plugin, hook, answer, mode).Inc()
	}
}

// Instrument returns p measured: every call counts in
// codexhost_plugin_calls_total, codexhost_plugin_errors_total and
// codexhost_plugin_call_duration_seconds, labelled with the manifest's
// name. Closing the result closes p. The series of the hooks p implements
// are resolved here, so a call costs two clock reads and a few atomic
// adds, without allocating.
func (h *Host) Instrument(p plugins.Plugin) plugins.Plugin {
	m := p.Manifest()
	ip := &instrumented{Plugin: p, h: h, name: m.Name, hooks: map[abi.Hook]*hookSeries{}}
	for _, hk := range m.Hooks {
		ip.hooks[hk] = h.series(m.Name, hk)
	}
	return ip
}

type hookSeries struct {
	ok, failed, timeout *prom.Counter
	kinds               [len(errorKinds)]*prom.Counter
	dur                 *prom.Histogram
	once                sync.Once
	h                   *Host
	plugin, hook        string
}

func (h *Host) series(plugin string, hook abi.Hook) *hookSeries {
	name := hookName(hook)
	return &hookSeries{
		ok:      h.calls.With(plugin, name, OutcomeOK),
		failed:  h.calls.With(plugin, name, OutcomeError),
		timeout: h.calls.With(plugin, name, OutcomeTimeout),
		dur:     h.callDur.With(plugin, name),
		h:       h, plugin: plugin, hook: name,
	}
}

// kind returns the error counter of kind k. The error series of a hook
// are created together at its first failure, so a plugin that never
// failed exports none, and one that did exports every kind (zeros
// included), which keeps rate() queries simple.
func (s *hookSeries) kind(k int) *prom.Counter {
	s.once.Do(func() {
		for i, name := range errorKinds {
			s.kinds[i] = s.h.errs.With(s.plugin, s.hook, name)
		}
	})
	return s.kinds[k]
}

type instrumented struct {
	plugins.Plugin
	h     *Host
	name  string
	hooks map[abi.Hook]*hookSeries // read-only after Instrument
}

func (ip *instrumented) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	s := ip.hooks[hook]
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
