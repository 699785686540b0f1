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
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	hosttest "github.com/codexhost/codexhost/internal/fakemodel"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
	"github.com/codexhost/codexhost/plugins/render"
	"github.com/codexhost/codexhost/plugins/wasm"
)

const demoSynopsis = `demo [--mode smoke|demo|full] [--codex BIN]

Runs the real codex offline against a fake model, with a temporary
CODEX_HOME. smoke streams one answer. demo also builds the examples/policy
and examples/tool plugins for Wasm (it needs the Go toolchain and the
codexhost source tree: run it from the repository) and shows an accepted
command (echo), a declined one (rm), a dynamic tool call, and listing,
reading and archiving threads. full adds the examples/answer plugin
answering the agent's questions, a turn interrupted while the model is
busy (turn/interrupt), and compacting a thread (thread/compact).`

// demoAnswer is what the fake model streams in the smoke run.
const demoAnswer = "Hello from codexhost: this answer came from the fake model through the real codex app-server."

func cmdDemo(ctx context.Context, cio *cmdIO, args []string) error {
	var mode, codex string
	fs := newFlagSet(cio, "demo", demoSynopsis)
	fs.StringVar(&mode, "mode", "demo", "smoke (one streamed answer), demo (plugins, tools, threads) or full (also questions, interrupt, compact)")
	fs.StringVar(&codex, "codex", "", "codex `BIN` (default: $CODEX_BIN, the pinned install, then PATH)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return usageErr("demo takes no arguments")
	}
	switch mode {
	case "smoke":
		return demoSmoke(ctx, cio, codex)
	case "demo":
		return demoFull(ctx, cio, codex, false)
	case "full":
		return demoFull(ctx, cio, codex, true)
	}
	return usageErr("--mode %q: want smoke, demo or full", mode)
}

// demoEnv is the fake model, a temporary CODEX_HOME and a work directory.
type demoEnv struct {
	model      *hosttest.Model
	home, work string
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

func demoSmoke(ctx context.Context, cio *cmdIO, codex string) error {
	env, err := newDemoEnv(hosttest.Text(demoAnswer).InDeltas(8), nil)
	if err != nil {
		return err
	}
	defer env.close()
	client, err := env.start(ctx, codex, nil, nil)
	if err != nil {
		return err
	}
	defer func() { _ = client.Close(); _ = client.Wait() }()
	var got strings.Builder
	for delta, err := range client.Stream(ctx, "Say hello.", &host.RunOptions{Thread: &host.ThreadOptions{Cwd: env.work}}) {
		if err != nil {
			return connFailure(ctx, "run the turn", err)
		}
		got.WriteString(delta)
		fmt.Fprint(cio.stdout, delta)
	}
	fmt.Fprintln(cio.stdout)
	if got.String() != demoAnswer {
		return fail(exitTurnFailed, "smoke: the streamed answer differs from the fake model's")
	}
	return nil
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

func demoFull(ctx context.Context, cio *cmdIO, codex string, full bool) error {
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
			hosttest.Turn(hosttest.Hang()),
			hosttest.Turn(hosttest.Text(demoSummary)),
		)
		home = &hosttest.CodexHomeOptions{RequestUserInput: true}
	}
	env, err := newDemoEnv(hosttest.Turns(turns...), home)
	if err != nil {
		return err
	}
	defer env.close()
	victim := filepath.Join(env.work, "victim.txt")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o644); err != nil {
		return err
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
	client, err := env.start(ctx, codex, obs, []host.EventObserver{obs, compactions})
	if err != nil {
		return err
	}
	defer func() { _ = client.Close(); _ = client.Wait() }()

	turn := func(title, prompt string) (*host.Result, error) {
		say("\n== %s", title)
		tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		res, err := client.Run(tctx, prompt, &host.RunOptions{Thread: &host.ThreadOptions{Cwd: env.work}})
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

	if _, err := turn("1. streamed text", "Say something."); err != nil {
		return err
	}
	if _, err := turn("2. an accepted command: echo", "Write a file with echo."); err != nil {
		return err
	}
	if b, err := os.ReadFile(filepath.Join(env.work, "echoed.txt")); err != nil || string(b) != "hello\n" {
		return fail(exitTurnFailed, "demo: the accepted echo did not write echoed.txt")
	}
	say("   echoed.txt contains %q", "hello\n")
	if _, err := turn("3. a declined command: rm", "Remove victim.txt."); err != nil {
		return err
	}
	if _, err := os.Stat(victim); err != nil {
		return fail(exitTurnFailed, "demo: the declined rm removed victim.txt")
	}
	say("   victim.txt is still there")
	if _, err := turn("4. a dynamic tool call: word_count (examples/tool)", "Count the words."); err != nil {
		return err
	}
	reqs := env.model.Requests()
	toolOut := ""
	for _, r := range reqs {
		for _, o := range r.ToolOutputs() {
			if strings.Contains(o.Text(), "words") {
				toolOut = o.Text()
			}
		}
	}
	if !strings.Contains(toolOut, "4 words") {
		return fail(exitTurnFailed, "demo: the word_count tool's answer did not reach the model")
	}
	say("   the model received the tool's answer: %q", toolOut)

	say("\n== 5. threads: list, read, archive")
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
		return fail(exitTurnFailed, "demo: no thread listed")
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
	if full {
		if err := demoMore(ctx, say, flush, client, env, turn, compactions); err != nil {
			return err
		}
	}
	say("\ndemo: done")
	return nil
}

// The full demo's scripted question, and the fake model's compaction
// summary.
var demoQuestion = hosttest.RequestUserInput(hosttest.Question{ID: "color", Header: "Color", Question: "Which color should the banner be?",
	Options: []hosttest.Option{{Label: "Blue", Description: "calm (recommended)"}, {Label: "Red", Description: "loud"}}})

const demoSummary = "Summary: the user tried streaming, echo, rm, a tool, a question and an interrupt."

// demoMore is the rest of the full demo: a question answered by a plugin,
// an interrupted turn, and a compacted thread.
func demoMore(ctx context.Context, say func(string, ...any), flush func(), client *host.Client, env *demoEnv,
	turn func(title, prompt string) (*host.Result, error), compactions *compactionWatch) error {
	res, err := turn("6. the agent asks a question; examples/answer answers it", "Ask me which color to use.")
	if err != nil {
		return err
	}
	answered := ""
	for _, r := range env.model.Requests() {
		for _, o := range r.ToolOutputs() {
			if strings.Contains(o.Text(), `"Blue"`) {
				answered = o.Text()
			}
		}
	}
	if !strings.Contains(answered, `"Blue"`) {
		return fail(exitTurnFailed, "demo: the answer to the agent's question did not reach the model")
	}
	say("   the model received the answer: %s", answered)
	questionThread := res.ThreadID

	say("\n== 7. interrupt a turn while the model is busy (turn/interrupt)")
	tctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	th, err := client.StartThread(tctx, &host.ThreadOptions{Cwd: env.work})
	if err != nil {
		return connFailure(tctx, "start a thread", err)
	}
	before := len(env.model.Requests())
	t, err := client.StartTurn(tctx, th.ID, []host.Input{host.TextInput("Think about this for a long time.")}, nil)
	if err != nil {
		return connFailure(tctx, "start a turn", err)
	}
	defer t.Close()
	for len(env.model.Requests()) == before {
		select {
		case <-tctx.Done():
			return fail(exitTurnFailed, "demo: the model never got the turn's request")
		case <-time.After(20 * time.Millisecond):
		}
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
		return fail(exitTurnFailed, "demo: the interrupted turn ended %s", ires.Status)
	}
	say("   turn %s: %s, %s after the interrupt", ires.TurnID, ires.Status, time.Since(t0).Round(time.Millisecond))

	say("\n== 8. compact a thread's context (thread/compact)")
	if err := client.CompactThread(tctx, questionThread); err != nil {
		return connFailure(tctx, "compact the thread", err)
	}
	select {
	case id := <-compactions.done:
		flush()
		say("   thread %s compacted (a %s item)", id, host.ItemContextCompaction)
	case <-tctx.Done():
		return fail(exitTurnFailed, "demo: the compaction did not complete")
	}
	return nil
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
