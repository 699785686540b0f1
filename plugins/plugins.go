// Package plugins defines the interface every plugin runtime implements and
// the host consumes: a loaded plugin is a manifest and a Call that takes a
// hook's request JSON and returns its response JSON. The runtimes live in
// plugins/wasm (wazero, sandboxed) and plugins/process (hashicorp/go-plugin).
package plugins

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/codexhost/codexhost/abi"
)

// A Plugin is a loaded plugin, whichever runtime runs it.
//
// Call is safe for concurrent use; a runtime serializes or pools as it
// needs. Close releases the plugin; calls after Close return ErrClosed.
type Plugin interface {
	// Manifest returns the plugin's manifest, as checked at load time.
	// The caller must not modify it.
	Manifest() *abi.Manifest
	// Call invokes hook with req (the hook's request JSON) and returns the
	// hook's response JSON.
	//
	// # Errors
	//
	//   - *abi.Error: the plugin returned an error.
	//   - *CallError: the call failed in the runtime (trap, panic, timeout,
	//     crash, bad or oversize output); errors.Is(err, context.DeadlineExceeded)
	//     holds for a timeout.
	//   - ErrClosed after Close.
	Call(ctx context.Context, hook abi.Hook, req []byte) ([]byte, error)
	// Close releases the plugin. It is idempotent.
	Close(ctx context.Context) error
}

var (
	// ErrClosed is returned by calls on a closed plugin.
	ErrClosed = errors.New("plugins: plugin closed")
	// ErrIncompatibleABI: the plugin speaks another ABI major version.
	ErrIncompatibleABI = errors.New("plugins: incompatible ABI version")
	// ErrBadManifest: the plugin's manifest is missing or invalid.
	ErrBadManifest = errors.New("plugins: invalid manifest")
	// ErrNotGranted: the plugin asks for a capability the operator did not
	// grant, or the operator grants one the plugin did not ask for.
	ErrNotGranted = errors.New("plugins: capability not granted")
	// ErrBadModule: the file is not a plugin this runtime can load.
	ErrBadModule = errors.New("plugins: not a valid plugin module")
)

// A FailureKind classifies a [CallError].
type FailureKind uint8

const (
	// FailTrap: the guest trapped or panicked (Wasm), or crashed (process).
	FailTrap FailureKind = iota + 1
	// FailTimeout: the call ran past its deadline and was stopped.
	FailTimeout
	// FailMemory: the guest ran out of its memory limit.
	FailMemory
	// FailBadOutput: the result was not a well-formed result.
	FailBadOutput
	// FailTooLarge: the result exceeded the size limit.
	FailTooLarge
	// FailUnavailable: the plugin could not be reached (e.g. a process
	// plugin that exited and is being restarted).
	FailUnavailable
)

func (k FailureKind) String() string {
	switch k {
	case FailTrap:
		return "trap"
	case FailTimeout:
		return "timeout"
	case FailMemory:
		return "memory limit"
	case FailBadOutput:
		return "bad output"
	case FailTooLarge:
		return "result too large"
	case FailUnavailable:
		return "unavailable"
	}
	return fmt.Sprintf("failure(%d)", uint8(k))
}

// A CallError is a call that failed in the runtime rather than in the
// plugin's own logic. The runtime has discarded the instance (or process)
// involved; the plugin stays usable.
type CallError struct {
	Plugin string
	Hook   abi.Hook
	Kind   FailureKind
	Err    error
}

func (e *CallError) Error() string {
	msg := fmt.Sprintf("plugin %q: %s hook: %s", e.Plugin, e.Hook, e.Kind)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *CallError) Unwrap() error { return e.Err }

// Is maps a timeout onto context.DeadlineExceeded.
func (e *CallError) Is(target error) bool {
	return e.Kind == FailTimeout && target == context.DeadlineExceeded
}

// Options are the settings common to every runtime. A nil *Options means
// defaults.
type Options struct {
	// Settings are the operator's settings for the plugin, passed to its
	// configure call (a JSON value; nil means none).
	Settings json.RawMessage
	// Grants are the capabilities the operator grants. Loading fails with
	// ErrNotGranted if the manifest asks for one not granted here.
	Grants abi.Capabilities
	// Timeout bounds each hook call. Default: DefaultTimeout.
	Timeout time.Duration
	// MaxResultBytes bounds a call's result. Default: DefaultMaxResultBytes.
	MaxResultBytes int
	// Admit, if not nil, is called with the plugin's manifest once the
	// runtime has checked it (ABI, hooks, grants, limits) and before the
	// plugin is configured; an error refuses the plugin, and the
	// runtime's Load returns it as is. plugins/load sets it to check
	// Settings against the manifest's settings schema and the plugin's
	// tools: the runtimes themselves do not validate Settings. A process
	// plugin's restarts do not call it again; the runtime refuses a
	// restarted plugin whose manifest changed.
	Admit func(m *abi.Manifest) error
}

const (
	// DefaultTimeout bounds a hook call when Options.Timeout is zero.
	DefaultTimeout = 5 * time.Second
	// DefaultMaxResultBytes bounds a result when Options.MaxResultBytes is zero.
	DefaultMaxResultBytes = 16 << 20
	// MaxQuotedErrorBytes bounds the bytes of a plugin's error message
	// (an abi.Error's, a process plugin's gRPC status) that the runtimes
	// keep, escaped for terminals: what a decision's reason and codex's
	// rejection text quote.
	MaxQuotedErrorBytes = 4 << 10
)

// SameManifest reports whether the manifests a and b say the same, field
// by field: their JSON encodings are equal.
func SameManifest(a, b *abi.Manifest) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// Ready waits for p to have loaded, if it loads lazily (it has a method
// Ready(ctx) error, as a lazily loaded wasm.Plugin and the chain's
// wrappers of it have), and returns the error that stopped it loading;
// for any other plugin, nil at once.
func Ready(ctx context.Context, p Plugin) error {
	if r, ok := p.(interface{ Ready(context.Context) error }); ok {
		return r.Ready(ctx)
	}
	return nil
}

// shown is s for an error message: as it is if every rune of it is
// printable (a clean name reads as itself), else quoted with Go's escapes
// (terminal controls, bidirectional overrides and invalid UTF-8 become
// \x1b, \u202e, \xff); cut to MaxQuotedErrorBytes either way. It is
// internal/termsafe's job elsewhere; plugins imports nothing of the host.
func shown(s string) string {
	more := 0
	if len(s) > MaxQuotedErrorBytes {
		more = len(s) - MaxQuotedErrorBytes
		s = strings.ToValidUTF8(s[:MaxQuotedErrorBytes], "")
	}
	clean := utf8.ValidString(s)
	for _, r := range s {
		if !clean || !strconv.IsPrint(r) {
			clean = false
			break
		}
	}
	if !clean {
		s = strconv.Quote(s)
	}
	if more > 0 {
		s += fmt.Sprintf("… (%d bytes more)", more)
	}
	return s
}

// CheckManifest validates a manifest against this host's ABI and the
// operator's grants.
func CheckManifest(m *abi.Manifest, grants abi.Capabilities) error {
	if m.ABI != abi.Version {
		// The name is not checked yet: quoted and cut.
		return fmt.Errorf("%w: plugin %s speaks ABI v%d, this host speaks v%d", ErrIncompatibleABI, quotedName(m.Name), m.ABI, abi.Version)
	}
	if m.Name == "" {
		return fmt.Errorf("%w: no name", ErrBadManifest)
	}
	// The name and the version label logs, audit records and metrics; a
	// tool's name goes to the model as a function name.
	if !isIdentifier(m.Name, maxNameBytes, ".") {
		return fmt.Errorf("%w: plugin name %s: it must be at most %d letters, digits, '.', '_' or '-', starting with a letter or digit",
			ErrBadManifest, quotedName(m.Name), maxNameBytes)
	}
	if m.Version != "" && !isIdentifier(m.Version, maxNameBytes, ".+") {
		return fmt.Errorf("%w: plugin %q: version %s: it must be at most %d letters, digits, '.', '+', '_' or '-', starting with a letter or digit",
			ErrBadManifest, m.Name, quotedName(m.Version), maxNameBytes)
	}
	if len(m.Tools) > maxTools {
		return fmt.Errorf("%w: plugin %q declares %d tools; at most %d", ErrBadManifest, m.Name, len(m.Tools), maxTools)
	}
	for _, t := range m.Tools {
		// What the Responses API takes as a function name, and what codex
		// checks a dynamic tool's name against (it reserves mcp).
		if !isIdentifier(t.Name, maxNameBytes, "") || t.Name == "mcp" || strings.HasPrefix(t.Name, "mcp__") {
			return fmt.Errorf("%w: plugin %q: tool name %s: it must be at most %d letters, digits, '_' or '-', and not mcp or mcp__…",
				ErrBadManifest, m.Name, quotedName(t.Name), maxNameBytes)
		}
	}
	if len(m.Hooks) == 0 {
		return fmt.Errorf("%w: plugin %q implements no hook", ErrBadManifest, m.Name)
	}
	for _, h := range m.Hooks {
		if _, ok := abi.ParseHook(h.String()); !ok {
			return fmt.Errorf("%w: plugin %q: unknown hook %d", ErrBadManifest, m.Name, uint32(h))
		}
	}
	if len(m.Tools) > 0 && !m.Implements(abi.HookToolCall) {
		return fmt.Errorf("%w: plugin %q declares tools but not the tool-call hook", ErrBadManifest, m.Name)
	}
	// What the plugin asks for is its text: escaped and cut in errors.
	for _, e := range m.Capabilities.Env {
		if !contains(grants.Env, e) {
			return fmt.Errorf("%w: plugin %q asks for environment variable %s; grant it or do not load the plugin",
				ErrNotGranted, m.Name, shown(e))
		}
	}
	for _, d := range m.Capabilities.ReadDirs {
		if !contains(grants.ReadDirs, d) {
			return fmt.Errorf("%w: plugin %q asks to read directory %s; grant it or do not load the plugin",
				ErrNotGranted, m.Name, shown(d))
		}
	}
	if m.Capabilities.Network && !grants.Network {
		return fmt.Errorf("%w: plugin %q asks for network access", ErrNotGranted, m.Name)
	}
	for _, e := range grants.Env {
		if !contains(m.Capabilities.Env, e) {
			return fmt.Errorf("%w: environment variable %s is granted to plugin %q, which does not ask for it", ErrNotGranted, e, m.Name)
		}
	}
	for _, d := range grants.ReadDirs {
		if !contains(m.Capabilities.ReadDirs, d) {
			return fmt.Errorf("%w: directory %s is granted to plugin %q, which does not ask for it", ErrNotGranted, d, m.Name)
		}
	}
	return nil
}

// Bounds of a manifest's names (see CheckManifest).
const (
	maxNameBytes = 64
	maxTools     = 128 // the Responses API's bound on a request's tools
)

// quotedName quotes a name that is not one, cut to twice the longest.
func quotedName(s string) string {
	if len(s) > 2*maxNameBytes {
		return strconv.Quote(strings.ToValidUTF8(s[:2*maxNameBytes], "")) + fmt.Sprintf("… (%d bytes)", len(s))
	}
	return strconv.Quote(s)
}

// isIdentifier reports whether s is 1 to max bytes of ASCII letters,
// digits, '_', '-' and the bytes of extra, its first a letter or digit.
func isIdentifier(s string, max int, extra string) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '-' || strings.IndexByte(extra, c) >= 0):
		default:
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Call encodes req, calls hook on p and decodes the response into a new R.
func Call[R any](ctx context.Context, p Plugin, hook abi.Hook, req any) (*R, error) {
	in, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("plugins: encode %s request: %w", hook, err)
	}
	out, err := p.Call(ctx, hook, in)
	if err != nil {
		return nil, err
	}
	r := new(R)
	if err := json.Unmarshal(out, r); err != nil {
		return nil, &CallError{Plugin: p.Manifest().Name, Hook: hook, Kind: FailBadOutput, Err: err}
	}
	return r, nil
}
