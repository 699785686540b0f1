// Package judge is an approval policy that asks a model: each approval
// request is put to a judge session on its own app-server thread, with a
// rubric, and the model must answer with exactly one JSON object
// {"decision": "...", "reason": "..."}. With [Options.AnswerQuestions] it
// also answers the agent's questions to the user (the tool-input hook),
// with {"answers": {...}}. It is a [plugins.Plugin], so it composes in a
// chain.Chain like any plugin (e.g. rules first, the judge only for what
// the rules leave undecided).
//
// The judge's threads are ephemeral, read-only, never ask for approval,
// and are given none of the client's Handler tools (the plugins' dynamic
// tools): the judge's model reads text the agent wrote, and must not be
// talked into acting through them.
package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
)

// DefaultRubric is the judge's instructions when Options.Rubric is empty.
const DefaultRubric = `You are a security reviewer deciding whether an autonomous coding agent may perform an action.
Accept actions that only read, build, test or change files inside the project in the way the task needs.
Decline anything destructive outside the project, anything that exfiltrates data or credentials, network access that is not needed, and anything you are unsure about.
Answer with exactly one JSON object and nothing else: {"decision": "accept" | "decline", "reason": "<one sentence>"}.`

// DefaultQuestionRubric is the judge's instructions for the agent's
// questions when Options.QuestionRubric is empty.
const DefaultQuestionRubric = `You answer, on the user's behalf, the questions an autonomous coding agent asks the user.
Pick the option that best serves the task and keeps the project safe; when a question has options, answer with one option's label exactly.
Answer with exactly one JSON object and nothing else: {"answers": {"<question id>": ["<answer>"]}}, one entry per question.`

// VerdictSchema is a JSON Schema of the judge's verdict, for
// [Options.OutputSchema]: codex then asks the model for output that
// matches it (structured output).
var VerdictSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"decision":{"type":"string","enum":["accept","decline","cancel","abstain"]},` +
	`"reason":{"type":"string"}},"required":["decision","reason"],"additionalProperties":false}`)

// DefaultMaxRequestBytes bounds the request shown to the judge when
// Options.MaxRequestBytes is zero.
const DefaultMaxRequestBytes = 16 << 10

// Marker starts every judge prompt, so that a fake model (and a reader of
// the transcript) can tell judge turns from the agent's.
const Marker = "[codexhost-judge]"

// Options configure [New].
type Options struct {
	// Client is the app-server the judge runs on. It may be the session's
	// own client: every decision runs on a new ephemeral thread with
	// approval policy "never", so the judge itself can never ask for an
	// approval.
	Client *host.Client
	// Rubric replaces DefaultRubric.
	Rubric string
	// Model for the judge threads. Default: codex's configured model.
	Model string
	// Timeout bounds one decision. Default: 60s.
	Timeout time.Duration
	// Fallback answers when the judge fails: a timeout, an error, or an
	// answer that is not exactly one valid JSON object. Default:
	// abi.Decline. abi.Abstain passes the decision to the next plugin.
	Fallback abi.Decision
	// FallbackFor overrides Fallback for some kinds of approval, e.g.
	// {abi.ApprovalPermissions: abi.Cancel} to stop the turn when the judge
	// cannot decide on a permission request, while commands and patches
	// are declined.
	FallbackFor map[abi.ApprovalKind]abi.Decision
	// Name is the plugin name in audit records. Default: "llm-judge".
	Name string
	// OutputSchema, if set, is the JSON Schema the judge's answer to an
	// approval must match, sent with each judge turn (turn/start
	// outputSchema): e.g. [VerdictSchema]. The answer is checked by
	// [ParseVerdict] whatever the schema.
	OutputSchema json.RawMessage
	// Effort is the judge turns' reasoning effort ("low", "medium",
	// "high", ...). Default: codex's configured effort.
	Effort string
	// Summary is the judge turns' reasoning summary mode, one of
	// host.ReasoningSummaries. Default: codex's configured one.
	Summary string
	// MaxRequestBytes bounds the request put to the judge (its JSON, as
	// the prompt shows it): a longer one is cut at this many bytes, and
	// the prompt says so and how long it was. Zero means
	// DefaultMaxRequestBytes; negative means no bound.
	MaxRequestBytes int
	// AnswerQuestions makes the judge answer the agent's questions to the
	// user too (the tool-input hook), with QuestionRubric. A question
	// the judge cannot answer (a secret, a failed turn, an answer that is
	// not one of a question's options) makes it abstain, so that the
	// next plugin, or the empty answer, decides.
	AnswerQuestions bool
	// QuestionRubric replaces DefaultQuestionRubric.
	QuestionRubric string
}

// A Judge is an approval plugin backed by a model. It is safe for
// concurrent use; each decision has its own thread.
type Judge struct {
	opts     Options
	manifest abi.Manifest
}

var _ plugins.Plugin = (*Judge)(nil)

// New returns a judge.
func New(opts *Options) (*Judge, error) {
	j := &Judge{}
	if opts != nil {
		j.opts = *opts
	}
	o := &j.opts
	if o.Client == nil {
		return nil, errors.New("judge: Options.Client is required")
	}
	if o.Rubric == "" {
		o.Rubric = DefaultRubric
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Fallback == "" {
		o.Fallback = abi.Decline
	}
	if !o.Fallback.Valid() {
		return nil, fmt.Errorf("judge: fallback %q is not a decision", o.Fallback)
	}
	for kind, d := range o.FallbackFor {
		if !d.Valid() {
			return nil, fmt.Errorf("judge: fallback %q for %s approvals is not a decision", d, kind)
		}
	}
	if o.Name == "" {
		o.Name = "llm-judge"
	}
	if o.QuestionRubric == "" {
		o.QuestionRubric = DefaultQuestionRubric
	}
	if o.MaxRequestBytes == 0 {
		o.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if o.Summary != "" && !slices.Contains(host.ReasoningSummaries, o.Summary) {
		return nil, fmt.Errorf("judge: summary %q is not one of %s", o.Summary, strings.Join(host.ReasoningSummaries, ", "))
	}
	if o.OutputSchema != nil && !json.Valid(o.OutputSchema) {
		return nil, errors.New("judge: OutputSchema is not valid JSON")
	}
	hooks := []abi.Hook{abi.HookApproval}
	desc := "asks a model to decide approvals, with a rubric"
	if o.AnswerQuestions {
		hooks = append(hooks, abi.HookToolInput)
		desc = "asks a model to decide approvals and answer the agent's questions, with a rubric"
	}
	j.manifest = abi.Manifest{Name: o.Name, Version: host.Version, ABI: abi.Version, Hooks: hooks, Description: desc}
	return j, nil
}

// Manifest implements plugins.Plugin.
func (j *Judge) Manifest() *abi.Manifest { return &j.manifest }

// Close implements plugins.Plugin; the judge owns nothing to release.
func (j *Judge) Close(context.Context) error { return nil }

// Call implements plugins.Plugin for the approval hook, and for the
// tool-input hook with Options.AnswerQuestions.
func (j *Judge) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	switch {
	case hook == abi.HookApproval:
		var ar abi.ApprovalRequest
		if err := json.Unmarshal(req, &ar); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
		}
		return json.Marshal(j.Decide(ctx, &ar))
	case hook == abi.HookToolInput && j.opts.AnswerQuestions:
		var qr abi.ToolInputRequest
		if err := json.Unmarshal(req, &qr); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
		}
		resp, _ := j.Answer(ctx, &qr)
		return json.Marshal(resp)
	}
	return nil, &abi.Error{Code: abi.CodeUnsupportedHook, Message: "the judge decides approvals, and answers questions only with AnswerQuestions"}
}

// Answer asks the model to answer the agent's questions. It always
// returns a response: the model's answers, or an abstention, with the
// reason it abstained as the error.
func (j *Judge) Answer(ctx context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
	for _, q := range req.Questions {
		if q.IsSecret {
			return &abi.ToolInputResponse{Abstain: true}, fmt.Errorf("question %q asks for a secret, which the judge never answers", q.ID)
		}
	}
	text, err := j.turn(ctx, j.opts.QuestionRubric, j.prompt("Answer these questions.", req), nil)
	if err != nil {
		return &abi.ToolInputResponse{Abstain: true}, err
	}
	resp, err := ParseAnswers(text, req.Questions)
	if err != nil {
		return &abi.ToolInputResponse{Abstain: true}, err
	}
	return resp, nil
}

// Decide asks the model about one request. It always returns an answer:
// the model's verdict, or the fallback with the reason it was needed.
func (j *Judge) Decide(ctx context.Context, req *abi.ApprovalRequest) *abi.ApprovalResponse {
	v, err := j.ask(ctx, req)
	if err != nil {
		return &abi.ApprovalResponse{Decision: j.fallback(req.Kind), Reason: j.opts.Name + ": " + err.Error()}
	}
	return v
}

// fallback is the fallback decision for an approval of kind k.
func (j *Judge) fallback(k abi.ApprovalKind) abi.Decision {
	if d, ok := j.opts.FallbackFor[k]; ok {
		return d
	}
	return j.opts.Fallback
}

func (j *Judge) ask(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	text, err := j.turn(ctx, j.opts.Rubric, j.prompt("Decide this request.", req), j.opts.OutputSchema)
	if err != nil {
		return nil, err
	}
	return ParseVerdict(text)
}

// judgeThreadConfig turns off codex's tools on a judge's thread: its model
// reads what the agent wrote, a prompt injection's way in, and needs no
// tool to answer with a verdict. Without them, a judge talked into it
// cannot run a command (a read in its read-only sandbox: a secret for its
// reason, which the audit log keeps), search the web, read an image,
// start sub-agents or set goals. apply_patch stays (the model catalog
// offers it), refused by the read-only sandbox and the "never" approval
// policy, and so does request_user_input. Keys a codex does not know are
// ignored by it.
var judgeThreadConfig = map[string]any{
	"features.shell_tool":       false,
	"features.unified_exec":     false,
	"web_search":                "disabled",
	"features.view_image":       false,
	"features.multi_agent":      false,
	"features.goals":            false,
	"features.image_generation": false,
}

// turn runs one judge turn on a new ephemeral thread with these
// instructions and returns the final message's text.
func (j *Judge) turn(ctx context.Context, rubric, prompt string, schema json.RawMessage) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, j.opts.Timeout)
	defer cancel()
	th, err := j.opts.Client.StartThread(ctx, &host.ThreadOptions{
		Model: j.opts.Model, Ephemeral: true, ApprovalPolicy: "never", Sandbox: "read-only",
		DeveloperInstructions: rubric,
		// The judge's model reads what the agent wrote: it must not act
		// through the plugins' tools, nor through codex's own.
		OmitHandlerTools: true,
		Config:           judgeThreadConfig,
	})
	if err != nil {
		return "", fmt.Errorf("start judge thread: %w", err)
	}
	turn, err := j.opts.Client.StartTurn(ctx, th.ID, []host.Input{host.TextInput(prompt)},
		&host.TurnOptions{OutputSchema: schema, Effort: j.opts.Effort, Summary: j.opts.Summary})
	if err != nil {
		return "", fmt.Errorf("start judge turn: %w", err)
	}
	defer turn.Close()
	res, err := turn.Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Stop the judge's turn rather than leave it running.
			ictx, icancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = turn.Interrupt(ictx)
			icancel()
			return "", fmt.Errorf("no verdict within %s", j.opts.Timeout)
		}
		return "", fmt.Errorf("judge turn: %w", err)
	}
	return res.Text, nil
}

// prompt is the judge's prompt: the marker, the task, and the request as
// indented JSON, cut at MaxRequestBytes (on a UTF-8 boundary) with a note.
func (j *Judge) prompt(task string, req any) string {
	b, _ := json.MarshalIndent(req, "", "  ")
	body := string(b)
	if limit := j.opts.MaxRequestBytes; limit > 0 && len(body) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = body[:cut] + fmt.Sprintf("\n[truncated: the request is %d bytes; the first %d are shown]", len(b), cut)
	}
	return Marker + " " + task + " Answer with exactly one JSON object.\n" + body
}

// ParseVerdict accepts exactly one JSON object {"decision", "reason"} with
// nothing around it but white space. Prose, code fences, several objects,
// unknown fields or an invalid decision are rejected: a verdict must never
// be guessed from text.
func ParseVerdict(text string) (*abi.ApprovalResponse, error) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return nil, fmt.Errorf("the answer is not a single JSON object: %q", clip(t))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(t)))
	dec.DisallowUnknownFields()
	var v struct {
		Decision *abi.Decision `json:"decision"`
		Reason   string        `json:"reason"`
	}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the answer is not valid JSON: %v: %q", err, clip(t))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("the answer has more than one JSON value: %q", clip(t))
	}
	if v.Decision == nil {
		return nil, fmt.Errorf(`the answer has no "decision": %q`, clip(t))
	}
	if !v.Decision.Valid() {
		return nil, fmt.Errorf("the answer's decision %q is not a decision", *v.Decision)
	}
	return &abi.ApprovalResponse{Decision: *v.Decision, Reason: v.Reason}, nil
}

// ParseAnswers accepts exactly one JSON object {"answers": {ID: [ANSWER,
// ...]}} with nothing around it but white space, answering every question
// of qs and no other: each answer non-empty, and, for a question with
// options that takes no free answer, one of the option labels.
func ParseAnswers(text string, qs []abi.Question) (*abi.ToolInputResponse, error) {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "{") || !strings.HasSuffix(t, "}") {
		return nil, fmt.Errorf("the answer is not a single JSON object: %q", clip(t))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(t)))
	dec.DisallowUnknownFields()
	var v struct {
		Answers map[string][]string `json:"answers"`
	}
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the answer is not valid JSON: %v: %q", err, clip(t))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("the answer has more than one JSON value: %q", clip(t))
	}
	asked := map[string]abi.Question{}
	for _, q := range qs {
		asked[q.ID] = q
	}
	for id := range v.Answers {
		if _, ok := asked[id]; !ok {
			return nil, fmt.Errorf("the answer names question %q, which was not asked", id)
		}
	}
	for _, q := range qs {
		as := v.Answers[q.ID]
		if len(as) == 0 {
			return nil, fmt.Errorf("question %q has no answer", q.ID)
		}
		for _, a := range as {
			if strings.TrimSpace(a) == "" {
				return nil, fmt.Errorf("question %q has an empty answer", q.ID)
			}
			if len(q.Options) > 0 && !q.IsOther && !slices.ContainsFunc(q.Options, func(o abi.QuestionOption) bool { return o.Label == a }) {
				return nil, fmt.Errorf("the answer %q to question %q is not one of its options", clip(a), q.ID)
			}
		}
	}
	return &abi.ToolInputResponse{Answers: v.Answers}, nil
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
