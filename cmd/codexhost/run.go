package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/protocol"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/chain/audit"
	"github.com/codexhost/codexhost/plugins/chain/tracing"
	"github.com/codexhost/codexhost/plugins/judge"
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/rpc"
)

const runSynopsis = `run [flags] [PROMPT | -]

Runs PROMPT (or stdin with "-") as one turn on a new thread, or on --thread.
Approvals are answered by the --policy rules, then the --plugin chain (Wasm
if the file starts with \0asm, else a process plugin; oci:// references are
pulled and verified against the trust policy, see docs/distribution.md),
then the --judge, then --fallback. Events are rendered on stdout (--render);
diagnostics go to stderr. codex uses your own login and ~/.codex unless
--codex-home is set. As codex exec's, run has the subcommands resume (a
stored thread's next turn), review (a code review) and fork (a turn on a
copy of a stored thread): codexhost help run review.`

type runConfig struct {
	// hup receives SIGHUP from the start of a run with a configuration
	// file; the reloader reads it once the plugins have loaded.
	hup chan os.Signal
	// tracer traces the run when the OTEL_* environment asks for it
	// (plugins/chain/tracing); nil otherwise.
	tracer         *tracing.Tracer
	plugins        []string
	sha256s        []string
	fallback       string
	mode           string
	render         string
	audit          string
	auditMask      []string
	model          string
	cwd            string
	sandbox        string
	approvalPolicy string
	config         []string
	codex          string
	codexHome      string
	thread         string
	judge          bool
	policy         string
	timeout        time.Duration
	settings       []string
	dist           distFlags
	record         string
	noProgress     bool
	allowUnasked   bool
	json           bool
	maxReconnects  int
	resumeLast     bool // run resume --last
	resumeByArg    bool // run resume THREAD (not --thread)
	// builtin is the built-in renderer of --render, nil for none; each
	// plugin set has it or not (builtinFor).
	builtin   *chain.Member
	resumeAll bool // run resume --last --all
	scripted  string
	exec      execFlags  // execflags.go: the codex exec flags
	judgeOpts judgeFlags // judgeflags.go: the --judge-* flags
	ops       opsFlags   // ops.go: --config-file, --grant, --monitor, --metrics-addr, ...
	// review is run review's target (its instructions, for a custom
	// review, are the prompt); nil for a turn. runsub.go.
	review *host.ReviewTarget
	// fork is the stored thread run fork copies, or "". runsub.go.
	fork string
}

func cmdRun(ctx context.Context, cio *cmdIO, args []string) error {
	args = expandImageArgs(args)
	if sub, rest, ok := splitRunSub(args); ok {
		return sub.run(ctx, cio, rest)
	}
	var c runConfig
	fs := newFlagSet(cio, "run", runSynopsis+opsSynopsis)
	c.register(fs)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	return c.run(ctx, cio, fs.Args())
}

// splitRunSub finds codex exec's subcommands (resume, review, fork)
// after run's flags, as codex exec takes them (codex exec --json resume
// --last PROMPT): when the first argument that is neither a flag nor a
// flag's value is one of them, and no "--" comes before it (after "--" it
// is the prompt), it returns that subcommand and the arguments before
// and after the word, the flags before it first. Without this, the
// command line would start a new thread whose prompt is "resume --last …"
// or fail on --last.
func splitRunSub(args []string) (sub *command, rest []string, ok bool) {
	var c runConfig
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	c.register(fs)
	fs.SetInterspersed(false) // stop at the first argument that is not a flag
	if err := fs.Parse(args); err != nil {
		return nil, nil, false // run's own parse reports it
	}
	after := fs.Args()
	if len(after) == 0 || fs.ArgsLenAtDash() == 0 {
		return nil, nil, false
	}
	for _, cmd := range commands {
		if cmd.path == "run "+after[0] {
			n := len(args) - len(after)
			return cmd, append(args[:n:n], after[1:]...), true
		}
	}
	return nil, nil, false
}

// register declares run's flags on fs (run and its subcommands).
func (c *runConfig) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.policy, "policy", "", "decide approvals with the rules of `RULES_FILE`, and answer questions with its [[answer]] tables (TOML; asked before the --plugin files)")
	fs.StringArrayVar(&c.plugins, "plugin", nil, "load a plugin `PATH` or oci://REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST] (repeatable; asked in order)")
	fs.StringArrayVar(&c.sha256s, "sha256", nil, "expected sha256 `HEX` of the --plugin in the same position (repeatable)")
	fs.StringVar(&c.fallback, "fallback", "decline", "answer when every plugin abstains or one fails: decline, accept or cancel")
	fs.StringVar(&c.mode, "mode", "deny-wins", "how plugin decisions combine: deny-wins or first-answer")
	fs.StringVar(&c.render, "render", "exec", "event rendering on stdout: exec, json (codexhost's ABI events as JSON lines) or none (final answer only)")
	fs.BoolVar(&c.json, "json", false, "print codex exec --json's JSONL events on stdout, plus codexhost.decision events")
	fs.StringVar(&c.audit, "audit", "", "append every decision to `FILE` (JSON lines); a failed write declines (fail closed)")
	fs.StringSliceVar(&c.auditMask, "audit-mask", nil, "send the decision record `FIELD`s masked in the OTLP decision log stream, e.g. summary,answer (repeatable; the --audit file keeps them)")
	fs.StringVarP(&c.model, "model", "m", "", "model for the thread")
	fs.StringVarP(&c.cwd, "cwd", "C", "", "working `DIR` of the thread and of app-server")
	fs.StringVar(&c.cwd, "cd", "", "the same as --cwd (codex exec's name)")
	_ = fs.MarkHidden("cd")
	fs.StringVarP(&c.sandbox, "sandbox", "s", "", "sandbox: "+strings.Join(host.SandboxModes, ", "))
	fs.StringVar(&c.approvalPolicy, "approval-policy", "", "when codex asks the policy: "+strings.Join(host.ApprovalPolicies, ", ")+" (default with a policy or plugin: "+defaultGuardedApprovalPolicy+"; never is refused with one)")
	fs.StringVar(&c.scripted, "scripted", "", "run offline against the agent script `SCRIPT` (TOML) on a fake model, in a fresh CODEX_HOME (see agent serve)")
	fs.BoolVar(&c.allowUnasked, "allow-unasked-policy", false, "only warn, instead of refusing, when a policy or plugin is loaded and codex would not ask it (approval policy never, its own approvals reviewer, on-request without a sandbox, permission-request hooks, exec-policy allow rules, --enable unified_exec_tty)")
	fs.StringArrayVarP(&c.config, "config", "c", nil, "codex config override `key=value` (TOML value; repeatable)")
	fs.StringVar(&c.codex, "codex", "", "codex `BIN` (default: $CODEX_BIN, the pinned install, then PATH)")
	fs.StringVar(&c.codexHome, "codex-home", "", "CODEX_HOME `DIR` (default: codex's own, ~/.codex)")
	fs.StringVar(&c.thread, "thread", "", "continue the thread `ID` instead of starting one")
	fs.BoolVar(&c.judge, "judge", false, "ask an LLM judge (on the same codex) after the plugins")
	fs.DurationVar(&c.timeout, "timeout", 0, "bound the whole run (e.g. 10m); 0 means none")
	fs.IntVar(&c.maxReconnects, "max-reconnects", defaultMaxReconnects, "end the run (exit 4) after `N` reconnect attempts to the model in a row; 0: let codex retry without end")
	fs.StringArrayVar(&c.settings, "settings", nil, "settings of the --plugin in the same position: `JSON` text, or @FILE (TOML for a .toml file, JSON otherwise), checked against its schema (repeatable)")
	c.dist.register(fs, true)
	fs.StringVar(&c.record, "record", "", "save the raw JSON-RPC transcript to `FILE` (input for `plugin test --transcript`)")
	fs.BoolVar(&c.noProgress, "no-progress", false, "no status line on stderr (it is shown only on a terminal)")
	c.ops.addFlags(fs)
	c.exec.register(fs)
	c.judgeOpts.register(fs)
}

// renderCodexJSON is the --render value --json selects: codex exec's JSONL.
const renderCodexJSON = "codex-json"

func parseFallback(s string) (abi.Decision, error) {
	switch s {
	case "decline":
		return abi.Decline, nil
	case "accept":
		return abi.Accept, nil
	case "cancel":
		return abi.Cancel, nil
	}
	return "", usageErr("--fallback %q: want decline, accept or cancel", s)
}

func parseMode(s string) (chain.Mode, error) {
	switch s {
	case "deny-wins":
		return chain.DenyWins, nil
	case "first-answer":
		return chain.FirstAnswer, nil
	}
	return 0, usageErr("--mode %q: want deny-wins or first-answer", s)
}

func (c *runConfig) prompt(ctx context.Context, cio *cmdIO, args []string) (string, error) {
	if p, ok := c.subPrompt(args); ok {
		return p, nil
	}
	return readPrompt(ctx, cio.stdin, args)
}

// decisions counts the policy's refusals during the run and reports them.
type decisions struct {
	mu       sync.Mutex
	refused  int
	accepted int
	stderr   io.Writer
	// json, with --json, receives each decision as a codexhost.decision
	// event beside codex exec's events.
	json io.Writer
	// flush, with json, writes the events observed so far (the chain's
	// Flush): a decision line follows every event codex sent before the
	// request, as they are rendered on their own goroutine.
	flush func()
}

func (d *decisions) record(rec *chain.DecisionRecord) {
	if rec.Hook != abi.HookApproval {
		return
	}
	if d.json != nil && d.flush != nil {
		// Before the lock: concurrent decisions wait for the renderer side
		// by side, not one 5 s bound after another.
		d.flush()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	reason := rec.Why.String()
	if rec.Why.Kind == chain.WhyFailed {
		// What failed: a plugin's error, or an answer the host refused
		// (a grant through a symbolic link).
		for _, a := range rec.Answers {
			if a.Plugin == rec.Why.Plugin && a.Err != nil {
				reason += ": " + a.Err.Error()
				break
			}
		}
	}
	for _, a := range rec.Answers {
		if a.Decision == rec.Decision && a.Reason != "" && !a.Monitor {
			reason = a.Plugin + ": " + a.Reason
			break
		}
	}
	if d.json != nil {
		_ = render.WriteExecDecision(d.json, &render.ExecDecision{Hook: rec.Hook.String(), Kind: string(rec.ApprovalKind),
			ThreadID: rec.ThreadID, TurnID: rec.TurnID, ItemID: rec.ItemID, Summary: rec.Summary,
			Decision: string(rec.Decision), Reason: reason, Why: rec.Why.String()})
	}
	switch rec.Decision {
	case abi.Decline, abi.Cancel:
		d.refused++
		// The summary is the agent's, the reason a plugin's: neither may drive the
		// terminal.
		fmt.Fprintf(d.stderr, "codexhost: %s %s (%s)\n", rec.Decision, termsafe.Line(clip(firstLine(rec.Summary))), termsafe.Line(clip(reason)))
	default:
		d.accepted++
	}
}

// firstLine is the first line of a request's summary, saying how many
// lines follow: a decline line shows one line, but hides none.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	first, rest, cut := strings.Cut(s, "\n")
	if !cut {
		return s
	}
	return fmt.Sprintf("%s … (+%d more lines)", strings.TrimSpace(first), strings.Count(rest, "\n")+1)
}

func (d *decisions) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refused
}

// lateJudge is the judge's place in the chain: the judge needs the client,
// and the client needs the chain, so it is bound after the client starts.
type lateJudge struct {
	mu sync.Mutex
	j  *judge.Judge
}

var _ plugins.Plugin = (*lateJudge)(nil)

func (l *lateJudge) Manifest() *abi.Manifest {
	return &abi.Manifest{Name: "llm-judge", Version: host.Version, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval}}
}

func (l *lateJudge) Close(context.Context) error { return nil }

func (l *lateJudge) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	l.mu.Lock()
	j := l.j
	l.mu.Unlock()
	if j == nil {
		return nil, errors.New("the judge is not ready")
	}
	return j.Call(ctx, hook, req)
}

func (c *runConfig) run(ctx context.Context, cio *cmdIO, args []string) error {
	if c.ops.configFile != "" {
		// SIGHUP reloads from now on: one that comes while the prompt
		// is read or the plugins load waits for the reloader (SIGHUP's
		// default action ended the run).
		c.hup = make(chan os.Signal, 1)
		signal.Notify(c.hup, syscall.SIGHUP)
		defer signal.Stop(c.hup)
	}
	// A flag given an empty file name (--policy "$RULES" with RULES unset)
	// would run without what it names: no policy, no audit log, the
	// user's own codex instead of the script. Refused, as --plugin "" is.
	for _, name := range []string{"policy", "audit", "scripted", "output-last-message"} {
		if f := c.ops.fs.Lookup(name); f != nil && f.Changed && f.Value.String() == "" {
			return usageErr("--%s \"\": want a file name", name)
		}
	}
	if err := c.loadConfig(); err != nil {
		return err
	}
	if _, err := parseFallback(c.fallback); err != nil {
		return err
	}
	if _, err := parseMode(c.mode); err != nil {
		return err
	}
	if c.scripted != "" {
		if c.codexHome != "" {
			return usageErr("--scripted makes its own CODEX_HOME; leave out --codex-home (or use agent serve --codex-home DIR)")
		}
		home, err := os.MkdirTemp("", "codexhost-scripted-")
		if err != nil {
			return usageErr("--scripted: %v", err)
		}
		defer os.RemoveAll(home)
		a, err := startScriptedAgent(c.scripted, home)
		if err != nil {
			return err
		}
		defer a.Close()
		c.codexHome = home
	}
	if err := c.checkApprovalFlags(); err != nil {
		return err
	}
	if err := c.checkReviewUnasked(cio); err != nil {
		return err
	}
	if err := c.checkTerminal(cio); err != nil {
		return err
	}
	var err error
	if c.config, err = c.exec.check(c.config); err != nil {
		return err
	}
	if c.json {
		if c.ops.fs.Changed("render") {
			return usageErr("--json and --render %s: choose one", c.render)
		}
		c.render = renderCodexJSON
	}
	switch c.render {
	case "exec", "json", "none", renderCodexJSON:
	default:
		return usageErr("--render %q: want exec, json or none", c.render)
	}
	if len(c.sha256s) > len(c.plugins) {
		return usageErr("%d --sha256 values for %d --plugin files; each --sha256 pairs with the --plugin in the same position", len(c.sha256s), len(c.plugins))
	}
	if c.maxReconnects < 0 {
		return usageErr("--max-reconnects %d is negative (0: let codex retry without end)", c.maxReconnects)
	}
	if c.timeout < 0 {
		return usageErr("--timeout %s is negative", c.timeout)
	}
	judgeOpts, err := c.judgeOpts.options(c.ops.fs.Changed, c.judge, c.model)
	if err != nil {
		return err
	}
	for _, kv := range c.config {
		if !strings.Contains(kv, "=") {
			return usageErr("-c %q: want key=value", kv)
		}
	}
	if c.cwd != "" {
		if st, err := os.Stat(c.cwd); err != nil || !st.IsDir() {
			return usageErr("--cwd %s: not a directory", c.cwd)
		}
		// Absolute: codex starts in it and would resolve a relative thread
		// cwd again from there (codex exec -C work runs in ./work).
		abs, err := filepath.Abs(c.cwd)
		if err != nil {
			return usageErr("--cwd %s: %v", c.cwd, err)
		}
		c.cwd = abs
	}
	if c.codexHome != "" {
		if st, err := os.Stat(c.codexHome); err != nil || !st.IsDir() {
			return usageErr("--codex-home %s: not a directory", c.codexHome)
		}
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	prompt, err := c.prompt(ctx, cio, args)
	if err != nil {
		return err
	}

	rec, err := openRecord(cio, c.record)
	if err != nil {
		return err
	}
	defer rec.close()
	color := c.exec.useColor(render.UseColor(cio.stdout))
	stdin, stderr := cio.stdin, cio.stderr
	cio, prog := startProgress(cio, c.noProgress)
	if prog != nil {
		defer prog.stop()
	}
	// A plugin's "ask" goes to the operator when there is one at a
	// terminal (escalate.go); otherwise the fallback decides.
	human := openTerminalHuman(stdin, stderr, cio.stderr)
	if human != nil {
		defer human.Close()
	}

	// Plugins, metrics and hot reload (ops.go, reload.go). The trust
	// policy and --settings are checked once; every plugin set's loader
	// gets the policy.
	var proto loader
	if err := c.checkDistFlags(cio, &proto); err != nil {
		return err
	}
	c.ops.trust = proto.trust
	// The OpenTelemetry SDK reports export failures through its global
	// handler, which prints them raw with the standard logger: a
	// collector's error text would reach the terminal unescaped.
	otelLog := newLineLogger(cio.stderr, slog.LevelWarn)
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		otelLog.Warn("opentelemetry: " + oneLine(err.Error()))
	}))
	if c.tracer, err = tracing.FromEnv(ctx); err != nil {
		return usageErr("%v", err)
	}
	if c.tracer != nil {
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.tracer.Shutdown(sctx); err != nil {
				fmt.Fprintf(cio.stderr, "codexhost: export traces: %s\n", termsafe.Line(oneLine(err.Error())))
			}
		}()
		var endRun func(error)
		ctx, endRun = c.tracer.StartRun(ctx, "codexhost run")
		defer endRun(nil)
	}
	// The decision log stream (plugins/chain/audit), when OTEL_* asks
	// for logs; shut down after the chain and codex (deferred first).
	stream, err := audit.StreamFromEnv(ctx, &audit.StreamOptions{Mask: c.auditMask, Logger: newLineLogger(cio.stderr, slog.LevelWarn)})
	if err != nil {
		if errors.Is(err, audit.ErrUnknownField) {
			return usageErr("--audit-mask: %v", err)
		}
		return usageErr("the OTLP decision log (OTEL_EXPORTER_OTLP_* variables): %v", err)
	}
	if stream != nil {
		defer shutdownStream(ctx, cio, stream)
	}
	var late *lateJudge
	var extra []chain.Member
	if c.judge {
		late = &lateJudge{}
		extra = append(extra, chain.Member{Plugin: late})
	}
	dec := &decisions{stderr: cio.stderr}
	renderOut := io.Writer(cio.stdout)
	if c.render == renderCodexJSON {
		// The renderer and the decisions write whole lines to one stdout.
		renderOut = &lockedWriter{w: cio.stdout}
		dec.json = renderOut
	}
	var appendAudit func(*chain.DecisionRecord) error
	if c.audit != "" {
		// With a stream, a record is sent once it is on disk.
		log, err := audit.Open(c.audit, &audit.Options{Stream: stream})
		if err != nil {
			return usageErr("--audit %s: %v", c.audit, err)
		}
		defer log.Close()
		appendAudit = log.Append
	}
	observers := []host.EventObserver{}
	if prog != nil {
		observers = append(observers, prog)
	}
	turnCtx, giveUp := context.WithCancelCause(ctx)
	defer giveUp(nil)
	if !c.exec.hideSystemMessages {
		observers = append(observers, &notices{stderr: cio.stderr})
	}
	observers = append(observers, &reconnects{stderr: cio.stderr, max: c.maxReconnects, give: giveUp})

	// The plugins load while codex starts (host.Options.Prepare): the
	// chain they form becomes the client's handler and renderer. Start
	// waits for both and cleans up after either's failure; what the load
	// made is closed by the defers below, whatever Start returns.
	var (
		pr      *pluginRun
		ch      *chain.Chain
		loadErr error
	)
	// The chain renders the session's thread (not the judge's) with its
	// render members: the built-in renderer or render plugins. Retry
	// notices are diagnostics, printed on stderr by reconnects.
	only := &threadFilter{}
	var gate *loadGate
	// Every plugin set, the first and each reloaded one, renders with the
	// built-in renderer unless a plugin of the set replaces it
	// (loadGeneration).
	c.builtin = c.builtinRenderer(color)
	load := func(lctx context.Context) (*host.Prepared, error) {
		var err error
		if pr, err = c.startPlugins(lctx, cio, extra); err != nil {
			loadErr = err
			return nil, err
		}
		if stream != nil && pr.m != nil {
			pr.m.SetDecisionLog(stream.Stats)
		}
		chainOpts := pr.chainOptions(cio, dec.record)
		if human != nil {
			chainOpts.Escalate = human.Escalate
		}
		chainOpts.Render = chain.RenderOptions{Output: renderOut, Plain: !color}
		chainOpts.Audit = appendAudit
		if stream != nil && appendAudit == nil {
			// Without an audit log, a record is sent as the chain answers.
			next := chainOpts.OnDecision
			chainOpts.OnDecision = func(rec *chain.DecisionRecord) {
				stream.Record(rec)
				next(rec)
			}
		}
		if ch, err = chain.New(chainOpts); err != nil {
			loadErr = usageErr("%v", err)
			return nil, loadErr
		}
		if dec.json != nil {
			dec.flush = func() {
				// Bounded: a stdout nobody reads stalls the output, and the
				// decision line then waits for it anyway.
				fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_ = ch.Flush(fctx)
				cancel()
			}
		}
		ready := pr.gen.ld.ready // before attach: the reloader takes gen
		pr.attach(ch, cio)
		only.inner = stdoutEvents{ch}
		var handler host.Handler = ch
		if c.tracer != nil {
			handler = c.tracer.Handler(ch)
		}
		// Lazy plugins load from the turn's start on (or when needed).
		handler, gate = gateLoads(handler, ready, giveUp)
		return &host.Prepared{Handler: handler, Observers: []host.EventObserver{only}}, nil
	}
	client, err := host.Start(ctx, &host.Options{
		Codex: c.codex, CodexHome: c.codexHome, Dir: c.cwd, Config: c.config, Features: c.exec.features(), StrictConfig: c.exec.strict,
		Observers: observers, Transcript: rec.writer(), Prepare: load,
		// The host's own warnings (a codex newer than the tested ones, a
		// handler that failed and was answered fail-closed, a tool call
		// for a tool its thread was not given) go to stderr, escaped.
		Logger: newLineLogger(cio.stderr, slog.LevelWarn),
	})
	if pr != nil {
		defer pr.close()
	}
	if ch != nil {
		defer ch.Close()
	}
	beginLoads := func() {}
	if gate != nil {
		defer gate.close()
		beginLoads = gate.begin
	}
	if err != nil {
		if loadErr != nil && errors.Is(err, host.ErrPrepare) {
			return loadErr
		}
		return c.failure(ctx, "start codex", err)
	}
	defer func() {
		_ = client.Close()
		_ = client.Wait()
	}()
	if late != nil {
		judgeOpts.Client = client
		j, err := judge.New(judgeOpts)
		if err != nil {
			return usageErr("%v", err)
		}
		late.mu.Lock()
		late.j = j
		late.mu.Unlock()
	}

	if err := checkAccount(ctx, client); err != nil {
		return err
	}
	if prog != nil {
		prog.setLabel("working")
	}
	var res *host.Result
	if c.tracer != nil {
		tctx, endTurn := c.tracer.StartTurn(turnCtx)
		res, err = c.turn(tctx, cio, client, prompt, only, beginLoads)
		var threadID string
		if res != nil {
			threadID = res.ThreadID
		}
		endTurn(threadID, err)
	} else {
		res, err = c.turn(turnCtx, cio, client, prompt, only, beginLoads)
	}
	if cause := context.Cause(turnCtx); errors.Is(cause, errUnreachable) {
		err = fail(exitConn, "%v; check the network and the model provider's base_url in codex's config", cause)
	} else if lerr, ok := asPluginLoad(cause); ok {
		err = lerr // a plugin failed to load after the start; the turn was stopped
	}
	if prog != nil {
		prog.stop()
	}
	if err != nil && c.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// --timeout fired, maybe before the turn started (a slow start).
		err = fail(exitTurnFailed, "turn timed out after %s", c.timeout)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = ch.Flush(fctx)
	cancel()
	// Not after --ephemeral (codex stores no thread) or --scripted (whose
	// CODEX_HOME is gone when run returns): the command would fail.
	if res != nil && res.ThreadID != "" && !c.exec.ephemeral && c.scripted == "" {
		// Not an error: no "codexhost:" prefix, which marks the error lines.
		fmt.Fprintf(cio.stderr, "thread %s: continue it with codexhost run --thread %s PROMPT\n", termsafe.Line(res.ThreadID), termsafe.Line(res.ThreadID))
	}
	if err != nil {
		return err
	}
	if !rendersNow(ch) && res.Text != "" {
		fmt.Fprintln(cio.stdout, termsafe.Text(res.Text)) // the agent's text, before -o can fail
	}
	if err := c.exec.writeLastMessage(res.Text); err != nil {
		return err
	}
	if n := dec.count(); n > 0 {
		return fail(exitDeclined, "the policy declined %d request(s) during the turn", n)
	}
	return nil
}

// turn starts the turn and waits for it. When ctx ends (Ctrl-C, --timeout)
// it interrupts the turn and waits briefly for it to stop. started is
// called once the turn has started.
func (c *runConfig) turn(ctx context.Context, cio *cmdIO, client *host.Client, prompt string, only *threadFilter, started func()) (*host.Result, error) {
	threadID := c.thread
	var th *host.Thread
	var err error
	if c.resumeLast {
		if threadID, err = c.lastThread(ctx, client); err != nil {
			return nil, err
		}
		c.thread = threadID
	} else if threadID != "" && !isThreadID(threadID) {
		if threadID, err = c.namedThread(ctx, client, threadID); err != nil {
			return nil, err
		}
		c.thread = threadID
	}
	if c.fork != "" && !isThreadID(c.fork) {
		if c.fork, err = c.namedThread(ctx, client, c.fork); err != nil {
			return nil, err
		}
	}
	stored := threadID // the thread whose cwd the new one runs in
	if c.fork != "" {
		stored = c.fork
	}
	project, projectCwd, err := c.checkProjectMCP(ctx, cio, client, stored)
	if err != nil {
		return nil, err
	}
	tconfig, err := c.exec.threadConfig(ctx, client, c.threadCwd())
	if err != nil {
		return nil, connFailure(ctx, "read codex's writable roots for --add-dir", err)
	}
	switch {
	case c.fork != "":
		th, err = c.forkThread(ctx, client, &host.ThreadOptions{Model: c.model, Cwd: c.cwd,
			ApprovalPolicy: c.approvalPolicy, Sandbox: c.sandbox, Ephemeral: c.exec.ephemeral, Config: tconfig})
		if err != nil {
			return nil, err
		}
		threadID = th.ID
	case threadID == "":
		th, err = client.StartThread(ctx, &host.ThreadOptions{Model: c.model, Cwd: c.cwd,
			ApprovalPolicy: c.approvalPolicy, Sandbox: c.sandbox, Ephemeral: c.exec.ephemeral, Config: tconfig})
		if err != nil {
			return nil, c.failure(ctx, "start a thread", err)
		}
		threadID = th.ID
	default:
		th, err = client.ResumeThread(ctx, threadID, &host.ThreadOptions{Model: c.model, Cwd: c.cwd,
			ApprovalPolicy: c.approvalPolicy, Sandbox: c.sandbox, Config: tconfig})
		if err != nil {
			return nil, c.storedThreadErr(ctx, threadID, "resume the thread", err)
		}
	}
	var hooks []string
	if c.guarded() {
		if hooks, err = permissionHooks(ctx, client, threadID); err != nil {
			return nil, connFailure(ctx, "list codex's hooks (a permission-request hook would answer approvals instead of the policy)", err)
		}
		// What codex said before the thread started, unless the thread
		// runs elsewhere or codex did not say (nil: the checks read the
		// files).
		if cwd := c.effectiveCwd(th); project == nil || cwd != projectCwd {
			project, _ = readCodexProject(ctx, client, cwd)
		}
	}
	if err := c.checkEffectiveApproval(cio, th, c.runningCodexHome(client), project, hooks); err != nil {
		return nil, err
	}
	only.thread.Store(&threadID)
	if c.fork != "" && prompt == "" {
		// run fork ID: the copy only. codex announces it with
		// thread/started right after its answer to thread/fork, which the
		// run waits for (5 s at most), so that the renderers get it before
		// the run ends (--json: codex exec fork's thread.started line);
		// before, the run could end first, and print nothing.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		only.waitStarted(wctx, threadID)
		cancel()
		return &host.Result{ThreadID: threadID}, nil
	}
	var topts *host.TurnOptions
	if c.thread != "" && (c.model != "" || c.approvalPolicy != "") {
		topts = &host.TurnOptions{Model: c.model, ApprovalPolicy: c.approvalPolicy}
	}
	if len(c.exec.outputSchema) > 0 {
		if topts == nil {
			topts = &host.TurnOptions{}
		}
		topts.OutputSchema = c.exec.outputSchema
	}
	t, err := c.startWork(ctx, client, threadID, prompt, topts)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	started()
	res, err := t.Wait(ctx)
	if err != nil && ctx.Err() != nil {
		// Ctrl-C or --timeout: interrupt the turn, then wait a little for
		// codex to confirm it stopped.
		why := "interrupted"
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			why = fmt.Sprintf("timed out after %s", c.timeout)
		case errors.Is(context.Cause(ctx), errStdoutClosed):
			why = "interrupted: stdout was closed"
		}
		ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = t.Interrupt(ictx)
		if r, werr := t.Wait(ictx); werr == nil || r != nil {
			res = r
		}
		return res, fail(exitTurnFailed, "turn %s", why)
	}
	if err != nil {
		var te *host.TurnError
		if errors.As(err, &te) {
			if errors.Is(err, host.ErrNotAuthenticated) {
				return res, fail(exitConn, "codex is not authenticated: run `codex login`, set OPENAI_API_KEY, or pass --codex-home with a configured provider (%s)", oneLine(te.Message))
			}
			return res, fail(exitTurnFailed, "turn failed: %s", oneLine(te.Message))
		}
		return res, connFailure(ctx, "run the turn", err)
	}
	if res.Status == host.TurnInterrupted {
		return res, fail(exitTurnFailed, "turn interrupted")
	}
	return res, nil
}

// connFailure maps a start or connection error to exit code 4 (or 1 for a
// ctx that ended) with a message that says what to do.
func connFailure(ctx context.Context, what string, err error) error {
	var ce *host.ConnError
	var nf *host.CodexNotFoundError
	switch {
	case ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)):
		return fail(exitTurnFailed, "%s: %v", what, ctx.Err())
	case errors.As(err, &nf):
		where := "not given with --codex or $CODEX_BIN, no pinned install under tools/codex (make codex), none on PATH"
		if nf.Source != "" {
			where = fmt.Sprintf("%s=%q: %v", strings.Replace(nf.Source, "Options.Codex", "--codex", 1), nf.Path, nf.Err)
		}
		return fail(exitConn, "codex binary not found (%s): pass --codex PATH or set CODEX_BIN (the pinned codex of a codexhost checkout: `codexhost version` there prints its path), or install one (npm install -g @openai/codex)", where)
	case errors.Is(err, host.ErrNotAuthenticated):
		return fail(exitConn, "codex is not authenticated: run `codex login`, set OPENAI_API_KEY, or pass --codex-home with a configured provider")
	case errors.Is(err, host.ErrConfig):
		return fail(exitConn, "codex rejected its configuration; fix config.toml in CODEX_HOME or the -c overrides: %s", innermost(err))
	case errors.As(err, &ce):
		msg := fmt.Sprintf("codex app-server exited (%s)", oneLine(ce.Err.Error()))
		if tail := ce.Reason(); tail != "" {
			msg += ": " + tail
		}
		return fail(exitConn, "%s: %s; check --codex, --codex-home and -c", what, msg)
	}
	return fail(exitConn, "%s: %s", what, oneLine(err.Error()))
}

// innermost is codex's own message when err carries a JSON-RPC error
// from app-server, else the message of the innermost wrapped error.
func innermost(err error) string {
	var we *rpc.WireError
	if errors.As(err, &we) {
		return oneLine(we.Message)
	}
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if es := u.Unwrap(); len(es) > 0 {
				next = es[len(es)-1]
			}
		}
		if next == nil {
			return oneLine(err.Error())
		}
		err = next
	}
}

// A threadFilter passes on the events of the run's thread only, once that
// is known: the judge's threads, on the same client, are not rendered.
// The threads of the sub-agents of the run's thread (those its sub-agent
// tool calls name: spawned, or resumed from an earlier run, and theirs in
// turn) are the agent's work: what they run (commands, file changes, tool
// calls) is rendered, unasked as it may be under on-request, but not
// their turns, messages or reasoning, which are not the run's.
type threadFilter struct {
	inner  host.EventObserver
	thread atomic.Pointer[string]

	mu   sync.Mutex
	subs map[string]bool // the sub-agents' threads, learnt from their tool calls
	// started holds the threads whose thread/started the filter has passed
	// on; changed is closed (and replaced) when one is added.
	started map[string]bool
	changed chan struct{}
}

// noteStarted records that thread/started of ev's thread was passed on.
func (f *threadFilter) noteStarted(ev *host.Event) {
	if ev.Method != string(protocol.NotifThreadStarted) || ev.ThreadID == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.started == nil {
		f.started = map[string]bool{}
	}
	f.started[ev.ThreadID] = true
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// waitStarted waits until thread/started of thread id has been passed on
// to the renderers, or ctx ends, and reports whether it was.
func (f *threadFilter) waitStarted(ctx context.Context, id string) bool {
	for {
		f.mu.Lock()
		if f.started[id] {
			f.mu.Unlock()
			return true
		}
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
}

func (f *threadFilter) ObserveEvent(ev *host.Event) {
	defer f.noteStarted(ev)
	id := f.thread.Load()
	if id == nil || ev.ThreadID == "" || ev.ThreadID == *id {
		f.learnSubAgents(ev)
		f.inner.ObserveEvent(ev)
		return
	}
	f.mu.Lock()
	sub := f.subs[ev.ThreadID]
	f.mu.Unlock()
	if !sub {
		return
	}
	f.learnSubAgents(ev)
	if subAgentWork(ev) {
		f.inner.ObserveEvent(ev)
	}
}

// learnSubAgents records the threads a sub-agent tool call of a shown
// thread names (spawn_agent, resume_agent, send_input, ...): its
// sub-agents.
func (f *threadFilter) learnSubAgents(ev *host.Event) {
	if ev.Item == nil || ev.Item.Type != host.ItemCollabAgentToolCall {
		return
	}
	var w struct {
		Receivers []string `json:"receiverThreadIds"`
	}
	if json.Unmarshal(ev.Item.Raw, &w) != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range w.Receivers {
		if f.subs == nil {
			f.subs = map[string]bool{}
		}
		f.subs[r] = true
	}
}

// subAgentWork reports whether ev, of a sub-agent's thread, is of what
// the sub-agent runs: an item other than a message or reasoning, or a
// command's or file change's output.
func subAgentWork(ev *host.Event) bool {
	switch ev.Kind {
	case abi.EventCommandOutputDelta, abi.EventFileChangeDelta:
		return true
	case abi.EventItemStarted, abi.EventItemCompleted:
		if ev.Item == nil {
			return false
		}
		switch ev.Item.Type {
		case host.ItemUserMessage, host.ItemAgentMessage, host.ItemReasoning:
			return false
		}
		return true
	}
	return false
}

// marshalIndent is json.MarshalIndent with the house indentation, for
// stdout: the C1 controls and text-hiding characters of a plugin's
// manifest (its description, say) written as \u escapes
// (termsafe.AppendJSON).
func marshalIndent(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return termsafe.AppendJSON(nil, b), nil
}

// builtinRenderer is the member that renders with --render exec or json,
// or nil with --render none. builtinFor decides, for each plugin set,
// whether it renders there.
func (c *runConfig) builtinRenderer(color bool) *chain.Member {
	switch c.render {
	case "exec":
		style := &render.ExecStyle{Color: color, HideReasoning: c.exec.hideReasoning, NoTurnSummary: c.exec.noTurnSummary}
		if c.exec.hideToolOutput {
			style.MaxOutputLines = -1 // no output line
		}
		return &chain.Member{Plugin: chain.RendererPlugin("exec", style)}
	case "json":
		return &chain.Member{Plugin: chain.RendererPlugin("json", render.JSONL{})}
	case renderCodexJSON:
		return &chain.Member{Plugin: chain.RendererPlugin("codex-json", &render.ExecJSON{})}
	}
	return nil
}

// builtinFor is the built-in renderer (c.builtin) if the plugin set made
// of members renders with it, else nil: it does unless the render setting
// was left at its default and one of members renders (the plugin then
// replaces the built-in renderer). Decided for every set, at start and
// on each reload, so that a reload that adds a render plugin does not
// print every event twice, and one that removes it does not leave the
// run printing nothing.
func (c *runConfig) builtinFor(members []chain.Member) *chain.Member {
	if c.builtin == nil {
		return nil
	}
	explicit := c.json || c.ops.fs.Changed("render") || (c.ops.file != nil && c.ops.file.Defined("render"))
	if !explicit && rendersAny(members) {
		return nil
	}
	return c.builtin
}

// rendersAny reports whether one of members renders: implements the
// event-render hook, and is no monitor (whose output is discarded).
func rendersAny(members []chain.Member) bool {
	for _, m := range members {
		if !m.Monitor && m.Plugin.Manifest().Implements(abi.HookEventRender) {
			return true
		}
	}
	return false
}

// rendersNow reports whether the chain's current plugin set renders the
// turn (a reload may have changed it since the start).
func rendersNow(ch *chain.Chain) bool {
	if ch == nil {
		return false
	}
	for _, st := range ch.Status() {
		if !st.Monitor && slices.Contains(st.Hooks, abi.HookEventRender) {
			return true
		}
	}
	return false
}

// checkJSONStdout refuses --json with a render plugin, at start and on
// every reload (loadGeneration): --json promises JSON lines on stdout, as
// codex exec --json does, and the plugin's text would come between them.
func (c *runConfig) checkJSONStdout(gen *generation) error {
	if !c.json {
		return nil
	}
	for _, m := range gen.members {
		if man := m.Plugin.Manifest(); man.Implements(abi.HookEventRender) {
			return usageErr("--json prints JSON lines on stdout, and the plugin %q renders events there too (the event-render hook): drop --json or the plugin", termsafe.Line(man.Name))
		}
	}
	return nil
}

// shutdownStream exports the decision records still queued (for 5 s at
// most) and says how many did not reach the collector.
func shutdownStream(ctx context.Context, cio *cmdIO, s *audit.Stream) {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := s.Shutdown(sctx)
	if st := s.Stats(); st.Dropped() > 0 {
		fmt.Fprintf(cio.stderr, "codexhost: %d decision log record(s) not exported (queue full: %d, export failed: %d, unsent: %d)\n",
			st.Dropped(), st.QueueFull, st.ExportFailed, st.Unsent)
	} else if err != nil {
		fmt.Fprintf(cio.stderr, "codexhost: %s\n", termsafe.Line(oneLine(err.Error())))
	}
}
