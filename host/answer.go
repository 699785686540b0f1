package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/protocol"
)

// This file derives the answers codex receives. An answer is a function
// of the handler's decision and of the request alone: extras (an
// exec-policy amendment, a network rule, granted permissions) go only
// where they agree with both, and everything is encoded with typed wire
// structs.

// ErrInvalidAnswer is matched by the error of an answer codex must not
// receive: an unknown decision, abstain, extras the request does not
// entitle, an answer outside the request's available decisions, a tool
// image that is not a data: URL, an answer to a question codex did not
// ask.
var ErrInvalidAnswer = errors.New("host: invalid answer")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidAnswer, fmt.Sprintf(format, args...))
}

// marshal encodes a wire struct; wire structs always encode.
func marshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("host: encode wire answer: " + err.Error())
	}
	return b
}

// The union members of codex's CommandExecutionApprovalDecision and of the
// v1 ReviewDecision that carry data.
type (
	wireExecAmendment struct {
		Accept struct {
			Amendment []string `json:"execpolicy_amendment"`
		} `json:"acceptWithExecpolicyAmendment"`
	}
	wireNetworkAmendment struct {
		Apply struct {
			Amendment protocol.NetworkPolicyAmendment `json:"network_policy_amendment"`
		} `json:"applyNetworkPolicyAmendment"`
	}
	wireLegacyDenied struct {
		Denied struct {
			Rejection string `json:"rejection"`
		} `json:"denied"`
	}
)

// Answer derives the result codex receives when resp answers the request.
// It is deterministic but for the file system's part (below): the same
// request and response give the same bytes. An answer codex must not
// receive is refused with an error matching [ErrInvalidAnswer]:
//
//   - an unknown decision, or abstain;
//   - an exec-policy amendment other than with accept on a command
//     approval, or one that differs from the amendment codex proposed in
//     the request;
//   - a network rule on a request without network access, for another
//     host than the requested one, allow with anything but an accepting
//     decision, deny with anything but decline, or together with an
//     amendment;
//   - granted permissions other than with an accepting decision on a
//     permissions request, or beyond the requested ones;
//   - an answer that grants anything (an accept, an amendment, a network
//     rule) and is not one of the request's AvailableDecisions, when it
//     lists them. A plain decline or cancel is always taken: it grants
//     nothing, and codex takes both even when it does not list them.
//
// A plain acceptForSession that codex does not offer, where it offers a
// plain accept (0.169.0 under the untrusted approval policy), is
// answered as accept: it grants less (this command, once), never more.
//
// The check of a grant for symbolic links reads the file system, which
// the agent can change between two calls: the host sends the answer
// derived last for the handler's response (see sendable), not one derived
// again, so that what a handler recorded of the answer is what codex
// receives.
func (r *ApprovalRequest) Answer(resp *abi.ApprovalResponse) (json.RawMessage, error) {
	if resp == nil {
		return nil, invalid("no answer")
	}
	given := resp
	resp = r.narrow(resp)
	if err := r.check(resp); err != nil {
		return nil, err
	}
	b := r.encode(resp)
	key, _ := json.Marshal(given)
	r.last.mu.Lock()
	r.last.resp, r.last.key, r.last.answer = given, key, b
	r.last.mu.Unlock()
	return b, nil
}

// sendable is the answer the host sends for resp, the handler's
// response: the bytes Answer derived last, if it derived them for resp as
// it is now (the same pointer, unchanged), else resp's answer derived now.
// A handler that recorded the answer it derived (the chain's audit log,
// written and fsync'd before the answer goes) has recorded what is sent:
// a symbolic link the agent made meanwhile does not turn it into another
// answer after the record.
func (r *ApprovalRequest) sendable(resp *abi.ApprovalResponse) (json.RawMessage, error) {
	r.last.mu.Lock()
	derivedFor, key, b := r.last.resp, r.last.key, r.last.answer
	r.last.mu.Unlock()
	// The pointer first: a handler that never called Answer (a plain Go
	// handler) costs no encoding here.
	if resp != nil && derivedFor == resp {
		if now, _ := json.Marshal(resp); bytes.Equal(key, now) {
			return b, nil
		}
	}
	return r.Answer(resp)
}

// narrow returns resp, or a plain accept for a plain acceptForSession
// that codex does not offer when it offers a plain accept.
func (r *ApprovalRequest) narrow(resp *abi.ApprovalResponse) *abi.ApprovalResponse {
	a := r.ApprovalRequest
	if resp.Decision != abi.AcceptForSession || len(a.AvailableDecisions) == 0 ||
		len(resp.Amendment) > 0 || resp.NetworkRule != nil || resp.Granted != nil ||
		slices.ContainsFunc(a.AvailableDecisions, offered(resp)) {
		return resp
	}
	plain := &abi.ApprovalResponse{Decision: abi.Accept, Reason: resp.Reason}
	if !slices.ContainsFunc(a.AvailableDecisions, offered(plain)) {
		return resp
	}
	return plain
}

// check refuses an answer the request does not entitle.
func (r *ApprovalRequest) check(resp *abi.ApprovalResponse) error {
	a := r.ApprovalRequest
	d := resp.Decision
	if !d.Valid() {
		return invalid("unknown decision %q", d)
	}
	if d == abi.Abstain {
		return invalid("abstain is not an answer codex takes")
	}
	if d == abi.Ask {
		return invalid("ask is not an answer codex takes: a human, or the fallback, decides instead")
	}
	accepting := d == abi.Accept || d == abi.AcceptForSession
	if len(resp.Amendment) > 0 {
		switch {
		case a.Kind != abi.ApprovalCommand || d != abi.Accept:
			return invalid("an exec-policy amendment goes only with accept on a command approval, not with %s on a %s approval", d, a.Kind)
		case len(a.ProposedAmendment) == 0:
			return invalid("amendment %q, but codex proposed none", resp.Amendment)
		case !slices.Equal(resp.Amendment, a.ProposedAmendment):
			return invalid("amendment %q is not the one codex proposed (%q)", resp.Amendment, a.ProposedAmendment)
		}
	}
	if rule := resp.NetworkRule; rule != nil {
		switch {
		case a.Kind != abi.ApprovalCommand || a.Legacy || a.Network == nil:
			return invalid("a network rule answers only a command approval that asks for network access")
		case rule.Host != a.Network.Host:
			return invalid("network rule for %q answers a request for %q", rule.Host, a.Network.Host)
		case len(resp.Amendment) > 0:
			return invalid("an answer carries an amendment or a network rule, not both")
		case rule.Action == string(protocol.NetworkPolicyRuleActionAllow):
			if !accepting {
				return invalid("network rule allow goes only with accept, not %s", d)
			}
		case rule.Action == string(protocol.NetworkPolicyRuleActionDeny):
			if d != abi.Decline {
				return invalid("network rule deny goes only with decline, not %s", d)
			}
		default:
			return invalid("network rule action %q is not allow or deny", rule.Action)
		}
	}
	if resp.Granted != nil {
		if a.Kind != abi.ApprovalPermissions || !accepting {
			return invalid("granted permissions go only with an accepting decision on a permissions request")
		}
		if err := subset(resp.Granted, a.Permissions); err != nil {
			return err
		}
	}
	// The paths an accept grants: a permissions request's, and a
	// command's additional permissions (sandbox_permissions
	// "with_additional_permissions"), which an accept of the command
	// grants too; and the paths an accepted patch writes (its files,
	// their move targets, the root it asks to write), which codex
	// opens through any link on the way (outside the sandbox under
	// read-only).
	var grants []string
	switch {
	case accepting && a.Kind == abi.ApprovalPermissions:
		g := grantedOf(resp.Granted, a.Permissions)
		grants = slices.Concat(g.ReadPaths, g.WritePaths)
	case accepting && a.Kind == abi.ApprovalCommand && a.AdditionalPermissions != nil:
		grants = slices.Concat(a.AdditionalPermissions.ReadPaths, a.AdditionalPermissions.WritePaths)
	case accepting && a.Kind == abi.ApprovalFileChange:
		grants = patchPaths(a)
	}
	for _, p := range grants {
		if link, target := throughLink(p, a.Cwd, r.threadCwd); link != "" {
			return invalid("%s goes through the symbolic link %s (to %s), which the agent may have made: codex would act on what the link names, which the decision did not see", p, link, target)
		}
	}
	// A plain refusal grants nothing, and codex takes decline and cancel
	// whether or not it lists them (0.169.0 offers accept, the amendment
	// and cancel for a command, and takes decline); everything else must
	// be on offer.
	refusal := (d == abi.Decline || d == abi.Cancel) && resp.NetworkRule == nil
	if len(a.AvailableDecisions) > 0 && !refusal && !slices.ContainsFunc(a.AvailableDecisions, offered(resp)) {
		return invalid("%s is not one of the decisions codex offers (%s)", describe(resp), describeOptions(a.AvailableDecisions))
	}
	return nil
}

// offered reports whether an option is the answer resp gives, in the
// terms codex offers answers.
func offered(resp *abi.ApprovalResponse) func(abi.DecisionOption) bool {
	want := asOption(resp)
	return func(o abi.DecisionOption) bool {
		return o.Decision == want.Decision && slices.Equal(o.Amendment, want.Amendment) &&
			(o.NetworkRule == nil) == (want.NetworkRule == nil) &&
			(o.NetworkRule == nil || *o.NetworkRule == *want.NetworkRule)
	}
}

// asOption is the option codex offers for the answer resp gives: a
// network rule is an accept (allow) or a decline (deny) on the wire.
func asOption(resp *abi.ApprovalResponse) abi.DecisionOption {
	o := abi.DecisionOption{Decision: resp.Decision, Amendment: resp.Amendment, NetworkRule: resp.NetworkRule}
	if o.NetworkRule != nil {
		o.Decision = abi.Decline
		if o.NetworkRule.Action == string(protocol.NetworkPolicyRuleActionAllow) {
			o.Decision = abi.Accept
		}
	}
	return o
}

func describe(resp *abi.ApprovalResponse) string {
	o := asOption(resp)
	return describeOptions([]abi.DecisionOption{o})
}

func describeOptions(os []abi.DecisionOption) string {
	var parts []string
	for _, o := range os {
		s := string(o.Decision)
		if s == "" {
			s = "(an answer codexhost does not know)"
		}
		if len(o.Amendment) > 0 {
			s += fmt.Sprintf(" with amendment %q", o.Amendment)
		}
		if o.NetworkRule != nil {
			s += fmt.Sprintf(" with network rule %s %s", o.NetworkRule.Action, o.NetworkRule.Host)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// decisionOption translates one of codex's available decisions.
func decisionOption(raw json.RawMessage) (abi.DecisionOption, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch d := abi.Decision(s); d {
		case abi.Accept, abi.AcceptForSession, abi.Decline, abi.Cancel:
			return abi.DecisionOption{Decision: d}, true
		}
		return abi.DecisionOption{}, false
	}
	var obj struct {
		Exec *struct {
			Amendment []string `json:"execpolicy_amendment"`
		} `json:"acceptWithExecpolicyAmendment"`
		Net *struct {
			Amendment *protocol.NetworkPolicyAmendment `json:"network_policy_amendment"`
		} `json:"applyNetworkPolicyAmendment"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return abi.DecisionOption{}, false
	}
	switch {
	case obj.Exec != nil && obj.Net == nil && len(obj.Exec.Amendment) > 0:
		return abi.DecisionOption{Decision: abi.Accept, Amendment: obj.Exec.Amendment}, true
	case obj.Net != nil && obj.Exec == nil && obj.Net.Amendment != nil:
		n := obj.Net.Amendment
		rule := &abi.NetworkRule{Host: n.Host, Action: string(n.Action)}
		switch n.Action {
		case protocol.NetworkPolicyRuleActionAllow:
			return abi.DecisionOption{Decision: abi.Accept, NetworkRule: rule}, true
		case protocol.NetworkPolicyRuleActionDeny:
			return abi.DecisionOption{Decision: abi.Decline, NetworkRule: rule}, true
		}
	}
	return abi.DecisionOption{}, false
}

// plainCommandAnswers are the answers to a command approval with a plain
// decision, encoded once (on first use): what encode would marshal for
// them.
var plainCommandAnswers = sync.OnceValue(func() map[abi.Decision]json.RawMessage {
	m := map[abi.Decision]json.RawMessage{}
	for _, d := range []abi.Decision{abi.Accept, abi.AcceptForSession, abi.Decline, abi.Cancel} {
		m[d] = marshal(protocol.CommandExecutionRequestApprovalResponse{Decision: marshal(d)})
	}
	return m
})

// encode builds the wire answer of a checked response.
func (r *ApprovalRequest) encode(resp *abi.ApprovalResponse) json.RawMessage {
	a, d := r.ApprovalRequest, resp.Decision
	if a.Legacy && a.Kind == abi.ApprovalFileChange {
		return marshal(protocol.ApplyPatchApprovalResponse{Decision: legacyDecision(d, resp.Reason)})
	}
	if a.Legacy {
		return marshal(protocol.ExecCommandApprovalResponse{Decision: legacyDecision(d, resp.Reason)})
	}
	switch a.Kind {
	case abi.ApprovalCommand:
		var dec json.RawMessage
		switch {
		case len(resp.Amendment) > 0:
			var w wireExecAmendment
			w.Accept.Amendment = resp.Amendment
			dec = marshal(w)
		case resp.NetworkRule != nil:
			var w wireNetworkAmendment
			w.Apply.Amendment = protocol.NetworkPolicyAmendment{Host: resp.NetworkRule.Host,
				Action: protocol.NetworkPolicyRuleAction(resp.NetworkRule.Action)}
			dec = marshal(w)
		default:
			if b, ok := plainCommandAnswers()[d]; ok {
				return append(json.RawMessage(nil), b...)
			}
			dec = marshal(d)
		}
		return marshal(protocol.CommandExecutionRequestApprovalResponse{Decision: dec})
	case abi.ApprovalFileChange:
		return marshal(protocol.FileChangeRequestApprovalResponse{Decision: protocol.FileChangeApprovalDecision(d)})
	case abi.ApprovalPermissions:
		if d != abi.Accept && d != abi.AcceptForSession {
			return marshal(protocol.PermissionsRequestApprovalResponse{Scope: protocol.PermissionGrantScopeTurn})
		}
		granted := grantedOf(resp.Granted, a.Permissions)
		scope := protocol.PermissionGrantScopeTurn
		if d == abi.AcceptForSession {
			scope = protocol.PermissionGrantScopeSession
		}
		return marshal(protocol.PermissionsRequestApprovalResponse{Permissions: permissionsToWire(granted), Scope: scope})
	}
	panic("host: encode an unchecked approval kind " + string(a.Kind))
}

// legacyDecision is the v1 ReviewDecision of d.
func legacyDecision(d abi.Decision, reason string) json.RawMessage {
	switch d {
	case abi.Accept:
		return marshal("approved")
	case abi.AcceptForSession:
		return marshal("approved_for_session")
	case abi.Cancel:
		return marshal("abort")
	}
	var w wireLegacyDenied
	w.Denied.Rejection = clip(reason, maxRejectionBytes)
	if w.Denied.Rejection == "" {
		w.Denied.Rejection = "declined by codexhost"
	}
	return marshal(w)
}

// maxRejectionBytes bounds the reason a v1 decline carries to codex (and
// on to the model): a plugin's reason may be megabytes.
const maxRejectionBytes = 4 << 10

// clip returns s cut to at most max bytes, on a UTF-8 boundary, with "…"
// in place of what was cut.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const more = "…"
	cut := max - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + more
}

func subset(g, req *abi.Permissions) error {
	if req == nil {
		return invalid("granted permissions but none were requested")
	}
	if p, ok := notIn(g.ReadPaths, req.ReadPaths); !ok {
		return invalid("granted read access to %s, which was not requested", p)
	}
	if p, ok := notIn(g.WritePaths, req.WritePaths); !ok {
		return invalid("granted write access to %s, which was not requested", p)
	}
	if g.Network && !req.Network {
		return invalid("granted network access, which was not requested")
	}
	return nil
}

// notIn returns the first of paths that is not in of, and false, or true
// if every one is; in time linear in both (either list can be long: a
// plugin's answer, an agent's request).
func notIn(paths, of []string) (string, bool) {
	if len(paths) == 0 {
		return "", true
	}
	set := make(map[string]struct{}, len(of))
	for _, p := range of {
		set[p] = struct{}{}
	}
	for _, p := range paths {
		if _, ok := set[p]; !ok {
			return p, false
		}
	}
	return "", true
}

// patchPaths are the paths a file-change approval's accept lets codex
// write: each change's path and move target, and the grant root. A
// relative one is checked against the request's cwd, or not at all
// without one (codex 0.169 sends absolute paths).
func patchPaths(a *abi.ApprovalRequest) []string {
	var ps []string
	add := func(p string) {
		if p != "" && (filepath.IsAbs(p) || a.Cwd != "") {
			ps = append(ps, p)
		}
	}
	for _, c := range a.Changes {
		add(c.Path)
		add(c.MovePath)
	}
	add(a.GrantRoot)
	return ps
}

// throughLink returns the first symbolic link on the way to path p
// (relative to cwd) whose directory this user may write, and what it
// names; or "". codex grants a path through a link as what the link
// names: a link the agent made in the workspace (ln -s /etc src/vendor)
// turns a grant the policy saw inside the workspace into one outside it.
// Links in directories the user cannot write (/lib on Linux, /tmp on
// macOS) are the system's. A path's parts that do not exist yet are not
// links now; what the agent makes there later is codex's to resolve.
//
// The thread's cwd (threadCwd, or "") is the user's: a workspace reached
// through a link (--cwd ~/ws, a link to /data/ws) is not the agent's
// doing, so a path under it is walked from it, unless it climbs out with
// "..". cwd, against which a relative p is read, may be the agent's (a
// command's workdir) and is not trusted so.
func throughLink(p, cwd, threadCwd string) (link, target string) {
	sep := string(filepath.Separator)
	if !filepath.IsAbs(p) {
		p = cwd + sep + p // not Join, which cleans
	}
	// Part by part, as the kernel reads it: a ".." after a link is the
	// link's target's parent, but the first link ends the walk, so a
	// ".." here follows real directories only.
	cur, rest := sep, p
	if c := filepath.Clean(threadCwd); threadCwd != "" && filepath.IsAbs(c) {
		if r, ok := strings.CutPrefix(p+sep, strings.TrimSuffix(c, sep)+sep); ok && !slices.Contains(strings.Split(r, sep), "..") {
			cur, rest = c, r
		}
	}
	for _, part := range strings.Split(rest, sep) {
		switch part {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		dir := cur
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return "", ""
		}
		if fi.Mode()&fs.ModeSymlink != 0 && writable(dir) {
			t, err := filepath.EvalSymlinks(cur)
			if err != nil {
				t, _ = os.Readlink(cur)
			}
			return cur, t
		}
	}
	return "", ""
}

// grantedOf is what codex receives of g, which subset has checked against
// req: the requested permissions that g grants, in the request's order,
// each once. It is derived from the request, so an answer that names a
// path many times, or in another spelling of the same list, sends codex
// no more than the request's own list.
func grantedOf(g, req *abi.Permissions) *abi.Permissions {
	if g == nil {
		return req
	}
	return &abi.Permissions{
		ReadPaths:  keep(req.ReadPaths, g.ReadPaths),
		WritePaths: keep(req.WritePaths, g.WritePaths),
		Network:    g.Network && req.Network,
	}
}

// keep returns the elements of from that are in set, in from's order,
// each once.
func keep(from, set []string) []string {
	in := make(map[string]bool, len(set))
	for _, p := range set {
		in[p] = true
	}
	var out []string
	for _, p := range from {
		if in[p] {
			out = append(out, p)
			in[p] = false // once
		}
	}
	return out
}

func permissionsToWire(p *abi.Permissions) protocol.GrantedPermissionProfile {
	var out protocol.GrantedPermissionProfile
	if p == nil {
		return out
	}
	if len(p.ReadPaths) > 0 || len(p.WritePaths) > 0 {
		fs := &protocol.AdditionalFileSystemPermissions{}
		for _, x := range p.ReadPaths {
			fs.Read = append(fs.Read, protocol.LegacyAppPathString(x))
		}
		for _, x := range p.WritePaths {
			fs.Write = append(fs.Write, protocol.LegacyAppPathString(x))
		}
		out.FileSystem = fs
	}
	if p.Network {
		t := true
		out.Network = &protocol.AdditionalNetworkPermissions{Enabled: &t}
	}
	return out
}

// Answer derives the result codex receives when resp answers the
// questions. Every question gets an entry; unanswered ones get an empty
// answer; abstain answers none. An answer to a question codex did not ask,
// and to a question with options that does not allow another answer
// (IsOther false) one that is not an option's label, is refused
// ([ErrInvalidAnswer]): a person answering in codex could give neither.
func (r *UserInputRequest) Answer(resp *abi.ToolInputResponse) (json.RawMessage, error) {
	if resp == nil {
		return nil, invalid("no answer")
	}
	out := protocol.ToolRequestUserInputResponse{Answers: protocol.ToolRequestUserInputResponseAnswers{}}
	if !resp.Abstain && len(resp.Answers) > 0 {
		// A set: the agent chooses how many questions it asks, and a
		// lookup in the list per answer was quadratic.
		asked := make(map[string]struct{}, len(r.Questions))
		for _, q := range r.Questions {
			asked[q.ID] = struct{}{}
		}
		for id := range resp.Answers {
			if _, ok := asked[id]; !ok {
				return nil, invalid("answer to question %q, which was not asked", id)
			}
		}
	}
	for _, q := range r.Questions {
		var ans []string
		if !resp.Abstain {
			ans = resp.Answers[q.ID]
		}
		if ans == nil {
			ans = []string{}
		}
		if len(q.Options) > 0 && !q.IsOther && len(ans) > 0 {
			labels := make(map[string]struct{}, len(q.Options)) // as above: linear
			for _, o := range q.Options {
				labels[o.Label] = struct{}{}
			}
			for _, a := range ans {
				if _, ok := labels[a]; !ok {
					return nil, invalid("answer %q to question %q is not one of its options, and the question takes no other", a, q.ID)
				}
			}
		}
		out.Answers[q.ID] = protocol.ToolRequestUserInputAnswer{Answers: ans}
	}
	return marshal(out), nil
}

// Answer derives the result codex receives for a tool result. Content is
// text or an image given as a data: URL; anything else is refused
// ([ErrInvalidAnswer]).
func (r *ToolCallRequest) Answer(resp *abi.ToolCallResponse) (json.RawMessage, error) {
	if resp == nil {
		return nil, invalid("no answer")
	}
	out := protocol.DynamicToolCallResponse{Success: resp.Success, ContentItems: []protocol.DynamicToolCallOutputContentItem{}}
	for _, c := range resp.Content {
		switch c.Type {
		case "text":
			out.ContentItems = append(out.ContentItems, protocol.DynamicToolCallOutputContentItem{
				Type: protocol.DynamicToolCallOutputContentItemTypeInputText, Text: &c.Text})
		case "image":
			if !strings.HasPrefix(c.ImageURL, "data:") {
				return nil, invalid("tool image URL %q is not a data: URL", truncate(c.ImageURL, 40))
			}
			out.ContentItems = append(out.ContentItems, protocol.DynamicToolCallOutputContentItem{
				Type: protocol.DynamicToolCallOutputContentItemTypeInputImage, ImageURL: &c.ImageURL})
		default:
			return nil, invalid("tool content type %q is not text or image", c.Type)
		}
	}
	return marshal(out), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func elicitationAnswer(resp *ElicitationResponse) (json.RawMessage, error) {
	if resp == nil {
		return nil, invalid("no answer")
	}
	out := protocol.MCPServerElicitationRequestResponse{Action: protocol.MCPServerElicitationAction(resp.Action)}
	switch resp.Action {
	case ElicitationAccept:
		if len(resp.Content) > 0 {
			if !json.Valid(resp.Content) {
				return nil, invalid("elicitation content is not JSON")
			}
			c := json.RawMessage(resp.Content)
			out.Content = &c
		}
	case ElicitationDecline, ElicitationCancel:
		if len(resp.Content) > 0 {
			return nil, invalid("elicitation content goes only with accept")
		}
	default:
		return nil, invalid("elicitation action %q is not accept, decline or cancel", resp.Action)
	}
	return marshal(out), nil
}

// safeAnswer answers a request without granting anything; it never fails
// (see [SafeHandler]). An approval is declined.
func safeAnswer(r *Request) json.RawMessage {
	var h SafeHandler
	switch {
	case r.kind.isApproval():
		req, err := r.Approval()
		resp, _ := h.Approval(context.Background(), req)
		if err != nil {
			// Undecodable: answer in the form its method takes.
			return safeApprovalWire(r.kind, resp.Reason)
		}
		return req.encode(resp)
	case r.kind == requestUserInput:
		if req, err := r.UserInput(); err == nil {
			if b, err := req.Answer(&abi.ToolInputResponse{}); err == nil {
				return b
			}
		}
		return marshal(protocol.ToolRequestUserInputResponse{Answers: protocol.ToolRequestUserInputResponseAnswers{}})
	case r.kind == requestToolCall:
		req, err := r.ToolCall()
		if err != nil {
			req = &ToolCallRequest{Method: r.Method, ToolCallRequest: &abi.ToolCallRequest{}}
		}
		resp, _ := h.ToolCall(context.Background(), req)
		b, _ := req.Answer(resp)
		return b
	case r.kind == requestElicitation:
		return marshal(protocol.MCPServerElicitationRequestResponse{Action: protocol.MCPServerElicitationAction(ElicitationDecline)})
	}
	// Only known kinds reach here (serve answers the others with an error).
	panic("host: no safe answer for " + r.Method)
}

func safeApprovalWire(k requestKind, reason string) json.RawMessage {
	switch k {
	case requestCommandApproval:
		return marshal(protocol.CommandExecutionRequestApprovalResponse{Decision: marshal(abi.Decline)})
	case requestFileChangeApproval:
		return marshal(protocol.FileChangeRequestApprovalResponse{Decision: protocol.FileChangeApprovalDecision(abi.Decline)})
	case requestPermissions:
		return marshal(protocol.PermissionsRequestApprovalResponse{Scope: protocol.PermissionGrantScopeTurn})
	}
	if k == requestLegacyPatchApproval {
		return marshal(protocol.ApplyPatchApprovalResponse{Decision: legacyDecision(abi.Decline, reason)})
	}
	return marshal(protocol.ExecCommandApprovalResponse{Decision: legacyDecision(abi.Decline, reason)})
}
