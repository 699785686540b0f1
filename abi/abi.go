// Package abi is codexhost's versioned plugin contract: the hooks, the
// request and response types each hook exchanges, the manifest a plugin
// describes itself with, and the names and conventions of the WebAssembly
// and go-plugin bindings. It has no behaviour; see docs/abi.md for the full
// specification.
//
// The types here are independent of the codex app-server protocol: host
// translates codex's wire types into them, so codex protocol changes never
// force an ABI change.
package abi

import (
	"errors"
	"strconv"
)

// Version is the ABI major version. A plugin built for another major version
// is refused at load time with a message naming both versions. Additive
// changes do not bump it; they add a [Features] bit.
const Version uint32 = 1

// Features is a bitmask of additive ABI capabilities. The host and the
// plugin each state theirs; a feature is used only when both have it.
type Features uint64

const (
	// FeatureRenderBatch: the event-render hook accepts several events per
	// call (RenderRequest.Events with more than one element). Every v1
	// plugin built with sdk-guest has it.
	FeatureRenderBatch Features = 1 << iota
	// FeatureRenderMergeDeltas: the event-render hook accepts a run of
	// consecutive delta events of one item (same Kind, Method, ThreadID,
	// TurnID and ItemID, Kind one of the *Delta kinds) merged into one
	// event, whose Delta is their deltas concatenated and whose Seq is the
	// last one's. The host merges only events that are already waiting
	// for the plugin, so it never delays one. A renderer that shows the
	// text declares it; one that counts or times deltas does not. It is
	// used only with FeatureRenderBatch.
	FeatureRenderMergeDeltas
)

// Has reports whether every bit of want is set in f.
func (f Features) Has(want Features) bool { return f&want == want }

// A Hook names a point at which the host asks plugins for an answer.
type Hook uint32

const (
	// HookApproval decides command, file-change and permission requests.
	// Request: [ApprovalRequest]; response: [ApprovalResponse].
	HookApproval Hook = 1
	// HookToolInput answers the agent's questions to the user
	// (request_user_input). Request: [ToolInputRequest]; response:
	// [ToolInputResponse].
	HookToolInput Hook = 2
	// HookToolCall serves dynamic tools the plugin declared in its
	// manifest. Request: [ToolCallRequest]; response: [ToolCallResponse].
	HookToolCall Hook = 3
	// HookEventRender turns turn events into terminal output.
	// Request: [RenderRequest]; response: [RenderResponse].
	HookEventRender Hook = 4
)

var hookNames = map[Hook]string{
	HookApproval:    "approval",
	HookToolInput:   "tool-input",
	HookToolCall:    "tool-call",
	HookEventRender: "event-render",
}

// Hooks lists every hook of this ABI version, in numeric order.
var Hooks = [...]Hook{HookApproval, HookToolInput, HookToolCall, HookEventRender}

// String returns the hook's manifest name, e.g. "approval".
func (h Hook) String() string {
	if s, ok := hookNames[h]; ok {
		return s
	}
	return "hook(" + strconv.FormatUint(uint64(h), 10) + ")"
}

// ParseHook returns the hook with the given manifest name.
func ParseHook(name string) (Hook, bool) {
	for h, s := range hookNames {
		if s == name {
			return h, true
		}
	}
	return 0, false
}

// MarshalText encodes the hook as its manifest name.
func (h Hook) MarshalText() ([]byte, error) {
	if _, ok := hookNames[h]; !ok {
		return nil, errors.New("abi: unknown hook " + strconv.FormatUint(uint64(h), 10))
	}
	return []byte(h.String()), nil
}

// UnmarshalText decodes a manifest name.
func (h *Hook) UnmarshalText(b []byte) error {
	v, ok := ParseHook(string(b))
	if !ok {
		return errors.New("abi: unknown hook " + strconv.Quote(string(b)))
	}
	*h = v
	return nil
}

// A Manifest describes a plugin. The plugin returns it from describe; the
// host checks it before any hook call.
type Manifest struct {
	// Name identifies the plugin in logs, audit records and metrics, e.g.
	// "deny-rm": 1 to 64 ASCII letters, digits, '.', '_' or '-', the first
	// a letter or digit.
	Name string `json:"name"`
	// Version is empty, or as Name with '+' allowed too, e.g. "1.2.0-rc.1".
	Version string `json:"version"`
	// ABI is the ABI major version the plugin was built for ([Version]).
	ABI      uint32   `json:"abi"`
	Features Features `json:"features,omitempty"`
	// Hooks are the hooks the plugin implements.
	Hooks []Hook `json:"hooks"`
	// Tools are the dynamic tools the plugin serves through HookToolCall.
	// The host registers them with codex when it starts a thread.
	Tools []Tool `json:"tools,omitempty"`
	// Capabilities are what the plugin asks to be granted beyond the
	// sandbox defaults. The operator grants them; a plugin never gets a
	// capability it did not ask for.
	Capabilities Capabilities `json:"capabilities,omitzero"`
	// Description is a one-line summary for `codexhost plugin inspect`.
	Description string `json:"description,omitempty"`
	// SettingsSchema is the JSON Schema (draft 2020-12 unless it names
	// another with $schema) the operator's settings must satisfy. The host
	// validates the settings against it at load time, before configure;
	// settings that do not validate refuse the plugin with the failing
	// field's path. The schema must be self-contained: $ref to anything but
	// the schema itself is refused. Empty: any settings are passed on.
	SettingsSchema RawJSON `json:"settingsSchema,omitempty"`
	// Limits are the resources the plugin needs. They are requests, like
	// Capabilities: the operator's limits stay in force, and a plugin that
	// asks for more than they allow is refused at load time rather than
	// failing at its first call.
	Limits Limits `json:"limits,omitzero"`
}

// Limits are the resources a plugin declares it needs. Zero means the
// plugin states no need.
type Limits struct {
	// MemoryPages is the linear memory, in 64 KiB pages, a Wasm plugin
	// needs. Ignored by the process runtime, which has no memory limit.
	MemoryPages uint32 `json:"memoryPages,omitempty"`
	// TimeoutMillis is the longest a hook call may need, in milliseconds.
	TimeoutMillis uint32 `json:"timeoutMillis,omitempty"`
}

// Implements reports whether the manifest lists hook h.
func (m *Manifest) Implements(h Hook) bool {
	for _, x := range m.Hooks {
		if x == h {
			return true
		}
	}
	return false
}

// A Tool is a dynamic tool a plugin serves.
type Tool struct {
	// Name is the function name the model calls: 1 to 64 ASCII letters,
	// digits, '_' or '-', and neither "mcp" nor "mcp__…" (codex reserves
	// them). A plugin declares at most 128 tools.
	Name        string `json:"name"`
	Description string `json:"description"`
	// InputSchema is the JSON Schema of the tool's arguments (an object).
	InputSchema RawJSON `json:"inputSchema,omitempty"`
}

// Capabilities a plugin may ask for. In the Wasm runtime, everything not
// granted is unavailable: no files, no environment, no network.
type Capabilities struct {
	// Env lists environment variable names the plugin wants to read.
	Env []string `json:"env,omitempty"`
	// ReadDirs lists host directories the plugin wants mounted read-only,
	// at the same path in the guest.
	ReadDirs []string `json:"readDirs,omitempty"`
	// Network is true when the plugin needs the network. Wasm plugins
	// cannot have it; only the process runtime can grant it.
	Network bool `json:"network,omitempty"`
}

// RawJSON is a JSON value carried verbatim.
type RawJSON []byte

// MarshalJSON returns r, or null when r is empty.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON stores a copy of b.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}
