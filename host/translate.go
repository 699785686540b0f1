package host

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/protocol"
)

// This file translates between codex's wire types and the plugin ABI (abi),
// in both directions, so that codex protocol changes stay inside host.

// ApprovalRequest translates an approval request into the ABI form. For a
// file change, the paths and diffs come from the item's item/started event
// (codex's request names only the item).
func (r *Request) ApprovalRequest() (*abi.ApprovalRequest, error) {
	a := &abi.ApprovalRequest{ThreadID: r.ThreadID, TurnID: r.TurnID, ItemID: r.ItemID}
	switch r.Kind {
	case RequestCommandApproval:
		var p protocol.CommandExecutionRequestApprovalParams
		if err := r.Decode(&p); err != nil {
			return nil, err
		}
		a.Kind = abi.ApprovalCommand
		a.Command = deref(p.Command)
		a.Reason = deref(p.Reason)
		if p.Cwd != nil {
			a.Cwd = string(*p.Cwd)
		}
		for _, ca := range p.CommandActions {
			act := abi.CommandAction{Type: string(ca.Type), Command: ca.Command, Query: deref(ca.Query)}
			if ca.Path != nil {
				_ = json.Unmarshal(*ca.Path, &act.Path)
			}
			a.Actions = append(a.Actions, act)
		}
		a.ProposedAmendment = p.ProposedExecpolicyAmendment
		if p.NetworkApprovalContext != nil {
			a.Network = &abi.NetworkAccess{Host: p.NetworkApprovalContext.Host, Protocol: string(p.NetworkApprovalContext.Protocol)}
		}
	case RequestFileChangeApproval:
		var p protocol.FileChangeRequestApprovalParams
		if err := r.Decode(&p); err != nil {
			return nil, err
		}
		a.Kind = abi.ApprovalFileChange
		a.Reason = deref(p.Reason)
		a.GrantRoot = deref(p.GrantRoot)
		if r.files != nil {
			a.Changes = r.files.get(p.ItemID)
		}
	case RequestPermissions:
		var p protocol.PermissionsRequestApprovalParams
		if err := r.Decode(&p); err != nil {
			return nil, err
		}
		a.Kind = abi.ApprovalPermissions
		a.Reason = deref(p.Reason)
		a.Cwd = string(p.Cwd)
		perm := &abi.Permissions{}
		if fs := p.Permissions.FileSystem; fs != nil {
			for _, x := range fs.Read {
				perm.ReadPaths = append(perm.ReadPaths, string(x))
			}
			for _, x := range fs.Write {
				perm.WritePaths = append(perm.WritePaths, string(x))
			}
		}
		if n := p.Permissions.Network; n != nil && n.Enabled != nil {
			perm.Network = *n.Enabled
		}
		perm.Raw, _ = json.Marshal(p.Permissions)
		a.Permissions = perm
	case RequestLegacyExecApproval:
		var p protocol.ExecCommandApprovalParams
		if err := r.Decode(&p); err != nil {
			return nil, err
		}
		a.Kind, a.Legacy = abi.ApprovalCommand, true
		a.Command = shellJoin(p.Command)
		a.Cwd = p.Cwd
		a.Reason = deref(p.Reason)
		a.ItemID = p.CallID
	case RequestLegacyPatchApproval:
		var p protocol.ApplyPatchApprovalParams
		if err := r.Decode(&p); err != nil {
			return nil, err
		}
		a.Kind, a.Legacy = abi.ApprovalFileChange, true
		a.Reason = deref(p.Reason)
		a.GrantRoot = deref(p.GrantRoot)
		a.ItemID = p.CallID
		for _, path := range slices.Sorted(maps.Keys(p.FileChanges)) {
			fc := p.FileChanges[path]
			c := abi.FileChange{Path: path, Kind: string(fc.Type), MovePath: deref(fc.MovePath), Diff: deref(fc.UnifiedDiff)}
			if c.Diff == "" {
				c.Diff = deref(fc.Content)
			}
			a.Changes = append(a.Changes, c)
		}
	default:
		return nil, fmt.Errorf("host: %s is not an approval request", r.Method)
	}
	if a.Cwd == "" {
		// File changes carry no cwd; the thread's tells what relative
		// paths are relative to.
		a.Cwd = r.cwd
	}
	return a, nil
}

func deref[T ~string](p *T) string {
	if p == nil {
		return ""
	}
	return string(*p)
}

// shellJoin renders argv as one command line, quoting what needs it.
func shellJoin(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`;&|<>()*?[]{}!#~") {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

// ApprovalAnswer turns an ABI decision into the JSON-RPC result codex
// expects for the request. It refuses what codex would reject for that
// request kind: abstain (the chain resolves it first), an invalid decision,
// an amendment on anything but a command, a network rule without a network
// request, or granted permissions beyond those requested.
func (r *Request) ApprovalAnswer(req *abi.ApprovalRequest, resp *abi.ApprovalResponse) (any, error) {
	d := resp.Decision
	if !d.Valid() {
		return nil, fmt.Errorf("host: invalid decision %q", d)
	}
	if d == abi.Abstain {
		return nil, fmt.Errorf("host: abstain is not an answer codex accepts; the chain must resolve it")
	}
	accepting := d == abi.Accept || d == abi.AcceptForSession
	if len(resp.Amendment) > 0 && (req.Kind != abi.ApprovalCommand || d != abi.Accept) {
		return nil, fmt.Errorf("host: an exec-policy amendment goes only with accept on a command approval")
	}
	if resp.NetworkRule != nil {
		if req.Kind != abi.ApprovalCommand || req.Network == nil || req.Legacy {
			return nil, fmt.Errorf("host: a network rule answers only a command approval that asks for network access")
		}
		if resp.NetworkRule.Action != "allow" && resp.NetworkRule.Action != "deny" {
			return nil, fmt.Errorf("host: network rule action %q is not allow or deny", resp.NetworkRule.Action)
		}
		if resp.NetworkRule.Host != req.Network.Host {
			return nil, fmt.Errorf("host: network rule for %q answers a request for %q", resp.NetworkRule.Host, req.Network.Host)
		}
	}
	if resp.Granted != nil && (req.Kind != abi.ApprovalPermissions || !accepting) {
		return nil, fmt.Errorf("host: granted permissions go only with accept on a permissions request")
	}
	switch r.Kind {
	case RequestCommandApproval:
		switch {
		case len(resp.Amendment) > 0:
			return map[string]any{"decision": map[string]any{"acceptWithExecpolicyAmendment": map[string]any{"execpolicy_amendment": resp.Amendment}}}, nil
		case resp.NetworkRule != nil:
			return map[string]any{"decision": map[string]any{"applyNetworkPolicyAmendment": map[string]any{
				"network_policy_amendment": map[string]string{"host": resp.NetworkRule.Host, "action": resp.NetworkRule.Action}}}}, nil
		}
		return &ApprovalResponse{Decision: ApprovalDecision(d)}, nil
	case RequestFileChangeApproval:
		return &ApprovalResponse{Decision: ApprovalDecision(d)}, nil
	case RequestPermissions:
		if !accepting {
			return map[string]any{"permissions": map[string]any{}, "scope": "turn"}, nil
		}
		granted := req.Permissions
		if resp.Granted != nil {
			if err := subset(resp.Granted, req.Permissions); err != nil {
				return nil, err
			}
			granted = resp.Granted
		}
		scope := "turn"
		if d == abi.AcceptForSession {
			scope = "session"
		}
		return map[string]any{"permissions": permissionsToWire(granted), "scope": scope}, nil
	case RequestLegacyExecApproval, RequestLegacyPatchApproval:
		return legacyAnswer(d, resp), nil
	}
	return nil, fmt.Errorf("host: %s is not an approval request", r.Method)
}

func legacyAnswer(d abi.Decision, resp *abi.ApprovalResponse) map[string]any {
	switch d {
	case abi.Accept:
		if len(resp.Amendment) > 0 {
			return map[string]any{"decision": map[string]any{"approved_execpolicy_amendment": map[string]any{"proposed_execpolicy_amendment": resp.Amendment}}}
		}
		return map[string]any{"decision": "approved"}
	case abi.AcceptForSession:
		return map[string]any{"decision": "approved_for_session"}
	case abi.Cancel:
		return map[string]any{"decision": "abort"}
	}
	why := resp.Reason
	if why == "" {
		why = "declined by codexhost"
	}
	return map[string]any{"decision": map[string]any{"denied": map[string]string{"rejection": why}}}
}

func subset(g, req *abi.Permissions) error {
	if req == nil {
		return fmt.Errorf("host: granted permissions but none were requested")
	}
	for _, p := range g.ReadPaths {
		if !slices.Contains(req.ReadPaths, p) {
			return fmt.Errorf("host: granted read access to %s, which was not requested", p)
		}
	}
	for _, p := range g.WritePaths {
		if !slices.Contains(req.WritePaths, p) {
			return fmt.Errorf("host: granted write access to %s, which was not requested", p)
		}
	}
	if g.Network && !req.Network {
		return fmt.Errorf("host: granted network access, which was not requested")
	}
	return nil
}

func permissionsToWire(p *abi.Permissions) map[string]any {
	out := map[string]any{}
	if p == nil {
		return out
	}
	if len(p.ReadPaths) > 0 || len(p.WritePaths) > 0 {
		fs := map[string]any{}
		if len(p.ReadPaths) > 0 {
			fs["read"] = p.ReadPaths
		}
		if len(p.WritePaths) > 0 {
			fs["write"] = p.WritePaths
		}
		out["fileSystem"] = fs
	}
	if p.Network {
		out["network"] = map[string]any{"enabled": true}
	}
	return out
}

// ToolInputRequest translates a RequestUserInput into the ABI form.
func (r *Request) ToolInputRequest() (*abi.ToolInputRequest, error) {
	if r.Kind != RequestUserInput {
		return nil, fmt.Errorf("host: %s is not a user-input request", r.Method)
	}
	var p protocol.ToolRequestUserInputParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	out := &abi.ToolInputRequest{ThreadID: p.ThreadID, TurnID: p.TurnID, ItemID: p.ItemID}
	for _, q := range p.Questions {
		aq := abi.Question{ID: q.ID, Header: q.Header, Question: q.Question, IsOther: q.IsOther, IsSecret: q.IsSecret}
		for _, o := range q.Options {
			aq.Options = append(aq.Options, abi.QuestionOption{Label: o.Label, Description: o.Description})
		}
		out.Questions = append(out.Questions, aq)
	}
	return out, nil
}

// ToolInputAnswer turns an ABI answer into codex's result. Every question
// gets an entry; unanswered ones get an empty answer; answers to questions
// codex did not ask are refused.
func ToolInputAnswer(req *abi.ToolInputRequest, resp *abi.ToolInputResponse) (*UserInputResponse, error) {
	out := &UserInputResponse{Answers: map[string]UserInputAnswer{}}
	for id := range resp.Answers {
		if !slices.ContainsFunc(req.Questions, func(q abi.Question) bool { return q.ID == id }) {
			return nil, fmt.Errorf("host: answer to question %q, which was not asked", id)
		}
	}
	for _, q := range req.Questions {
		ans := resp.Answers[q.ID]
		if ans == nil {
			ans = []string{}
		}
		out.Answers[q.ID] = UserInputAnswer{Answers: ans}
	}
	return out, nil
}

// ToolCallRequest translates a RequestToolCall into the ABI form.
func (r *Request) ToolCallRequest() (*abi.ToolCallRequest, error) {
	if r.Kind != RequestToolCall {
		return nil, fmt.Errorf("host: %s is not a tool call", r.Method)
	}
	var p protocol.DynamicToolCallParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	return &abi.ToolCallRequest{ThreadID: p.ThreadID, TurnID: p.TurnID, CallID: p.CallID,
		Namespace: deref(p.Namespace), Tool: p.Tool, Arguments: abi.RawJSON(p.Arguments)}, nil
}

// ToolCallAnswer turns an ABI tool result into codex's result.
func ToolCallAnswer(resp *abi.ToolCallResponse) (*ToolResponse, error) {
	out := &ToolResponse{Success: resp.Success, ContentItems: []ToolContent{}}
	for _, c := range resp.Content {
		switch c.Type {
		case "text":
			out.ContentItems = append(out.ContentItems, ToolContent{Type: "inputText", Text: c.Text})
		case "image":
			out.ContentItems = append(out.ContentItems, ToolContent{Type: "inputImage", ImageURL: c.ImageURL})
		default:
			return nil, fmt.Errorf("host: tool content type %q is not text or image", c.Type)
		}
	}
	return out, nil
}

// ABIEvent translates an event into the ABI form.
func (ev *Event) ABIEvent() abi.Event {
	out := abi.Event{Kind: abi.EventKind(ev.Kind.String()), Method: ev.Method, Seq: ev.Seq,
		ThreadID: ev.ThreadID, TurnID: ev.TurnID, ItemID: ev.ItemID, Delta: ev.Delta}
	if it := ev.Item; it != nil {
		ai := &abi.Item{ID: it.ID, Type: string(it.Type), Status: it.Status, Text: it.Text, Command: it.Command,
			Cwd: it.Cwd, ExitCode: it.ExitCode, DurationMs: int(it.Duration / time.Millisecond), Output: it.Output, Server: it.Server, Tool: it.Tool,
			Arguments: abi.RawJSON(it.Arguments), Success: it.Success}
		for _, c := range it.Changes {
			ai.Changes = append(ai.Changes, abi.FileChange{Path: c.Path, Kind: c.Kind, MovePath: c.MovePath, Diff: c.Diff})
		}
		out.Item = ai
	}
	if t := ev.Turn; t != nil {
		out.Turn = &abi.TurnStatus{ID: t.ID, State: string(t.State), DurationMs: t.DurationMs}
	}
	if u := ev.Usage; u != nil {
		conv := func(c TokenCounts) abi.TokenCounts {
			return abi.TokenCounts{Input: c.Input, CachedInput: c.CachedInput, CacheWriteInput: c.CacheWriteInput, Output: c.Output, ReasoningOutput: c.ReasoningOutput, Total: c.Total}
		}
		out.Usage = &abi.TokenUsage{Last: conv(u.Last), Total: conv(u.Total), ContextWindow: u.ContextWindow}
	}
	if e := ev.Error; e != nil {
		out.Error = &abi.TurnFailure{Message: e.Message, Info: e.Info, WillRetry: ev.WillRetry}
	}
	return out
}

// fileChangeCache remembers the changes of in-flight file-change items, so
// that a file-change approval (which names only the item) can show the
// paths and diffs. It is filled from item/started on the delivery
// goroutine, which runs before the approval's handler starts.
type fileChangeCache struct {
	mu    sync.Mutex
	items map[string][]abi.FileChange
	order []string
}

const fileChangeCacheSize = 256

func (c *fileChangeCache) observe(ev *Event) {
	if ev.Item == nil || ev.Item.Type != ItemFileChange {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[string][]abi.FileChange{}
	}
	if ev.Kind == EventItemCompleted {
		delete(c.items, ev.Item.ID)
		return
	}
	var changes []abi.FileChange
	for _, ch := range ev.Item.Changes {
		changes = append(changes, abi.FileChange{Path: ch.Path, Kind: ch.Kind, MovePath: ch.MovePath, Diff: ch.Diff})
	}
	if _, ok := c.items[ev.Item.ID]; !ok {
		c.order = append(c.order, ev.Item.ID)
	}
	c.items[ev.Item.ID] = changes
	for len(c.order) > fileChangeCacheSize {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

func (c *fileChangeCache) get(itemID string) []abi.FileChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.items[itemID]
}
