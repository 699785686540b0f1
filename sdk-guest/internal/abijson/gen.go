//go:build ignore

// gen writes decode_gen.go: the struct decoders and key hashes of the abi
// types abijson decodes. Run it with go generate after changing the spec
// below (it must match the abi structs' fields and json tags; the tests
// compare every decoder with encoding/json).
package main

import (
	"bytes"
	"fmt"
	"go/format"
	"log"
	"os"
	"slices"
	"strings"
)

type kind int

const (
	kString    kind = iota // a string or a named string type (Type)
	kBool                  // bool
	kStrings               // []string
	kStructs               // []Type
	kStructPtr             // *Type
	kRaw                   // abi.RawJSON
	kInt                   // int
	kUint64                // uint64
	kIntPtr                // *int
	kBoolPtr               // *bool
	kStruct                // Type (a struct value)
)

type field struct {
	json, goName string
	kind         kind
	typ          string // kString: the named type or ""; kStructs, kStructPtr: the struct
}

type structSpec struct {
	name   string
	fields []field
	// spare names a decoder field holding a preallocated value for new
	// pointers to this struct (see NewApprovalRequest).
	spare string
	// spareSlice names a decoder field holding preallocated room for new
	// slices of this struct.
	spareSlice string
}

var spec = []structSpec{
	{name: "ApprovalRequest", fields: []field{
		{"kind", "Kind", kString, "abi.ApprovalKind"},
		{"legacy", "Legacy", kBool, ""},
		{"threadId", "ThreadID", kString, ""},
		{"turnId", "TurnID", kString, ""},
		{"itemId", "ItemID", kString, ""},
		{"reason", "Reason", kString, ""},
		{"cwd", "Cwd", kString, ""},
		{"command", "Command", kString, ""},
		{"actions", "Actions", kStructs, "CommandAction"},
		{"proposedAmendment", "ProposedAmendment", kStrings, ""},
		{"network", "Network", kStructPtr, "NetworkAccess"},
		{"changes", "Changes", kStructs, "FileChange"},
		{"grantRoot", "GrantRoot", kString, ""},
		{"permissions", "Permissions", kStructPtr, "Permissions"},
		{"availableDecisions", "AvailableDecisions", kStructs, "DecisionOption"},
		{"additionalPermissions", "AdditionalPermissions", kStructPtr, "Permissions"},
	}},
	{name: "DecisionOption", fields: []field{
		{"decision", "Decision", kString, "abi.Decision"},
		{"amendment", "Amendment", kStrings, ""},
		{"networkRule", "NetworkRule", kStructPtr, "NetworkRule"},
	}},
	{name: "CommandAction", spareSlice: "actions", fields: []field{
		{"type", "Type", kString, ""},
		{"command", "Command", kString, ""},
		{"path", "Path", kString, ""},
		{"query", "Query", kString, ""},
	}},
	{name: "NetworkAccess", spare: "net", fields: []field{
		{"host", "Host", kString, ""},
		{"protocol", "Protocol", kString, ""},
	}},
	{name: "FileChange", spareSlice: "changes", fields: []field{
		{"path", "Path", kString, ""},
		{"kind", "Kind", kString, ""},
		{"movePath", "MovePath", kString, ""},
		{"diff", "Diff", kString, ""},
	}},
	{name: "Permissions", spare: "perm", fields: []field{
		{"readPaths", "ReadPaths", kStrings, ""},
		{"writePaths", "WritePaths", kStrings, ""},
		{"network", "Network", kBool, ""},
		{"raw", "Raw", kRaw, ""},
	}},
	{name: "ApprovalResponse", fields: []field{
		{"decision", "Decision", kString, "abi.Decision"},
		{"reason", "Reason", kString, ""},
		{"amendment", "Amendment", kStrings, ""},
		{"networkRule", "NetworkRule", kStructPtr, "NetworkRule"},
		{"granted", "Granted", kStructPtr, "Permissions"},
	}},
	{name: "NetworkRule", fields: []field{
		{"host", "Host", kString, ""},
		{"action", "Action", kString, ""},
	}},
	{name: "RenderRequest", fields: []field{
		{"events", "Events", kStructs, "Event"},
	}},
	{name: "Event", fields: []field{
		{"kind", "Kind", kString, "abi.EventKind"},
		{"method", "Method", kString, ""},
		{"seq", "Seq", kUint64, ""},
		{"threadId", "ThreadID", kString, ""},
		{"turnId", "TurnID", kString, ""},
		{"itemId", "ItemID", kString, ""},
		{"delta", "Delta", kString, ""},
		{"item", "Item", kStructPtr, "Item"},
		{"turn", "Turn", kStructPtr, "TurnStatus"},
		{"usage", "Usage", kStructPtr, "TokenUsage"},
		{"error", "Error", kStructPtr, "TurnFailure"},
	}},
	{name: "Item", fields: []field{
		{"id", "ID", kString, ""},
		{"type", "Type", kString, ""},
		{"status", "Status", kString, ""},
		{"text", "Text", kString, ""},
		{"command", "Command", kString, ""},
		{"cwd", "Cwd", kString, ""},
		{"exitCode", "ExitCode", kIntPtr, ""},
		{"durationMs", "DurationMs", kInt, ""},
		{"output", "Output", kString, ""},
		{"changes", "Changes", kStructs, "FileChange"},
		{"server", "Server", kString, ""},
		{"tool", "Tool", kString, ""},
		{"arguments", "Arguments", kRaw, ""},
		{"success", "Success", kBoolPtr, ""},
	}},
	{name: "TurnStatus", fields: []field{
		{"id", "ID", kString, ""},
		{"state", "State", kString, ""},
		{"durationMs", "DurationMs", kInt, ""},
	}},
	{name: "TokenUsage", fields: []field{
		{"last", "Last", kStruct, "TokenCounts"},
		{"total", "Total", kStruct, "TokenCounts"},
		{"contextWindow", "ContextWindow", kInt, ""},
	}},
	{name: "TokenCounts", fields: []field{
		{"input", "Input", kInt, ""},
		{"cachedInput", "CachedInput", kInt, ""},
		{"cacheWriteInput", "CacheWriteInput", kInt, ""},
		{"output", "Output", kInt, ""},
		{"reasoningOutput", "ReasoningOutput", kInt, ""},
		{"total", "Total", kInt, ""},
	}},
	{name: "ToolInputRequest", fields: []field{
		{"threadId", "ThreadID", kString, ""},
		{"turnId", "TurnID", kString, ""},
		{"itemId", "ItemID", kString, ""},
		{"questions", "Questions", kStructs, "Question"},
	}},
	{name: "Question", fields: []field{
		{"id", "ID", kString, ""},
		{"header", "Header", kString, ""},
		{"question", "Question", kString, ""},
		{"options", "Options", kStructs, "QuestionOption"},
		{"isOther", "IsOther", kBool, ""},
		{"isSecret", "IsSecret", kBool, ""},
	}},
	{name: "QuestionOption", fields: []field{
		{"label", "Label", kString, ""},
		{"description", "Description", kString, ""},
	}},
	{name: "ToolCallRequest", fields: []field{
		{"threadId", "ThreadID", kString, ""},
		{"turnId", "TurnID", kString, ""},
		{"callId", "CallID", kString, ""},
		{"namespace", "Namespace", kString, ""},
		{"tool", "Tool", kString, ""},
		{"arguments", "Arguments", kRaw, ""},
	}},
	{name: "TurnFailure", fields: []field{
		{"message", "Message", kString, ""},
		{"info", "Info", kString, ""},
		{"willRetry", "WillRetry", kBool, ""},
	}},
}

// keyHash must match keyHashString in decode.go.
func keyHash(k string) uint64 {
	var h uint64
	for i := 0; i < len(k) && i < 8; i++ {
		h |= uint64(k[i]) << (8 * i)
	}
	h ^= uint64(len(k)) << 56
	if len(k) >= 8 {
		h |= 1 << 63
	}
	return h
}

func hashName(json string) string { return "h" + strings.ToUpper(json[:1]) + json[1:] }

func main() {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("// Code generated by gen.go; DO NOT EDIT.\n\npackage abijson\n\nimport \"github.com/codexhost/codexhost/abi\"\n\n")

	// Key hashes.
	var names []string
	for _, s := range spec {
		for _, f := range s.fields {
			if len(f.json) > 24 {
				log.Fatalf("%s: is() compares keys of at most 24 bytes", f.json)
			}
			if !slices.Contains(names, f.json) {
				names = append(names, f.json)
			}
		}
	}
	p("// Hashes of the field names (see keyHashString).\nconst (\n")
	for _, n := range names {
		p("\t%s uint64 = %#016x // %q\n", hashName(n), keyHash(n), n)
	}
	p(")\n\n")

	// Which structs are used as slice elements and as pointers.
	slice, ptr, value := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range spec {
		for _, f := range s.fields {
			switch f.kind {
			case kStructs:
				slice[f.typ] = true
			case kStructPtr:
				ptr[f.typ] = true
			case kStruct:
				value[f.typ] = true
			}
		}
	}

	for _, s := range spec {
		decode := func(f field) string {
			switch f.kind {
			case kString:
				if f.typ != "" {
					return fmt.Sprintf("d.stringInto((*string)(&v.%s), %q)", f.goName, f.typ)
				}
				return fmt.Sprintf("d.stringInto(&v.%s, \"string\")", f.goName)
			case kBool:
				return fmt.Sprintf("d.boolInto(&v.%s)", f.goName)
			case kStrings:
				return fmt.Sprintf("d.stringsInto(&v.%s)", f.goName)
			case kStructs:
				return fmt.Sprintf("d.decode%sSlice(&v.%s)", f.typ, f.goName)
			case kStructPtr:
				return fmt.Sprintf("d.decode%sPtr(&v.%s)", f.typ, f.goName)
			case kRaw:
				return fmt.Sprintf("d.rawInto(&v.%s)", f.goName)
			case kInt:
				return fmt.Sprintf("d.intInto(&v.%s)", f.goName)
			case kUint64:
				return fmt.Sprintf("d.uint64Into(&v.%s)", f.goName)
			case kIntPtr:
				return fmt.Sprintf("d.intPtrInto(&v.%s)", f.goName)
			case kBoolPtr:
				return fmt.Sprintf("d.boolPtrInto(&v.%s)", f.goName)
			case kStruct:
				return fmt.Sprintf("d.decode%sValue(&v.%s)", f.typ, f.goName)
			}
			panic("unknown kind")
		}
		match := func(f field) string {
			if len(f.json) >= 8 {
				return fmt.Sprintf("h == %s && is(k, %q)", hashName(f.json), f.json)
			}
			return fmt.Sprintf("h == %s", hashName(f.json))
		}

		p("// decode%s decodes the object at d.b[d.i] (a '{') into *v.\n", s.name)
		p("func (d *decoder) decode%s(v *abi.%s) error {\n", s.name, s.name)
		p("\tk, h, more, err := d.first()\n\tif !more {\n\t\treturn err\n\t}\n")
		p("\t// Members in declaration order, as json.Marshal writes them, take\n\t// this straight path: one branch per field.\n")
		for _, f := range s.fields {
			p("\tif %s {\n\t\tif err = %s; err != nil {\n\t\t\treturn err\n\t\t}\n", match(f), decode(f))
			p("\t\tif k, h, more, err = d.next(); !more {\n\t\t\treturn err\n\t\t}\n\t}\n")
		}
		p("\t// Any other order, duplicates, unknown and case-folded keys.\n\tfor {\n\t\tswitch {\n")
		for _, f := range s.fields {
			p("\t\tcase %s:\n\t\t\terr = %s\n", match(f), decode(f))
		}
		p("\t\tdefault:\n\t\t\tif f := fold%s(k); f != \"\" {\n\t\t\t\tk, h = f, keyHashString(f)\n\t\t\t\tcontinue\n\t\t\t}\n\t\t\terr = d.skip()\n\t\t}\n", s.name)
		p("\t\tif err != nil {\n\t\t\treturn err\n\t\t}\n\t\tif k, h, more, err = d.next(); !more {\n\t\t\treturn err\n\t\t}\n\t}\n}\n\n")

		p("// fold%s returns the field name k matches case-insensitively, or \"\".\n", s.name)
		p("func fold%s(k string) string {\n\tswitch foldName(k) {\n", s.name)
		for _, f := range s.fields {
			p("\tcase %q:\n\t\treturn %q\n", strings.ToUpper(f.json), f.json)
		}
		p("\t}\n\treturn \"\"\n}\n\n")

		if slice[s.name] {
			alloc := fmt.Sprintf("s = make([]abi.%s, 1, 4)", s.name)
			if s.spareSlice != "" {
				alloc = fmt.Sprintf("if cap(d.%[1]s) > 0 {\n\t\t\ts, d.%[1]s = d.%[1]s[:1], nil\n\t\t} else {\n\t\t\ts = make([]abi.%[2]s, 1, 4)\n\t\t}", s.spareSlice, s.name)
			}
			p(`// decode%[1]sSlice decodes an array (or null) into *p with encoding/json's
// slice semantics: elements decode into the existing slice's elements (null
// keeps one), and [] gives an empty, non-nil slice.
func (d *decoder) decode%[1]sSlice(p *[]abi.%[1]s) error {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.literal("null")
	case '[':
	default:
		return d.valueTypeError("[]abi.%[1]s")
	}
	s := *p
	n := 0
	more, err := d.arrayBegin()
	for more && err == nil {
		switch {
		case n < cap(s):
			s = s[:n+1]
		case s == nil:
			%[2]s
		default:
			s = append(s[:n], abi.%[1]s{})
		}
		switch d.peek() {
		case '{':
			err = d.decode%[1]s(&s[n])
		case 'n':
			err = d.literal("null")
		default:
			err = d.valueTypeError("abi.%[1]s")
		}
		if err != nil {
			return err
		}
		n++
		if i := d.i; i < len(d.b) && d.b[i] == ',' {
			d.i = i + 1 // the fast path of arrayNext
			continue
		}
		more, err = d.arrayNextSlow()
	}
	if err != nil {
		return err
	}
	if n == 0 {
		*p = []abi.%[1]s{}
	} else {
		*p = s[:n]
	}
	return nil
}

`, s.name, alloc)
		}
		if value[s.name] {
			p(`// decode%[1]sValue decodes an object into *v, or null, leaving it
// unchanged.
func (d *decoder) decode%[1]sValue(v *abi.%[1]s) error {
	switch d.peek() {
	case 'n':
		return d.literal("null")
	case '{':
		return d.decode%[1]s(v)
	}
	return d.valueTypeError("abi.%[1]s")
}

`, s.name)
		}
		if ptr[s.name] {
			alloc := fmt.Sprintf("*p = new(abi.%s)", s.name)
			if s.spare != "" {
				alloc = fmt.Sprintf("if d.%[1]s != nil {\n\t\t\t*p, d.%[1]s = d.%[1]s, nil\n\t\t} else {\n\t\t\t*p = new(abi.%[2]s)\n\t\t}", s.spare, s.name)
			}
			p(`// decode%[1]sPtr decodes an object into **p, allocating it if nil, or
// null, setting it to nil.
func (d *decoder) decode%[1]sPtr(p **abi.%[1]s) error {
	switch d.peek() {
	case 'n':
		*p = nil
		return d.literal("null")
	case '{':
	default:
		return d.valueTypeError("abi.%[1]s")
	}
	if *p == nil {
		%[2]s
	}
	return d.decode%[1]s(*p)
}

`, s.name, alloc)
		}
	}
	src, err := format.Source(b.Bytes())
	if err != nil {
		os.Stdout.Write(b.Bytes())
		log.Fatal(err)
	}
	if err := os.WriteFile("decode_gen.go", src, 0o644); err != nil {
		log.Fatal(err)
	}
}
