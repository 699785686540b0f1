package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host/internal/protocol"
	"github.com/codexhost/codexhost/rpc"
)

// A Handler answers the requests app-server sends the client, one typed
// method per request, in [abi] terms. The Client translates codex's
// request into the method's request type, and derives the answer codex
// receives from the method's result and the request alone (see
// [ApprovalRequest.Answer]): nothing a handler returns is forwarded as is.
//
// Each method is called on a goroutine of its own for each request, so a
// slow handler never delays events: a Handler must be safe for concurrent
// use. ctx is cancelled when the Client closes, and when codex no longer
// waits for the answer: it said the request was resolved, or the
// request's turn completed (interrupted, say); the cause is then
// [ErrRequestResolved] ([context.Cause]). A handler that waits on a
// person or on something slow should stop then.
//
// Every request is answered exactly once. An error, a panic, a nil result
// or a result codex must not receive answers the request fail-closed, with
// the [SafeHandler] answer (approvals are declined). Return an
// *rpc.WireError to send app-server that error instead.
//
// Embed [SafeHandler] to implement only some methods. A Handler that also
// has a method Tools() []ToolSpec (as chain.Chain does) has those dynamic
// tools registered with every thread [Client.StartThread] starts (but
// those started with ThreadOptions.OmitHandlerTools).
type Handler interface {
	// Approval answers a command, file-change or permissions approval
	// (item/commandExecution/requestApproval, item/fileChange/requestApproval,
	// item/permissions/requestApproval, and the v1 execCommandApproval and
	// applyPatchApproval). Abstain is not an answer codex takes: it is
	// answered as a failure. A request the host cannot read is declined
	// whatever Approval answers; Approval is told of it
	// ([ApprovalRequest.Unreadable]) so that it can record it.
	Approval(ctx context.Context, req *ApprovalRequest) (*abi.ApprovalResponse, error)
	// UserInput answers the agent's questions (item/tool/requestUserInput).
	// Abstain answers every question with an empty answer.
	UserInput(ctx context.Context, req *UserInputRequest) (*abi.ToolInputResponse, error)
	// ToolCall runs a dynamic tool the client registered (item/tool/call).
	ToolCall(ctx context.Context, req *ToolCallRequest) (*abi.ToolCallResponse, error)
	// Elicitation answers an MCP server's elicitation
	// (mcpServer/elicitation/request).
	Elicitation(ctx context.Context, req *ElicitationRequest) (*ElicitationResponse, error)
}

// An ApprovalRequest is the request of [Handler.Approval]: codex's request
// in abi terms, and the method it came as.
type ApprovalRequest struct {
	// Method is the app-server method, e.g. item/commandExecution/requestApproval.
	Method string
	*abi.ApprovalRequest
	// Unreadable, when set, says why the host could not read the request
	// (params it cannot decode, a command kind it does not judge, a file
	// change whose changes no item told or two items told differently).
	// The host declines such a request whatever the handler answers: the
	// handler is called only so that it can record it. Then only Kind,
	// ThreadID, TurnID and ItemID are set.
	Unreadable error

	// threadCwd is the cwd of the request's thread, as the client knows
	// it (the user's, where a request's Cwd may be the agent's workdir).
	threadCwd string

	// last is the last answer Answer derived: the host sends those bytes
	// for the response the handler returns, if it is that response
	// unchanged (see sendable).
	last derived
}

// derived is an answer Answer derived: for the response resp (the pointer
// the caller passed, and its JSON encoding then), the bytes answer.
type derived struct {
	mu     sync.Mutex
	resp   *abi.ApprovalResponse
	key    []byte
	answer json.RawMessage
}

// A UserInputRequest is the request of [Handler.UserInput].
type UserInputRequest struct {
	Method string
	*abi.ToolInputRequest
}

// A ToolCallRequest is the request of [Handler.ToolCall].
type ToolCallRequest struct {
	Method string
	*abi.ToolCallRequest
}

// An ElicitationRequest is the request of [Handler.Elicitation]. ABI v1
// has no elicitation hook, so it stays in codex's terms.
type ElicitationRequest struct {
	Method           string
	ThreadID, TurnID string
	// ServerName is the MCP server that asks.
	ServerName string
	// Message is what the server asks the user.
	Message string
	// Params are the request's params exactly as app-server sent them.
	Params json.RawMessage
}

// An ElicitationAction is the answer to an MCP elicitation.
type ElicitationAction string

// The elicitation answers codex takes.
const (
	ElicitationAccept  ElicitationAction = ElicitationAction(protocol.MCPServerElicitationActionAccept)
	ElicitationDecline ElicitationAction = ElicitationAction(protocol.MCPServerElicitationActionDecline)
	ElicitationCancel  ElicitationAction = ElicitationAction(protocol.MCPServerElicitationActionCancel)
)

// An ElicitationResponse is the result of [Handler.Elicitation].
type ElicitationResponse struct {
	Action ElicitationAction
	// Content is the user's structured answer, for ElicitationAccept.
	Content json.RawMessage
}

// SafeHandler answers every request without granting anything: approvals
// are declined, questions get empty answers, dynamic tool calls fail with
// an explanation, and elicitations are declined. It is the default
// [Options.Handler]; embed it in a handler to implement only some methods.
type SafeHandler struct{}

var _ Handler = SafeHandler{}

// Approval declines.
func (SafeHandler) Approval(context.Context, *ApprovalRequest) (*abi.ApprovalResponse, error) {
	return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "declined by codexhost (no policy accepted it)"}, nil
}

// UserInput answers every question with an empty answer.
func (SafeHandler) UserInput(context.Context, *UserInputRequest) (*abi.ToolInputResponse, error) {
	return &abi.ToolInputResponse{}, nil
}

// ToolCall fails, naming the tool.
func (SafeHandler) ToolCall(_ context.Context, req *ToolCallRequest) (*abi.ToolCallResponse, error) {
	return &abi.ToolCallResponse{Content: []abi.Content{{Type: "text",
		Text: fmt.Sprintf("codexhost: no handler serves the tool %q", req.Tool)}}}, nil
}

// Elicitation declines.
func (SafeHandler) Elicitation(context.Context, *ElicitationRequest) (*ElicitationResponse, error) {
	return &ElicitationResponse{Action: ElicitationDecline}, nil
}

// requestKind classifies a request app-server sends to the client.
type requestKind uint8

const (
	requestUnknown requestKind = iota
	requestCommandApproval
	requestFileChangeApproval
	requestPermissions
	requestUserInput
	requestToolCall
	requestElicitation
	requestLegacyExecApproval
	requestLegacyPatchApproval
	requestCurrentTime
)

var requestKinds = map[protocol.ServerMethod]requestKind{
	protocol.ServerItemCommandExecutionRequestApproval: requestCommandApproval,
	protocol.ServerItemFileChangeRequestApproval:       requestFileChangeApproval,
	protocol.ServerItemPermissionsRequestApproval:      requestPermissions,
	protocol.ServerItemToolRequestUserInput:            requestUserInput,
	protocol.ServerItemToolCall:                        requestToolCall,
	protocol.ServerMcpServerElicitationRequest:         requestElicitation,
	protocol.ServerExecCommandApproval:                 requestLegacyExecApproval,
	protocol.ServerApplyPatchApproval:                  requestLegacyPatchApproval,
	protocol.ServerCurrentTimeRead:                     requestCurrentTime,
}

// currentTimeReadResponse answers currentTime/read, a request codex 0.169.0
// sends and 0.171.0 no longer has. The method is matched by its name (the
// generator keeps the constants of retired methods), and its answer is
// declared here: the wire types generated from a newer codex lack it.
type currentTimeReadResponse struct {
	// CurrentTimeAt is the Unix time in seconds.
	CurrentTimeAt int64 `json:"currentTimeAt"`
}

func (k requestKind) isApproval() bool {
	switch k {
	case requestCommandApproval, requestFileChangeApproval, requestPermissions,
		requestLegacyExecApproval, requestLegacyPatchApproval:
		return true
	}
	return false
}

// A Request is a request app-server sent to the client, as it came on the
// wire. A live Client builds one for every server request; [Replay] yields
// them from a transcript, and [NewRequest] builds one for a test.
type Request struct {
	Method string
	// ThreadID, TurnID and ItemID locate the request, when app-server says.
	ThreadID, TurnID, ItemID string
	// Params are the request's params exactly as app-server sent them.
	Params json.RawMessage

	kind requestKind
	// changes are the file changes of the item a file-change approval
	// names, as the connection knew them when the request arrived (see
	// arrive); changesUnknown is set if it knew none, and Approval then
	// fails (the request is declined) rather than show a policy an empty
	// list.
	changes        []abi.FileChange
	changesUnknown bool
	// decoded is the approval the fast path decoded with the location,
	// for Approval to take (once; a second call decodes again).
	decoded atomic.Pointer[abi.ApprovalRequest]
	// cwd is the thread's working directory, when the client knows it;
	// cwdUnknown is set for a request on a live connection whose thread's
	// cwd the client does not know (see knowsChanges).
	cwd        string
	cwdUnknown bool
}

// NewRequest builds the Request a Client would build for a server request
// with this method and params as they arrived on the wire. A live Client
// adds what it learned earlier on the connection (the thread's cwd, the
// paths of a file change); a Request from NewRequest has neither. It is
// meant for tests and for replaying recorded requests (see [Replay]).
func NewRequest(method string, params json.RawMessage) *Request {
	return newRequest(method, params, nil, nil)
}

// newRequest classifies and locates a server request. files and cwds, if
// not nil, are the connection's file-change cache (as of the request's
// arrival, see arrive) and thread cwds.
func newRequest(method string, params json.RawMessage, files *fileChangeCache, cwds *sync.Map) *Request {
	var s scanner
	req := decodeRequest(&s, method, params)
	if files != nil {
		req.arrive(files)
	}
	if cwds != nil {
		req.cwd = loadCwd(cwds, req.ThreadID)
	}
	return req
}

// arrive takes from the connection what a file-change approval needs of
// the events before it: the changes of the item it names, in its thread.
// It runs as the request arrives, in order with the notifications
// (rpc.Options.Arrived), not when its handler runs: by then later events
// may have replaced what the cache held (another thread's item of the
// same id) or removed it. (A thread's cwd is set when the thread starts
// and never changes, so it is read when the handler runs.)
func (r *Request) arrive(files *fileChangeCache) {
	if r.kind == requestFileChangeApproval {
		var ok bool
		r.changes, ok = files.get(r.ThreadID, r.ItemID)
		r.changesUnknown = !ok
	}
}

// learnCwds records the cwd of the threads a sub-agent's spawn names:
// codex 0.169 starts a sub-agent (spawn_agent) in the thread of its
// sender's cwd, and tells the client of the new thread only in the spawn
// item (receiverThreadIds), with no thread/started. A file-change approval
// of the sub-agent's thread is then judged against that cwd, as its
// parent's are. It runs on the dispatcher, in order with the requests'
// arrival, so an approval that follows the spawn item finds it.
func (c *Client) learnCwds(ev *Event) {
	if ev.Item == nil || ev.Item.Type != ItemCollabAgentToolCall {
		return
	}
	var w struct {
		Tool      string   `json:"tool"`
		Receivers []string `json:"receiverThreadIds"`
	}
	if json.Unmarshal(ev.Item.Raw, &w) != nil || w.Tool != string(protocol.CollabAgentToolSpawnAgent) {
		return
	}
	cwd, ok := c.cwds.Load(ev.ThreadID)
	if !ok {
		return
	}
	for _, id := range w.Receivers {
		if id != "" {
			c.cwds.LoadOrStore(id, cwd)
		}
	}
}

func loadCwd(cwds *sync.Map, threadID string) string {
	if cwd, ok := cwds.Load(threadID); ok {
		return cwd.(string)
	}
	return ""
}

// decodeRequest classifies and locates a server request, on the fast path
// when it can (see decodeApprovalFast). It needs nothing from the
// connection, so that the rpc reader can run it (paramsDecoder).
func decodeRequest(s *scanner, method string, params json.RawMessage) *Request {
	req := &Request{kind: requestKinds[protocol.ServerMethod(method)], Method: method, Params: params}
	if loc, a, ok := s.decodeApprovalFast(req.kind, params); ok {
		req.ThreadID, req.TurnID, req.ItemID = loc.threadID, loc.turnID, loc.itemID
		req.decoded.Store(a)
		return req
	}
	if req.kind.isApproval() || req.kind == requestUnknown {
		// An approval the fast path does not take, or a request that
		// may name itself the v1 way: encoding/json.
		req.locateSlow()
		return req
	}
	if loc, ok := s.decodeLocationFast(params); ok {
		req.ThreadID, req.TurnID, req.ItemID = loc.threadID, loc.turnID, loc.itemID
		return req
	}
	req.locateSlow()
	return req
}

// locateSlow reads the request's location with encoding/json.
func (r *Request) locateSlow() {
	var loc struct {
		ThreadID       string `json:"threadId"`
		TurnID         string `json:"turnId"`
		ItemID         string `json:"itemId"`
		ConversationID string `json:"conversationId"` // v1 requests
		CallID         string `json:"callId"`
	}
	_ = json.Unmarshal(r.Params, &loc)
	r.ThreadID, r.TurnID, r.ItemID = loc.ThreadID, loc.TurnID, loc.ItemID
	if r.ThreadID == "" {
		r.ThreadID = loc.ConversationID
	}
	if r.ItemID == "" {
		r.ItemID = loc.CallID
	}
}

// Hook reports the plugin hook that answers the request, and false for a
// request no hook answers (elicitations, the clock, unknown methods).
func (r *Request) Hook() (abi.Hook, bool) {
	switch {
	case r.kind.isApproval():
		return abi.HookApproval, true
	case r.kind == requestUserInput:
		return abi.HookToolInput, true
	case r.kind == requestToolCall:
		return abi.HookToolCall, true
	}
	return 0, false
}

// decode unmarshals the request's params into v.
func (r *Request) decode(v any) error {
	if err := json.Unmarshal(r.Params, v); err != nil {
		return fmt.Errorf("host: decode %s params: %w", r.Method, err)
	}
	return nil
}

// Serve answers the request with h the way a live Client does, and returns
// the result the Client sends app-server. The error is the JSON-RPC error
// the Client sends instead (an *rpc.WireError): for a method codexhost
// does not know, or when h returned one.
func (r *Request) Serve(ctx context.Context, h Handler) (json.RawMessage, error) {
	return serve(ctx, h, r, nil)
}

// serve is the single dispatch point for every server request. A handler
// that fails (error, panic, no answer, an answer codex must not get) is
// logged and the request is answered fail-closed.
func serve(ctx context.Context, h Handler, r *Request, logger interface {
	Warn(msg string, args ...any)
}) (json.RawMessage, error) {
	res, err := callHandler(ctx, h, r)
	if err == nil {
		return res, nil
	}
	if we, ok := errors.AsType[*rpc.WireError](err); ok {
		return nil, we
	}
	if errors.Is(err, errUnknownRequest) {
		return nil, rpc.NewError(rpc.ErrMethodNotFound.Code, "codexhost: unknown server request "+r.Method)
	}
	if logger != nil {
		logger.Warn("codexhost: request handler failed; answering fail-closed", "method", r.Method, "err", err)
	}
	return safeAnswer(r), nil
}

var errUnknownRequest = errors.New("host: unknown server request")

// callHandler translates the request, runs the handler (a panic becomes an
// error) and derives the answer.
func callHandler(ctx context.Context, h Handler, r *Request) (res json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("host: request handler panicked: %v", p)
		}
	}()
	switch {
	case r.kind.isApproval():
		req, err := r.Approval()
		if err != nil {
			// Declined (serve answers fail-closed); the handler is told,
			// and what it answers changes nothing.
			_, _ = h.Approval(ctx, r.unreadable(err))
			return nil, err
		}
		resp, err := h.Approval(ctx, req)
		if err != nil {
			return nil, err
		}
		return req.sendable(resp)
	case r.kind == requestUserInput:
		req, err := r.UserInput()
		if err != nil {
			return nil, err
		}
		resp, err := h.UserInput(ctx, req)
		if err != nil {
			return nil, err
		}
		return req.Answer(resp)
	case r.kind == requestToolCall:
		req, err := r.ToolCall()
		if err != nil {
			return nil, err
		}
		resp, err := h.ToolCall(ctx, req)
		if err != nil {
			return nil, err
		}
		return req.Answer(resp)
	case r.kind == requestElicitation:
		req, err := r.elicitation()
		if err != nil {
			return nil, err
		}
		resp, err := h.Elicitation(ctx, req)
		if err != nil {
			return nil, err
		}
		return elicitationAnswer(resp)
	case r.kind == requestCurrentTime:
		return marshal(currentTimeReadResponse{CurrentTimeAt: time.Now().Unix()}), nil
	}
	return nil, errUnknownRequest
}

// arrived is rpc's Options.Arrived: it completes each server request with
// what the events before it said, on the dispatcher, in order with them.
func (c *Client) arrived(in *rpc.Request) {
	req, ok := in.Decoded.(*Request) // decoded by the reader (paramsDecoder)
	if !ok {
		req = decodeRequest(new(scanner), in.Method, in.Params)
		in.Decoded = req
	}
	req.arrive(&c.files)
	c.inflight.arrive(in.ID, req.ThreadID, req.TurnID)
}

// toolNotGiven answers the tool call req as failed, and reports true, if
// its thread was started with OmitHandlerTools and not given the tool:
// the Handler is not asked.
func (c *Client) toolNotGiven(req *Request) (json.RawMessage, bool) {
	own, ok := c.ownTools.Load(req.ThreadID)
	if !ok {
		return nil, false
	}
	tc, err := req.ToolCall()
	if err != nil {
		return safeAnswer(req), true
	}
	if own.(map[string]bool)[tc.Tool] {
		return nil, false
	}
	c.opts.Logger.Warn("codexhost: a tool call for a tool its thread was not given; answered as failed", "thread", req.ThreadID, "tool", tc.Tool)
	b, err := tc.Answer(&abi.ToolCallResponse{Content: []abi.Content{{Type: "text",
		Text: fmt.Sprintf("codexhost: this thread was not given the tool %q", tc.Tool)}}})
	if err != nil {
		return safeAnswer(req), true
	}
	return b, true
}

// handleRequest is the rpc handler. It runs on a goroutine of its own,
// started by rpc.
// abandonedRequest answers fail-closed a request whose Handler ended its
// goroutine without returning or panicking (runtime.Goexit: a test's
// t.FailNow, say), which would otherwise leave codex waiting for ever.
func (c *Client) abandonedRequest(in *rpc.Request) (any, error) {
	req, ok := in.Decoded.(*Request)
	if !ok {
		return nil, fmt.Errorf("host: %s did not arrive through the dispatcher", in.Method)
	}
	if c.opts.Logger != nil {
		c.opts.Logger.Warn("codexhost: request handler ended its goroutine without answering (runtime.Goexit); answering fail-closed", "method", in.Method)
	}
	return safeAnswer(req), nil
}

func (c *Client) handleRequest(connCtx context.Context, in *rpc.Request) (any, error) {
	// The handler's context also ends when codex no longer waits; the
	// request is answered all the same (the answer goes unread).
	ctx, done := c.inflight.start(connCtx, in.ID)
	defer done()
	select { // the Handler may come from Options.Prepare
	case <-c.prep.done:
		if c.prep.err != nil {
			return nil, c.prep.err // Start is failing
		}
	case <-connCtx.Done():
		return nil, connCtx.Err()
	}
	req, ok := in.Decoded.(*Request) // set by arrived
	if !ok {
		return nil, fmt.Errorf("host: %s did not arrive through the dispatcher", in.Method) // unreachable
	}
	req.cwd = loadCwd(&c.cwds, req.ThreadID)
	req.cwdUnknown = req.cwd == ""
	if req.kind == requestToolCall {
		if refusal, ok := c.toolNotGiven(req); ok {
			return refusal, nil
		}
	}
	res, err := serve(ctx, c.opts.Handler, req, c.opts.Logger)
	if err != nil {
		return nil, err
	}
	return res, nil
}
