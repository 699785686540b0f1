package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/cmd/codexhost/internal/config"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/metrics"
	"github.com/codexhost/codexhost/plugins/load"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// opsFlags are the run flags of the configuration file, grants, monitor
// mode, crash budget and metrics.
type opsFlags struct {
	fs                 *pflag.FlagSet
	configFile         string
	noConfig           bool
	grants             []string
	monitors           []string
	crashBudget        string
	metricsAddr        string
	metricsAllowRemote bool

	// file is the configuration file in use, nil if none.
	file *config.File
	// trust is the trust policy (dist.go) every plugin set's loader gets;
	// it is read once, at start.
	trust distConfig
}

const opsSynopsis = `
Configuration: --config-file FILE (default: $XDG_CONFIG_HOME/codexhost/config.toml
if it exists; see docs/configuration.md). Flags override the file. With a
file, the plugin set is reloaded on SIGHUP and when the file changes; a
reload that fails keeps the plugins in use.`

func (o *opsFlags) addFlags(fs *pflag.FlagSet) {
	o.fs = fs
	fs.StringVar(&o.configFile, "config-file", "", "read plugins and options from the TOML `FILE` (codexhost.toml); flags override it")
	fs.BoolVar(&o.noConfig, "no-config", false, "do not read the default configuration file")
	fs.StringArrayVar(&o.grants, "grant", nil, "grant `PLUGIN:CAP` to the named plugin: env=VAR, read=DIR or network (repeatable)")
	fs.StringArrayVar(&o.monitors, "monitor", nil, "run the plugin `NAME` in monitor mode: asked and recorded, never decisive (repeatable)")
	fs.StringVar(&o.crashBudget, "crash-budget", "", "disable a plugin after `N/WINDOW` failures (e.g. 5/1m; 0: never)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (loopback, e.g. 127.0.0.1:9464)")
	fs.BoolVar(&o.metricsAllowRemote, "metrics-allow-remote", false, "allow a --metrics-addr that is not loopback (the endpoint has no authentication)")
}

// loadConfig reads the configuration file, if any, and applies the
// start-time keys the flags did not set to c.
func (c *runConfig) loadConfig() error {
	o := &c.ops
	path := o.configFile
	explicit := path != ""
	if !explicit && !o.noConfig {
		path = config.DefaultPath(os.Getenv)
	}
	if path == "" {
		return nil
	}
	f, err := config.Load(path)
	if errors.Is(err, config.ErrNotFound) && !explicit {
		return nil
	}
	if err != nil {
		if errors.Is(err, config.ErrNotFound) {
			return usageErr("--config-file %s: no such file", path)
		}
		return usageErr("%v", oneLine(err.Error()))
	}
	o.file = f
	set := func(flag, key string, dst *string, v string) {
		if !o.fs.Changed(flag) && f.Defined(key) {
			*dst = v
		}
	}
	set("mode", "chain.mode", &c.mode, f.Chain.Mode)
	set("fallback", "chain.fallback", &c.fallback, f.Chain.Fallback)
	set("render", "render", &c.render, f.Render)
	set("audit", "audit", &c.audit, f.Audit)
	set("codex", "codex.bin", &c.codex, f.Codex.Bin)
	set("codex-home", "codex.home", &c.codexHome, f.Codex.Home)
	set("model", "codex.model", &c.model, f.Codex.Model)
	set("cwd", "codex.cwd", &c.cwd, f.Codex.Cwd)
	set("sandbox", "codex.sandbox", &c.sandbox, f.Codex.Sandbox)
	set("approval-policy", "codex.approval_policy", &c.approvalPolicy, f.Codex.ApprovalPolicy)
	set("metrics-addr", "metrics.addr", &o.metricsAddr, f.Metrics.Addr)
	if !o.fs.Changed("audit-mask") && f.Defined("audit_mask") {
		c.auditMask = f.AuditMask
	}
	if !o.fs.Changed("judge") && f.Defined("judge") {
		c.judge = f.Judge
	}
	if !o.fs.Changed("metrics-allow-remote") && f.Defined("metrics.allow_remote") {
		o.metricsAllowRemote = f.Metrics.AllowRemote
	}
	// codex takes the last of repeated -c keys: the flags come last.
	c.config = append(append([]string(nil), f.Codex.Config...), c.config...)
	return nil
}

// setSpec is what a plugin set is built from, once the flags override the
// file.
type setSpec struct {
	policy   string // the --policy rules file, asked first; "" for none
	plugins  []config.Plugin
	mode     chain.Mode
	fallback abi.Decision
	budget   chain.CrashBudget
}

// spec computes the plugin set of f (nil: no file) with the flags
// applied. It is called at start and at every reload.
func (c *runConfig) spec(f *config.File) (*setSpec, error) {
	o := &c.ops
	s := &setSpec{}
	modeStr, fallbackStr := c.mode, c.fallback
	if f != nil && !o.fs.Changed("mode") {
		modeStr = orDefault(f.Chain.Mode, "deny-wins")
	}
	if f != nil && !o.fs.Changed("fallback") {
		fallbackStr = orDefault(f.Chain.Fallback, "decline")
	}
	var err error
	if s.mode, err = parseMode(modeStr); err != nil {
		return nil, err
	}
	if s.fallback, err = parseFallback(fallbackStr); err != nil {
		return nil, err
	}
	s.policy = c.policy
	if f != nil && !o.fs.Changed("policy") {
		s.policy = f.Policy
	}
	if f != nil {
		s.budget = hostBudget(f.Chain.CrashBudget)
	}
	if o.crashBudget != "" {
		if s.budget, err = parseCrashBudget(o.crashBudget); err != nil {
			return nil, err
		}
	}
	if len(c.plugins) > 0 || f == nil {
		// --plugin replaces the file's plugins.
		for i, path := range c.plugins {
			p := config.Plugin{Path: path, Name: config.DefaultName(path)}
			if i < len(c.sha256s) {
				p.SHA256 = c.sha256s[i]
			}
			if i < len(c.settings) && c.settings[i] != "" {
				p.RawSettings = json.RawMessage(c.settings[i])
			}
			s.plugins = append(s.plugins, p)
		}
	} else {
		s.plugins = append(s.plugins, f.Plugins...)
	}
	byName := map[string]*config.Plugin{}
	var names []string
	for i := range s.plugins {
		byName[s.plugins[i].Name] = &s.plugins[i]
		names = append(names, s.plugins[i].Name)
	}
	lookup := func(flag, arg, name string) (*config.Plugin, error) {
		p, ok := byName[name]
		if !ok {
			known := "there are no plugins"
			if len(names) > 0 {
				known = "the plugins are " + strings.Join(names, ", ")
			}
			return nil, usageErr("%s %s: no plugin named %q (%s; a plugin is named by its file name without extension, or by name in the config file)", flag, arg, name, known)
		}
		return p, nil
	}
	for _, g := range o.grants {
		name, grants, err := config.ParseGrant(g)
		if err != nil {
			return nil, usageErr("%v", err)
		}
		p, err := lookup("--grant", g, name)
		if err != nil {
			return nil, err
		}
		// Copy before adding: the entries may share slices with the file.
		p.Grants = config.Grants{Env: append([]string(nil), p.Grants.Env...),
			ReadDirs: append([]string(nil), p.Grants.ReadDirs...), Network: p.Grants.Network}
		p.Grants.Add(grants)
	}
	for _, name := range o.monitors {
		p, err := lookup("--monitor", name, name)
		if err != nil {
			return nil, err
		}
		p.Mode = "monitor"
	}
	return s, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func hostBudget(b config.CrashBudget) chain.CrashBudget {
	var hb chain.CrashBudget
	if b.Failures != nil {
		hb.Failures = *b.Failures
		if hb.Failures == 0 {
			hb.Failures = -1 // never
		}
	}
	hb.Window = b.Window.Duration
	return hb
}

// parseCrashBudget parses --crash-budget: N, N/WINDOW, or 0 for never.
func parseCrashBudget(s string) (chain.CrashBudget, error) {
	n, w, hasW := strings.Cut(s, "/")
	failures, err := strconv.Atoi(n)
	if err != nil || failures < 0 {
		return chain.CrashBudget{}, usageErr("--crash-budget %q: want N/WINDOW, e.g. 5/1m (0: never disable)", s)
	}
	b := chain.CrashBudget{Failures: failures}
	if failures == 0 {
		b.Failures = -1
	}
	if hasW {
		if b.Window, err = time.ParseDuration(w); err != nil || b.Window <= 0 {
			return chain.CrashBudget{}, usageErr("--crash-budget %q: %q is not a positive duration (e.g. 30s, 1m)", s, w)
		}
	}
	return b, nil
}

// A generation is one loaded plugin set: the loader that owns its
// plugins, and the members to install.
type generation struct {
	ld      *loader
	members []chain.Member
	spec    *setSpec
}

// newLoader returns the loader of a new plugin set: every set (the first
// and each reload's) has its own, closed with it. Loader-wide settings
// (a trust policy, say) go here.
func (c *runConfig) newLoader(lazy bool) *loader { return &loader{trust: c.ops.trust, lazy: lazy} }

// loadGeneration loads every plugin of spec with its settings, grants and
// timeout, measured by m (if not nil), followed by extra (the judge, which
// the generation does not own). With lazy, a Wasm plugin that loaded
// before is admitted on its record and loads when first needed (see
// loader.ready). On error, what was loaded is closed.
func (c *runConfig) loadGeneration(ctx context.Context, spec *setSpec, extra []chain.Member, m *metrics.Host, lazy bool) (*generation, error) {
	g := &generation{ld: c.newLoader(lazy), spec: spec}
	if spec.policy != "" {
		p, err := loadPolicy(spec.policy)
		if err != nil {
			return nil, err
		}
		digest, _ := fileDigest(spec.policy)
		if m != nil {
			p = m.Instrument(p)
		}
		if c.tracer != nil {
			p = c.tracer.Instrument(chain.Member{Plugin: p, Digest: digest}, "builtin")
		}
		g.members = append(g.members, chain.Member{Plugin: p, Digest: digest, Source: spec.policy, CrashBudget: spec.budget})
	}
	for i := range spec.plugins {
		entry := &spec.plugins[i]
		opts := plugins.Options{Timeout: entry.Timeout.Duration,
			Grants: abi.Capabilities{Env: entry.Grants.Env, ReadDirs: entry.Grants.ReadDirs, Network: entry.Grants.Network}}
		var err error
		if opts.Settings, err = entry.SettingsJSON(); err != nil {
			g.close()
			return nil, usageErr("%v", err)
		}
		p, err := g.ld.loadWith(ctx, entry.Path, entry.SHA256, &opts)
		if err != nil {
			g.close()
			if errors.Is(err, plugins.ErrNotGranted) {
				return nil, usageErr("%s; grant it with --grant %s:CAP or in the [plugin.grants] of the config file", err.Error(), entry.Name)
			}
			return nil, err
		}
		runtime := runtimeOf(p)
		if m != nil {
			p = m.Instrument(p)
		}
		if c.tracer != nil {
			p = c.tracer.Instrument(chain.Member{Plugin: p, Digest: g.ld.digests[len(g.ld.digests)-1], Monitor: entry.Mode == "monitor"}, runtime)
		}
		// The chain-wide budget is applied here, not in ChainOptions, so
		// that a reload changes it too.
		budget := hostBudget(entry.CrashBudget)
		if budget.Failures == 0 {
			budget.Failures = spec.budget.Failures
		}
		if budget.Window == 0 {
			budget.Window = spec.budget.Window
		}
		g.members = append(g.members, chain.Member{Plugin: p, Monitor: entry.Mode == "monitor",
			CrashBudget: budget, Digest: g.ld.digests[len(g.ld.digests)-1], Source: entry.Path})
	}
	// Before the extras (the built-in renderer among them): a start and
	// every reload keep --json's promise of JSON lines on stdout.
	if err := c.checkJSONStdout(g); err != nil {
		g.close()
		return nil, err
	}
	g.members = append(g.members, extra...)
	if b := c.builtinFor(g.members); b != nil {
		g.members = append(g.members, *b)
	}
	return g, nil
}

// set is the generation as a chain.PluginSet.
func (g *generation) set() *chain.PluginSet {
	return &chain.PluginSet{Members: g.members, Mode: g.spec.mode, Fallback: g.spec.fallback}
}

// describe names the generation's plugins for a message.
func (g *generation) describe() string {
	if len(g.members) == 0 {
		return "no plugins"
	}
	var parts []string
	for _, m := range g.members {
		man := m.Plugin.Manifest()
		s := man.Name
		if man.Version != "" {
			s += "@" + man.Version
		}
		if m.Monitor {
			s += " (monitor)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func (g *generation) close() {
	if g != nil && g.ld != nil {
		g.ld.close()
	}
}

// startMetrics starts the metrics endpoint if one is configured; it
// returns nil, nil when none is.
func (o *opsFlags) startMetrics(cio *cmdIO, m *metrics.Host) (*metrics.Server, error) {
	if o.metricsAddr == "" {
		return nil, nil
	}
	srv, err := metrics.Listen(o.metricsAddr, m, &metrics.ListenOptions{AllowRemote: o.metricsAllowRemote})
	if errors.Is(err, metrics.ErrNotLoopback) {
		return nil, usageErr("--metrics-addr %s is not a loopback address: the endpoint has no authentication and shows which plugins run; use 127.0.0.1:PORT, or pass --metrics-allow-remote if something else protects it", o.metricsAddr)
	}
	if err != nil {
		return nil, usageErr("--metrics-addr %s: %s", o.metricsAddr, oneLine(err.Error()))
	}
	fmt.Fprintf(cio.stderr, "codexhost: metrics at http://%s/metrics\n", srv.Addr())
	return srv, nil
}

// A pluginRun is the plugin machinery of one run: the plugin set in use
// (owned by the reloader when there is a configuration file), the
// metrics and their endpoint.
type pluginRun struct {
	c     *runConfig
	gen   *generation
	spec  *setSpec
	m     *metrics.Host
	srv   *metrics.Server
	rl    *reloader
	extra []chain.Member
}

// startPlugins loads the first plugin set (followed by extra, e.g. the
// judge) and starts the metrics endpoint if one is configured.
func (c *runConfig) startPlugins(ctx context.Context, cio *cmdIO, extra []chain.Member) (*pluginRun, error) {
	pr := &pluginRun{c: c}
	spec, err := c.spec(c.ops.file)
	if err != nil {
		return nil, err
	}
	pr.spec = spec
	if a := c.ops.metricsAddr; a != "" && !c.ops.metricsAllowRemote && metrics.CheckLoopback(a) != nil {
		_, err := c.ops.startMetrics(cio, nil) // the same message, before loading plugins
		return nil, err
	}
	if c.ops.metricsAddr != "" {
		pr.m = metrics.NewHost(nil)
		for i := range extra {
			extra[i].Plugin = pr.m.Instrument(extra[i].Plugin)
		}
	}
	pr.extra = extra
	if pr.gen, err = c.loadGeneration(ctx, spec, extra, pr.m, true); err != nil {
		return nil, err
	}
	if pr.m != nil {
		if pr.srv, err = c.ops.startMetrics(cio, pr.m); err != nil {
			pr.gen.close()
			return nil, err
		}
	}
	return pr, nil
}

// chainOptions are the options of the run's chain; onDecision is called
// for every decision, after the metrics.
func (pr *pluginRun) chainOptions(cio *cmdIO, onDecision func(*chain.DecisionRecord)) *chain.Options {
	o := &chain.Options{Members: pr.gen.members, Mode: pr.spec.mode, Fallback: pr.spec.fallback,
		CrashBudget: pr.spec.budget, OnDecision: onDecision,
		// Errors only: a disabled plugin, an audit write that failed.
		Logger: newLineLogger(cio.stderr, slog.LevelError)}
	if m := pr.m; m != nil {
		o.OnDecision = func(rec *chain.DecisionRecord) {
			m.ObserveDecision(rec)
			onDecision(rec)
		}
	}
	return o
}

// attach connects the chain: its status to the metrics, and, with a
// configuration file, the reloader.
func (pr *pluginRun) attach(chain *chain.Chain, cio *cmdIO) {
	if pr.m != nil {
		pr.m.SetStatus(chain.Status)
	}
	if pr.c.ops.file != nil {
		pr.rl = newReloader(pr.c, chain, pr.gen, pr.extra, pr.m, cio.stderr)
		pr.gen = nil // the reloader owns it
		pr.rl.start()
	}
}

// close stops the reloader and the metrics endpoint and closes the
// plugins. Call it after the Client has closed.
func (pr *pluginRun) close() {
	if pr.rl != nil {
		pr.rl.Close()
	}
	pr.gen.close()
	if pr.srv != nil {
		_ = pr.srv.Close()
	}
}

// lineHandler is a slog.Handler that writes each record at or above its
// level as one line on w: "codexhost: MESSAGE (key=value ...)". The chain
// logs a plugin disabled by its crash budget at error level, with the
// plugin's name and its last error: every key and value is a plugin's
// text to the handler, escaped (termsafe.Line) and cut at maxLogValue
// bytes.
type lineHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Level
	attrs []slog.Attr
}

// maxLogValue bounds the bytes of one value in a log line, and of one
// piece of a plugin's or the agent's text in a line codexhost writes.
const maxLogValue = 1 << 10

// clip cuts s to maxLogValue bytes (at a character's end), ending it with
// "…" if it was cut.
func clip(s string) string {
	if len(s) <= maxLogValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxLogValue], "") + "…"
}

func newLineLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(&lineHandler{mu: &sync.Mutex{}, w: w, level: level})
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	msg := strings.TrimPrefix(r.Message, "codexhost: ")
	b.WriteString("codexhost: " + termsafe.Line(msg))
	n := 0
	add := func(a slog.Attr) bool {
		if n == 0 {
			b.WriteString(" (")
		} else {
			b.WriteByte(' ')
		}
		n++
		fmt.Fprintf(&b, "%s=%s", termsafe.Line(a.Key), termsafe.Line(clip(a.Value.String())))
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	if n > 0 {
		b.WriteByte(')')
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

// runtimeOf names where p runs, for traces: a *load.Plugin (what the
// loader returns) by the plugin it wraps.
func runtimeOf(p plugins.Plugin) string {
	if lp, ok := p.(*load.Plugin); ok {
		p = lp.Plugin
	}
	switch p.(type) {
	case *wasm.Plugin:
		return "wasm"
	case *process.Plugin:
		return "process"
	}
	return "other"
}
