// Package guest is the SDK for writing codexhost plugins in Go. A plugin
// registers plain Go functions in init, and the SDK owns everything else:
// the WebAssembly exports, the manifest, JSON encoding and error reporting.
//
// A complete approval policy:
//
//	package main
//
//	import (
//		"context"
//		"strings"
//
//		"github.com/codexhost/codexhost/abi"
//		guest "github.com/codexhost/codexhost/sdk-guest"
//	)
//
//	func init() {
//		guest.Info("deny-rm", "1.0.0", "declines rm, accepts echo")
//		guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
//			if strings.Contains(req.Command, "rm ") {
//				return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "no rm"}, nil
//			}
//			return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
//		})
//	}
//
//	func main() { guest.Main() }
//
// Build it as a WebAssembly reactor module:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o deny-rm.wasm .
//
// Register in init, not in main: the WebAssembly runtime initializes the
// module (running init) but never calls main. main only calls [Main].
//
// # Hooks
//
// Each On* function (and [AddTool]) registers the handler of one hook of
// [abi.Hook]; the manifest lists exactly the hooks registered. Handlers get
// the decoded request and return a response or an error. An error that is
// (or wraps) an *[abi.Error] reaches the host as is; any other error, a
// panic, or a nil response becomes an [abi.CodeInternal] error. A handler
// may keep its request: nothing in it aliases the host's buffers.
//
// # Registration
//
// Registration functions are meant for init and are not safe for
// concurrent use with each other or with hook calls. Calling one again
// replaces the earlier registration (for [AddTool]: the tool of the same
// name). They panic on a nil function or an invalid tool, which are
// programming errors.
//
// # Performance
//
// In WebAssembly every function call and branch of Go code costs extra
// when the host enforces deadlines, and encoding/json's reflection is the
// bulk of a hook call. Every hook therefore decodes and encodes with a
// reflection-free codec that behaves exactly like encoding/json
// (internal/abijson, tested against it). The strings of a decoded request
// share one copy of the request bytes, so keeping any of them keeps that
// copy.
//
// Size is the other cost: the host compiles, checks and keeps resident the
// machine code of every module it loads, roughly four times the module's
// size. The package links neither fmt nor encoding/json, so an approval
// policy built with it is ~2.7 MB; fmt adds ~0.7 MB, encoding/json ~0.6
// MB more (Go 1.26). [DecodeObject] reads a flat settings object (or a tool's
// arguments) without them.
//
// # Logging
//
// Plugins must not write to stdout: the process runtime uses it for its
// handshake. Use [Log].
//
// # Runtimes
//
// With GOOS=wasip1 the package exports the functions of the WebAssembly
// binding (see [abi.ExportHandle] and its neighbours). On other systems,
// [Main] serves the process runtime (hashicorp/go-plugin's handshake, with
// internal/pluginwire: the binary links neither go-plugin nor grpc-go nor
// anything of the host). [Manifest],
// [Configure] and [Handle] are the runtime-independent entry points both
// bindings use; tests can call them directly on the host OS.
package guest

import (
	"context"
	"slices"
	"strconv"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/sdk-guest/internal/abijson"
)

// A registry holds one plugin's registrations. The package functions use
// std; tests use their own.
type registry struct {
	name, version, description string
	caps                       abi.Capabilities
	settingsSchema             abi.RawJSON
	limits                     abi.Limits

	configure func(settings []byte) error
	approval  func(context.Context, *abi.ApprovalRequest) (*abi.ApprovalResponse, error)
	toolInput func(context.Context, *abi.ToolInputRequest) (*abi.ToolInputResponse, error)
	render    func(context.Context, *abi.RenderRequest) (*abi.RenderResponse, error)
	tools     []tool // in registration order
	// mergeDeltas declares abi.FeatureRenderMergeDeltas (MergeDeltas).
	mergeDeltas bool
}

type tool struct {
	abi.Tool
	fn func(context.Context, *abi.ToolCallRequest) (*abi.ToolCallResponse, error)
}

var std = new(registry)

// Info sets the plugin's name, version and one-line description for its
// manifest. Call it from init. The name identifies the plugin in the
// host's logs and audit records; the host refuses a plugin without one.
func Info(name, version, description string) {
	std.name, std.version, std.description = name, version, description
}

// Capabilities declares what the plugin asks the operator to grant beyond
// the sandbox defaults (environment variables, read-only directories,
// network). The host refuses to load a plugin whose requests the operator
// did not grant.
func Capabilities(c abi.Capabilities) {
	std.caps = abi.Capabilities{
		Env:      slices.Clone(c.Env),
		ReadDirs: slices.Clone(c.ReadDirs),
		Network:  c.Network,
	}
}

// SettingsSchema declares the JSON Schema (draft 2020-12 unless $schema
// names another) the operator's settings must satisfy. The host validates
// the settings against it before configure and refuses the plugin, naming
// the failing field, when they do not match; [OnConfigure] then sees only
// valid settings. The schema must be self-contained (no $ref to other
// documents). It panics if schema is not valid JSON.
func SettingsSchema(schema string) {
	if !abijson.Valid([]byte(schema)) {
		panic("guest: SettingsSchema: the schema is not valid JSON")
	}
	std.settingsSchema = abi.RawJSON(schema)
}

// Limits declares the resources the plugin needs: Wasm memory pages and the
// longest a hook call may take. They are requests: the host refuses the
// plugin at load time if its operator's limits are lower, instead of
// letting it fail at its first call; they never raise a limit.
func Limits(l abi.Limits) {
	std.limits = l
}

// OnConfigure registers fn to receive the operator's settings for the
// plugin: a JSON value, "null" when there are none. The host calls it once
// per instance, before any hook call. fn may keep settings. An error
// refuses the plugin; it reaches the host as an [abi.CodeBadConfig] error
// unless it is (or wraps) an *[abi.Error]. A panic is reported as an
// [abi.CodeInternal] error.
//
// Without OnConfigure, settings are ignored.
func OnConfigure(fn func(settings []byte) error) {
	mustFunc("OnConfigure", fn == nil)
	std.configure = fn
}

// OnApproval registers the [abi.HookApproval] handler, which decides
// command, file-change and permission requests. The response's Decision
// must be one of the defined decisions; [abi.Abstain] passes the request
// to the next plugin.
func OnApproval(fn func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error)) {
	mustFunc("OnApproval", fn == nil)
	std.approval = fn
}

// OnToolInput registers the [abi.HookToolInput] handler, which answers the
// agent's questions to the user.
func OnToolInput(fn func(ctx context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error)) {
	mustFunc("OnToolInput", fn == nil)
	std.toolInput = fn
}

// AddTool declares a dynamic tool, listed in the manifest, and serves it
// with fn through the [abi.HookToolCall] hook. Calls for a name no tool
// has get an [abi.CodeUnknownTool] error. tool.Name must not be empty and
// tool.InputSchema, if set, must be valid JSON.
func AddTool(tool abi.Tool, fn func(ctx context.Context, req *abi.ToolCallRequest) (*abi.ToolCallResponse, error)) {
	std.addTool(tool, fn)
}

// OnRender registers the [abi.HookEventRender] handler, which turns turn
// events into terminal output. A request may carry several events
// ([abi.FeatureRenderBatch]).
func OnRender(fn func(ctx context.Context, req *abi.RenderRequest) (*abi.RenderResponse, error)) {
	mustFunc("OnRender", fn == nil)
	std.render = fn
}

// MergeDeltas tells the host that the [OnRender] function may get a run of
// consecutive deltas of one item as one event, their text concatenated
// ([abi.FeatureRenderMergeDeltas]). A renderer that shows the text should
// call it in init: a streamed message then costs a few calls' worth of
// events instead of one per delta. A renderer that counts or times deltas
// must not.
func MergeDeltas() { std.mergeDeltas = true }

// Log writes a log line through the host: in WebAssembly with the
// codexhost.log import, in a process to its raw stderr (not os.Stderr,
// which go-plugin relays on its own schedule), which the host reads to its
// end when it closes the plugin.
func Log(level abi.LogLevel, msg string) {
	hostLog(level, msg)
}

// Main serves the plugin. Call it from main, after registering in init.
//
// In a WebAssembly reactor module (GOOS=wasip1, -buildmode=c-shared) the
// runtime never calls main, and Main does nothing. Built for another OS,
// the binary is a process plugin: started by codexhost's process runtime
// (plugins/process), Main serves it over go-plugin's handshake and gRPC
// (see docs/abi.md, "Process binding") until the host stops it, and never
// returns; started by hand, it prints how to use the binary and exits
// with status 1.
func Main() {
	serve()
}

// Manifest returns the manifest the plugin describes itself with, built
// from [Info], [Capabilities], [SettingsSchema], [Limits] and the
// registered hooks and tools.
func Manifest() abi.Manifest { return std.manifest() }

// Configure passes the operator's settings (JSON, "null" when none) to the
// [OnConfigure] function. It returns [abi.StatusOK] with an empty payload,
// or [abi.StatusError] with an [abi.Error] JSON payload.
func Configure(settings []byte) (abi.Status, []byte) {
	return std.configureCall(settings)
}

// Handle calls the handler of hook with req, the hook's request JSON, and
// returns [abi.StatusOK] with the response JSON, or [abi.StatusError] with
// an [abi.Error] JSON payload:
//
//   - [abi.CodeUnsupportedHook]: no handler is registered for hook.
//   - [abi.CodeBadRequest]: req does not decode.
//   - [abi.CodeUnknownTool]: a tool call for a tool no [AddTool] added.
//   - the handler's *[abi.Error], if it returns one (or wraps one).
//   - [abi.CodeInternal]: any other handler error (its message), a panic
//     ("panic: " and the value), a nil response, or an invalid response
//     (an approval Decision that is not Valid).
//
// Handle does not keep req after it returns. It is safe for concurrent
// use once registration is over.
func Handle(ctx context.Context, hook abi.Hook, req []byte) (abi.Status, []byte) {
	return std.handle(ctx, hook, req, nil)
}

func mustFunc(what string, isNil bool) {
	if isNil {
		panic("guest: " + what + " with a nil function")
	}
}

func (r *registry) addTool(t abi.Tool, fn func(context.Context, *abi.ToolCallRequest) (*abi.ToolCallResponse, error)) {
	mustFunc("AddTool", fn == nil)
	if t.Name == "" {
		panic("guest: AddTool with an empty tool name")
	}
	if len(t.InputSchema) > 0 && !abijson.Valid(t.InputSchema) {
		panic("guest: AddTool " + strconv.Quote(t.Name) + ": InputSchema is not valid JSON")
	}
	t.InputSchema = slices.Clone(t.InputSchema)
	for i := range r.tools {
		if r.tools[i].Name == t.Name {
			r.tools[i] = tool{t, fn}
			return
		}
	}
	r.tools = append(r.tools, tool{t, fn})
}

func (r *registry) manifest() abi.Manifest {
	m := abi.Manifest{
		Name:        r.name,
		Version:     r.version,
		ABI:         abi.Version,
		Features:    abi.FeatureRenderBatch,
		Hooks:       []abi.Hook{},
		Description: r.description,
		Capabilities: abi.Capabilities{
			Env:      slices.Clone(r.caps.Env),
			ReadDirs: slices.Clone(r.caps.ReadDirs),
			Network:  r.caps.Network,
		},
		SettingsSchema: slices.Clone(r.settingsSchema),
		Limits:         r.limits,
	}
	if r.mergeDeltas && r.render != nil {
		m.Features |= abi.FeatureRenderMergeDeltas
	}
	// abi.Hooks is in numeric order.
	for _, h := range abi.Hooks {
		if r.implements(h) {
			m.Hooks = append(m.Hooks, h)
		}
	}
	for _, t := range r.tools {
		t.InputSchema = slices.Clone(t.InputSchema)
		m.Tools = append(m.Tools, t.Tool)
	}
	return m
}

// describe appends the manifest's JSON to dst. An error is a bug: the
// manifest is built from checked registrations.
func (r *registry) describe(dst []byte) ([]byte, error) {
	m := r.manifest()
	return abijson.AppendManifest(dst, &m)
}

func (r *registry) implements(h abi.Hook) bool {
	switch h {
	case abi.HookApproval:
		return r.approval != nil
	case abi.HookToolInput:
		return r.toolInput != nil
	case abi.HookToolCall:
		return len(r.tools) > 0
	case abi.HookEventRender:
		return r.render != nil
	}
	return false
}
