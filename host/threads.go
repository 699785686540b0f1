package host

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// ThreadOptions configure a new, resumed or forked thread. A nil
// *ThreadOptions means codex's configured defaults.
type ThreadOptions struct {
	Model string
	Cwd   string
	// ApprovalPolicy: one of [ApprovalPolicies] ("untrusted",
	// "on-request" or "never"); empty means codex's configured default.
	ApprovalPolicy string
	// Sandbox: "read-only", "workspace-write" or "danger-full-access".
	Sandbox               string
	BaseInstructions      string
	DeveloperInstructions string
	// Tools are dynamic tools the client serves; codex calls them through
	// a RequestToolCall. Only StartThread registers tools. StartThread
	// adds the Handler's own (a Handler with a Tools method, such as a
	// plugin chain), unless OmitHandlerTools is set.
	Tools []ToolSpec
	// OmitHandlerTools gives the thread only Tools, not the Handler's: for
	// a thread that must not act through them, such as a judge's, whose
	// model reads text the agent wrote. A tool call on that thread for
	// any tool it was not given is answered as failed without asking the
	// Handler (StartThread only; a fork made by this Client inherits it,
	// as it inherits the thread's tools).
	OmitHandlerTools bool
	// Ephemeral threads are not persisted (StartThread and ForkThread only).
	Ephemeral bool
	// Config overrides config.toml keys for this thread (dotted keys).
	Config map[string]any
	// Personality is the agent's tone: one of [Personalities].
	Personality string
	// ServiceTier selects the provider's service tier (e.g. "flex").
	ServiceTier string
	// ApprovalsReviewer routes approval requests: one of [ApprovalsReviewers].
	ApprovalsReviewer string
	// Extra holds raw params for thread/start, thread/resume or
	// thread/fork, set over everything above (merged last; a nil value
	// removes a key): the escape hatch for params codexhost has no field
	// for.
	Extra map[string]any

	// noHistory makes ResumeThread skip the thread's turns (resumeForRun).
	noHistory bool
}

// A ToolSpec declares a dynamic tool.
type ToolSpec struct {
	Name        string
	Description string
	// InputSchema is the JSON Schema of the tool's arguments.
	InputSchema json.RawMessage
}

// A Thread describes a codex thread (a conversation).
type Thread struct {
	ID        string
	Preview   string // the first user message, abbreviated
	Name      string
	Cwd       string
	Model     string
	Provider  string
	CreatedAt int64 // Unix seconds
	UpdatedAt int64
	Status    string // "idle", "active", "notLoaded", "systemError"
	Ephemeral bool
	// Turns are included by ReadThread(…, true) and ResumeThread.
	Turns []TurnRecord
	// ApprovalPolicy is the approval policy codex reports in effect for
	// the thread, after its own config, profiles and overrides: one of
	// the [ApprovalPolicies], or "granular". Set by StartThread,
	// ResumeThread and ForkThread only.
	ApprovalPolicy string
	// ApprovalsReviewer is who codex reports answers the thread's approval
	// requests: "user" (the client: its Handler), or codex's own reviewer
	// ("auto_review", "guardian_subagent"), in which case the Handler is
	// not asked. Set by StartThread, ResumeThread and ForkThread only.
	ApprovalsReviewer string
	// Sandbox is the sandbox codex reports in effect for the thread, as
	// [SandboxModes] name them, or "external" (a sandbox codex does not
	// manage). Set by StartThread, ResumeThread and ForkThread only.
	Sandbox string
	// WritableRoots are the directories a "workspace-write" sandbox lets
	// commands write, besides the cwd, as codex reports them.
	WritableRoots []string
}

// setEffective records what codex reports in effect for a thread it
// started, resumed or forked.
func (t *Thread) setEffective(policy protocol.AskForApproval, reviewer protocol.ApprovalsReviewer, sandbox *protocol.SandboxPolicy) {
	t.ApprovalPolicy = approvalPolicyName(policy)
	t.ApprovalsReviewer = string(reviewer)
	t.WritableRoots = nil
	for _, r := range sandbox.WritableRoots {
		t.WritableRoots = append(t.WritableRoots, string(r))
	}
	switch sandbox.Type {
	case protocol.SandboxPolicyTypeReadOnly:
		t.Sandbox = "read-only"
	case protocol.SandboxPolicyTypeWorkspaceWrite:
		t.Sandbox = "workspace-write"
	case protocol.SandboxPolicyTypeDangerFullAccess:
		t.Sandbox = "danger-full-access"
	case protocol.SandboxPolicyTypeExternalSandbox:
		t.Sandbox = "external"
	default:
		t.Sandbox = string(sandbox.Type)
	}
}

// ApprovalPolicies are the approval policies the pinned codex accepts, as
// [ThreadOptions.ApprovalPolicy] takes them. Under "never" codex sends no
// approval request at all, so no handler is ever asked.
var ApprovalPolicies = []string{"untrusted", "on-request", "never"}

// SandboxModes are the sandbox modes the pinned codex accepts.
var SandboxModes = []string{"read-only", "workspace-write", "danger-full-access"}

// approvalPolicyName names a wire AskForApproval: the string, or
// "granular" for the object form.
func approvalPolicyName(raw protocol.AskForApproval) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if len(raw) > 0 && raw[0] == '{' {
		return "granular"
	}
	return ""
}

// A TurnRecord is a past turn of a thread.
type TurnRecord struct {
	ID     string
	Status TurnState
	Items  []*Item
	Error  *TurnError
}

func threadFromWire(w *protocol.Thread) *Thread {
	t := &Thread{ID: w.ID, Preview: w.Preview, Cwd: string(w.Cwd), Provider: w.ModelProvider,
		CreatedAt: int64(w.CreatedAt), UpdatedAt: int64(w.UpdatedAt), Status: string(w.Status.Type), Ephemeral: w.Ephemeral}
	if w.Name != nil {
		t.Name = *w.Name
	}
	if w.Model != nil {
		t.Model = *w.Model
	}
	for i := range w.Turns {
		t.Turns = append(t.Turns, *turnRecordFromWire(&w.Turns[i], w.ID))
	}
	return t
}

func approvalPolicy(s string) *protocol.AskForApproval {
	if s == "" {
		return nil
	}
	ap := protocol.AskForApproval(fmt.Appendf(nil, "%q", s))
	return &ap
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// StartThread starts a new thread.
func (c *Client) StartThread(ctx context.Context, opts *ThreadOptions) (*Thread, error) {
	o := opts
	if o == nil {
		o = &ThreadOptions{}
	}
	p := protocol.ThreadStartParams{
		Model: optStr(o.Model), Cwd: optStr(o.Cwd), ApprovalPolicy: approvalPolicy(o.ApprovalPolicy),
		BaseInstructions: optStr(o.BaseInstructions), DeveloperInstructions: optStr(o.DeveloperInstructions),
		Config: o.Config,
	}
	if o.Sandbox != "" {
		p.Sandbox = ptr(protocol.SandboxMode(o.Sandbox))
	}
	if o.Ephemeral {
		p.Ephemeral = ptr(true)
	}
	tools := o.Tools
	if tp, ok := c.opts.Handler.(interface{ Tools() []ToolSpec }); ok && !o.OmitHandlerTools {
		tools = append(tools[:len(tools):len(tools)], tp.Tools()...)
	}
	for _, t := range tools {
		spec := protocol.DynamicToolSpec{Type: "function", Name: t.Name, Description: t.Description}
		if len(t.InputSchema) > 0 {
			s := json.RawMessage(t.InputSchema)
			spec.InputSchema = &s
		}
		p.DynamicTools = append(p.DynamicTools, spec)
	}
	var resp protocol.ThreadStartResponse
	if err := c.callExtra(ctx, protocol.ClientThreadStart, p, o.extraParams(), &resp); err != nil {
		return nil, fmt.Errorf("host: thread/start: %w", err)
	}
	c.cwds.Store(resp.Thread.ID, string(resp.Cwd))
	if o.OmitHandlerTools {
		own := map[string]bool{}
		for _, t := range o.Tools {
			own[t.Name] = true
		}
		c.ownTools.Store(resp.Thread.ID, own)
	}
	th := threadFromWire(&resp.Thread)
	th.setEffective(resp.ApprovalPolicy, resp.ApprovalsReviewer, &resp.Sandbox)
	return th, nil
}

// ResumeThread loads a stored thread so that turns can run on it.
func (c *Client) ResumeThread(ctx context.Context, threadID string, opts *ThreadOptions) (*Thread, error) {
	o := opts
	if o == nil {
		o = &ThreadOptions{}
	}
	p := protocol.ThreadResumeParams{ThreadID: threadID, Model: optStr(o.Model), Cwd: optStr(o.Cwd),
		ApprovalPolicy: approvalPolicy(o.ApprovalPolicy), BaseInstructions: optStr(o.BaseInstructions),
		DeveloperInstructions: optStr(o.DeveloperInstructions), Config: o.Config,
		ExcludeTurns: ptr(true)} // the turns are paged in below, as codex asks
	if o.Sandbox != "" {
		p.Sandbox = ptr(protocol.SandboxMode(o.Sandbox))
	}
	var resp protocol.ThreadResumeResponse
	if err := c.callExtra(ctx, protocol.ClientThreadResume, p, o.extraParams(), &resp); err != nil {
		return nil, fmt.Errorf("host: thread/resume %s: %w", threadID, err)
	}
	c.cwds.Store(resp.Thread.ID, string(resp.Cwd))
	th := threadFromWire(&resp.Thread)
	th.setEffective(resp.ApprovalPolicy, resp.ApprovalsReviewer, &resp.Sandbox)
	if !o.noHistory {
		if err := c.fillTurns(ctx, th, resp.Thread.HistoryMode); err != nil {
			return nil, err
		}
	}
	return th, nil
}

// ForkThread copies a thread's history into a new thread.
func (c *Client) ForkThread(ctx context.Context, threadID string, opts *ThreadOptions) (*Thread, error) {
	o := opts
	if o == nil {
		o = &ThreadOptions{}
	}
	p := protocol.ThreadForkParams{ThreadID: threadID, Model: optStr(o.Model), Cwd: optStr(o.Cwd),
		ApprovalPolicy: approvalPolicy(o.ApprovalPolicy), BaseInstructions: optStr(o.BaseInstructions),
		DeveloperInstructions: optStr(o.DeveloperInstructions), Config: o.Config,
		ExcludeTurns: ptr(true)} // page them with ThreadTurns, as codex asks
	if o.Sandbox != "" {
		p.Sandbox = ptr(protocol.SandboxMode(o.Sandbox))
	}
	if o.Ephemeral {
		p.Ephemeral = ptr(true)
	}
	var resp protocol.ThreadForkResponse
	if err := c.callExtra(ctx, protocol.ClientThreadFork, p, o.extraParams(), &resp); err != nil {
		return nil, fmt.Errorf("host: thread/fork %s: %w", threadID, err)
	}
	c.cwds.Store(resp.Thread.ID, string(resp.Cwd))
	if own, ok := c.ownTools.Load(threadID); ok {
		// The fork has the tools of the thread it copies: only its own.
		c.ownTools.Store(resp.Thread.ID, own)
	}
	th := threadFromWire(&resp.Thread)
	th.setEffective(resp.ApprovalPolicy, resp.ApprovalsReviewer, &resp.Sandbox)
	return th, nil
}

// ReadThread reads a stored thread, with its turns and items if
// includeTurns is set.
func (c *Client) ReadThread(ctx context.Context, threadID string, includeTurns bool) (*Thread, error) {
	if includeTurns {
		return c.readThreadWithTurns(ctx, threadID)
	}
	var resp protocol.ThreadReadResponse
	p := protocol.ThreadReadParams{ThreadID: threadID, IncludeTurns: &includeTurns}
	if err := c.call(ctx, protocol.ClientThreadRead, p, &resp); err != nil {
		return nil, fmt.Errorf("host: thread/read %s: %w", threadID, err)
	}
	return threadFromWire(&resp.Thread), nil
}

// ListOptions filter [Client.Threads]. A nil *ListOptions lists every
// unarchived thread, newest first.
type ListOptions struct {
	Archived bool
	// PageSize is how many threads each request fetches. Default: server's.
	PageSize int
	// Search filters by a term in the thread's text.
	Search string
	// SortKey orders the threads. Default: [ThreadsByUpdated].
	SortKey ThreadSortKey
	// Sources lists only the threads these kinds of client started.
	// Default: app-server's, the interactive ones (which leave out codex
	// exec's threads).
	Sources []ThreadSource
}

// Threads yields every stored thread matching opts, fetching pages as the
// loop advances. Iteration stops at the first error, which is yielded.
func (c *Client) Threads(ctx context.Context, opts *ListOptions) iter.Seq2[*Thread, error] {
	return func(yield func(*Thread, error) bool) {
		o := opts
		if o == nil {
			o = &ListOptions{}
		}
		p := protocol.ThreadListParams{}
		if o.Archived {
			p.Archived = ptr(true)
		}
		if o.PageSize > 0 {
			p.Limit = ptr(o.PageSize)
		}
		p.SearchTerm = optStr(o.Search)
		if o.SortKey != "" {
			p.SortKey = ptr(protocol.ThreadSortKey(o.SortKey))
		}
		for _, s := range o.Sources {
			p.SourceKinds = append(p.SourceKinds, protocol.ThreadSourceKind(s))
		}
		for {
			var resp protocol.ThreadListResponse
			if err := c.call(ctx, protocol.ClientThreadList, p, &resp); err != nil {
				yield(nil, fmt.Errorf("host: thread/list: %w", err))
				return
			}
			for i := range resp.Data {
				if !yield(threadFromWire(&resp.Data[i]), nil) {
					return
				}
			}
			if resp.NextCursor == nil || *resp.NextCursor == "" {
				return
			}
			p.Cursor = resp.NextCursor
		}
	}
}

// ArchiveThread archives a stored thread.
func (c *Client) ArchiveThread(ctx context.Context, threadID string) error {
	if err := c.call(ctx, protocol.ClientThreadArchive, protocol.ThreadArchiveParams{ThreadID: threadID}, nil); err != nil {
		return fmt.Errorf("host: thread/archive %s: %w", threadID, err)
	}
	return nil
}

// UnarchiveThread restores an archived thread.
func (c *Client) UnarchiveThread(ctx context.Context, threadID string) (*Thread, error) {
	var resp protocol.ThreadUnarchiveResponse
	if err := c.call(ctx, protocol.ClientThreadUnarchive, protocol.ThreadUnarchiveParams{ThreadID: threadID}, &resp); err != nil {
		return nil, fmt.Errorf("host: thread/unarchive %s: %w", threadID, err)
	}
	return threadFromWire(&resp.Thread), nil
}

// CompactThread asks codex to compact a thread's context. Compaction runs as
// a turn; its progress arrives as events of that thread.
func (c *Client) CompactThread(ctx context.Context, threadID string) error {
	if err := c.call(ctx, protocol.ClientThreadCompactStart, protocol.ThreadCompactStartParams{ThreadID: threadID}, nil); err != nil {
		return fmt.Errorf("host: thread/compact/start %s: %w", threadID, err)
	}
	return nil
}

// An Account is the identity codex uses with its model provider.
type Account struct {
	// LoggedIn reports whether codex has an OpenAI account or API key.
	LoggedIn bool
	// RequiresOpenAIAuth reports whether the configured provider needs one.
	RequiresOpenAIAuth bool
	Email              string
	PlanType           string
}

// Account reads codex's account state.
func (c *Client) Account(ctx context.Context) (*Account, error) {
	var resp protocol.GetAccountResponse
	if err := c.call(ctx, protocol.ClientAccountRead, protocol.GetAccountParams{}, &resp); err != nil {
		return nil, fmt.Errorf("host: account/read: %w", err)
	}
	a := &Account{RequiresOpenAIAuth: resp.RequiresOpenaiAuth, LoggedIn: resp.Account != nil}
	if resp.Account != nil {
		if resp.Account.Email != nil {
			a.Email = *resp.Account.Email
		}
		if resp.Account.PlanType != nil {
			a.PlanType = string(*resp.Account.PlanType)
		}
	}
	return a, nil
}

// RateLimits reads the account's rate limits as raw JSON (their shape
// varies by plan).
func (c *Client) RateLimits(ctx context.Context) (json.RawMessage, error) {
	var resp json.RawMessage
	if err := c.call(ctx, protocol.ClientAccountRateLimitsRead, nil, &resp); err != nil {
		return nil, fmt.Errorf("host: account/rateLimits/read: %w", err)
	}
	return resp, nil
}

// A Model is a model codex can use.
type Model struct {
	ID, Model, DisplayName, Description string
	IsDefault, Hidden                   bool
}

// Models yields the models codex offers, all pages.
func (c *Client) Models(ctx context.Context) iter.Seq2[*Model, error] {
	return func(yield func(*Model, error) bool) {
		var p protocol.ModelListParams
		for {
			var resp protocol.ModelListResponse
			if err := c.call(ctx, protocol.ClientModelList, p, &resp); err != nil {
				yield(nil, fmt.Errorf("host: model/list: %w", err))
				return
			}
			for _, m := range resp.Data {
				if !yield(&Model{ID: m.ID, Model: m.Model, DisplayName: m.DisplayName,
					Description: m.Description, IsDefault: m.IsDefault, Hidden: m.Hidden}, nil) {
					return
				}
			}
			if resp.NextCursor == nil || *resp.NextCursor == "" {
				return
			}
			p.Cursor = resp.NextCursor
		}
	}
}
