package hosttest

// The fake model lives in internal/fakemodel so that the codexhost binary
// can run its demo without linking this test package; hosttest re-exports
// it whole.

import "github.com/codexhost/codexhost/internal/fakemodel"

type (
	CodexHomeOptions = fakemodel.CodexHomeOptions
	ModelOptions     = fakemodel.ModelOptions
	Model            = fakemodel.Model
	Reply            = fakemodel.Reply
	ExecArgs         = fakemodel.ExecArgs
	Question         = fakemodel.Question
	Option           = fakemodel.Option
	Event            = fakemodel.Event
	ModelRequest     = fakemodel.ModelRequest
	InputItem        = fakemodel.InputItem
	ToolOutput       = fakemodel.ToolOutput
	Script           = fakemodel.Script
	ScriptFunc       = fakemodel.ScriptFunc
)

const (
	ModelCatalogFile = fakemodel.ModelCatalogFile
	ProviderID       = fakemodel.ProviderID
	DefaultText      = fakemodel.DefaultText
)

// WriteCodexHome creates dir if needed and writes dir/config.toml (and the
// model catalog dir/hosttest-models.json) so that codex started with
// CODEX_HOME=dir talks to the fake model at modelURL (see Model.URL) with
// no login, no retries, and no other network access. opts may be nil.
func WriteCodexHome(dir, modelURL string, opts *CodexHomeOptions) error {
	return fakemodel.WriteCodexHome(dir, modelURL, opts)
}

// StartModel starts a fake model server listening on 127.0.0.1 on a free
// port. opts may be nil.
func StartModel(opts *ModelOptions) (*Model, error) { return fakemodel.StartModel(opts) }

// Text is an assistant message with this text, streamed as one delta.
func Text(text string) Reply { return fakemodel.Text(text) }

// Deltas is an assistant message streamed as exactly these deltas, in order;
// its full text is their concatenation. app-server emits one
// item/agentMessage/delta notification per non-empty delta.
func Deltas(pieces ...string) Reply { return fakemodel.Deltas(pieces...) }

// TextDeltas is an assistant message streamed in n distinct deltas
// "d0 ", "d1 ", ..., "d<n-1> " (see [DeltaText]).
func TextDeltas(n int) Reply { return fakemodel.TextDeltas(n) }

// Reasoning is a reasoning item whose summary is this text, streamed as
// one summary delta; codex shows it as a reasoning item
// (item/reasoning/summaryTextDelta, then item/completed). Follow it with
// And(Text(...)) for the answer.
func Reasoning(summary string) Reply { return fakemodel.Reasoning(summary) }

// DeltaText is the full text of TextDeltas(n).
func DeltaText(n int) string { return fakemodel.DeltaText(n) }

// FunctionCall is a function_call output item calling tool name. args is
// marshalled to JSON, except that a string or json.RawMessage is used as the
// arguments text as is. This is how the model calls codex's function tools
// and the dynamic tools a client declared in thread/start.
func FunctionCall(name string, args any) Reply { return fakemodel.FunctionCall(name, args) }

// ExecCommandArgs is an exec_command call with these arguments.
func ExecCommandArgs(args ExecArgs) Reply { return fakemodel.ExecCommandArgs(args) }

// ExecCommand is an exec_command call of cmd asking to run outside the
// sandbox (sandbox_permissions "require_escalated"), so that with
// approval_policy "on-request" app-server asks the client with
// item/commandExecution/requestApproval before running it in the turn's cwd.
func ExecCommand(cmd string) Reply { return fakemodel.ExecCommand(cmd) }

// ApplyPatch is a call of codex's freeform apply_patch tool (a
// custom_tool_call) with this patch text. Codex only offers the tool when the
// model's catalog entry has an apply_patch_tool_type, which WriteCodexHome
// sets up. In a read-only sandbox with approval_policy "on-request" app-server
// asks the client with item/fileChange/requestApproval before applying it.
func ApplyPatch(patch string) Reply { return fakemodel.ApplyPatch(patch) }

// AddFilePatch returns an apply_patch patch creating file path (relative to
// the turn's cwd) with this content.
func AddFilePatch(path, content string) string { return fakemodel.AddFilePatch(path, content) }

// RequestUserInput is a call of codex's request_user_input tool, which makes
// app-server send item/tool/requestUserInput to the client. Codex only runs it
// in plan collaboration mode (turn/start collaborationMode {"mode":"plan",...})
// or with the default_mode_request_user_input feature (see
// CodexHomeOptions.RequestUserInput); otherwise the tool output is
// "request_user_input is unavailable in Default mode".
func RequestUserInput(questions ...Question) Reply { return fakemodel.RequestUserInput(questions...) }

// HTTPError answers the request with this HTTP status and body (sent as
// application/json when it looks like JSON, text/plain otherwise) instead of
// an event stream.
func HTTPError(status int, body string) Reply { return fakemodel.HTTPError(status, body) }

// Failed is a stream that ends with a response.failed event carrying this
// error code and message, instead of response.completed. Output items of the
// reply (added with And) are streamed first.
func Failed(code, message string) Reply { return fakemodel.Failed(code, message) }

// Hang is a stream that sends response.created and then nothing more until
// the client disconnects or the server is closed.
func Hang() Reply { return fakemodel.Hang() }

// Events is a stream of exactly these events, each marshalled to JSON (a
// json.RawMessage or []byte is used as is) and sent with its "type" member as
// the SSE event name. Nothing else is sent.
func Events(events ...any) Reply { return fakemodel.Events(events...) }

// Sequence answers the i-th request (counted from when the script is first
// used) with replies[i], and any later request with Text(DefaultText).
func Sequence(replies ...Reply) Script { return fakemodel.Sequence(replies...) }

// Turn scripts the model side of one turn that may go through tool calls:
// a request that is not a tool follow-up (its last input item is not a tool
// output, see [ModelRequest.IsToolFollowUp]) starts the turn over and gets
// steps[0]; each tool follow-up gets the next step. When the steps are used
// up, follow-ups get Text(DefaultText). Every new turn replays the steps
// from the start.
//
// For example Turn(ExecCommand("touch a"), Text("done")) answers the turn's
// first request with the exec_command call and, once codex sends the
// command's output back, finishes the turn with "done".
func Turn(steps ...Reply) Script { return fakemodel.Turn(steps...) }

// Turns gives each turn its own script: the first request that is not a tool
// follow-up goes to turns[0], and so do the follow-ups after it; the next
// such request moves on to turns[1], and so on. Once the scripts are used
// up, the last one keeps answering.
func Turns(turns ...Script) Script { return fakemodel.Turns(turns...) }
