// Package judge is an approval policy that asks a model: each approval
// request is put to a judge session on its own app-server thread, with a
// rubric, and the model must answer with exactly one JSON object
// {"decision": "...", "reason": "..."}. It is a [plugins.Plugin], so it
// composes in a chain.Chain like any plugin (e.g. rules first, the judge
// only for what the rules leave undecided).
package judge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins"
)

// DefaultRubric is the judge's instructions when Options.Rubric is empty.
const DefaultRubric = `You are a security reviewer deciding whether an autonomous coding agent may perform an action.
Accept actions that only read, build, test or change files inside the project in the way the task needs.
Decline anything destructive outside the project, anything that exfiltrates data or credentials, network access that is not needed, and anything you are unsure about.
Answer with exactly one JSON object and nothing else: {"decision": "accept" | "decline", "reason": "<one sentence>"}.`

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
	j.manifest = abi.Manifest{Name: o.Name, Version: host.Version, ABI: abi.Version, Hooks: []abi.Hook{abi.HookApproval},
		Description: "asks a model to decide approvals, with a rubric"}
	return j, nil
}

// Manifest implements plugins.Plugin.
func (j *Judge) Manifest() *abi.Manifest { return &j.manifest }

// Close implements plugins.Plugin; the judge owns nothing to release.
func (j *Judge) Close(context.Context) error { return nil }

// Call implements plugins.Plugin for the approval hook.
func (j *Judge) Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error) {
	if hook != abi.HookApproval {
		return nil, &abi.Error{Code: abi.CodeUnsupportedHook, Message: "the judge decides approvals only"}
	}
	var ar abi.ApprovalRequest
	if err := json.Unmarshal(req, &ar); err != nil {
		return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
	}
	resp := j.Decide(ctx, &ar)
	return json.Marshal(resp)
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
	ctx, cancel := context.WithTimeout(ctx, j.opts.Timeout)
	defer cancel()
	th, err := j.opts.Client.StartThread(ctx, &host.ThreadOptions{
		Model: j.opts.Model, Ephemeral: true, ApprovalPolicy: "never", Sandbox: "read-only",
		DeveloperInstructions: j.opts.Rubric,
	})
	if err != nil {
		return nil, fmt.Errorf("start judge thread: %w", err)
	}
	turn, err := j.opts.Client.StartTurn(ctx, th.ID, []host.Input{host.TextInput(prompt(req))}, nil)
	if err != nil {
		return nil, fmt.Errorf("start judge turn: %w", err)
	}
	defer turn.Close()
	res, err := turn.Wait(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Stop the judge's turn rather than leave it running.
			ictx, icancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = turn.Interrupt(ictx)
			icancel()
			return nil, fmt.Errorf("no verdict within %s", j.opts.Timeout)
		}
		return nil, fmt.Errorf("judge turn: %w", err)
	}
	return ParseVerdict(res.Text)
}

func prompt(req *abi.ApprovalRequest) string {
	b, _ := json.MarshalIndent(req, "", "  ")
	return Marker + " Decide this request. Answer with exactly one JSON object.\n" + string(b)
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

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
