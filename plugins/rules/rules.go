// Package rules is the rule engine of codexhost's rule policy plugin: an
// ordered list of rules, read from a TOML file, that decides approval
// requests. See README.md for the file format and RATIONALE.md for the
// design.
package rules

import (
	"path"
	"regexp"
	"strings"

	"github.com/codexhost/codexhost/abi"
)

// A Policy is a parsed rules file. It is immutable and safe for concurrent
// use.
type Policy struct {
	rules []*rule
}

// A Verdict is what a Policy decides for a request.
type Verdict struct {
	// Decision is the matching rule's decision, or abi.Abstain when no rule
	// matches.
	Decision abi.Decision
	// Rule is the name of the matching rule; empty when none matches.
	Rule string
	// Message is the matching rule's message.
	Message string
}

// Rules returns the names of p's rules, in order.
func (p *Policy) Rules() []string {
	names := make([]string, len(p.rules))
	for i, r := range p.rules {
		names[i] = r.name
	}
	return names
}

type rule struct {
	name           string
	decision       abi.Decision
	message        string
	allowRedirects bool

	kind         abi.ApprovalKind // "" for any
	programs     []string
	argvPrefix   []string
	commandRegex *regexp.Regexp
	cwdPrefix    string
	paths        []string
	reasonRegex  *regexp.Regexp
	perms        *permRule
}

type permRule struct {
	network    *bool
	writePaths []string
	readPaths  []string
}

// permissive reports whether the rule lets more happen than the rules after
// it might: such a rule must cover all of a request, and a restrictive one
// need only touch part of it.
func (r *rule) permissive() bool {
	return r.decision == abi.Accept || r.decision == abi.AcceptForSession || r.decision == abi.Abstain
}

func (r *rule) hasCommandCond() bool {
	return len(r.programs) > 0 || r.argvPrefix != nil || r.commandRegex != nil
}

// Evaluate returns the verdict of the first rule that matches req, or
// abi.Abstain if none does.
//
// Rules whose decision is accept, acceptForSession or abstain must cover
// the whole request: every simple command of a command line (after
// unwrapping bash -lc '…'), with no construct the engine cannot vouch for;
// every changed path; every requested permission. Rules that decline or
// cancel match if any part of the request matches.
func (p *Policy) Evaluate(req *abi.ApprovalRequest) Verdict {
	var info *cmdInfo
	if req.Kind == abi.ApprovalCommand {
		info = analyze(req.Command)
	}
	for _, r := range p.rules {
		if r.match(req, info) {
			return Verdict{Decision: r.decision, Rule: r.name, Message: r.message}
		}
	}
	return Verdict{Decision: abi.Abstain}
}

func (r *rule) match(req *abi.ApprovalRequest, info *cmdInfo) bool {
	if r.kind != "" && r.kind != req.Kind {
		return false
	}
	if r.cwdPrefix != "" && !underDir(cleanPath(req.Cwd), r.cwdPrefix) {
		return false
	}
	if r.reasonRegex != nil && !r.reasonRegex.MatchString(req.Reason) {
		return false
	}
	if r.hasCommandCond() && (req.Kind != abi.ApprovalCommand || !r.matchCommand(req.Command, info)) {
		return false
	}
	if r.paths != nil && (req.Kind != abi.ApprovalFileChange || !r.matchChanges(req)) {
		return false
	}
	if r.perms != nil && (req.Kind != abi.ApprovalPermissions || !r.matchPermissions(req)) {
		return false
	}
	return true
}

func (r *rule) matchCommand(raw string, info *cmdInfo) bool {
	if r.permissive() {
		if len(info.unsafe) > 0 || (len(info.writes) > 0 && !r.allowRedirects) || len(info.cmds) == 0 {
			return false
		}
		for _, c := range info.cmds {
			if !r.matchSimple(c, true) {
				return false
			}
		}
		return true
	}
	if r.commandRegex != nil && len(r.programs) == 0 && r.argvPrefix == nil && r.commandRegex.MatchString(raw) {
		return true
	}
	for _, c := range info.all {
		if r.matchSimple(c, false) {
			return true
		}
	}
	return false
}

func (r *rule) matchSimple(c simpleCmd, strict bool) bool {
	if len(r.programs) > 0 {
		if !c.lit[0] {
			return false
		}
		found := false
		for _, p := range r.programs {
			if programIs(c.argv[0], p, strict) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if r.argvPrefix != nil {
		if len(c.argv) < len(r.argvPrefix) {
			return false
		}
		for i, want := range r.argvPrefix {
			if !c.lit[i] {
				return false
			}
			if i == 0 && !programIs(c.argv[0], want, strict) || i > 0 && c.argv[i] != want {
				return false
			}
		}
	}
	return r.commandRegex == nil || r.commandRegex.MatchString(c.text)
}

// systemDirs are the directories where a program named without a directory
// in a rule may be named with one in a command.
var systemDirs = map[string]bool{
	"/bin": true, "/usr/bin": true, "/usr/local/bin": true, "/sbin": true, "/usr/sbin": true,
	"/usr/local/sbin": true, "/opt/homebrew/bin": true,
}

// programIs reports whether arg0 runs the program want. Strictly (for
// rules that accept), "ls" is ls or ls in a system directory, and a path
// is exactly that path; loosely (for rules that decline), any program
// with the same base name.
func programIs(arg0, want string, strict bool) bool {
	if !strict {
		return path.Base(arg0) == path.Base(want)
	}
	if strings.Contains(want, "/") {
		return arg0 == want
	}
	return arg0 == want || path.Base(arg0) == want && systemDirs[path.Dir(arg0)]
}

// changedPaths returns the paths a file change touches.
func changedPaths(req *abi.ApprovalRequest) []string {
	var ps []string
	for _, c := range req.Changes {
		ps = append(ps, c.Path)
		if c.MovePath != "" {
			ps = append(ps, c.MovePath)
		}
	}
	if req.GrantRoot != "" {
		ps = append(ps, req.GrantRoot)
	}
	return ps
}

func (r *rule) matchChanges(req *abi.ApprovalRequest) bool {
	return r.matchPaths(r.paths, changedPaths(req), req.Cwd)
}

// matchPaths: a permissive rule's globs must match every path (and there
// must be one); a restrictive rule's must match some path.
func (r *rule) matchPaths(globs, paths []string, cwd string) bool {
	if len(paths) == 0 {
		return false
	}
	for _, p := range paths {
		m := anyGlob(globs, p, cwd)
		if m && !r.permissive() {
			return true
		}
		if !m && r.permissive() {
			return false
		}
	}
	return r.permissive()
}

func (r *rule) matchPermissions(req *abi.ApprovalRequest) bool {
	want := req.Permissions
	if want == nil {
		want = new(abi.Permissions)
	}
	pr := r.perms
	if r.permissive() {
		// The rule must cover everything requested.
		if want.Network && (pr.network == nil || !*pr.network) {
			return false
		}
		for _, c := range []struct{ globs, paths []string }{{pr.writePaths, want.WritePaths}, {pr.readPaths, want.ReadPaths}} {
			for _, p := range c.paths {
				if !anyGlob(c.globs, p, req.Cwd) {
					return false
				}
			}
		}
		return true
	}
	// Each condition the rule sets must touch the request.
	if pr.network != nil && want.Network != *pr.network {
		return false
	}
	if pr.writePaths != nil && !r.matchPaths(pr.writePaths, want.WritePaths, req.Cwd) {
		return false
	}
	if pr.readPaths != nil && !r.matchPaths(pr.readPaths, want.ReadPaths, req.Cwd) {
		return false
	}
	return true
}

func anyGlob(globs []string, p, cwd string) bool {
	p = cleanPath(p)
	for _, g := range globs {
		if globMatch(g, p) {
			return true
		}
		if !strings.HasPrefix(g, "/") && cwd != "" && path.IsAbs(p) {
			c := cleanPath(cwd)
			if underDir(p, c) && p != c && globMatch(g, strings.TrimPrefix(p, strings.TrimSuffix(c, "/")+"/")) {
				return true
			}
		}
	}
	return false
}

func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	return path.Clean(p)
}

// underDir reports whether p is dir or inside it (both clean).
func underDir(p, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// globMatch matches a slash-separated path against a glob whose segments
// are path.Match patterns, and where a "**" segment matches any number of
// segments (including none).
func globMatch(glob, p string) bool {
	return matchSegs(strings.Split(glob, "/"), strings.Split(p, "/"))
}

func matchSegs(gs, ps []string) bool {
	for len(gs) > 0 {
		if gs[0] == "**" {
			for len(gs) > 1 && gs[1] == "**" {
				gs = gs[1:]
			}
			for i := 0; i <= len(ps); i++ {
				if matchSegs(gs[1:], ps[i:]) {
					return true
				}
			}
			return false
		}
		if len(ps) == 0 {
			return false
		}
		if ok, _ := path.Match(gs[0], ps[0]); !ok {
			return false
		}
		gs, ps = gs[1:], ps[1:]
	}
	return len(ps) == 0
}
