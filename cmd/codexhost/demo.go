package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	hosttest "github.com/codexhost/codexhost/internal/fakemodel"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/plugins/wasm"
)

const demoSynopsis = `demo [--mode smoke|demo|full] [--codex BIN] [--model NAME] [--strict] [--show-events]

Runs the real codex offline against a fake model, with a temporary
CODEX_HOME. smoke streams one answer. demo also builds the examples/policy
and examples/tool plugins for Wasm (it needs the Go toolchain and the
codexhost source tree: run it from the repository) and shows an accepted
command (echo), a declined one (rm), a dynamic tool call, and listing,
reading and archiving threads. full adds the examples/answer plugin
answering the agent's questions, a turn interrupted while the model is
busy (turn/interrupt), compacting a thread (thread/compact), naming a
thread (thread/name/set), the loaded threads (thread/loaded/list), the
skills (skills/list), the apps (app/list) and a code review
(review/start).

Each step ends with PASS or FAIL, and a summary lists them all. A failed
step does not stop the others; with --strict it makes the exit status 1.
If codex itself dies, the demo stops there with exit status 4.`

// demoAnswer is what the fake model streams in the smoke run.
const demoAnswer = "Hello from codexhost: this answer came from the fake model through the real codex app-server."

// demoOptions are demo's flags.
type demoOptions struct {
	mode, codex string
	// model is the model the demo's threads ask for; "" is the fake
	// CODEX_HOME's configured one.
	model string
	// strict makes a failed step fail the command.
	strict bool
	// showEvents prints every event codex sends.
	showEvents bool
}

func cmdDemo(ctx context.Context, cio *cmdIO, args []string) error {
	var o demoOptions
	fs := newFlagSet(cio, "demo", demoSynopsis)
	fs.StringVar(&o.mode, "mode", "demo", "smoke (one streamed answer), demo (plugins, tools, threads) or full (also questions, interrupt, compact, names, skills, apps, review)")
	fs.StringVar(&o.codex, "codex", "", "codex `BIN` (default: $CODEX_BIN, the pinned install, then PATH)")
	fs.StringVar(&o.model, "model", "", "the `NAME` of the model the demo's threads ask the fake model for (default: the temporary CODEX_HOME's, mock-model)")
	fs.BoolVar(&o.strict, "strict", false, "exit 1 if any step fails (default: report the failures, exit 0)")
	fs.BoolVar(&o.showEvents, "show-events", false, "print every event codex sends (method, thread, turn, item type, delta)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageErr("demo takes no arguments")
	}
	switch o.mode {
	case "smoke":
		return demoSmoke(ctx, cio, &o)
	case "demo", "full":
		return demoFull(ctx, cio, &o)
	}
	return usageErr("--mode %q: want smoke, demo or full", o.mode)
}

// A demoSteps runs the demo's steps in order and keeps their outcomes.
// A failed step does not stop the next, unless codex is gone.
type demoSteps struct {
	say     func(format string, args ...any)
	client  *host.Client
	results []demoResult
	// stopped is the error that ended the demo early: codex died, or the
	// command's context ended.
	stopped error
}

type demoResult struct {
	title string
	err   error
}

// run runs one step, unless the demo has stopped, and prints its outcome.
func (d *demoSteps) run(ctx context.Context, title string, step func() error) {
	if d.stopped != nil {
		return
	}
	d.say("\n== %s", title)
	err := step()
	d.results = append(d.results, demoResult{title: title, err: err})
	if err == nil {
		d.say("   PASS")
		return
	}
	d.say("   FAIL: %s", termsafe.Line(oneLine(err.Error())))
	var gone <-chan struct{} // nil (never ready) without a client
	if d.client != nil {
		gone = d.client.Done()
	}
	select {
	case <-gone:
		d.stopped = connFailure(ctx, title, d.client.Err())
	case <-ctx.Done():
		d.stopped = fail(exitTurnFailed, "%s: %v", title, ctx.Err())
	default:
	}
}

// finish prints the summary and returns the command's outcome.
func (d *demoSteps) finish(strict bool) error {
	d.say("\n== summary")
	failed := 0
	for _, r := range d.results {
		if r.err != nil {
			failed++
			d.say("FAIL  %s: %s", r.title, oneLine(r.err.Error()))
		} else {
			d.say("PASS  %s", r.title)
		}
	}
	if d.stopped != nil {
		d.say("demo: stopped after %d step(s): %s", len(d.results), d.stopped)
		return d.stopped
	}
	d.say("demo: done: %d of %d steps passed", len(d.results)-failed, len(d.results))
	if failed > 0 && strict {
		return fail(exitTurnFailed, "demo: %d of %d steps failed (--strict)", failed, len(d.results))
	}
	return nil
}

// checkModel is nil if every request the fake model got named the
// model the demo's threads ask for (none to check without --model).
func checkModel(m *hosttest.Model, want string) error {
	if want == "" {
		return nil
	}
	reqs := m.Requests()
	if len(reqs) == 0 {
		return errors.New("the fake model got no request")
	}
	for _, r := range reqs {
		if r.Model != want {
			return fmt.Errorf("--model %s: request %d asked for model %q", want, r.Seq, r.Model)
		}
	}
	return nil
}

// An eventPrinter prints every event codex sends (--show-events).
type eventPrinter struct {
	say func(format string, args ...any)
}

func (p eventPrinter) ObserveEvent(ev *host.Event) {
	var b strings.Builder
	fmt.Fprintf(&b, "   event %d %s", ev.Seq, ev.Method)
	if ev.ThreadID != "" {
		fmt.Fprintf(&b, " thread=%s", ev.ThreadID)
	}
	if ev.TurnID != "" {
		fmt.Fprintf(&b, " turn=%s", ev.TurnID)
	}
	if ev.Item != nil {
		fmt.Fprintf(&b, " item=%s", ev.Item.Type)
	}
	if ev.Turn != nil {
		fmt.Fprintf(&b, " status=%s", ev.Turn.State)
	}
	if ev.Delta != "" {
		fmt.Fprintf(&b, " delta=%q", clipText(ev.Delta, 60))
	}
	p.say("%s", b.String())
}

// clipText cuts s to at most n runes, marking the cut.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// demoEnv is the fake model, a temporary CODEX_HOME and a work directory.
type demoEnv struct {
	model      *hosttest.Model
	home, work string
	// hanging receives when the model starts the full demo's hanging
	// reply: the turn step 7 interrupts is then in the model's hands.
	hanging chan struct{}
}

func newDemoEnv(script hosttest.Script, home *hosttest.CodexHomeOptions) (*demoEnv, error) {
	m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script})
	if err != nil {
		return nil, fmt.Errorf("start the fake model: %w", err)
	}
	e := &demoEnv{model: m}
	if e.home, err = os.MkdirTemp("", "codexhost-demo-home-"); err == nil {
		e.work, err = os.MkdirTemp("", "codexhost-demo-work-")
	}
	if err == nil {
		err = hosttest.WriteCodexHome(e.home, m.URL(), home)
	}
	if err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *demoEnv) close() {
	_ = e.model.Close()
	if e.home != "" {
		_ = os.RemoveAll(e.home)
	}
	if e.work != "" {
		_ = os.RemoveAll(e.work)
	}
}

func (e *demoEnv) start(ctx context.Context, codex string, h host.Handler, obs []host.EventObserver) (*host.Client, error) {
	sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	c, err := host.Start(sctx, &host.Options{Codex: codex, CodexHome: e.home, Dir: e.work, Handler: h, Observers: obs})
	if err != nil {
		return nil, connFailure(ctx, "start codex", err)
	}
	return c, nil
}

func demoSmoke(ctx context.Context, cio *cmdIO, o *demoOptions) error {
	out := &lockedWriter{w: cio.stdout}
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }
	env, err := newDemoEnv(hosttest.Text(demoAnswer).InDeltas(8), nil)
	if err != nil {
		return err
	}
	defer env.close()
	var obs []host.EventObserver
	if o.showEvents {
		obs = append(obs, eventPrinter{say: say})
	}
	client, err := env.start(ctx, o.codex, nil, obs)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close(); _ = client.Wait() }()
	steps := &demoSteps{say: say, client: client}
	steps.run(ctx, "1. a streamed answer", func() error {
		var got strings.Builder
		for delta, err := range client.Stream(ctx, "Say hello.", &host.RunOptions{Thread: &host.ThreadOptions{Cwd: env.work, Model: o.model}}) {
			if err != nil {
				return connFailure(ctx, "run the turn", err)
			}
			got.WriteString(delta)
			if !o.showEvents {
				fmt.Fprint(out, delta)
			}
		}
		if o.showEvents {
			// The deltas were printed as events; the answer follows whole,
			// in one write, so no event line can cut it.
			fmt.Fprintln(out, got.String())
		} else {
			fmt.Fprintln(out)
		}
		if got.String() != demoAnswer {
			return errors.New("the streamed answer differs from the fake model's")
		}
		return checkModel(env.model, o.model)
	})
	return steps.finish(o.strict)
}

// lockedWriter serializes writes from the renderer and the demo.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// moduleRoot finds the codexhost source tree from the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("demo needs the Go toolchain to build its plugins: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	b, err := os.ReadFile(gomod)
	if err != nil || !bytes.Contains(b, []byte("module github.com/codexhost/codexhost\n")) {
		return "", errors.New("demo builds its plugins from source: run it inside the codexhost repository")
	}
	return filepath.Dir(gomod), nil
}

// buildWasm builds the Go guest in dir for wasip1.
func buildWasm(ctx context.Context, dir, tmp string) ([]byte, error) {
	out := filepath.Join(tmp, filepath.Base(dir)+".wasm")
	if compilerOut, err := goBuild(ctx, dir, out, runtimeWasm); err != nil {
		if compilerOut == "" {
			return nil, err
		}
		return nil, fmt.Errorf("build %s for Wasm: %s", dir, oneLine(compilerOut))
	}
	return os.ReadFile(out)
}

func demoFull(ctx context.Context, cio *cmdIO, o *demoOptions) error {
	full := o.mode == "full"
	out := &lockedWriter{w: cio.stdout}
	say := func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }

	root, err := moduleRoot()
	if err != nil {
		return fail(exitTurnFailed, "%v", err)
	}
	tmp, err := os.MkdirTemp("", "codexhost-demo-plugins-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	examples := []string{"policy", "tool"}
	if full {
		examples = append(examples, "answer")
	}
	say("== building examples/%s for Wasm", strings.Join(examples, ", examples/"))
	rt, err := wasm.NewRuntime(ctx, nil)
	if err != nil {
		return err
	}
	defer rt.Close(context.Background())
	var loaded []plugins.Plugin
	for _, ex := range examples {
		b, err := buildWasm(ctx, filepath.Join(root, "examples", ex), tmp)
		if err != nil {
			return fail(exitTurnFailed, "%v", err)
		}
		p, err := rt.Load(ctx, b, nil)
		if err != nil {
			return fail(exitTurnFailed, "load examples/%s: %s", ex, oneLine(err.Error()))
		}
		m := p.Manifest()
		say("   loaded %s %s: %s", m.Name, m.Version, m.Description)
		loaded = append(loaded, p)
	}

	hanging := make(chan struct{}, 1)
	turns := []hosttest.Script{
		hosttest.Turn(hosttest.Text("Streaming works: these words arrive in several deltas.").InDeltas(6)),
		hosttest.Turn(hosttest.ExecCommand("echo hello > echoed.txt"), hosttest.Text("I wrote echoed.txt.")),
		hosttest.Turn(hosttest.ExecCommand("rm victim.txt"), hosttest.Text("The policy did not let me remove victim.txt.")),
		hosttest.Turn(hosttest.FunctionCall("word_count", map[string]string{"text": "one two three four"}), hosttest.Text("The text has 4 words.")),
	}
	var home *hosttest.CodexHomeOptions
	if full {
		turns = append(turns,
			hosttest.Turn(demoQuestion, hosttest.Text("Blue it is.")),
			hosttest.ScriptFunc(func(*hosttest.ModelRequest) hosttest.Reply {
				select {
				case hanging <- struct{}{}:
				default:
				}
				return hosttest.Hang()
			}),
			hosttest.Turn(hosttest.Text(demoSummary)),
		)
		home = &hosttest.CodexHomeOptions{RequestUserInput: true}
	}
	env, err := newDemoEnv(demoScript(hosttest.Turns(turns...)), home)
	if err != nil {
		return err
	}
	env.hanging = hanging
	defer env.close()
	victim := filepath.Join(env.work, "victim.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o644); err != nil {
		return err
	}
	if full {
		if err := writeDemoSkill(env.home); err != nil {
			return err
		}
	}

	var mu sync.Mutex
	var recs []*chain.DecisionRecord
	members := append(loaded[:len(loaded):len(loaded)], chain.RendererPlugin("exec", &render.ExecStyle{Color: render.UseColor(cio.stdout)}))
	obs, err := chain.New(&chain.Options{Plugins: members, Render: chain.RenderOptions{Output: out}, OnDecision: func(r *chain.DecisionRecord) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	}})
	if err != nil {
		return err
	}
	defer obs.Close()
	compactions := &compactionWatch{done: make(chan string, 4)}
	flush := func() {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_ = obs.Flush(fctx)
		fcancel()
	}
	observers := []host.EventObserver{obs, compactions}
	if o.showEvents {
		observers = append(observers, eventPrinter{say: say})
	}
	client, err := env.start(ctx, o.codex, obs, observers)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close(); _ = client.Wait() }()
	threadOpts := &host.ThreadOptions{Cwd: env.work, Model: o.model}

	turn := func(title, prompt string) (*host.Result, error) {
		tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		res, err := client.Run(tctx, prompt, &host.RunOptions{Thread: threadOpts})
		flush()
		if err != nil {
			return nil, connFailure(tctx, title, err)
		}
		mu.Lock()
		for _, r := range recs {
			switch r.Hook {
			case abi.HookApproval:
				why := ""
				if len(r.Answers) > 0 {
					why = r.Answers[0].Plugin + ": " + r.Answers[0].Reason
				}
				say("   policy: %s %q (%s)", r.Decision, r.Summary, why)
			case abi.HookToolInput:
				by := "nobody (empty answers)"
				if !r.Why.Fallback() && len(r.Answers) > 0 {
					by = r.Answers[len(r.Answers)-1].Plugin
				}
				say("   question %q answered by %s", strings.TrimSpace(r.Summary), by)
			}
		}
		recs = nil
		mu.Unlock()
		return res, nil
	}

	steps := &demoSteps{say: say, client: client}
	steps.run(ctx, "1. streamed text", func() error {
		if _, err := turn("streamed text", "Say something."); err != nil {
			return err
		}
		return checkModel(env.model, o.model)
	})
	steps.run(ctx, "2. an accepted command: echo", func() error {
		if _, err := turn("echo", "Write a file with echo."); err != nil {
			return err
		}
		if b, err := os.ReadFile(filepath.Join(env.work, "echoed.txt")); err != nil || string(b) != "hello\n" {
			return errors.New("the accepted echo did not write echoed.txt")
		}
		say("   echoed.txt contains %q", "hello\n")
		return nil
	})
	steps.run(ctx, "3. a declined command: rm", func() error {
		if _, err := turn("rm", "Remove victim.txt."); err != nil {
			return err
		}
		if _, err := os.Stat(victim); err != nil {
			return errors.New("the declined rm removed victim.txt")
		}
		say("   victim.txt is still there")
		return nil
	})
	steps.run(ctx, "4. a dynamic tool call: word_count (examples/tool)", func() error {
		if _, err := turn("word_count", "Count the words."); err != nil {
			return err
		}
		toolOut := ""
		for _, r := range env.model.Requests() {
			for _, o := range r.ToolOutputs() {
				if strings.Contains(o.Text(), "words") {
					toolOut = o.Text()
				}
			}
		}
		if !strings.Contains(toolOut, "4 words") {
			return errors.New("the word_count tool's answer did not reach the model")
		}
		say("   the model received the tool's answer: %q", toolOut)
		return nil
	})
	steps.run(ctx, "5. threads: list, read, archive", func() error { return demoThreads(ctx, say, client) })
	if full {
		demoMore(ctx, steps, flush, client, env, threadOpts, turn, compactions)
	}
	return steps.finish(o.strict)
}

// demoThreads lists the threads, reads the newest and archives it.
func demoThreads(ctx context.Context, say func(string, ...any), client *host.Client) error {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var ids []string
	for th, err := range client.Threads(lctx, nil) {
		if err != nil {
			return connFailure(lctx, "list threads", err)
		}
		ids = append(ids, th.ID)
		say("   thread %s: %q", th.ID, th.Preview)
	}
	if len(ids) == 0 {
		return errors.New("no thread listed")
	}
	th, err := client.ReadThread(lctx, ids[0], true)
	if err != nil {
		return connFailure(lctx, "read a thread", err)
	}
	say("   read %s: %d turn(s), %d item(s) in the first", th.ID, len(th.Turns), firstItems(th))
	if err := client.ArchiveThread(lctx, ids[0]); err != nil {
		return connFailure(lctx, "archive a thread", err)
	}
	archived := 0
	for _, err := range client.Threads(lctx, &host.ListOptions{Archived: true}) {
		if err != nil {
			return connFailure(lctx, "list archived threads", err)
		}
		archived++
	}
	say("   archived %s; %d archived thread(s) now", ids[0], archived)
	return nil
}

// The full demo's scripted question, and the fake model's compaction
// summary.
var demoQuestion = hosttest.RequestUserInput(hosttest.Question{ID: "color", Header: "Color", Question: "Which color should the banner be?",
	Options: []hosttest.Option{{Label: "Blue", Description: "calm (recommended)"}, {Label: "Red", Description: "loud"}}})

const demoSummary = "Summary: the user tried streaming, echo, rm, a tool, a question and an interrupt."

// The full demo's review: its instructions carry demoReviewMarker, and the
// fake model answers them with demoReview, the review output codex's
// reviewer must produce.
const (
	demoReviewMarker = "codexhost-demo-review"
	demoReview       = `{"findings":[],"overall_correctness":"patch is correct","overall_explanation":"the demo changed nothing that needs a fix","overall_confidence_score":0.9}`
)

// demoScript answers the review's request with demoReview and every other
// request with turns.
func demoScript(turns hosttest.Script) hosttest.Script {
	return hosttest.ScriptFunc(func(req *hosttest.ModelRequest) hosttest.Reply {
		if strings.Contains(strings.Join(req.UserTexts(), "\n"), demoReviewMarker) {
			return hosttest.Text(demoReview)
		}
		return turns.Reply(req)
	})
}

// demoSkill is the skill the full demo installs in its CODEX_HOME and
// finds with skills/list.
const demoSkill = "codexhost-demo"

func writeDemoSkill(home string) error {
	dir := filepath.Join(home, "skills", demoSkill)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "SKILL.md"),
		[]byte("---\nname: "+demoSkill+"\ndescription: The skill codexhost demo lists.\n---\nSay hello.\n"), 0o644)
}

// demoMore is the rest of the full demo: a question answered by a plugin,
// an interrupted turn, a compacted thread, a named thread, the loaded
// threads, the skills, the apps and a review.
func demoMore(ctx context.Context, steps *demoSteps, flush func(), client *host.Client, env *demoEnv, threadOpts *host.ThreadOptions,
	turn func(title, prompt string) (*host.Result, error), compactions *compactionWatch) {
	say := steps.say
	var questionThread string
	steps.run(ctx, "6. the agent asks a question; examples/answer answers it", func() error {
		res, err := turn("question", "Ask me which color to use.")
		if err != nil {
			return err
		}
		questionThread = res.ThreadID
		answered := ""
		for _, r := range env.model.Requests() {
			for _, o := range r.ToolOutputs() {
				if strings.Contains(o.Text(), `"Blue"`) {
					answered = o.Text()
				}
			}
		}
		if !strings.Contains(answered, `"Blue"`) {
			return errors.New("the answer to the agent's question did not reach the model")
		}
		say("   the model received the answer: %s", answered)
		return nil
	})
	// needThread is the thread the later steps work on: step 6's.
	needThread := func() error {
		if questionThread == "" {
			return errors.New("no thread: step 6 failed")
		}
		return nil
	}

	steps.run(ctx, "7. interrupt a turn while the model is busy (turn/interrupt)", func() error {
		tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		th, err := client.StartThread(tctx, threadOpts)
		if err != nil {
			return connFailure(tctx, "start a thread", err)
		}
		t, err := client.StartTurn(tctx, th.ID, []host.Input{host.TextInput("Think about this for a long time.")}, nil)
		if err != nil {
			return connFailure(tctx, "start a turn", err)
		}
		defer t.Close()
		select {
		case <-tctx.Done():
			return errors.New("the model never got the turn's request")
		case <-env.hanging:
		}
		say("   the model is working on turn %s; interrupting it", t.ID)
		t0 := time.Now()
		if err := t.Interrupt(tctx); err != nil {
			return connFailure(tctx, "interrupt the turn", err)
		}
		ires, err := t.Wait(tctx)
		flush()
		if err != nil {
			return connFailure(tctx, "wait for the interrupted turn", err)
		}
		if ires.Status != host.TurnInterrupted {
			return fmt.Errorf("the interrupted turn ended %s", ires.Status)
		}
		say("   turn %s: %s, %s after the interrupt", ires.TurnID, ires.Status, time.Since(t0).Round(time.Millisecond))
		return nil
	})

	steps.run(ctx, "8. compact a thread's context (thread/compact)", func() error {
		if err := needThread(); err != nil {
			return err
		}
		tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := client.CompactThread(tctx, questionThread); err != nil {
			return connFailure(tctx, "compact the thread", err)
		}
		select {
		case id := <-compactions.done:
			flush()
			say("   thread %s compacted (a %s item)", id, host.ItemContextCompaction)
			return nil
		case <-tctx.Done():
			return errors.New("the compaction did not complete")
		}
	})

	lctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	steps.run(ctx, "9. name a thread (thread/name/set)", func() error {
		if err := needThread(); err != nil {
			return err
		}
		const name = "the banner colour"
		if err := client.SetThreadName(lctx, questionThread, name); err != nil {
			return connFailure(lctx, "name the thread", err)
		}
		th, err := client.ReadThread(lctx, questionThread, false)
		if err != nil {
			return connFailure(lctx, "read the thread", err)
		}
		if th.Name != name {
			return fmt.Errorf("thread/read gives the name %q, want %q", th.Name, name)
		}
		say("   thread %s is named %q", th.ID, th.Name)
		return nil
	})
	steps.run(ctx, "10. the threads app-server has loaded (thread/loaded/list)", func() error {
		if err := needThread(); err != nil {
			return err
		}
		var ids []string
		for id, err := range client.LoadedThreads(lctx) {
			if err != nil {
				return connFailure(lctx, "list the loaded threads", err)
			}
			ids = append(ids, id)
		}
		if !slices.Contains(ids, questionThread) {
			return fmt.Errorf("thread %s is not among the %d loaded", questionThread, len(ids))
		}
		say("   %d thread(s) loaded, %s among them", len(ids), questionThread)
		return nil
	})
	steps.run(ctx, "11. skills (skills/list)", func() error {
		sets, err := client.Skills(lctx, &host.SkillsOptions{Cwds: []string{env.work}, ForceReload: true})
		if err != nil {
			return connFailure(lctx, "list the skills", err)
		}
		var names []string
		for _, s := range sets {
			for _, sk := range s.Skills {
				names = append(names, sk.Name)
			}
		}
		if !slices.Contains(names, demoSkill) {
			return fmt.Errorf("the skill %s written to CODEX_HOME/skills is not listed (got %v)", demoSkill, names)
		}
		say("   %d skill(s), %s among them", len(names), demoSkill)
		return nil
	})
	steps.run(ctx, "12. apps (app/list)", func() error {
		n := 0
		for _, err := range client.Apps(lctx, nil) {
			if err != nil {
				return connFailure(lctx, "list the apps", err)
			}
			n++
		}
		say("   %d app(s): the demo's CODEX_HOME connects none", n)
		return nil
	})
	steps.run(ctx, "13. a code review (review/start)", func() error {
		if err := needThread(); err != nil {
			return err
		}
		t, err := client.StartReview(lctx, questionThread, host.ReviewTarget{Type: "custom", Instructions: demoReviewMarker + ": check that nothing needs fixing"})
		if err != nil {
			return connFailure(lctx, "start the review", err)
		}
		defer t.Close()
		res, err := t.Wait(lctx)
		flush()
		if err != nil {
			return connFailure(lctx, "wait for the review", err)
		}
		if res.Status != host.TurnCompleted {
			return fmt.Errorf("the review turn ended %s", res.Status)
		}
		var types []string
		for _, it := range res.Items {
			types = append(types, string(it.Type))
		}
		say("   review turn %s: %s, items %s", res.TurnID, res.Status, strings.Join(types, ", "))
		return nil
	})
}

// A compactionWatch reports the threads whose context was compacted.
type compactionWatch struct{ done chan string }

func (w *compactionWatch) ObserveEvent(ev *host.Event) {
	if ev.Kind == abi.EventItemCompleted && ev.Item != nil && ev.Item.Type == host.ItemContextCompaction {
		select {
		case w.done <- ev.ThreadID:
		default:
		}
	}
}

func firstItems(th *host.Thread) int {
	if len(th.Turns) == 0 {
		return 0
	}
	return len(th.Turns[0].Items)
}
