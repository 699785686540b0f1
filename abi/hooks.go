package abi

// An ApprovalKind says what an approval request asks about.
type ApprovalKind string

const (
	// ApprovalCommand: may this command run?
	ApprovalCommand ApprovalKind = "command"
	// ApprovalFileChange: may this patch be applied?
	ApprovalFileChange ApprovalKind = "fileChange"
	// ApprovalPermissions: may the turn get these extra sandbox permissions?
	ApprovalPermissions ApprovalKind = "permissions"
)

// An ApprovalRequest is the HookApproval request.
type ApprovalRequest struct {
	Kind ApprovalKind `json:"kind"`
	// Legacy is true when codex asked with the v1 request
	// (execCommandApproval, applyPatchApproval).
	Legacy bool `json:"legacy,omitempty"`

	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId,omitempty"`
	ItemID   string `json:"itemId,omitempty"`

	// Reason is the agent's justification, if it gave one.
	Reason string `json:"reason,omitempty"`
	// Cwd is the working directory of the command, or of the thread.
	Cwd string `json:"cwd,omitempty"`

	// Command is the command line as codex will run it, for
	// ApprovalCommand (e.g. "/bin/bash -lc 'touch x'").
	Command string `json:"command,omitempty"`
	// Actions is codex's best-effort parse of Command.
	Actions []CommandAction `json:"actions,omitempty"`
	// ProposedAmendment is the exec-policy prefix codex proposes to allow
	// from now on, if any.
	ProposedAmendment []string `json:"proposedAmendment,omitempty"`
	// Network describes a network access the command needs, if any.
	Network *NetworkAccess `json:"network,omitempty"`

	// Changes are the files of an ApprovalFileChange.
	Changes []FileChange `json:"changes,omitempty"`
	// GrantRoot is a directory the agent asks write access to for the
	// rest of the session (ApprovalFileChange).
	GrantRoot string `json:"grantRoot,omitempty"`

	// Permissions are the permissions an ApprovalPermissions asks for.
	Permissions *Permissions `json:"permissions,omitempty"`

	// AvailableDecisions are the answers codex offers for this request,
	// when it lists them (command approvals). The host refuses any other
	// answer, as a failure of the plugin that gave it. Empty means codex
	// did not say.
	AvailableDecisions []DecisionOption `json:"availableDecisions,omitempty"`
	// AdditionalPermissions are extra sandbox permissions an
	// ApprovalCommand asks for together with the command, if any.
	AdditionalPermissions *Permissions `json:"additionalPermissions,omitempty"`
}

// A DecisionOption is one answer codex offers for an approval request:
// a decision with the extras that go with it. For example codex offers
// {Decision: Accept, Amendment: ["git", "status"]} for a command whose
// proposed amendment is ["git", "status"], and
// {Decision: Decline, NetworkRule: {Host: "example.com", Action: "deny"}}
// for a network access it may remember as denied.
type DecisionOption struct {
	Decision    Decision     `json:"decision"`
	Amendment   []string     `json:"amendment,omitempty"`
	NetworkRule *NetworkRule `json:"networkRule,omitempty"`
}

// A CommandAction is one parsed part of a command.
type CommandAction struct {
	// Type is "read", "listFiles", "search" or "unknown".
	Type    string `json:"type"`
	Command string `json:"command"`
	Path    string `json:"path,omitempty"`
	Query   string `json:"query,omitempty"`
}

// NetworkAccess is the network access a command asks for.
type NetworkAccess struct {
	Host     string `json:"host"`
	Protocol string `json:"protocol,omitempty"`
}

// A FileChange is one file of a patch.
type FileChange struct {
	Path string `json:"path"`
	// Kind is "add", "delete" or "update".
	Kind     string `json:"kind"`
	MovePath string `json:"movePath,omitempty"`
	Diff     string `json:"diff,omitempty"`
}

// Permissions are extra sandbox permissions.
type Permissions struct {
	ReadPaths  []string `json:"readPaths,omitempty"`
	WritePaths []string `json:"writePaths,omitempty"`
	Network    bool     `json:"network,omitempty"`
	// Raw is codex's permission profile verbatim, for what the fields
	// above do not cover.
	Raw RawJSON `json:"raw,omitempty"`
}

// A Decision is a plugin's answer to an approval request.
type Decision string

const (
	// Abstain: no opinion; the host asks the next plugin in the chain.
	Abstain Decision = "abstain"
	// Accept lets the action run once.
	Accept Decision = "accept"
	// AcceptForSession lets it run and stops asking for the same action
	// for the rest of the session (permissions: grants them for the
	// session).
	AcceptForSession Decision = "acceptForSession"
	// Decline refuses; the agent continues the turn.
	Decline Decision = "decline"
	// Cancel refuses and interrupts the turn.
	Cancel Decision = "cancel"
	// Ask escalates the request to a human. The host prompts its operator
	// (on a terminal) with the request and the reason, and codex gets the
	// operator's decision; a host with no one to ask decides with its
	// fallback. "ask" itself never reaches codex. An ask carries no extras
	// (amendment, network rule, grants): one that does is an invalid
	// answer. Among several plugins a decline or cancel beats an ask, and
	// an ask beats an accept.
	Ask Decision = "ask"
)

// Valid reports whether d is one of the defined decisions.
func (d Decision) Valid() bool {
	switch d {
	case Abstain, Accept, AcceptForSession, Decline, Cancel, Ask:
		return true
	}
	return false
}

// An ApprovalResponse is the HookApproval response.
type ApprovalResponse struct {
	Decision Decision `json:"decision"`
	// Reason is recorded in the audit trail (and shown to the operator).
	Reason string `json:"reason,omitempty"`

	// Amendment, with Accept on an ApprovalCommand, asks codex to add this
	// command prefix to its exec policy so that matching commands run
	// without asking. It must equal the request's ProposedAmendment.
	Amendment []string `json:"amendment,omitempty"`
	// NetworkRule persists an allow or deny rule for the host of an
	// ApprovalCommand that carries Network: action "allow" goes only with
	// Accept or AcceptForSession, "deny" only with Decline, and Host must
	// be the requested host.
	NetworkRule *NetworkRule `json:"networkRule,omitempty"`
	// Granted, with Accept or AcceptForSession on an ApprovalPermissions,
	// grants a subset of the requested permissions; nil grants all of them.
	Granted *Permissions `json:"granted,omitempty"`
}

// A NetworkRule allows or denies a host from now on.
type NetworkRule struct {
	Host string `json:"host"`
	// Action is "allow" or "deny".
	Action string `json:"action"`
}

// A ToolInputRequest is the HookToolInput request: questions the agent asks
// the user (codex's request_user_input tool). MCP elicitations do not map
// here in ABI v1: their answers are typed by a JSON schema of the MCP
// server's, and the host declines them.
type ToolInputRequest struct {
	ThreadID  string     `json:"threadId"`
	TurnID    string     `json:"turnId,omitempty"`
	ItemID    string     `json:"itemId,omitempty"`
	Questions []Question `json:"questions"`
}

// A Question is one question of a ToolInputRequest.
type Question struct {
	ID       string `json:"id"`
	Header   string `json:"header,omitempty"`
	Question string `json:"question"`
	// Options are the suggested answers; IsOther allows a free answer.
	Options  []QuestionOption `json:"options,omitempty"`
	IsOther  bool             `json:"isOther,omitempty"`
	IsSecret bool             `json:"isSecret,omitempty"`
}

// A QuestionOption is a suggested answer.
type QuestionOption struct {
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
}

// A ToolInputResponse is the HookToolInput response.
type ToolInputResponse struct {
	// Abstain: no answer; the host asks the next plugin.
	Abstain bool `json:"abstain,omitempty"`
	// Answers maps question ids to answers. Unanswered questions get an
	// empty answer.
	Answers map[string][]string `json:"answers,omitempty"`
}

// A ToolCallRequest is the HookToolCall request: codex calls a dynamic tool
// the plugin declared.
type ToolCallRequest struct {
	ThreadID  string `json:"threadId"`
	TurnID    string `json:"turnId,omitempty"`
	CallID    string `json:"callId"`
	Namespace string `json:"namespace,omitempty"`
	Tool      string `json:"tool"`
	// Arguments are the tool's arguments as the model produced them.
	Arguments RawJSON `json:"arguments,omitempty"`
}

// A ToolCallResponse is the HookToolCall response.
type ToolCallResponse struct {
	Success bool      `json:"success"`
	Content []Content `json:"content"`
}

// Content is one piece of a tool result.
type Content struct {
	// Type is "text" or "image".
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"imageUrl,omitempty"`
}

// A RenderRequest is the HookEventRender request: one or more consecutive
// events of a turn (more than one only with [FeatureRenderBatch]; runs of
// deltas merged into one event only with [FeatureRenderMergeDeltas]).
type RenderRequest struct {
	Events []Event `json:"events"`
}

// A RenderResponse is the HookEventRender response: bytes for the terminal,
// possibly empty. It is written as is, in event order.
type RenderResponse struct {
	Output string `json:"output,omitempty"`
}
