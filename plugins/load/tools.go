package load

import (
	"fmt"
	"slices"

	"github.com/codexhost/codexhost/abi"
)

// Bounds on the dynamic tools plugins declare (abi.Manifest.Tools): every
// tool goes to codex with each thread, and a manifest with 100k tools made
// a turn take 41 s.
const (
	// DefaultMaxToolsPerPlugin bounds one plugin's tools when
	// Options.MaxToolsPerPlugin is zero.
	DefaultMaxToolsPerPlugin = 64
	// DefaultMaxTools bounds the tools of all the plugins of a Set when
	// Options.MaxTools is zero.
	DefaultMaxTools = 256
	// MaxToolDescriptionBytes and MaxToolSchemaBytes bound one tool's
	// description and input schema, which codex gets with every thread
	// and gives the model: the manifest's own bound (16 MiB) let one
	// plugin send 256 tools of megabytes each.
	MaxToolDescriptionBytes = 16 << 10
	MaxToolSchemaBytes      = 64 << 10
)

// builtinTools are the names of codex's own tools (codex 0.169.0,
// codex-rs/core/src/tools/spec.rs and its handlers, the experimental and
// feature-gated ones included). codex keeps its own tool when a dynamic
// tool has the same name, so a plugin's tool with one of these names
// would never be called: it is refused at load.
var builtinTools = []string{
	"apply_patch",
	"close_agent",
	"container.exec",
	"exec_command",
	"get_memory",
	"grep_files",
	"image_generation",
	"js_repl",
	"js_repl_reset",
	"list_dir",
	"list_mcp_resource_templates",
	"list_mcp_resources",
	"local_shell",
	"read_file",
	"read_mcp_resource",
	"request_permissions",
	"request_user_input",
	"resume_agent",
	"send_input",
	"send_message",
	"shell",
	"shell_command",
	"spawn_agent",
	"test_sync_tool",
	"tool_search",
	"update_plan",
	"view_image",
	"wait",
	"wait_agent",
	"web_search",
	"write_stdin",
}

// isBuiltinTool reports whether name is the name of one of codex's own
// tools, which no plugin tool may take.
func isBuiltinTool(name string) bool { return slices.Contains(builtinTools, name) }

// A ToolError refuses a plugin's tool. errors.Is(err, ErrTool) holds.
type ToolError struct {
	// Plugin is the manifest name of the plugin that declares Tool.
	Plugin string
	// Tool is the tool's name.
	Tool string
	// Other is the plugin already loaded that declares a tool of the same
	// name, or "" when Tool collides with a codex built-in (Builtin) or is
	// itself malformed.
	Other string
	// Builtin is set when Tool is the name of a codex built-in tool.
	Builtin bool
	// Reason says what is wrong when neither Other nor Builtin is set.
	Reason string
}

func (e *ToolError) Error() string {
	switch {
	case e.Builtin:
		return fmt.Sprintf("%v: plugin %q declares tool %q, which is the name of a codex built-in tool; rename it", ErrTool, e.Plugin, e.Tool)
	case e.Other != "":
		return fmt.Sprintf("%v: plugin %q declares tool %q, which plugin %q already declares; rename one of them or load only one", ErrTool, e.Plugin, e.Tool, e.Other)
	}
	return fmt.Sprintf("%v: plugin %q: tool %q %s", ErrTool, e.Plugin, e.Tool, e.Reason)
}

// Is reports whether target is ErrTool.
func (e *ToolError) Is(target error) bool { return target == ErrTool }

// validToolName reports whether name is a function name codex and the
// model API accept: 1 to 64 of [a-zA-Z0-9_-].
func validToolName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// checkTools checks m's tools against the bounds and the names taken:
// codex's, and taken (tool name → plugin name, the tools of the plugins
// loaded before).
func checkTools(m *abi.Manifest, taken map[string]string, perPlugin, total int) error {
	if len(m.Tools) > perPlugin {
		return fmt.Errorf("%w: plugin %q declares %d tools, the limit is %d per plugin", ErrTooManyTools, m.Name, len(m.Tools), perPlugin)
	}
	if n := len(taken) + len(m.Tools); n > total {
		return fmt.Errorf("%w: plugin %q brings the tools to %d, the limit is %d in all", ErrTooManyTools, m.Name, n, total)
	}
	seen := make(map[string]bool, len(m.Tools))
	for _, t := range m.Tools {
		switch {
		case !validToolName(t.Name):
			return &ToolError{Plugin: m.Name, Tool: t.Name, Reason: "is not a valid tool name (1 to 64 of a-z, A-Z, 0-9, _ and -)"}
		case len(t.Description) > MaxToolDescriptionBytes:
			return &ToolError{Plugin: m.Name, Tool: t.Name, Reason: fmt.Sprintf("has a description of %d bytes, the limit is %d", len(t.Description), MaxToolDescriptionBytes)}
		case len(t.InputSchema) > MaxToolSchemaBytes:
			return &ToolError{Plugin: m.Name, Tool: t.Name, Reason: fmt.Sprintf("has an input schema of %d bytes, the limit is %d", len(t.InputSchema), MaxToolSchemaBytes)}
		case seen[t.Name]:
			return &ToolError{Plugin: m.Name, Tool: t.Name, Reason: "is declared twice"}
		case isBuiltinTool(t.Name):
			return &ToolError{Plugin: m.Name, Tool: t.Name, Builtin: true}
		case taken[t.Name] != "":
			return &ToolError{Plugin: m.Name, Tool: t.Name, Other: taken[t.Name]}
		}
		seen[t.Name] = true
	}
	return nil
}
