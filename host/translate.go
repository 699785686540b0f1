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

// Approval translates an approval request into the ABI form. For a
// file change, the paths and diffs come from the item's item/started event
// (codex's request names only the item).
func (r *Request) Approval() (*ApprovalRequest, error) {
	a := r.decoded.Swap(nil)
	if a == nil {
		var s scanner
		if _, fa, ok := s.decodeApprovalFast(r.kind, r.Params); ok {
			a = fa
		}
	}
	if a != nil {
		if a.Kind == abi.ApprovalFileChange {
			if err := r.knowsChanges(); err != nil {
				return nil, err
			}
			a.Changes = r.changes
		}
		a.ThreadID, a.TurnID, a.ItemID = r.ThreadID, r.TurnID, r.ItemID
		return r.finishApproval(a), nil
	}
	return r.approvalSlow()
}

// unreadable is the request [Handler.Approval] is told of when the host
// could not read r (Approval failed with err): its kind and ids only.
func (r *Request) unreadable(err error) *ApprovalRequest {
	a := &abi.ApprovalRequest{ThreadID: r.ThreadID, TurnID: r.TurnID, ItemID: r.ItemID}
	a.Kind, a.Legacy = approvalKind(r.kind)
	return &ApprovalRequest{Method: r.Method, ApprovalRequest: a, Unreadable: err}
}

// approvalKind is what an approval request of kind k asks about, and
// whether it comes by a v1 method.
func approvalKind(k requestKind) (kind abi.ApprovalKind, legacy bool) {
	switch k {
	case requestCommandApproval:
		return abi.ApprovalCommand, false
	case requestLegacyExecApproval:
		return abi.ApprovalCommand, true
	case requestFileChangeApproval:
		return abi.ApprovalFileChange, false
	case requestLegacyPatchApproval:
		return abi.ApprovalFileChange, true
	case requestPermissions:
		return abi.ApprovalPermissions, false
	}
	return "", false
}

// approvalSlow is Approval with encoding/json.
func (r *Request) approvalSlow() (*ApprovalRequest, error) {
	a := &abi.ApprovalRequest{ThreadID: r.ThreadID, TurnID: r.TurnID, ItemID: r.ItemID}
	a.Kind, a.Legacy = approvalKind(r.kind)
	switch r.kind {
	case requestCommandApproval:
		var p protocol.CommandExecutionRequestApprovalParams
		if err := r.decode(&p); err != nil {
			return nil, err
		}
		var k struct{ Kind *string }
		if err := r.decode(&k); err != nil {
			return nil, err
		}
		if k.Kind != nil && *k.Kind != string(protocol.CommandExecutionApprovalKindCommand) {
			// writeStdin carries no text of what would be written to the
			// running terminal, and humanCommand wants a person: nothing
			// a policy could judge. The caller's safe answer declines.
			return nil, fmt.Errorf("host: %s of kind %q: only commands (kind %q) are judged; declined", r.Method, *k.Kind, protocol.CommandExecutionApprovalKindCommand)
		}
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
		for _, d := range p.AvailableDecisions {
			if o, ok := decisionOption(d); ok {
				a.AvailableDecisions = append(a.AvailableDecisions, o)
			} else {
				// An offer abi has no words for: keep the list honest by
				// recording that codex restricts the answers.
				a.AvailableDecisions = append(a.AvailableDecisions, abi.DecisionOption{})
			}
		}
		if ap := p.AdditionalPermissions; ap != nil {
			if unjudgedEntries(ap.FileSystem) {
				return nil, entriesErr(r.Method, "additional permissions")
			}
			a.AdditionalPermissions = permissionsFromWire(ap.FileSystem, ap.Network, ap)
		}
	case requestFileChangeApproval:
		var p protocol.FileChangeRequestApprovalParams
		if err := r.decode(&p); err != nil {
			return nil, err
		}
		a.Reason = deref(p.Reason)
		a.GrantRoot = deref(p.GrantRoot)
		if err := r.knowsChanges(); err != nil {
			return nil, err
		}
		a.Changes = r.changes
	case requestPermissions:
		var p protocol.PermissionsRequestApprovalParams
		if err := r.decode(&p); err != nil {
			return nil, err
		}
		a.Reason = deref(p.Reason)
		a.Cwd = string(p.Cwd)
		if unjudgedEntries(p.Permissions.FileSystem) {
			return nil, entriesErr(r.Method, "permissions")
		}
		a.Permissions = permissionsFromWire(p.Permissions.FileSystem, p.Permissions.Network, p.Permissions)
	case requestLegacyExecApproval:
		var p protocol.ExecCommandApprovalParams
		if err := r.decode(&p); err != nil {
			return nil, err
		}
		a.Command = shellJoin(p.Command)
		a.Cwd = p.Cwd
		a.Reason = deref(p.Reason)
		a.ItemID = p.CallID
	case requestLegacyPatchApproval:
		var p protocol.ApplyPatchApprovalParams
		if err := r.decode(&p); err != nil {
			return nil, err
		}
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
	return r.finishApproval(a), nil
}

func (r *Request) finishApproval(a *abi.ApprovalRequest) *ApprovalRequest {
	if a.Cwd == "" {
		// File changes carry no cwd; the thread's tells what relative
		// paths are relative to.
		a.Cwd = r.cwd
	}
	return &ApprovalRequest{Method: r.Method, ApprovalRequest: a, threadCwd: r.cwd}
}

// unjudgedEntries reports whether a file-system permission profile has
// an entry (codex's newer form: a path, a glob pattern or a special path
// such as the root, each with an access mode) that its read and write
// lists, all that abi.Permissions shows, do not say: a policy shown only
// the lists would judge less than an accept grants ("every write is under
// /tmp" holds of an empty list). codex 0.169 sends each listed path again
// as an entry; those, and entries that deny, are shown. A request with
// any other entry is declined (Request.Approval fails).
//
// It takes time linear in the profile: the agent chooses how many paths
// it asks for, and codex sends each again as an entry (one lookup in the
// lists per entry made 40000 paths take 9 s).
func unjudgedEntries(fs *protocol.AdditionalFileSystemPermissions) bool {
	if fs == nil || len(fs.Entries) == 0 {
		return false
	}
	// What each listed path grants: write (which reading is part of), or
	// read.
	listed := make(map[protocol.LegacyAppPathString]protocol.FileSystemAccessMode, len(fs.Read)+len(fs.Write))
	for _, p := range fs.Read {
		listed[p] = protocol.FileSystemAccessModeRead
	}
	for _, p := range fs.Write {
		listed[p] = protocol.FileSystemAccessModeWrite
	}
	for _, e := range fs.Entries {
		if e.Access == protocol.FileSystemAccessModeDeny {
			continue
		}
		if e.Path.Type != protocol.FileSystemPathTypePath || e.Path.Path == nil {
			return true
		}
		got, ok := listed[*e.Path.Path]
		switch e.Access {
		case protocol.FileSystemAccessModeWrite:
			if got != protocol.FileSystemAccessModeWrite {
				return true
			}
		case protocol.FileSystemAccessModeRead:
			if !ok {
				return true
			}
		default:
			return true
		}
	}
	return false
}

func entriesErr(method, what string) error {
	return fmt.Errorf("host: %s asks for %s as file-system entries (paths, patterns or special paths with an access mode) beyond its read and write lists, which codexhost cannot show a policy; declined", method, what)
}

// permissionsFromWire translates a codex permission profile; raw is the
// profile, kept verbatim.
func permissionsFromWire(fs *protocol.AdditionalFileSystemPermissions, n *protocol.AdditionalNetworkPermissions, raw any) *abi.Permissions {
	perm := &abi.Permissions{}
	if fs != nil {
		for _, x := range fs.Read {
			perm.ReadPaths = append(perm.ReadPaths, string(x))
		}
		for _, x := range fs.Write {
			perm.WritePaths = append(perm.WritePaths, string(x))
		}
	}
	if n != nil && n.Enabled != nil {
		perm.Network = *n.Enabled
	}
	perm.Raw, _ = json.Marshal(raw)
	return perm
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

// UserInput translates a user-input request into the ABI form.
func (r *Request) UserInput() (*UserInputRequest, error) {
	if r.kind != requestUserInput {
		return nil, fmt.Errorf("host: %s is not a user-input request", r.Method)
	}
	var p protocol.ToolRequestUserInputParams
	if err := r.decode(&p); err != nil {
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
	return &UserInputRequest{Method: r.Method, ToolInputRequest: out}, nil
}

// ToolCall translates a dynamic tool call into the ABI form.
func (r *Request) ToolCall() (*ToolCallRequest, error) {
	if r.kind != requestToolCall {
		return nil, fmt.Errorf("host: %s is not a tool call", r.Method)
	}
	var p protocol.DynamicToolCallParams
	if err := r.decode(&p); err != nil {
		return nil, err
	}
	return &ToolCallRequest{Method: r.Method, ToolCallRequest: &abi.ToolCallRequest{ThreadID: p.ThreadID, TurnID: p.TurnID, CallID: p.CallID,
		Namespace: deref(p.Namespace), Tool: p.Tool, Arguments: abi.RawJSON(p.Arguments)}}, nil
}

// elicitation translates an MCP elicitation.
func (r *Request) elicitation() (*ElicitationRequest, error) {
	var p protocol.MCPServerElicitationRequestParams
	if err := r.decode(&p); err != nil {
		return nil, err
	}
	return &ElicitationRequest{Method: r.Method, ThreadID: p.ThreadID, TurnID: deref(p.TurnID),
		ServerName: p.ServerName, Message: deref(p.Message), Params: r.Params}, nil
}

// ABIEvent translates an event into the ABI form.
func (ev *Event) ABIEvent() abi.Event {
	out := abi.Event{Kind: ev.Kind, Method: ev.Method, Seq: ev.Seq,
		ThreadID: ev.ThreadID, TurnID: ev.TurnID, ItemID: ev.ItemID, Delta: ev.Delta}
	if it := ev.Item; it != nil {
		ai := &abi.Item{ID: it.ID, Type: string(it.Type), Status: it.Status, Text: it.Text, Command: it.Command,
			Cwd: it.Cwd, ExitCode: it.ExitCode, DurationMs: int(it.Duration / time.Millisecond), Output: it.Output, Server: it.Server, Tool: it.Tool,
			Arguments: abi.RawJSON(it.Arguments), Success: it.Success}
		ai.Changes = it.Changes
		out.Item = ai
	}
	out.Turn, out.Usage = ev.Turn, ev.Usage
	if e := ev.Error; e != nil {
		out.Error = &abi.TurnFailure{Message: e.Message, Info: e.Info, WillRetry: ev.WillRetry}
	}
	return out
}

// knowsChanges fails a file-change approval whose changes the connection
// did not know when it arrived: no item/started of that item in that
// thread came first (or the cache had let it go). A policy shown no
// changes could accept them all ("every change is under src/").
//
// It fails too when the client does not know the thread's cwd (a
// sub-agent's thread whose spawn it did not see): codex's request names
// none, and a policy shown none would not match a rule on a path
// relative to the workspace (".github/**" declined for the agent, but not
// for its sub-agent).
func (r *Request) knowsChanges() error {
	if r.changesUnknown {
		return fmt.Errorf("host: %s for item %q of thread %q: no item/started told its changes, or two items of that id in flight told different ones; declined", r.Method, r.ItemID, r.ThreadID)
	}
	if r.cwdUnknown {
		return fmt.Errorf("host: %s for item %q of thread %q: the client does not know the thread's cwd, against which the policy reads the paths; declined", r.Method, r.ItemID, r.ThreadID)
	}
	return nil
}

// fileChangeCache remembers the changes of in-flight file-change items, so
// that a file-change approval (which names only the item) can show the
// paths and diffs. It is filled from item/started on the delivery
// goroutine, which runs before the approval's handler starts.
//
// An item's id is the model's call id, which the agent chooses: two
// calls with the same id in flight at once (exec_command runs in
// parallel, and each may apply a patch) would have an approval shown the
// other call's changes. An id started again, with other changes, before
// it completed is ambiguous until every item of it has completed: its
// approvals are shown no changes, and declined (knowsChanges).
type fileChangeCache struct {
	mu    sync.Mutex
	items map[fileChangeKey]*fileChangeItem
	order []fileChangeKey
}

// A fileChangeItem is what the cache knows of an item id in a thread.
type fileChangeItem struct {
	changes   []abi.FileChange
	inFlight  int  // item/started seen, less item/completed
	ambiguous bool // started twice with different changes
}

// A fileChangeKey names an item in a thread: item ids are the model's
// call ids, which need not differ between threads.
type fileChangeKey struct{ thread, item string }

const fileChangeCacheSize = 256

func (c *fileChangeCache) observe(ev *Event) {
	if ev.Item == nil || ev.Item.Type != ItemFileChange {
		return
	}
	k := fileChangeKey{ev.ThreadID, ev.Item.ID}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.items == nil {
		c.items = map[fileChangeKey]*fileChangeItem{}
	}
	it, ok := c.items[k]
	if ev.Kind == abi.EventItemCompleted {
		if ok {
			if it.inFlight--; it.inFlight <= 0 {
				delete(c.items, k)
				c.order = slices.DeleteFunc(c.order, func(o fileChangeKey) bool { return o == k })
			}
		}
		return
	}
	if !ok {
		c.order = append(c.order, k)
		c.items[k] = &fileChangeItem{changes: ev.Item.Changes, inFlight: 1}
	} else {
		if ev.Kind == abi.EventItemStarted {
			it.inFlight++
		}
		if !slices.EqualFunc(it.changes, ev.Item.Changes, sameFileChange) {
			it.ambiguous = true
		}
	}
	for len(c.order) > fileChangeCacheSize {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

func sameFileChange(a, b abi.FileChange) bool {
	return a.Path == b.Path && a.Kind == b.Kind && a.MovePath == b.MovePath && a.Diff == b.Diff
}

// get returns the changes of item in thread, and whether it knows them:
// not for an item id that is ambiguous.
func (c *fileChangeCache) get(thread, item string) ([]abi.FileChange, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[fileChangeKey{thread, item}]
	if !ok || it.ambiguous {
		return nil, false
	}
	return it.changes, true
}
