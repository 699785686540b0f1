package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
)

const pluginTestSynopsis = `plugin test [flags] PATH (--cases FILE | --transcript FILE)

Replays requests against the plugin at PATH (Wasm or process) and checks
its answers, like go test: a line per failed case with what was expected
and what the plugin answered, then ok or FAIL.

--cases FILE lists requests and the answers expected (TOML, or JSON for a
.json file; see docs/cli.md). --transcript FILE replays every request of a
turn recorded with 'codexhost run --record FILE' that the plugin answers
(its hooks, its tools) through the host's own translation, and checks that
the host would send codex the answer it sent in the recorded run; with
--print it prints the answers instead. A plugin that renders also renders
the transcript's events (shown with -v).

Exit status: 0 every case passed, 1 a case failed, 2 bad input.`

type pluginTestConfig struct {
	cases, transcript string
	settings          string
	fallback          string
	run               string
	verbose, print    bool
	sha256            string
}

func cmdPluginTest(ctx context.Context, cio *cmdIO, args []string) error {
	var c pluginTestConfig
	fs := newFlagSet(cio, "plugin test", pluginTestSynopsis)
	fs.StringVar(&c.cases, "cases", "", "the cases `FILE` (TOML or JSON)")
	fs.StringVar(&c.transcript, "transcript", "", "replay the requests of a transcript `FILE` (from run --record)")
	fs.StringVar(&c.settings, "settings", "", "the plugin's settings: `JSON`, or @FILE (overrides the cases file's)")
	fs.StringVar(&c.fallback, "fallback", "decline", "the host's answer when the plugin abstains or fails (as run --fallback)")
	fs.StringVar(&c.run, "run", "", "run only the cases whose name matches `REGEXP`")
	fs.BoolVarP(&c.verbose, "verbose", "v", false, "print every case and the plugin's answer, not only failures")
	fs.BoolVar(&c.print, "print", false, "with --transcript: print the plugin's answers, do not compare them with the recorded ones")
	fs.StringVar(&c.sha256, "sha256", "", "refuse the plugin unless its sha256 is `HEX`")
	fs.Usage = func() {
		fmt.Fprintf(cio.stderr, "Usage: codexhost %s\n\nFlags:\n", pluginTestSynopsis)
		fs.PrintDefaults()
	}
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin test: want exactly one PATH, got %d arguments", fs.NArg())
	}
	if c.cases == "" && c.transcript == "" {
		fs.Usage()
		return usageErr("plugin test: nothing to test: give --cases FILE, --transcript FILE, or both")
	}
	if c.print && c.transcript == "" {
		return usageErr("plugin test: --print goes with --transcript")
	}
	return c.runTests(ctx, cio, fs.Arg(0))
}

func (c *pluginTestConfig) runTests(ctx context.Context, cio *cmdIO, path string) error {
	fallback, err := parseFallback(c.fallback)
	if err != nil {
		return err
	}
	var filter *regexp.Regexp
	if c.run != "" {
		if filter, err = regexp.Compile(c.run); err != nil {
			return usageErr("--run %q: %v", c.run, err)
		}
	}
	var cases []*testCase
	var settings json.RawMessage
	if c.cases != "" {
		if cases, settings, err = loadCases(c.cases); err != nil {
			return err
		}
	}
	if c.settings != "" {
		if settings, err = readSettings("--settings", c.settings); err != nil {
			return err
		}
	}
	var tr *transcript.Transcript
	if c.transcript != "" {
		if tr, err = readTranscript(c.transcript); err != nil {
			return err
		}
	}

	var ld loader
	defer ld.close()
	p, err := ld.loadWith(ctx, path, c.sha256, &plugins.Options{Settings: settings})
	if err != nil {
		return err
	}
	m := p.Manifest()
	tap := &tapPlugin{Plugin: p}
	r := &tester{plugin: p, tap: tap, manifest: m, verbose: c.verbose || c.print, print: c.print, out: cio.stdout}
	r.chain, err = host.NewChain(&host.ChainOptions{Plugins: []plugins.Plugin{tap}, Fallback: fallback, OnDecision: r.onDecision})
	if err != nil {
		return usageErr("%v", err)
	}
	if tr != nil {
		tcases, skipped, err := transcriptCases(tr, filepath.Base(c.transcript), m)
		if err != nil {
			return err
		}
		cases = append(cases, tcases...)
		r.skipped = skipped
	}

	start := time.Now()
	failed, ran := 0, 0
	for _, tc := range cases {
		if filter != nil && !filter.MatchString(tc.name) {
			continue
		}
		ran++
		if !r.runCase(ctx, tc) {
			failed++
		}
	}
	differ := ""
	if c.print {
		differ = fmt.Sprintf(", %d differ from the recording", r.differ)
	}
	if ctx.Err() != nil {
		return fail(exitTurnFailed, "plugin test: %v", ctx.Err())
	}
	summary := fmt.Sprintf("%d cases", ran)
	if len(r.skipped) > 0 {
		summary += fmt.Sprintf(", %d requests skipped (not for this plugin)", len(r.skipped))
	}
	took := time.Since(start).Round(time.Millisecond)
	if ran == 0 {
		fmt.Fprintf(cio.stdout, "FAIL\t%s\tno cases ran (%s)\n", path, summary)
		return fail(exitTurnFailed, "")
	}
	if failed > 0 {
		fmt.Fprintf(cio.stdout, "FAIL\t%s\t%s%s, %d failed (%s)\n", path, summary, differ, failed, took)
		return fail(exitTurnFailed, "")
	}
	fmt.Fprintf(cio.stdout, "ok  \t%s\t%s%s (%s)\n", path, summary, differ, took)
	return nil
}

func readTranscript(path string) (*transcript.Transcript, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usageErr("--transcript %s: no such file (record one with codexhost run --record FILE)", path)
		}
		return nil, usageErr("--transcript %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	tr, err := transcript.Read(f)
	if err != nil {
		return nil, usageErr("--transcript %s: %v", path, err)
	}
	return tr, nil
}

// transcriptCases turns the requests of a transcript that the plugin
// answers into cases that expect the recorded answers; skipped lists the
// others. A plugin that renders gets one more case: rendering every event.
func transcriptCases(tr *transcript.Transcript, name string, m *abi.Manifest) (cases []*testCase, skipped []string, err error) {
	var events []abi.Event
	for r, err := range host.Replay(tr) {
		if err != nil {
			return nil, nil, usageErr("--transcript %s: %v", name, err)
		}
		if r.Event != nil {
			events = append(events, r.Event.ABIEvent())
			continue
		}
		hook, ok := hookOf(r.Request)
		title := fmt.Sprintf("%s:%d %s %s", name, r.Line, r.Request.Kind, requestSummary(r.Request))
		if !ok || !m.Implements(hook) {
			skipped = append(skipped, title)
			continue
		}
		if hook == abi.HookToolCall {
			if tc, err := r.Request.ToolCallRequest(); err != nil || !servesTool(m, tc.Tool) {
				skipped = append(skipped, title)
				continue
			}
		}
		tc := &testCase{name: title, hook: hook, req: r.Request, recorded: r.Answer, hasRecorded: r.Answer != nil || r.AnswerError != nil}
		if r.AnswerError != nil {
			tc.recordedErr = r.AnswerError.Error()
		}
		cases = append(cases, tc)
	}
	if m.Implements(abi.HookEventRender) && len(events) > 0 {
		cases = append(cases, &testCase{name: fmt.Sprintf("%s render %d events", name, len(events)), hook: abi.HookEventRender, events: events})
	}
	return cases, skipped, nil
}

func servesTool(m *abi.Manifest, name string) bool {
	for _, t := range m.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

// requestSummary describes a codex request in a few words.
func requestSummary(req *host.Request) string {
	var s string
	switch {
	case req.Kind.IsApproval():
		if a, err := req.ApprovalRequest(); err == nil {
			s = a.Command
			for _, c := range a.Changes {
				s += " " + c.Kind + ":" + c.Path
			}
		}
	case req.Kind == host.RequestUserInput:
		if t, err := req.ToolInputRequest(); err == nil {
			for _, q := range t.Questions {
				s += " " + q.Question
			}
		}
	case req.Kind == host.RequestToolCall:
		if t, err := req.ToolCallRequest(); err == nil {
			s = t.Tool + " " + string(t.Arguments)
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 70 {
		s = string(r[:69]) + "…"
	}
	return s
}

// A tapPlugin remembers the plugin's raw answers while the chain asks it.
type tapPlugin struct {
	plugins.Plugin
	mu    sync.Mutex
	calls []tapCall
}

type tapCall struct {
	resp []byte
	err  error
}

func (t *tapPlugin) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	resp, err := t.Plugin.Call(ctx, hook, req)
	t.mu.Lock()
	t.calls = append(t.calls, tapCall{resp, err})
	t.mu.Unlock()
	return resp, err
}

func (t *tapPlugin) take() []tapCall {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.calls
	t.calls = nil
	return c
}

// A tester runs cases and prints their results.
type tester struct {
	plugin   plugins.Plugin
	tap      *tapPlugin
	manifest *abi.Manifest
	chain    *host.Chain
	verbose  bool
	print    bool
	out      io.Writer
	skipped  []string

	// differ counts, with print, the cases whose answer differs from the
	// recorded one.
	differ int

	mu  sync.Mutex
	rec *host.DecisionRecord
}

func (r *tester) onDecision(rec *host.DecisionRecord) {
	r.mu.Lock()
	r.rec = rec
	r.mu.Unlock()
}

// An outcome is what happened to one case's request.
type outcome struct {
	resp    []byte // the plugin's response (ABI JSON)
	err     error  // the plugin failed
	refused error  // the host refused the plugin's answer
	wire    any    // what the host sends codex (codex requests)
	notAsk  string // why the plugin was not asked
}

// failure is the plugin's failure, or the host's refusal of its answer.
func (o *outcome) failure() error {
	if o.err != nil {
		return o.err
	}
	return o.refused
}

func (r *tester) runCase(ctx context.Context, tc *testCase) bool {
	t0 := time.Now()
	var o outcome
	switch {
	case tc.events != nil:
		o = r.render(ctx, tc.events)
	case tc.req != nil:
		o = r.viaHost(ctx, tc)
	default:
		o = r.direct(ctx, tc)
	}
	took := time.Since(t0)
	problems := tc.check(&o, r.print)
	status := "PASS"
	if len(problems) > 0 {
		status = "FAIL"
	}
	// --print compares nothing: a replayed request is labelled by whether
	// the answer is the recorded one, never PASS, and does not fail.
	var diff []string
	if r.print && tc.hasRecorded && len(problems) == 0 {
		status = "SAME"
		if diff = tc.recordedDiff(&o); len(diff) > 0 {
			status = "DIFFERS"
			r.differ++
		}
	}
	if status == "PASS" && !r.verbose {
		return true
	}
	// Names, problems and answers carry the plugin's text: escaped.
	fmt.Fprintf(r.out, "--- %s: %s (%s)\n", status, termsafe.Line(tc.name), fmtDuration(took))
	for _, p := range append(problems, diff...) {
		fmt.Fprintln(r.out, indent(termsafe.Text(p), "    "))
	}
	if r.verbose || len(problems) > 0 {
		for _, line := range tc.describe(&o) {
			fmt.Fprintln(r.out, indent(termsafe.Text(line), "    "))
		}
	}
	return len(problems) == 0
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// direct asks the plugin an ABI request and checks its answer the way the
// host would.
func (r *tester) direct(ctx context.Context, tc *testCase) outcome {
	var o outcome
	if !r.manifest.Implements(tc.hook) {
		o.notAsk = fmt.Sprintf("the plugin does not implement the %s hook (its hooks: %s)", tc.hook, hookList(r.manifest))
		return o
	}
	o.resp, o.err = r.plugin.Call(ctx, tc.hook, tc.payload)
	if o.err != nil {
		return o
	}
	switch tc.hook {
	case abi.HookApproval:
		var req abi.ApprovalRequest
		var resp abi.ApprovalResponse
		_ = json.Unmarshal(tc.payload, &req)
		if o.refused = decodeResp(o.resp, &resp); o.refused == nil && resp.Decision != abi.Abstain {
			_, o.refused = host.NewRequest(approvalMethod(&req), nil).ApprovalAnswer(&req, &resp)
		}
	case abi.HookToolInput:
		var req abi.ToolInputRequest
		var resp abi.ToolInputResponse
		_ = json.Unmarshal(tc.payload, &req)
		if o.refused = decodeResp(o.resp, &resp); o.refused == nil && !resp.Abstain {
			_, o.refused = host.ToolInputAnswer(&req, &resp)
		}
	case abi.HookToolCall:
		var resp abi.ToolCallResponse
		if o.refused = decodeResp(o.resp, &resp); o.refused == nil {
			_, o.refused = host.ToolCallAnswer(&resp)
		}
	case abi.HookEventRender:
		var resp abi.RenderResponse
		o.refused = decodeResp(o.resp, &resp)
	}
	return o
}

func decodeResp(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the response is not valid JSON for the hook: %v", err)
	}
	if a, ok := v.(*abi.ApprovalResponse); ok && !a.Decision.Valid() {
		return fmt.Errorf("invalid decision %q", a.Decision)
	}
	return nil
}

// approvalMethod is the codex method of an ABI approval's kind, for the
// host's check of the answer.
func approvalMethod(a *abi.ApprovalRequest) string {
	switch {
	case a.Kind == abi.ApprovalCommand && a.Legacy:
		return "execCommandApproval"
	case a.Kind == abi.ApprovalFileChange && a.Legacy:
		return "applyPatchApproval"
	case a.Kind == abi.ApprovalFileChange:
		return "item/fileChange/requestApproval"
	case a.Kind == abi.ApprovalPermissions:
		return "item/permissions/requestApproval"
	}
	return "item/commandExecution/requestApproval"
}

// viaHost answers a codex request with the host's chain holding only the
// plugin, as in a live run, and keeps both the plugin's own answer and the
// one the host sends codex.
func (r *tester) viaHost(ctx context.Context, tc *testCase) outcome {
	var o outcome
	r.tap.take()
	r.mu.Lock()
	r.rec = nil
	r.mu.Unlock()
	ans, err := r.chain.HandleRequest(ctx, tc.req)
	if err != nil {
		o.err = err
		return o
	}
	if b, err := json.Marshal(ans); err == nil {
		_ = json.Unmarshal(b, &o.wire)
	}
	calls := r.tap.take()
	if len(calls) == 0 {
		if tc.hook == abi.HookToolCall {
			name := ""
			if t, err := tc.req.ToolCallRequest(); err == nil {
				name = t.Tool
			}
			o.notAsk = fmt.Sprintf("the plugin does not serve the tool %q", name)
		} else {
			o.notAsk = fmt.Sprintf("the plugin does not implement the %s hook (its hooks: %s)", tc.hook, hookList(r.manifest))
		}
		return o
	}
	o.resp, o.err = calls[0].resp, calls[0].err
	r.mu.Lock()
	rec := r.rec
	r.mu.Unlock()
	if o.err == nil && rec != nil && len(rec.Answers) > 0 && rec.Answers[0].Err != nil {
		o.refused = rec.Answers[0].Err
	}
	return o
}

// render renders events the way the host's renderer does: in batches
// when the plugin declares FeatureRenderBatch, else one at a time.
func (r *tester) render(ctx context.Context, events []abi.Event) outcome {
	var o outcome
	var out strings.Builder
	batch := 1
	if r.manifest.Features.Has(abi.FeatureRenderBatch) {
		batch = 64
	}
	for i := 0; i < len(events); i += batch {
		resp, err := plugins.Call[abi.RenderResponse](ctx, r.plugin, abi.HookEventRender, &abi.RenderRequest{Events: events[i:min(i+batch, len(events))]})
		if err != nil {
			o.err = err
			break
		}
		out.WriteString(resp.Output)
	}
	o.resp, _ = json.Marshal(abi.RenderResponse{Output: out.String()})
	return o
}

func hookList(m *abi.Manifest) string {
	var s []string
	for _, h := range m.Hooks {
		s = append(s, h.String())
	}
	return strings.Join(s, ", ")
}

// check compares an outcome with the case's expectations and returns
// what differs, each as a short text (possibly with a diff).
func (tc *testCase) check(o *outcome, printOnly bool) []string {
	if o.notAsk != "" {
		return []string{o.notAsk}
	}
	e := &tc.expect
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	wantErr := (e.Error != nil && *e.Error) || e.ErrorContains != nil
	if f := o.failure(); f != nil {
		switch {
		case wantErr:
			if e.ErrorContains != nil && !strings.Contains(f.Error(), *e.ErrorContains) {
				add("error: want it to contain %q, got %q", *e.ErrorContains, oneLine(f.Error()))
			}
		case o.err != nil:
			add("the plugin failed: %s", oneLine(o.err.Error()))
		default:
			add("the host refuses the plugin's answer: %s", oneLine(o.refused.Error()))
		}
	} else if wantErr {
		add("error: want the plugin to fail, it answered %s", compactJSON(o.resp))
	}
	if tc.answer != nil && !reflect.DeepEqual(tc.answer, o.wire) {
		problems = append(problems, jsonDiff("answer to codex", tc.answer, o.wire))
	}
	if !printOnly {
		problems = append(problems, tc.recordedDiff(o)...)
	}
	if o.failure() != nil {
		return problems
	}
	switch tc.hook {
	case abi.HookApproval:
		var resp abi.ApprovalResponse
		_ = json.Unmarshal(o.resp, &resp)
		if e.Decision != nil && string(resp.Decision) != *e.Decision {
			add("decision: want %q, got %q", *e.Decision, resp.Decision)
		}
		if e.Reason != nil && resp.Reason != *e.Reason {
			add("reason: want %q, got %q", *e.Reason, resp.Reason)
		}
		if e.ReasonContains != nil && !strings.Contains(resp.Reason, *e.ReasonContains) {
			add("reason: want it to contain %q, got %q", *e.ReasonContains, resp.Reason)
		}
	case abi.HookToolInput:
		var resp abi.ToolInputResponse
		_ = json.Unmarshal(o.resp, &resp)
		if e.Abstain != nil && resp.Abstain != *e.Abstain {
			add("abstain: want %v, got %v", *e.Abstain, resp.Abstain)
		}
		if e.Answers != nil && !equalAnswers(e.Answers, resp.Answers) {
			problems = append(problems, jsonDiff("answers", e.Answers, resp.Answers))
		}
	case abi.HookToolCall:
		var resp abi.ToolCallResponse
		_ = json.Unmarshal(o.resp, &resp)
		text := contentText(resp.Content)
		if e.Success != nil && resp.Success != *e.Success {
			add("success: want %v, got %v", *e.Success, resp.Success)
		}
		if e.Content != nil && text != *e.Content {
			problems = append(problems, textDiff("content", *e.Content, text))
		}
		if e.ContentContains != nil && !strings.Contains(text, *e.ContentContains) {
			add("content: want it to contain %q, got %q", *e.ContentContains, text)
		}
	case abi.HookEventRender:
		var resp abi.RenderResponse
		_ = json.Unmarshal(o.resp, &resp)
		if e.Output != nil && resp.Output != *e.Output {
			problems = append(problems, textDiff("output", *e.Output, resp.Output))
		}
		if e.OutputContains != nil && !strings.Contains(resp.Output, *e.OutputContains) {
			add("output: want it to contain %q, got %q", *e.OutputContains, resp.Output)
		}
	}
	return problems
}

// recordedDiff says how the answer to codex differs from the one in the
// transcript, if the case has one.
func (tc *testCase) recordedDiff(o *outcome) []string {
	if !tc.hasRecorded {
		return nil
	}
	if tc.recordedErr != "" {
		return []string{fmt.Sprintf("the recorded run answered with an error (%s); the plugin's answer cannot match it", tc.recordedErr)}
	}
	var rec any
	_ = json.Unmarshal(tc.recorded, &rec)
	if reflect.DeepEqual(rec, o.wire) {
		return nil
	}
	return []string{jsonDiff("answer to codex, recorded", rec, o.wire)}
}

func equalAnswers(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, slices.Equal[[]string])
}

func contentText(cs []abi.Content) string {
	var parts []string
	for _, c := range cs {
		if c.Type == "text" {
			parts = append(parts, c.Text)
		} else {
			parts = append(parts, "["+c.Type+" "+c.ImageURL+"]")
		}
	}
	return strings.Join(parts, "\n")
}

// describe prints what the plugin answered, for -v and failures.
func (tc *testCase) describe(o *outcome) []string {
	if o.notAsk != "" {
		return nil
	}
	var lines []string
	if f := o.failure(); f != nil {
		if o.err == nil {
			lines = append(lines, "plugin:  "+compactJSON(o.resp))
		} else {
			lines = append(lines, "plugin failed: "+oneLine(o.err.Error()))
		}
	} else {
		switch tc.hook {
		case abi.HookApproval:
			var resp abi.ApprovalResponse
			_ = json.Unmarshal(o.resp, &resp)
			s := "plugin:  " + string(resp.Decision)
			if resp.Reason != "" {
				s += fmt.Sprintf(" (%s)", resp.Reason)
			}
			lines = append(lines, s)
		case abi.HookEventRender:
			var resp abi.RenderResponse
			_ = json.Unmarshal(o.resp, &resp)
			lines = append(lines, "output:")
			if resp.Output == "" {
				lines = append(lines, "  (empty)")
			} else {
				lines = append(lines, indent(resp.Output, "  | "))
			}
		default:
			lines = append(lines, "plugin:  "+compactJSON(o.resp))
		}
	}
	if o.wire != nil {
		b, _ := json.Marshal(o.wire)
		lines = append(lines, "codex gets: "+string(b))
	}
	return lines
}

func compactJSON(b []byte) string {
	var buf bytes.Buffer
	if json.Compact(&buf, b) != nil {
		return string(b)
	}
	s := buf.String()
	if len(s) > 300 {
		s = s[:299] + "…"
	}
	return s
}

// jsonDiff shows two JSON values as indented lines with a line diff.
func jsonDiff(what string, want, got any) string {
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	return textDiff(what, string(w), string(g))
}

// textDiff shows want and got as a line diff: "-" lines are expected
// only, "+" lines are what the plugin gave instead.
func textDiff(what, want, got string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s differs (-want +got):", what)
	for _, l := range lineDiff(strings.Split(want, "\n"), strings.Split(got, "\n")) {
		b.WriteString("\n  " + l)
	}
	return b.String()
}

// lineDiff is a longest-common-subsequence line diff.
func lineDiff(a, b []string) []string {
	const maxLines = 2000
	if len(a) > maxLines || len(b) > maxLines {
		var out []string
		for _, l := range a {
			out = append(out, "- "+l)
		}
		for _, l := range b {
			out = append(out, "+ "+l)
		}
		return out
	}
	// lcs[i][j] is the LCS length of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			out = append(out, "  "+a[i])
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, "- "+a[i])
			i++
		default:
			out = append(out, "+ "+b[j])
			j++
		}
	}
	for ; i < len(a); i++ {
		out = append(out, "- "+a[i])
	}
	for ; j < len(b); j++ {
		out = append(out, "+ "+b[j])
	}
	return out
}

// The plugin subcommands for plugin authors, for the usage texts.
const (
	pluginDevCommands = "test, build, new"
	pluginDevUsage    = `       codexhost plugin test [flags] PATH (--cases FILE | --transcript FILE)
       codexhost plugin build [--runtime wasm|process] [-o OUT] [DIR]
       codexhost plugin new [--dir DIR] NAME
`
)
