package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/rpc"
)

// A RequestKind classifies a request app-server sends to the client.
type RequestKind uint8

const (
	// RequestUnknown is a server request codexhost does not know. It is
	// answered with a JSON-RPC method-not-found error without calling the
	// handler.
	RequestUnknown RequestKind = iota
	// RequestCommandApproval asks whether a command may run
	// (item/commandExecution/requestApproval).
	RequestCommandApproval
	// RequestFileChangeApproval asks whether a patch may be applied
	// (item/fileChange/requestApproval).
	RequestFileChangeApproval
	// RequestPermissions asks for extra sandbox permissions
	// (item/permissions/requestApproval).
	RequestPermissions
	// RequestUserInput asks the user questions (item/tool/requestUserInput).
	RequestUserInput
	// RequestToolCall runs a dynamic tool the client registered (item/tool/call).
	RequestToolCall
	// RequestElicitation is an MCP server's elicitation
	// (mcpServer/elicitation/request).
	RequestElicitation
	// RequestLegacyExecApproval is the v1 form of a command approval
	// (execCommandApproval).
	RequestLegacyExecApproval
	// RequestLegacyPatchApproval is the v1 form of a file-change approval
	// (applyPatchApproval).
	RequestLegacyPatchApproval
	// RequestAuthRefresh asks for fresh ChatGPT tokens
	// (account/chatgptAuthTokens/refresh).
	RequestAuthRefresh
	// RequestAttestation asks for a client attestation (attestation/generate).
	RequestAttestation
	// RequestCurrentTime asks for the client's clock (currentTime/read).
	RequestCurrentTime
)

var requestKinds = map[protocol.ServerMethod]RequestKind{
	protocol.ServerItemCommandExecutionRequestApproval: RequestCommandApproval,
	protocol.ServerItemFileChangeRequestApproval:       RequestFileChangeApproval,
	protocol.ServerItemPermissionsRequestApproval:      RequestPermissions,
	protocol.ServerItemToolRequestUserInput:            RequestUserInput,
	protocol.ServerItemToolCall:                        RequestToolCall,
	protocol.ServerMcpServerElicitationRequest:         RequestElicitation,
	protocol.ServerExecCommandApproval:                 RequestLegacyExecApproval,
	protocol.ServerApplyPatchApproval:                  RequestLegacyPatchApproval,
	protocol.ServerAccountChatgptAuthTokensRefresh:     RequestAuthRefresh,
	protocol.ServerAttestationGenerate:                 RequestAttestation,
	protocol.ServerCurrentTimeRead:                     RequestCurrentTime,
}

var requestKindNames = [...]string{
	RequestUnknown:             "unknown",
	RequestCommandApproval:     "commandApproval",
	RequestFileChangeApproval:  "fileChangeApproval",
	RequestPermissions:         "permissions",
	RequestUserInput:           "userInput",
	RequestToolCall:            "toolCall",
	RequestElicitation:         "elicitation",
	RequestLegacyExecApproval:  "legacyExecApproval",
	RequestLegacyPatchApproval: "legacyPatchApproval",
	RequestAuthRefresh:         "authRefresh",
	RequestAttestation:         "attestation",
	RequestCurrentTime:         "currentTime",
}

func (k RequestKind) String() string {
	if int(k) < len(requestKindNames) {
		return requestKindNames[k]
	}
	return fmt.Sprintf("RequestKind(%d)", k)
}

// IsApproval reports whether the kind asks for a decision on an action.
func (k RequestKind) IsApproval() bool {
	switch k {
	case RequestCommandApproval, RequestFileChangeApproval, RequestPermissions,
		RequestLegacyExecApproval, RequestLegacyPatchApproval:
		return true
	}
	return false
}

// A Request is a request app-server sent to the client.
type Request struct {
	Kind   RequestKind
	Method string
	// ThreadID, TurnID and ItemID locate the request, when app-server says.
	ThreadID, TurnID, ItemID string
	// Params are the request's params exactly as app-server sent them.
	Params json.RawMessage

	files *fileChangeCache
	// cwd is the thread's working directory, when the client knows it.
	cwd string
}

// Decode unmarshals the request's params into v.
func (r *Request) Decode(v any) error {
	if err := json.Unmarshal(r.Params, v); err != nil {
		return fmt.Errorf("host: decode %s params: %w", r.Method, err)
	}
	return nil
}

// A RequestHandler answers requests from app-server. The result is sent as
// the JSON-RPC result and must have the shape app-server expects for the
// request's method (see the response constructors such as [Decline]).
//
// HandleRequest is called on its own goroutine for each request, so a slow
// handler never delays events; it must be safe for concurrent use. ctx is
// cancelled when the Client closes.
//
// An error answers the request fail-closed: approvals are declined, and
// other requests get the [SafeHandler] answer. Return an *rpc.WireError to
// send app-server that error instead.
type RequestHandler interface {
	HandleRequest(ctx context.Context, req *Request) (any, error)
}

// RequestHandlerFunc adapts a function to [RequestHandler].
type RequestHandlerFunc func(ctx context.Context, req *Request) (any, error)

func (f RequestHandlerFunc) HandleRequest(ctx context.Context, req *Request) (any, error) {
	return f(ctx, req)
}

var _ RequestHandler = RequestHandlerFunc(nil)

// SafeHandler answers every request without granting anything: command,
// file-change and permission approvals are declined, user-input questions
// get empty answers, dynamic tool calls fail with an explanation, MCP
// elicitations are declined, and the clock is read. It is the default
// [Options.Handler].
var SafeHandler RequestHandler = RequestHandlerFunc(safeAnswer)

func safeAnswer(_ context.Context, req *Request) (any, error) {
	switch req.Kind {
	case RequestCommandApproval, RequestFileChangeApproval:
		return Decline(), nil
	case RequestLegacyExecApproval, RequestLegacyPatchApproval:
		return legacyAnswer(abi.Decline, &abi.ApprovalResponse{Reason: "declined by codexhost (no policy accepted it)"}), nil
	case RequestPermissions:
		// Grant nothing.
		return map[string]any{"permissions": map[string]any{}, "scope": "turn"}, nil
	case RequestUserInput:
		return UserInputAnswers(nil), nil
	case RequestToolCall:
		var p struct {
			Tool string `json:"tool"`
		}
		_ = json.Unmarshal(req.Params, &p)
		return ToolFailure(fmt.Sprintf("codexhost: no handler serves the tool %q", p.Tool)), nil
	case RequestElicitation:
		return map[string]any{"action": "decline"}, nil
	case RequestCurrentTime:
		return map[string]int64{"currentTimeAt": time.Now().Unix()}, nil
	}
	return nil, rpc.NewError(rpc.ErrMethodNotFound.Code, fmt.Sprintf("codexhost does not handle %s", req.Method))
}

// An ApprovalDecision is the answer to a command or file-change approval.
type ApprovalDecision string

const (
	// Accept lets the action run.
	Accept ApprovalDecision = "accept"
	// AcceptForSession lets it run and stops asking for the same action in
	// this session.
	AcceptForSession ApprovalDecision = "acceptForSession"
	// DeclineDecision refuses; the agent continues the turn.
	DeclineDecision ApprovalDecision = "decline"
	// Cancel refuses and interrupts the turn.
	Cancel ApprovalDecision = "cancel"
)

// An ApprovalResponse answers RequestCommandApproval and
// RequestFileChangeApproval.
type ApprovalResponse struct {
	Decision ApprovalDecision `json:"decision"`
}

// Approve returns an ApprovalResponse that accepts.
func Approve() *ApprovalResponse { return &ApprovalResponse{Decision: Accept} }

// Decline returns an ApprovalResponse that declines.
func Decline() *ApprovalResponse { return &ApprovalResponse{Decision: DeclineDecision} }

// A UserInputResponse answers RequestUserInput: question id → answers.
type UserInputResponse struct {
	Answers map[string]UserInputAnswer `json:"answers"`
}

// A UserInputAnswer is the answer to one question.
type UserInputAnswer struct {
	Answers []string `json:"answers"`
}

// UserInputAnswers builds a UserInputResponse from question id → answer.
func UserInputAnswers(answers map[string]string) *UserInputResponse {
	r := &UserInputResponse{Answers: map[string]UserInputAnswer{}}
	for id, a := range answers {
		r.Answers[id] = UserInputAnswer{Answers: []string{a}}
	}
	return r
}

// A ToolResponse answers RequestToolCall.
type ToolResponse struct {
	ContentItems []ToolContent `json:"contentItems"`
	Success      bool          `json:"success"`
}

// ToolContent is one content item of a tool result.
type ToolContent struct {
	Type     string `json:"type"` // "inputText" or "inputImage"
	Text     string `json:"text,omitempty"`
	ImageURL string `json:"imageUrl,omitempty"`
}

// ToolText returns a successful tool result holding text.
func ToolText(text string) *ToolResponse {
	return &ToolResponse{ContentItems: []ToolContent{{Type: "inputText", Text: text}}, Success: true}
}

// ToolFailure returns a failed tool result explaining why.
func ToolFailure(why string) *ToolResponse {
	return &ToolResponse{ContentItems: []ToolContent{{Type: "inputText", Text: why}}, Success: false}
}

// handleRequest is the single dispatch point for every server request. It
// runs on a goroutine of its own, started by rpc.
func (c *Client) handleRequest(ctx context.Context, in *rpc.Request) (any, error) {
	req := newRequest(in.Method, in.Params, &c.files, &c.cwds)
	if req.Kind == RequestUnknown {
		return nil, rpc.NewError(rpc.ErrMethodNotFound.Code, "codexhost: unknown server request "+in.Method)
	}
	res, err := c.callHandler(ctx, req)
	if err != nil {
		var we *rpc.WireError
		if errors.As(err, &we) {
			return nil, we
		}
		c.opts.Logger.Warn("codexhost: request handler failed; answering fail-closed",
			"method", req.Method, "kind", req.Kind.String(), "err", err)
		return safeAnswer(ctx, req)
	}
	return res, nil
}

// NewRequest builds the Request a Client hands its handler for a server
// request with this method and params as they arrived on the wire. A live
// Client adds what it learned earlier on the connection (the thread's cwd,
// the paths of a file change); a Request from NewRequest has neither. It is
// meant for tests and for replaying recorded requests (see [Replay]).
func NewRequest(method string, params json.RawMessage) *Request {
	return newRequest(method, params, nil, nil)
}

// newRequest classifies and locates a server request. files and cwds, if
// not nil, are the connection's file-change cache and thread cwds.
func newRequest(method string, params json.RawMessage, files *fileChangeCache, cwds *sync.Map) *Request {
	req := &Request{Kind: requestKinds[protocol.ServerMethod(method)], Method: method, Params: params, files: files}
	var loc struct {
		ThreadID       string `json:"threadId"`
		TurnID         string `json:"turnId"`
		ItemID         string `json:"itemId"`
		ConversationID string `json:"conversationId"` // v1 requests
		CallID         string `json:"callId"`
	}
	_ = json.Unmarshal(params, &loc)
	req.ThreadID, req.TurnID, req.ItemID = loc.ThreadID, loc.TurnID, loc.ItemID
	if req.ThreadID == "" {
		req.ThreadID = loc.ConversationID
	}
	if req.ItemID == "" {
		req.ItemID = loc.CallID
	}
	if cwds != nil {
		if cwd, ok := cwds.Load(req.ThreadID); ok {
			req.cwd = cwd.(string)
		}
	}
	return req
}

// callHandler runs the handler, turning a panic into an error.
func (c *Client) callHandler(ctx context.Context, req *Request) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("host: request handler panicked: %v", p)
		}
	}()
	res, err = c.opts.Handler.HandleRequest(ctx, req)
	if err == nil && res == nil {
		err = fmt.Errorf("host: request handler returned no answer for %s", req.Method)
	}
	return res, err
}
