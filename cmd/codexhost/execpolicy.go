package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/protocol"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// codex's exec-policy rules (*.rules files, Starlark) decide some commands
// before any approval request: a prefix_rule whose decision is "allow"
// (the default) runs the matching commands without asking, under every
// approval policy. codex loads them from /etc/codex/rules, from
// CODEX_HOME/rules (where it also appends the amendment of every accept
// that carries one) and from .codex/rules in the project's directories.
// This file finds the rules that may allow a command, so that run can
// refuse to claim the policy decides while they stand.

// execPolicyDirs are the directories codex reads *.rules files from, for
// a thread in cwd: the system's, CODEX_HOME's, and the rules of each
// project .codex folder codex lists (project's, loaded or not: the check
// fails closed), or, when codex did not say (project is nil), of each
// project directory (projectDirs).
func execPolicyDirs(codexHome, cwd string, project *codexProject) []string {
	home := filepath.Join(codexHome, "rules")
	dirs := []string{"/etc/codex/rules", home}
	if project != nil {
		for _, d := range project.folders {
			if r := filepath.Join(d, "rules"); r != home {
				dirs = append(dirs, r)
			}
		}
		return dirs
	}
	for _, d := range projectDirs(codexHome, cwd) {
		dirs = append(dirs, filepath.Join(d, ".codex", "rules"))
	}
	return dirs
}

// A codexProject is codex's own account of the project config for a
// thread in a directory (config/read with the directory and its layers):
// which project .codex folders it reads, after -c overrides, profiles and
// project_root_markers wherever they are set, and which of them it loads:
// an untrusted project's config is not loaded. A nil *codexProject means
// codex did not say; the checks then walk the files (projectDirs), which
// reads project_root_markers from config.toml only and does not know the
// project's trust.
type codexProject struct {
	// folders are the project .codex folders codex lists, nearest first,
	// loaded or not.
	folders []string
	// mcp are the MCP servers declared by the config of the folders codex
	// loads, each as FOLDER/config.toml: NAME, escaped for a terminal.
	mcp []string
	// run are the projectRunKeys those configs set, as FILE: KEY.
	run []string
	// servers are the enabled MCP servers of the effective config (the
	// user's and the project's), by name, escaped for a terminal.
	servers []string
}

// projectRunKeys are the keys of a project's codex config that change what
// an accepted command runs, or where, without the policy seeing it: a
// shell environment (BASH_ENV, PATH: bash runs a script of the project's
// before every command), the workspace-write sandbox's writable roots and
// network, the shell zsh runs as, and codex's permission profiles
// (default_permissions and [permissions], which set the sandbox's
// writable roots and network as sandbox_workspace_write does, and which
// codex 0.169 takes from a project over CODEX_HOME's sandbox_mode). A
// project's config is a file in the workspace, the agent's to write for
// the next run (review, round 8).
var projectRunKeys = []string{"shell_environment_policy", "sandbox_workspace_write", "zsh_path", "default_permissions", "permissions"}

// readCodexProject asks codex about the project config for a thread in
// cwd (an absolute path).
func readCodexProject(ctx context.Context, client *host.Client, cwd string) (*codexProject, error) {
	include := true
	// Config raw: protocol.Config drops the keys it does not name
	// (mcp_servers among them).
	var resp struct {
		Config json.RawMessage        `json:"config"`
		Layers []protocol.ConfigLayer `json:"layers"`
	}
	if err := client.Call(ctx, string(protocol.ClientConfigRead), protocol.ConfigReadParams{Cwd: &cwd, IncludeLayers: &include}, &resp); err != nil {
		return nil, err
	}
	p := &codexProject{}
	var eff struct {
		MCPServers map[string]struct {
			Enabled *bool `json:"enabled"`
		} `json:"mcp_servers"`
	}
	if err := json.Unmarshal(resp.Config, &eff); err == nil {
		for _, name := range slices.Sorted(maps.Keys(eff.MCPServers)) {
			if e := eff.MCPServers[name].Enabled; e == nil || *e {
				p.servers = append(p.servers, termsafe.Line(name))
			}
		}
	}
	for _, l := range resp.Layers {
		if l.Name.Type != protocol.ConfigLayerSourceTypeProject {
			continue
		}
		if l.Name.DotCodexFolder == nil || *l.Name.DotCodexFolder == "" {
			return nil, errors.New("config/read: a project layer without its .codex folder")
		}
		dir := string(*l.Name.DotCodexFolder)
		p.folders = append(p.folders, dir)
		if l.DisabledReason != nil {
			continue // not loaded: the project is not trusted
		}
		file := filepath.Join(dir, "config.toml")
		var cfg map[string]json.RawMessage
		var mcp struct {
			MCPServers map[string]json.RawMessage `json:"mcp_servers"`
		}
		if err := json.Unmarshal(l.Config, &cfg); err != nil {
			p.mcp = append(p.mcp, termsafe.Line(file+": (unreadable: "+err.Error()+")"))
			continue
		}
		if err := json.Unmarshal(l.Config, &mcp); err != nil {
			p.mcp = append(p.mcp, termsafe.Line(file+": (unreadable: "+err.Error()+")"))
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(mcp.MCPServers)) {
			p.mcp = append(p.mcp, termsafe.Line(file+": "+name))
		}
		for _, k := range projectRunKeys {
			if _, ok := cfg[k]; ok {
				p.run = append(p.run, termsafe.Line(file+": "+k))
			}
		}
	}
	return p, nil
}

// projectDirs are the directories whose .codex codex reads as the
// project's, for a thread in cwd: cwd and its parents up to the project
// root (the nearest with a .git, or one of the config's
// project_root_markers), or cwd alone when there is none. A directory
// whose .codex is CODEX_HOME is left out: that is the user's own config.
func projectDirs(codexHome, cwd string) []string {
	markers := projectRootMarkers(codexHome)
	var dirs []string
	root := false
	for d := filepath.Clean(cwd); ; d = filepath.Dir(d) {
		dirs = append(dirs, d)
		if slices.ContainsFunc(markers, func(m string) bool {
			_, err := os.Lstat(filepath.Join(d, m))
			return err == nil
		}) {
			root = true
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if !root {
		dirs = dirs[:1]
	}
	home := filepath.Clean(codexHome)
	return slices.DeleteFunc(dirs, func(d string) bool { return filepath.Join(d, ".codex") == home })
}

// projectRootMarkers are the names that mark a project's root:
// project_root_markers of CODEX_HOME/config.toml, or .git.
func projectRootMarkers(codexHome string) []string {
	var cfg struct {
		Markers *[]string `toml:"project_root_markers"`
	}
	if _, err := toml.DecodeFile(filepath.Join(codexHome, "config.toml"), &cfg); err == nil && cfg.Markers != nil {
		return *cfg.Markers
	}
	return []string{".git"}
}

// execPolicyAllowing returns the rules files in dirs that may allow a
// command without asking, each with why, in the order read, escaped for a
// terminal (a project's file names are the agent's to choose). A file that
// cannot be read counts as allowing: codex may read what this cannot.
func execPolicyAllowing(dirs []string) []string {
	var out []string
	for _, d := range dirs {
		files, err := filepath.Glob(filepath.Join(d, "*.rules"))
		if err != nil {
			continue
		}
		slices.Sort(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				out = append(out, termsafe.Line(fmt.Sprintf("%s (unreadable: %v)", f, err)))
				continue
			}
			if why := rulesMayAllow(string(b)); why != "" {
				out = append(out, termsafe.Line(fmt.Sprintf("%s (%s)", f, why)))
			}
		}
	}
	return out
}

// rulesMayAllow returns why the rules file src may allow a command, or ""
// if it cannot: it is only prefix_rule calls whose arguments are string
// and list literals and whose decision is "prompt" or "forbidden". Any
// other Starlark (a variable, another function, a computed decision) may
// allow, and counts as allowing: the check fails closed.
func rulesMayAllow(src string) string {
	toks, err := starlarkTokens(src)
	if err != nil {
		return err.Error()
	}
	p := &ruleParser{toks: toks}
	for !p.done() {
		if why := p.call(); why != "" {
			return why
		}
	}
	return ""
}

type ruleParser struct {
	toks []string
	i    int
}

func (p *ruleParser) done() bool { return p.i >= len(p.toks) }

func (p *ruleParser) next() string {
	if p.done() {
		return ""
	}
	p.i++
	return p.toks[p.i-1]
}

// call reads one prefix_rule(...) call.
func (p *ruleParser) call() string {
	if t := p.next(); t != "prefix_rule" {
		return fmt.Sprintf("%s: only prefix_rule calls are read", quoteTok(t))
	}
	if p.next() != "(" {
		return "prefix_rule without arguments"
	}
	decision := ""
	for {
		t := p.next()
		if t == ")" {
			break
		}
		switch t {
		case "pattern", "decision", "justification", "match", "not_match":
		default:
			return fmt.Sprintf("prefix_rule argument %s", quoteTok(t))
		}
		if p.next() != "=" {
			return "prefix_rule with a positional argument"
		}
		v, ok := p.value()
		if !ok {
			return fmt.Sprintf("the %s of a prefix_rule is not a literal", t)
		}
		if t == "decision" {
			decision = v
		}
		switch p.next() {
		case ",":
		case ")":
			p.i--
		default:
			return "unexpected syntax in a prefix_rule"
		}
	}
	if decision != `"prompt"` && decision != `"forbidden"` {
		if decision == "" {
			return "a prefix_rule with the default decision, allow"
		}
		return "a prefix_rule with decision " + decision
	}
	return ""
}

// value reads a string or a list of values; it returns a string's token.
func (p *ruleParser) value() (string, bool) {
	t := p.next()
	if strings.HasPrefix(t, `"`) {
		return t, true
	}
	if t != "[" {
		return "", false
	}
	for {
		if p.i < len(p.toks) && p.toks[p.i] == "]" {
			p.i++
			return "", true
		}
		if _, ok := p.value(); !ok {
			return "", false
		}
		switch p.next() {
		case ",":
		case "]":
			return "", true
		default:
			return "", false
		}
	}
}

func quoteTok(t string) string {
	if t == "" {
		return "the end of the file"
	}
	return fmt.Sprintf("%q", t)
}

// starlarkTokens splits src into identifiers, punctuation and double- or
// single-quoted strings (given back double-quoted, escapes kept), without
// comments. What it does not know (triple quotes, raw strings, numbers,
// operators) is an error.
func starlarkTokens(src string) ([]string, error) {
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case strings.IndexByte("()[],=", c) >= 0:
			toks = append(toks, src[i:i+1])
			i++
		case c == '"' || c == '\'':
			if strings.HasPrefix(src[i:], `"""`) || strings.HasPrefix(src[i:], `'''`) {
				return nil, errors.New("a triple-quoted string")
			}
			j := i + 1
			for j < len(src) && src[j] != c && src[j] != '\n' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) || src[j] != c {
				return nil, errors.New("an unterminated string")
			}
			body := src[i+1 : j]
			if strings.ContainsRune(body, '\\') {
				return nil, errors.New("a string with an escape")
			}
			toks = append(toks, `"`+body+`"`)
			i = j + 1
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (src[j] == '_' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, src[i:j])
			i = j
		default:
			return nil, fmt.Errorf("%q", c)
		}
	}
	return toks, nil
}

// projectMCPServers returns the MCP servers that a project's codex config
// (.codex/config.toml in the project directories, projectDirs) declares,
// each as FILE: NAME, and the projectRunKeys it sets, as FILE: KEY. codex starts them, commands of the project's choosing,
// when a thread starts there in a trusted project, and asks no one: files in
// the workspace are the agent's to write for the next run. A file that does
// not parse counts, as FILE: (unreadable).
func projectMCPServers(codexHome, cwd string) []string {
	var out []string
	for _, d := range projectDirs(codexHome, cwd) {
		f := filepath.Join(d, ".codex", "config.toml")
		if _, err := os.Stat(f); err != nil {
			continue
		}
		var cfg struct {
			MCPServers map[string]any `toml:"mcp_servers"`
		}
		md, err := toml.DecodeFile(f, &cfg)
		if err != nil {
			out = append(out, termsafe.Line(f+": (unreadable: "+err.Error()+")"))
		}
		for _, name := range slices.Sorted(maps.Keys(cfg.MCPServers)) {
			out = append(out, termsafe.Line(f+": "+name))
		}
		for _, k := range projectRunKeys {
			if md.IsDefined(k) {
				out = append(out, termsafe.Line(f+": "+k))
			}
		}
	}
	return out
}
