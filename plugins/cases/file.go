// Package cases runs a plugin against requests and checks its answers: the
// cases of a cases file (TOML or JSON, docs/cli.md), or the requests of a
// transcript recorded with codexhost run --record, replayed through the
// host's own translation and checks. codexhost plugin test is its command
// line; plugin authors call it from go test through
// plugins/plugintest.RunCases.
package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// A cases file lists requests for `codexhost plugin test` and the answers
// expected from the plugin. It is TOML (or JSON, for a .json file, with the
// same keys); docs/cli.md specifies it:
//
//	settings = '{"key": "value"}'  # optional: the plugin's settings (JSON)
//
//	[[case]]
//	name = "rm is declined"
//	[case.approval]                 # the request, in ABI form (docs/abi.md)
//	kind = "command"
//	command = "/bin/bash -lc 'rm -rf build'"
//	[case.expect]
//	decision = "decline"
//	reason_contains = "not allowed"
type casesFile struct {
	// Settings are the plugin's settings: a JSON text or a table.
	Settings any        `toml:"settings" json:"settings"`
	Cases    []caseSpec `toml:"case" json:"case"`
}

// A caseSpec is one case: exactly one request, and what to expect.
type caseSpec struct {
	Name string `toml:"name" json:"name"`
	// The request in ABI form, one of these (tables with the ABI's JSON
	// field names) ...
	Approval  map[string]any `toml:"approval" json:"approval"`
	ToolInput map[string]any `toml:"tool_input" json:"tool_input"`
	ToolCall  map[string]any `toml:"tool_call" json:"tool_call"`
	Render    map[string]any `toml:"render" json:"render"`
	// ... or as codex sends it, translated by the host as in a live run.
	Codex *codexSpec `toml:"codex" json:"codex"`

	Expect expectSpec `toml:"expect" json:"expect"`
}

// A codexSpec is a server request as codex sends it.
type codexSpec struct {
	Method string `toml:"method" json:"method"`
	// Params is a table, or JSON text.
	Params any `toml:"params" json:"params"`
}

// An expectSpec is what a case expects. Unset fields are not checked; at
// least one must be set.
type expectSpec struct {
	// approval
	Decision       *string `toml:"decision" json:"decision"`
	Reason         *string `toml:"reason" json:"reason"`
	ReasonContains *string `toml:"reason_contains" json:"reason_contains"`
	// tool-input
	Abstain *bool               `toml:"abstain" json:"abstain"`
	Answers map[string][]string `toml:"answers" json:"answers"`
	// tool-call
	Success         *bool   `toml:"success" json:"success"`
	Content         *string `toml:"content" json:"content"`
	ContentContains *string `toml:"content_contains" json:"content_contains"`
	// event-render
	Output         *string `toml:"output" json:"output"`
	OutputContains *string `toml:"output_contains" json:"output_contains"`
	// any hook: the plugin must fail
	Error         *bool   `toml:"error" json:"error"`
	ErrorContains *string `toml:"error_contains" json:"error_contains"`
	// codex requests: the exact answer the host sends codex (a table or
	// JSON text), after the fallback and the host's checks.
	Answer any `toml:"answer" json:"answer"`
}

// A Case is a request ready to run, and what to expect of the answer.
type Case struct {
	// Name names the case: the cases file's name, or the transcript's
	// file, line and request.
	Name string
	hook abi.Hook
	// payload is the ABI request (abi-form cases).
	payload []byte
	// req is the codex request (codex-form cases and transcripts).
	req *host.Request
	// recorded is the answer in a transcript; recordedErr the error.
	recorded    json.RawMessage
	recordedErr string
	hasRecorded bool

	expect expectSpec
	answer any // expect.Answer, decoded
	// events to render (a transcript's).
	events []abi.Event
}

// ReadFile reads and checks a cases file. Errors name the file and the
// case; errors.Is(err, fs.ErrNotExist) holds for a missing file.
func ReadFile(path string) (*Suite, error) {
	var cases []*Case
	var settings json.RawMessage
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f casesFile
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	} else {
		md, err := toml.Decode(string(data), &f)
		if err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, firstLine(pe.Message))
			}
			return nil, fmt.Errorf("%s: %s", path, firstLine(err.Error()))
		}
		var unknown []string
		for _, k := range md.Undecoded() {
			// Keys under the free-form tables (requests, params, settings,
			// answers) are checked when they are decoded as JSON.
			if len(k) >= 2 && k[0] == "case" && slices.Contains([]string{"approval", "tool_input", "tool_call", "render", "codex"}, k[1]) ||
				len(k) >= 3 && k[0] == "case" && k[1] == "expect" && k[2] == "answer" || k[0] == "settings" {
				continue
			}
			unknown = append(unknown, k.String())
		}
		if len(unknown) > 0 {
			return nil, fmt.Errorf("%s: unknown key %s (a typo would silently skip a check)", path, strings.Join(unknown, ", "))
		}
	}
	if f.Settings != nil {
		var err error
		if settings, err = jsonValue(f.Settings); err != nil {
			return nil, fmt.Errorf("%s: settings: %v", path, err)
		}
	}
	if len(f.Cases) == 0 {
		return nil, fmt.Errorf("%s: no cases (add [[case]] tables)", path)
	}
	seen := map[string]bool{}
	for i, spec := range f.Cases {
		tc, err := spec.compile()
		if tc != nil && seen[tc.Name] {
			err = fmt.Errorf("the name is used twice")
		}
		if err != nil {
			name := spec.Name
			if name == "" {
				name = "(no name)"
			}
			return nil, fmt.Errorf("%s: case %d %q: %v", path, i+1, name, err)
		}
		seen[tc.Name] = true
		cases = append(cases, tc)
	}
	return &Suite{Settings: settings, cases: cases}, nil
}

// jsonValue turns a TOML or JSON value into JSON; a string is JSON text.
func jsonValue(v any) (json.RawMessage, error) {
	if s, ok := v.(string); ok {
		if !json.Valid([]byte(s)) {
			return nil, errors.New("not valid JSON")
		}
		return json.RawMessage(s), nil
	}
	return json.Marshal(v)
}

// strictJSON decodes a table into an ABI type, refusing unknown fields, and
// re-encodes it.
func strictJSON[T any](table map[string]any) ([]byte, *T, error) {
	b, err := json.Marshal(table)
	if err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, nil, err
	}
	out, err := json.Marshal(&v)
	return out, &v, err
}

// compile checks a case and prepares its request.
func (s *caseSpec) compile() (*Case, error) {
	if s.Name == "" {
		return nil, errors.New("no name")
	}
	tc := &Case{Name: s.Name, expect: s.Expect}
	var set []string
	var err error
	if s.Approval != nil {
		set = append(set, "approval")
		tc.hook = abi.HookApproval
		var a *abi.ApprovalRequest
		if tc.payload, a, err = strictJSON[abi.ApprovalRequest](s.Approval); err == nil {
			switch a.Kind {
			case abi.ApprovalCommand, abi.ApprovalFileChange, abi.ApprovalPermissions:
			default:
				err = fmt.Errorf("approval.kind %q: want command, fileChange or permissions", a.Kind)
			}
		}
	}
	if s.ToolInput != nil {
		set = append(set, "tool_input")
		tc.hook = abi.HookToolInput
		tc.payload, _, err = strictJSON[abi.ToolInputRequest](s.ToolInput)
	}
	if s.ToolCall != nil {
		set = append(set, "tool_call")
		tc.hook = abi.HookToolCall
		var c *abi.ToolCallRequest
		if tc.payload, c, err = strictJSON[abi.ToolCallRequest](s.ToolCall); err == nil && c.Tool == "" {
			err = errors.New("tool_call.tool is not set")
		}
	}
	if s.Render != nil {
		set = append(set, "render")
		tc.hook = abi.HookEventRender
		tc.payload, _, err = strictJSON[abi.RenderRequest](s.Render)
	}
	if s.Codex != nil {
		set = append(set, "codex")
		if s.Codex.Method == "" {
			return nil, errors.New("codex.method is not set")
		}
		var params json.RawMessage
		if s.Codex.Params != nil {
			if params, err = jsonValue(s.Codex.Params); err != nil {
				return nil, fmt.Errorf("codex.params: %v", err)
			}
		}
		tc.req = host.NewRequest(s.Codex.Method, params)
		var ok bool
		if tc.hook, ok = hookOf(tc.req); !ok {
			return nil, fmt.Errorf("codex.method %q is not a request any plugin hook answers", s.Codex.Method)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", set[len(set)-1], err)
	}
	switch len(set) {
	case 0:
		return nil, errors.New("no request: set one of approval, tool_input, tool_call, render or codex")
	case 1:
	default:
		return nil, fmt.Errorf("more than one request (%s): a case has one", strings.Join(set, ", "))
	}
	if err := tc.checkExpect(); err != nil {
		return nil, err
	}
	return tc, nil
}

// checkExpect refuses expectations that do not apply to the case's hook,
// and a case that expects nothing.
func (tc *Case) checkExpect() error {
	e := &tc.expect
	type field struct {
		name string
		set  bool
		hook abi.Hook // 0: any
	}
	fields := []field{
		{"decision", e.Decision != nil, abi.HookApproval},
		{"reason", e.Reason != nil, abi.HookApproval},
		{"reason_contains", e.ReasonContains != nil, abi.HookApproval},
		{"abstain", e.Abstain != nil, abi.HookToolInput},
		{"answers", e.Answers != nil, abi.HookToolInput},
		{"success", e.Success != nil, abi.HookToolCall},
		{"content", e.Content != nil, abi.HookToolCall},
		{"content_contains", e.ContentContains != nil, abi.HookToolCall},
		{"output", e.Output != nil, abi.HookEventRender},
		{"output_contains", e.OutputContains != nil, abi.HookEventRender},
		{"error", e.Error != nil, 0},
		{"error_contains", e.ErrorContains != nil, 0},
		{"answer", e.Answer != nil, 0},
	}
	n := 0
	for _, f := range fields {
		if !f.set {
			continue
		}
		n++
		if f.hook != 0 && f.hook != tc.hook {
			return fmt.Errorf("expect.%s applies to %s requests, not %s", f.name, f.hook, tc.hook)
		}
	}
	if n == 0 {
		return errors.New("expect is empty: say what the plugin must answer")
	}
	if e.Decision != nil && !abi.Decision(*e.Decision).Valid() {
		return fmt.Errorf("expect.decision %q: want abstain, accept, acceptForSession, decline or cancel", *e.Decision)
	}
	if e.Answer != nil {
		if tc.req == nil {
			return errors.New("expect.answer needs a codex request: the answer is what the host sends codex")
		}
		b, err := jsonValue(e.Answer)
		if err != nil {
			return fmt.Errorf("expect.answer: %v", err)
		}
		if err := json.Unmarshal(b, &tc.answer); err != nil {
			return fmt.Errorf("expect.answer: %v", err)
		}
	}
	wantsErr := (e.Error != nil && *e.Error) || e.ErrorContains != nil
	if wantsErr && slices.ContainsFunc(fields, func(f field) bool {
		return f.set && f.name != "error" && f.name != "error_contains" && f.name != "answer"
	}) {
		return errors.New("expect.error goes alone (with error_contains and answer): a failed plugin has no answer to check")
	}
	return nil
}

// hookOf is the hook that answers a codex request.
func hookOf(req *host.Request) (abi.Hook, bool) { return req.Hook() }
