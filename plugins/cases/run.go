package cases

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/chain"
)

// transcriptCases turns the requests of a transcript that the plugin
// answers into cases that expect the recorded answers; skipped lists the
// others. A plugin that renders gets one more case: rendering every event.
func transcriptCases(tr *transcript.Transcript, name string, m *abi.Manifest) (cases []*Case, skipped []string, err error) {
	var events []abi.Event
	for r, err := range host.Replay(tr) {
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		if r.Event != nil {
			events = append(events, r.Event.ABIEvent())
			continue
		}
		hook, ok := hookOf(r.Request)
		title := fmt.Sprintf("%s:%d %s %s", name, r.Line, requestName(r.Request), requestSummary(r.Request))
		if !ok || !m.Implements(hook) {
			skipped = append(skipped, title)
			continue
		}
		if hook == abi.HookToolCall {
			if tc, err := r.Request.ToolCall(); err != nil || !servesTool(m, tc.Tool) {
				skipped = append(skipped, title)
				continue
			}
		}
		tc := &Case{Name: title, hook: hook, req: r.Request, recorded: r.Answer, hasRecorded: r.Answer != nil || r.AnswerError != nil}
		if r.AnswerError != nil {
			tc.recordedErr = r.AnswerError.Error()
		}
		cases = append(cases, tc)
	}
	if m.Implements(abi.HookEventRender) && len(events) > 0 {
		cases = append(cases, &Case{Name: fmt.Sprintf("%s render %d events", name, len(events)), hook: abi.HookEventRender, events: events})
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

// requestName is a short name of a codex request's kind.
func requestName(req *host.Request) string {
	switch hook, _ := req.Hook(); hook {
	case abi.HookApproval:
		a, err := req.Approval()
		if err != nil {
			break
		}
		switch {
		case a.Legacy && a.Kind == abi.ApprovalCommand:
			return "legacyExecApproval"
		case a.Legacy:
			return "legacyPatchApproval"
		case a.Kind == abi.ApprovalPermissions:
			return "permissions"
		}
		return string(a.Kind) + "Approval"
	case abi.HookToolInput:
		return "userInput"
	case abi.HookToolCall:
		return "toolCall"
	}
	return req.Method
}

// requestSummary describes a codex request in a few words.
func requestSummary(req *host.Request) string {
	var s string
	switch hook, _ := req.Hook(); hook {
	case abi.HookApproval:
		if a, err := req.Approval(); err == nil {
			s = a.Command
			for _, c := range a.Changes {
				s += " " + c.Kind + ":" + c.Path
			}
		}
	case abi.HookToolInput:
		if t, err := req.UserInput(); err == nil {
			for _, q := range t.Questions {
				s += " " + q.Question
			}
		}
	case abi.HookToolCall:
		if t, err := req.ToolCall(); err == nil {
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

// A Suite is a list of cases to run against one plugin.
type Suite struct {
	// Settings are the plugin's settings from the cases file, if it has
	// some: the plugin must be loaded with them.
	Settings json.RawMessage
	// Skipped names the requests of a transcript that are not for the
	// plugin (a hook it does not implement, a tool it does not serve).
	Skipped []string

	cases []*Case
}

// Cases returns the suite's cases, in order.
func (s *Suite) Cases() []*Case { return s.cases }

// Add appends the cases and skipped requests of o to s.
func (s *Suite) Add(o *Suite) {
	s.cases = append(s.cases, o.cases...)
	s.Skipped = append(s.Skipped, o.Skipped...)
}

// FromTranscript turns the requests of a transcript that the plugin with
// manifest m answers into cases that expect the recorded answers; name
// names the transcript in the cases' names. A plugin that renders gets one
// more case: rendering every event.
func FromTranscript(tr *transcript.Transcript, name string, m *abi.Manifest) (*Suite, error) {
	cases, skipped, err := transcriptCases(tr, name, m)
	if err != nil {
		return nil, err
	}
	return &Suite{cases: cases, Skipped: skipped}, nil
}

// A Status is the outcome of a case.
type Status uint8

const (
	// Pass: the answer is what the case expects.
	Pass Status = iota + 1
	// Fail: it is not, or the plugin failed.
	Fail
	// Same: with Options.Print, a replayed request answered as recorded.
	Same
	// Differs: with Options.Print, a replayed request answered otherwise
	// than recorded.
	Differs
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "PASS"
	case Fail:
		return "FAIL"
	case Same:
		return "SAME"
	case Differs:
		return "DIFFERS"
	}
	return fmt.Sprintf("Status(%d)", uint8(s))
}

// A Result is what running a case found.
type Result struct {
	Status Status
	// Problems says what differs from the expectation (or, with Print,
	// from the recording), each a short text, possibly with a diff. The
	// plugin's text is in it as is: escape it before printing it to a
	// terminal.
	Problems []string
	// Answer describes what the plugin answered and what codex gets, one
	// line each (possibly with newlines, for a rendering).
	Answer []string
	// Took is how long the plugin took.
	Took time.Duration
}

// Options configure a [Runner]. A nil *Options means defaults.
type Options struct {
	// Fallback is the host's answer when the plugin abstains or fails, as
	// codexhost run --fallback. Default: abi.Decline.
	Fallback abi.Decision
	// Print runs a transcript without comparing answers with the recorded
	// ones: a replayed request is Same or Differs, never Pass or Fail
	// for that reason.
	Print bool
}

// A Runner runs cases against one plugin, through a host chain that holds
// only that plugin, as in a live run. Its methods are not safe for
// concurrent use.
type Runner struct {
	plugin   plugins.Plugin
	tap      *tapPlugin
	manifest *abi.Manifest
	chain    *chain.Chain
	print    bool

	mu  sync.Mutex
	rec *chain.DecisionRecord
}

// NewRunner returns a Runner for p.
func NewRunner(p plugins.Plugin, opts *Options) (*Runner, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Fallback == "" {
		o.Fallback = abi.Decline
	}
	tap := &tapPlugin{Plugin: p}
	r := &Runner{plugin: p, tap: tap, manifest: p.Manifest(), print: o.Print}
	var err error
	r.chain, err = chain.New(&chain.Options{Plugins: []plugins.Plugin{tap}, Fallback: o.Fallback, OnDecision: r.onDecision})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Runner) onDecision(rec *chain.DecisionRecord) {
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

// Run runs one case.
func (r *Runner) Run(ctx context.Context, tc *Case) Result {
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
	res := Result{Status: Pass, Took: time.Since(t0), Problems: tc.check(&o, r.print)}
	if len(res.Problems) > 0 {
		res.Status = Fail
	}
	// Print compares nothing: a replayed request is labelled by whether
	// the answer is the recorded one, never Pass, and does not fail.
	if r.print && tc.hasRecorded && res.Status == Pass {
		res.Status = Same
		if diff := tc.recordedDiff(&o); len(diff) > 0 {
			res.Status = Differs
			res.Problems = diff
		}
	}
	res.Answer = tc.describe(&o)
	return res
}

// direct asks the plugin an ABI request and checks its answer the way the
// host would.
func (r *Runner) direct(ctx context.Context, tc *Case) outcome {
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
		// As the chain takes it (chain.ApprovalAnswer): strictly, abstain
		// and ask without extras, any other answer one codex takes.
		var req abi.ApprovalRequest
		_ = json.Unmarshal(tc.payload, &req)
		if _, err := chain.ApprovalAnswer(&host.ApprovalRequest{Method: approvalMethod(&req), ApprovalRequest: &req}, o.resp); err != nil {
			o.refused = fmt.Errorf("the response is not an answer the chain takes: %w", err)
		}
	case abi.HookToolInput:
		var req abi.ToolInputRequest
		var resp abi.ToolInputResponse
		_ = json.Unmarshal(tc.payload, &req)
		if o.refused = decodeResp(o.resp, &resp); o.refused == nil && !resp.Abstain {
			_, o.refused = (&host.UserInputRequest{ToolInputRequest: &req}).Answer(&resp)
		}
	case abi.HookToolCall:
		var resp abi.ToolCallResponse
		if o.refused = decodeResp(o.resp, &resp); o.refused == nil {
			_, o.refused = (&host.ToolCallRequest{ToolCallRequest: &abi.ToolCallRequest{}}).Answer(&resp)
		}
	case abi.HookEventRender:
		var resp abi.RenderResponse
		o.refused = decodeResp(o.resp, &resp)
	}
	return o
}

// decodeResp decodes a plugin's answer as the chain does
// (chain.DecodeAnswer: strictly).
func decodeResp(b []byte, v any) error {
	if err := chain.DecodeAnswer(b, v); err != nil {
		return fmt.Errorf("the response is not valid JSON for the hook: %v", err)
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
func (r *Runner) viaHost(ctx context.Context, tc *Case) outcome {
	var o outcome
	r.tap.take()
	r.mu.Lock()
	r.rec = nil
	r.mu.Unlock()
	ans, err := tc.req.Serve(ctx, r.chain)
	if err != nil {
		o.err = err
		return o
	}
	_ = json.Unmarshal(ans, &o.wire)
	calls := r.tap.take()
	if len(calls) == 0 {
		if tc.hook == abi.HookToolCall {
			name := ""
			if t, err := tc.req.ToolCall(); err == nil {
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
func (r *Runner) render(ctx context.Context, events []abi.Event) outcome {
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
func (tc *Case) check(o *outcome, printOnly bool) []string {
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
				add("error: want it to contain %q, got %q", *e.ErrorContains, firstLine(f.Error()))
			}
		case o.err != nil:
			add("the plugin failed: %s", firstLine(o.err.Error()))
		default:
			add("the host refuses the plugin's answer: %s", firstLine(o.refused.Error()))
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
func (tc *Case) recordedDiff(o *outcome) []string {
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
func (tc *Case) describe(o *outcome) []string {
	if o.notAsk != "" {
		return nil
	}
	var lines []string
	if f := o.failure(); f != nil {
		if o.err == nil {
			lines = append(lines, "plugin:  "+compactJSON(o.resp))
		} else {
			lines = append(lines, "plugin failed: "+firstLine(o.err.Error()))
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

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}

// firstLine keeps the first line of a multi-line message.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
