package rules

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/codexhost/codexhost/abi"
)

// An Error is a problem in a rules file, at a line.
type Error struct {
	File string
	// Line is the line the problem is on (1-based), 0 if unknown.
	Line int
	// Rule names the rule (`rule "x"` or `rule #n`); empty outside rules.
	Rule string
	// Msg names the field and says what is wrong with it.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Rule != "" {
		b.WriteString(e.Rule + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

const wantDecisions = "want accept, acceptForSession, decline, cancel, ask or abstain"

// Parse parses and validates a rules file; name is the file's name for
// error messages. The error, if any, joins one *Error per problem, each
// naming the line and the field.
func Parse(name string, data []byte) (*Policy, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, &Error{File: name, Line: pe.Position.Line, Msg: "TOML: " + pe.Message}
		}
		return nil, &Error{File: name, Msg: "TOML: " + err.Error()}
	}
	p := &parser{file: name, lines: indexLines(string(data))}
	pol := p.policy(doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return pol, nil
}

// ParseDocument validates a rules document already decoded from JSON (or
// TOML) into maps, lists and scalars: {"rule": [{"name": …, "decision":
// …, "match": {…}}, …]}, the same structure as a rules file. name is the
// document's name for error messages, which have no line numbers.
func ParseDocument(name string, doc map[string]any) (*Policy, error) {
	p := &parser{file: name, lines: indexLines("")}
	pol := p.policy(doc)
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return pol, nil
}

type parser struct {
	file  string
	lines lineIndex
	errs  []error

	// the rule being parsed, or the answer when inAnswer
	idx      int
	label    string
	inAnswer bool
}

func (p *parser) errorf(key, format string, args ...any) {
	line := p.lines.line(p.idx, key)
	if p.inAnswer {
		line = p.lines.answerLine(p.idx, key)
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Rule: p.label, Msg: fmt.Sprintf(format, args...)})
}

func (p *parser) policy(doc map[string]any) *Policy {
	pol := new(Policy)
	p.idx = -1
	for _, k := range sortedKeys(doc) {
		if k != "rule" && k != "answer" {
			p.errorf(k, "unknown field %q (want [[rule]] and [[answer]] tables)", k)
		}
	}
	if _, has := doc["answer"]; has {
		p.answers(pol, doc["answer"])
	}
	raw, ok := doc["rule"]
	if !ok {
		if len(pol.answers) == 0 {
			p.errorf("", "no rules (want at least one [[rule]] or [[answer]] table)")
		}
		return pol
	}
	tables, ok := p.tables("rule", raw)
	if !ok {
		return pol
	}
	names := map[string]int{}
	for i, t := range tables {
		p.idx, p.label = i, fmt.Sprintf("rule #%d", i+1)
		r := p.rule(t)
		if r == nil {
			continue
		}
		if j, dup := names[r.name]; dup {
			p.errorf("name", "duplicate rule name %q (rule #%d has it too)", r.name, j+1)
		}
		names[r.name] = i
		pol.rules = append(pol.rules, r)
	}
	return pol
}

// tables reads the [[key]] tables of a document, decoded from TOML or
// JSON.
func (p *parser) tables(key string, raw any) ([]map[string]any, bool) {
	tables, ok := raw.([]map[string]any)
	if list, isList := raw.([]any); isList {
		// Decoded from JSON.
		tables, ok = make([]map[string]any, len(list)), true
		for i, e := range list {
			if tables[i], ok = e.(map[string]any); !ok {
				p.errorf(key, "%s[%d]: want a table, got %s", key, i, typeName(e))
				return nil, false
			}
		}
	}
	if !ok {
		p.errorf(key, "%s: want [[%s]] tables, got %s", key, key, typeName(raw))
		return nil, false
	}
	return tables, true
}

// answers parses the [[answer]] tables into pol.
func (p *parser) answers(pol *Policy, raw any) {
	tables, ok := p.tables("answer", raw)
	if !ok {
		return
	}
	names := map[string]int{}
	for i, t := range tables {
		p.idx, p.label, p.inAnswer = i, fmt.Sprintf("answer #%d", i+1), true
		a := p.answer(t)
		if a != nil {
			if j, dup := names[a.name]; dup {
				p.errorf("name", "duplicate answer name %q (answer #%d has it too)", a.name, j+1)
			}
			names[a.name] = i
			pol.answers = append(pol.answers, a)
		}
	}
	p.idx, p.label, p.inAnswer = -1, "", false
}

func (p *parser) rule(t map[string]any) *rule {
	r := new(rule)
	nerr := len(p.errs)
	if name, ok := p.str(t, "name", "name"); ok {
		if name == "" {
			p.errorf("name", "name: must not be empty")
		}
		r.name = name
		p.label = fmt.Sprintf("rule %q", name)
	} else if _, has := t["name"]; !has {
		p.errorf("", "name: missing (every rule needs a name)")
	}
	for _, k := range sortedKeys(t) {
		switch k {
		case "name", "decision", "message", "allow_redirects", "allow_globs", "match":
		default:
			p.errorf(k, "unknown field %q (want name, decision, message, allow_redirects, allow_globs or match)", k)
		}
	}
	if d, ok := p.str(t, "decision", "decision"); ok {
		r.decision = abi.Decision(d)
		if !r.decision.Valid() {
			p.errorf("decision", "unknown decision %q (%s)", d, wantDecisions)
		}
	} else if _, has := t["decision"]; !has {
		p.errorf("", "decision: missing (%s)", wantDecisions)
	}
	r.message, _ = p.str(t, "message", "message")
	for _, k := range []string{"allow_redirects", "allow_globs"} {
		if v, has := t[k]; has {
			b, ok := v.(bool)
			if !ok {
				p.errorf(k, "%s: want true or false, got %s", k, typeName(v))
			}
			if k == "allow_globs" {
				r.allowGlobs = b
			} else {
				r.allowRedirects = b
			}
		}
	}
	m, has := t["match"]
	if !has {
		p.errorf("", "match: missing (a rule needs at least one condition; hook_kind alone will do)")
	} else if mt, ok := m.(map[string]any); !ok {
		p.errorf("match", "match: want a table, got %s", typeName(m))
	} else {
		p.match(r, mt)
	}
	if len(p.errs) > nerr {
		return nil
	}
	return r
}

func (p *parser) match(r *rule, m map[string]any) {
	if len(m) == 0 {
		p.errorf("match", "match: empty (a rule needs at least one condition; hook_kind alone will do)")
		return
	}
	for _, k := range sortedKeys(m) {
		key := "match." + k
		switch k {
		case "hook_kind":
			if s, ok := p.str(m, k, key); ok {
				switch abi.ApprovalKind(s) {
				case abi.ApprovalCommand, abi.ApprovalFileChange, abi.ApprovalPermissions:
					r.kind = abi.ApprovalKind(s)
				default:
					p.errorf(key, "%s: unknown hook kind %q (want command, fileChange or permissions)", key, s)
				}
			}
		case "program":
			switch v := m[k].(type) {
			case string:
				r.programs = []string{v}
			default:
				r.programs, _ = p.strs(m, k, key)
			}
			if len(r.programs) == 0 {
				p.errorf(key, "%s: want a program name or a non-empty list of them", key)
			}
			for _, s := range r.programs {
				if s == "" || strings.ContainsAny(s, " \t\n") {
					p.errorf(key, "%s: %q is not a program name", key, s)
				}
			}
		case "argv_prefix":
			if ss, ok := p.strs(m, k, key); ok {
				if len(ss) == 0 || ss[0] == "" {
					p.errorf(key, "%s: want a non-empty list starting with a program name", key)
				}
				r.argvPrefix = ss
			}
		case "command_regex":
			r.commandRegex = p.regex(m, k, key)
		case "arg_regex":
			r.argRegex = p.regex(m, k, key)
		case "options", "forbid_options":
			if ss, ok := p.strs(m, k, key); ok {
				if len(ss) == 0 {
					p.errorf(key, "%s: want a non-empty list of options", key)
				}
				for _, o := range ss {
					if len(o) < 2 || o[0] != '-' || strings.ContainsAny(o, " \t\n=") {
						p.errorf(key, "%s: %q is not an option (want -x, --long or -name)", key, o)
					}
				}
				if k == "options" {
					r.options = ss
				} else {
					r.forbidOptions = ss
				}
			}
		case "reason_regex":
			r.reasonRegex = p.regex(m, k, key)
		case "thread_id_regex":
			r.threadRegex = p.regex(m, k, key)
		case "turn_id_regex":
			r.turnRegex = p.regex(m, k, key)
		case "has_proposed_execpolicy", "grant_root_present":
			b, ok := m[k].(bool)
			if !ok {
				p.errorf(key, "%s: want true or false, got %s", key, typeName(m[k]))
			}
			if k == "grant_root_present" {
				r.grantRoot = &b
			} else {
				r.hasAmendment = &b
			}
		case "cwd_prefix":
			if s, ok := p.str(m, k, key); ok {
				if !path.IsAbs(s) {
					p.errorf(key, "%s: %q is not an absolute path", key, s)
				}
				r.cwdPrefix = path.Clean(s)
			}
		case "paths":
			r.paths = p.globs(m, k, key)
		case "permissions":
			pt, ok := m[k].(map[string]any)
			if !ok {
				p.errorf(key, "%s: want a table, got %s", key, typeName(m[k]))
				continue
			}
			r.perms = p.permissions(pt)
		default:
			p.errorf(key, "unknown field %q in match (want hook_kind, program, argv_prefix, command_regex, arg_regex, options, forbid_options, cwd_prefix, paths, reason_regex, thread_id_regex, turn_id_regex, has_proposed_execpolicy, grant_root_present or permissions)", k)
		}
	}
	conflict := func(field string, kind abi.ApprovalKind, set bool) {
		if set && r.kind != "" && r.kind != kind {
			p.errorf("match."+field, "match.%s: applies only to hook_kind %s, not %s", field, kind, r.kind)
		}
	}
	conflict("program", abi.ApprovalCommand, m["program"] != nil)
	conflict("argv_prefix", abi.ApprovalCommand, m["argv_prefix"] != nil)
	conflict("command_regex", abi.ApprovalCommand, m["command_regex"] != nil)
	conflict("arg_regex", abi.ApprovalCommand, m["arg_regex"] != nil)
	conflict("options", abi.ApprovalCommand, m["options"] != nil)
	conflict("forbid_options", abi.ApprovalCommand, m["forbid_options"] != nil)
	conflict("paths", abi.ApprovalFileChange, m["paths"] != nil)
	conflict("has_proposed_execpolicy", abi.ApprovalCommand, m["has_proposed_execpolicy"] != nil)
	conflict("grant_root_present", abi.ApprovalFileChange, m["grant_root_present"] != nil)
	conflict("permissions", abi.ApprovalPermissions, m["permissions"] != nil)
	kinds := 0
	for _, set := range []bool{r.hasCommandCond(), r.paths != nil, r.perms != nil} {
		if set {
			kinds++
		}
	}
	if kinds > 1 {
		p.errorf("match", "match: mixes conditions of different hook kinds (program/argv_prefix/command_regex/arg_regex/options/forbid_options, paths, permissions); a request has one kind")
	}
	if r.allowRedirects && !r.hasCommandCond() && r.kind != abi.ApprovalCommand {
		p.errorf("allow_redirects", "allow_redirects: only applies to command rules (hook_kind = \"command\", or program, argv_prefix, …)")
	}
	if r.allowGlobs && !r.hasCommandCond() && r.kind != abi.ApprovalCommand {
		p.errorf("allow_globs", "allow_globs: only applies to command rules (hook_kind = \"command\", or program, argv_prefix, …)")
	}
}

func (p *parser) permissions(t map[string]any) *permRule {
	pr := new(permRule)
	if len(t) == 0 {
		p.errorf("match.permissions", "match.permissions: empty (want network, write_paths or read_paths)")
	}
	for _, k := range sortedKeys(t) {
		key := "match.permissions." + k
		switch k {
		case "network":
			b, ok := t[k].(bool)
			if !ok {
				p.errorf(key, "%s: want true or false, got %s", key, typeName(t[k]))
			}
			pr.network = &b
		case "write_paths":
			pr.writePaths = p.globs(t, k, key)
		case "read_paths":
			pr.readPaths = p.globs(t, k, key)
		default:
			p.errorf(key, "unknown field %q in match.permissions (want network, write_paths or read_paths)", k)
		}
	}
	return pr
}

func (p *parser) str(t map[string]any, k, key string) (string, bool) {
	v, has := t[k]
	if !has {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		p.errorf(key, "%s: want a string, got %s", key, typeName(v))
	}
	return s, ok
}

func (p *parser) strs(t map[string]any, k, key string) ([]string, bool) {
	v := t[k]
	list, ok := v.([]any)
	if !ok {
		p.errorf(key, "%s: want a list of strings, got %s", key, typeName(v))
		return nil, false
	}
	ss := make([]string, 0, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			p.errorf(key, "%s[%d]: want a string, got %s", key, i, typeName(e))
			return nil, false
		}
		ss = append(ss, s)
	}
	return ss, true
}

func (p *parser) regex(t map[string]any, k, key string) *regexp.Regexp {
	s, ok := p.str(t, k, key)
	if !ok {
		return nil
	}
	re, err := regexp.Compile(s)
	if err != nil {
		p.errorf(key, "%s: invalid regex %q: %v", key, s, strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		return nil
	}
	return re
}

func (p *parser) globs(t map[string]any, k, key string) []string {
	gs, ok := p.strs(t, k, key)
	if !ok {
		return nil
	}
	if len(gs) == 0 {
		p.errorf(key, "%s: want a non-empty list of globs", key)
		return nil
	}
	for _, g := range gs {
		for seg := range strings.SplitSeq(g, "/") {
			if _, err := path.Match(seg, ""); err != nil || g == "" {
				p.errorf(key, "%s: invalid glob %q", key, g)
				break
			}
		}
	}
	return gs
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case []any, []map[string]any:
		return "a list"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// A lineIndex knows the line of each key of each rule of a rules file.
// BurntSushi/toml does not expose key positions, so it is built by
// scanning the lines for table headers and keys.
type lineIndex struct {
	// keys[i+1] maps the dotted keys of rule i (keys[0]: top level) to
	// their lines; "" is the rule's [[rule]] header.
	keys []map[string]int
	// answers[i] maps the keys of [[answer]] table i the same way.
	answers []map[string]int
}

var keyRE = regexp.MustCompile(`^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=`)

func indexLines(src string) lineIndex {
	idx := lineIndex{keys: []map[string]int{{}}}
	section := ""
	inMulti := ""
	cur := idx.keys[0]
	for n, line := range strings.Split(src, "\n") {
		n++
		t := strings.TrimSpace(line)
		if inMulti != "" {
			if strings.Count(t, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		switch {
		case strings.HasPrefix(t, "[["):
			name := normKey(strings.TrimSpace(strings.Trim(strings.SplitN(t, "]]", 2)[0], "[")))
			switch name {
			case "rule":
				idx.keys = append(idx.keys, map[string]int{"": n})
				cur = idx.keys[len(idx.keys)-1]
			case "answer":
				idx.answers = append(idx.answers, map[string]int{"": n})
				cur = idx.answers[len(idx.answers)-1]
			}
			section = ""
		case strings.HasPrefix(t, "["):
			name := normKey(strings.TrimSpace(strings.Trim(strings.SplitN(t, "]", 2)[0], "[")))
			section = strings.TrimPrefix(name, "rule.")
			if len(idx.keys) == 1 {
				section = name
			}
			setFirst(cur, section, n)
		default:
			m := keyRE.FindStringSubmatch(t)
			if m == nil {
				continue
			}
			key := normKey(m[1])
			if section != "" {
				key = section + "." + key
			}
			setFirst(cur, key, n)
			for _, q := range []string{`"""`, `'''`} {
				if strings.Count(t, q)%2 == 1 {
					inMulti = q
				}
			}
		}
	}
	return idx
}

func setFirst(m map[string]int, k string, n int) {
	if _, ok := m[k]; !ok {
		m[k] = n
	}
}

// normKey removes quotes and spaces around the parts of a dotted key.
func normKey(k string) string {
	parts := strings.Split(k, ".")
	for i, s := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(s), `"'`)
	}
	return strings.Join(parts, ".")
}

// line returns the line of key in rule i (-1: top level), or of the
// nearest enclosing table that has one.
func (x lineIndex) line(i int, key string) int {
	if i+1 >= len(x.keys) {
		return 0
	}
	return lineIn(x.keys[i+1], key)
}

// answerLine is line for [[answer]] table i.
func (x lineIndex) answerLine(i int, key string) int {
	if i < 0 || i >= len(x.answers) {
		return 0
	}
	return lineIn(x.answers[i], key)
}

func lineIn(m map[string]int, key string) int {
	for {
		if n, ok := m[key]; ok {
			return n
		}
		if key == "" {
			return 0
		}
		if j := strings.LastIndexByte(key, '.'); j >= 0 {
			key = key[:j]
		} else {
			key = ""
		}
	}
}
