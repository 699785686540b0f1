// Package rules is the rule engine of codexhost's rule policy plugin: an
// ordered list of rules, read from a TOML file (or a JSON document), that
// decides approval requests. [Analyze] reads a command line the way bash
// will and vouches for it only when every construct is on a syntax
// allow-list; an accept of a command means bash will execute exactly the
// argv vectors of [Verdict.Analysis], with only its redirections. See
// README.md for the file format and the guarantee's limits, and
// RATIONALE.md for the design.
package rules

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/codexhost/codexhost/abi"
)

// A Policy is a parsed rules file. It is immutable and safe for concurrent
// use.
type Policy struct {
	rules   []*rule
	answers []*answerRule
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
	// Analysis is what the engine read of a command request's line (nil
	// for other kinds). When Decision is accept or acceptForSession it is
	// vouched, and its Commands are exactly what bash will execute.
	Analysis *Analysis
	// Unread, when a rule that declines or cancels matched only because
	// the engine could not read the whole line, says why it could not
	// (a script that does not parse, a budget spent): what it did not
	// read might be what the rule names.
	Unread string
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
	allowGlobs     bool

	kind          abi.ApprovalKind // "" for any
	programs      []string
	argvPrefix    []string
	commandRegex  *regexp.Regexp
	argRegex      *regexp.Regexp
	options       []string
	forbidOptions []string
	cwdPrefix     string
	paths         []string
	reasonRegex   *regexp.Regexp
	perms         *permRule

	threadRegex, turnRegex *regexp.Regexp
	// hasAmendment and grantRoot are has_proposed_execpolicy and
	// grant_root_present, nil when unset.
	hasAmendment, grantRoot *bool
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
	return len(r.programs) > 0 || r.argvPrefix != nil || r.commandRegex != nil ||
		r.argRegex != nil || r.options != nil || r.forbidOptions != nil
}

// A Trial is what one rule made of a request, for Explain.
type Trial struct {
	// Rule is the rule's name.
	Rule string
	// Matched reports that the rule matched (the last trial of a verdict
	// that has a rule).
	Matched bool
	// Why says why the rule did not match; empty when it matched.
	Why string
	// Combined reports the trial of the rules (Rule is their names joined
	// with "+") that together cover every command of a line no single
	// rule covers.
	Combined bool
}

// Evaluate returns the verdict of the first rule that matches req, or
// abi.Abstain if none does. It honours ctx: when ctx ends, the line is not
// vouched and the rules not yet tried are not tried.
//
// Rules whose decision is accept, acceptForSession or abstain must cover
// the whole request: a command line must be vouched (see Analyze), and
// every command it runs satisfy the rule; every changed path; every
// requested permission. Rules that decline or cancel match if any part of
// the request matches, reading the line as loosely as needed to find every
// command that might run. Safe for concurrent use.
func (p *Policy) Evaluate(ctx context.Context, req *abi.ApprovalRequest) Verdict {
	v, _ := p.eval(ctx, req, false)
	return v
}

// Explain is Evaluate, and also says of each rule tried why it did or did
// not match.
func (p *Policy) Explain(ctx context.Context, req *abi.ApprovalRequest) (Verdict, []Trial) {
	return p.eval(ctx, req, true)
}

// A reading is what the rules match a command request against.
type reading struct {
	strict *Analysis
	// globbed is the analysis with glob patterns allowed in arguments,
	// when the strict one failed on a glob and a rule sets allow_globs;
	// the permissive rules then match against it.
	globbed *Analysis
	loose   *loose
	raw     string
	// covered[i] is the index of the first permissive rule that covers
	// command i of a vouched line, -1 if none has yet; cur is the index of
	// the rule being tried.
	covered []int
	cur     int
	// unsurePass: no rule matched what the engine read, and the loose
	// reading is unsure; restrictive rules now match what it did not read.
	unsurePass bool
}

func (p *Policy) eval(ctx context.Context, req *abi.ApprovalRequest, explain bool) (Verdict, []Trial) {
	var rd *reading
	var trials []Trial
	if req.Kind == abi.ApprovalCommand {
		f := parseLine(req.Command)
		strictF := f
		if len(req.Command) > MaxLineBytes {
			strictF = nil
		}
		rd = &reading{strict: analyzeLine(ctx, req.Command, strictF, false), raw: req.Command}
		if !rd.strict.Vouched && rd.strict.glob && p.allowGlobs() {
			if g := analyzeLine(ctx, req.Command, strictF, true); g.Vouched {
				rd.globbed = g
			}
		}
		rd.loose = looseAnalyze(ctx, req.Command, f)
		rd.covered = make([]int, len(rd.permissive().Commands))
		for i := range rd.covered {
			rd.covered[i] = -1
		}
	}
	v := Verdict{Decision: abi.Abstain}
	if rd != nil {
		v.Analysis = rd.strict
	}
	accept := func() {
		if rd != nil && v.Decision != abi.Decline && v.Decision != abi.Cancel && v.Decision != abi.Ask {
			v.Analysis = rd.permissive()
		}
	}
	for i, r := range p.rules {
		if rd != nil {
			rd.cur = i
		}
		if ctx != nil && ctx.Err() != nil {
			if explain {
				trials = append(trials, Trial{Rule: r.name, Why: "not tried: " + ctx.Err().Error()})
			}
			break
		}
		why := r.match(req, rd)
		if explain {
			trials = append(trials, Trial{Rule: r.name, Matched: why == "", Why: why})
		}
		if why == "" {
			v.Decision, v.Rule, v.Message = r.decision, r.name, r.message
			accept()
			return v, trials
		}
	}
	if rd != nil && (ctx == nil || ctx.Err() == nil) {
		if p.combine(&v, rd, explain, &trials) {
			accept()
			return v, trials
		}
	}
	if rd != nil && rd.loose.unsure != "" {
		// No rule matched what the engine read, but it could not read
		// everything: the first rule that declines or cancels a command
		// matches what it did not read (review, round 13).
		rd.unsurePass = true
		for _, r := range p.rules {
			if r.permissive() {
				continue
			}
			why := r.match(req, rd)
			if explain {
				trials = append(trials, Trial{Rule: r.name, Matched: why == "", Why: unsureWhy(why, rd.loose.unsure)})
			}
			if why == "" {
				v.Decision, v.Rule, v.Message, v.Unread = r.decision, r.name, r.message, rd.loose.unsure
				return v, trials
			}
		}
	}
	return v, trials
}

// unsureWhy is the Explain note of a restrictive rule tried on what the
// engine could not read.
func unsureWhy(why, unsure string) string {
	if why == "" {
		return "matches what the engine could not read: " + unsure
	}
	return why
}

// permissive returns the analysis permissive rules match: the globbed one
// if there is one, else the strict one.
func (rd *reading) permissive() *Analysis {
	if rd.globbed != nil {
		return rd.globbed
	}
	return rd.strict
}

// allowGlobs reports whether a rule sets allow_globs.
func (p *Policy) allowGlobs() bool {
	for _, r := range p.rules {
		if r.allowGlobs {
			return true
		}
	}
	return false
}

// combine accepts a vouched line no single rule matched when each of its
// commands is covered by an accept or acceptForSession rule (no decline
// or cancel rule matched any part of it, or it would have won): the
// verdict is acceptForSession if all those rules say so, else accept, and
// names them all.
func (p *Policy) combine(v *Verdict, rd *reading, explain bool, trials *[]Trial) bool {
	if !rd.permissive().Vouched || len(rd.covered) < 2 {
		return false
	}
	var names, msgs []string
	seen := map[int]bool{}
	decision := abi.AcceptForSession
	for _, i := range rd.covered {
		if i < 0 {
			return false
		}
		r := p.rules[i]
		switch r.decision {
		case abi.Accept:
			decision = abi.Accept
		case abi.AcceptForSession:
		default:
			return false
		}
		if !seen[i] {
			seen[i] = true
			names = append(names, r.name)
			if r.message != "" && !slices.Contains(msgs, r.message) {
				msgs = append(msgs, r.message)
			}
		}
	}
	v.Decision, v.Rule, v.Message = decision, strings.Join(names, "+"), strings.Join(msgs, "; ")
	if explain {
		*trials = append(*trials, Trial{Rule: v.Rule, Matched: true, Combined: true})
	}
	return true
}

// match returns why r does not match req, or "" if it does.
func (r *rule) match(req *abi.ApprovalRequest, rd *reading) string {
	if r.kind != "" && r.kind != req.Kind {
		return fmt.Sprintf("hook_kind is %s, the request is %s", r.kind, req.Kind)
	}
	if r.cwdPrefix != "" && !underDir(cleanPath(req.Cwd), r.cwdPrefix) {
		return fmt.Sprintf("cwd %q is not under %s", req.Cwd, r.cwdPrefix)
	}
	if r.reasonRegex != nil && !r.reasonRegex.MatchString(req.Reason) {
		return fmt.Sprintf("reason %q does not match reason_regex", req.Reason)
	}
	if r.threadRegex != nil && !r.threadRegex.MatchString(req.ThreadID) {
		return fmt.Sprintf("thread %q does not match thread_id_regex", req.ThreadID)
	}
	if r.turnRegex != nil && !r.turnRegex.MatchString(req.TurnID) {
		return fmt.Sprintf("turn %q does not match turn_id_regex", req.TurnID)
	}
	if r.hasAmendment != nil && (req.Kind != abi.ApprovalCommand || (len(req.ProposedAmendment) > 0) != *r.hasAmendment) {
		return fmt.Sprintf("has_proposed_execpolicy is %v", *r.hasAmendment)
	}
	if r.grantRoot != nil && (req.Kind != abi.ApprovalFileChange || (req.GrantRoot != "") != *r.grantRoot) {
		return fmt.Sprintf("grant_root_present is %v", *r.grantRoot)
	}
	switch {
	case r.hasCommandCond() && req.Kind != abi.ApprovalCommand:
		return "its conditions are about commands"
	case r.paths != nil && req.Kind != abi.ApprovalFileChange:
		return "its paths are about file changes"
	case r.perms != nil && req.Kind != abi.ApprovalPermissions:
		return "its permissions are about permission requests"
	case req.Kind == abi.ApprovalCommand && (r.decision == abi.Accept || r.decision == abi.AcceptForSession) &&
		(req.AdditionalPermissions != nil || req.Network != nil):
		// An accept would grant them too: more than the argv the rule
		// vouches for.
		return "the command also asks for sandbox permissions or network access, which a rule about commands does not grant"
	}
	switch req.Kind {
	case abi.ApprovalCommand:
		if r.permissive() {
			return r.matchStrict(rd, req.Cwd)
		}
		if r.hasCommandCond() {
			return r.matchLoose(rd)
		}
	case abi.ApprovalFileChange:
		if r.paths != nil && !r.matchChanges(req) {
			return "paths do not match"
		}
	case abi.ApprovalPermissions:
		if r.perms != nil && !r.matchPermissions(req) {
			return "permissions do not match"
		}
	}
	return ""
}

// matchStrict returns why a permissive rule does not cover a command
// line: the line must be vouched, every redirection allowed, and every
// command satisfy the rule and use no option that writes or executes.
func (r *rule) matchStrict(rd *reading, cwd string) string {
	an := rd.permissive()
	if !an.Vouched {
		return an.Reason
	}
	if len(an.Commands) == 0 {
		return "the line runs no command"
	}
	first := ""
	for i := range an.Commands {
		why := r.coverCommand(&an.Commands[i], cwd, first == "")
		if why == "" && rd.covered[i] < 0 {
			rd.covered[i] = rd.cur
		}
		if first == "" {
			first = why
		}
	}
	return first
}

// coverCommand returns why a permissive rule does not cover the command
// c of a vouched line.
func (r *rule) coverCommand(c *Command, cwd string, why bool) string {
	if len(c.Patterns) > 0 && !r.allowGlobs {
		if !why {
			return no
		}
		return fmt.Sprintf("%s: argument %q is a glob pattern (the rule does not set allow_globs)", cmdLabel(c), c.Argv[c.Patterns[0]])
	}
	for _, rd := range c.Redirects {
		if rd.Writes() && rd.Path != "/dev/null" && !r.allowRedirects {
			if !why {
				return no
			}
			return fmt.Sprintf("%s: redirection %s %s writes a file (the rule does not set allow_redirects)", cmdLabel(c), rd.Op, rd.Path)
		}
		if rd.Path != "" && rd.Op != ">&" && rd.Op != "<&" && !path.IsAbs(rd.Path) && cwd != "" && special(path.Join(cwd, rd.Path)) {
			if !why {
				return no
			}
			return fmt.Sprintf("%s: redirection %s %s opens a device or kernel file in %s", cmdLabel(c), rd.Op, rd.Path, cwd)
		}
	}
	// The options the engine knows to write or execute are refused by
	// every accept rule, one without command conditions too.
	argv := c.Resolved()
	w := ""
	if r.hasCommandCond() {
		w = r.matchArgv(argv, nil, true, why)
	}
	if w == "" {
		w = danger(argv)
	}
	if w == "" && len(c.Patterns) > 0 {
		w = globDanger(argv, c.resolvedPatterns())
	}
	if w == "" || !why {
		return w
	}
	return cmdLabel(c) + ": " + w
}

// no is a reason not asked for: the rule does not match, and the caller
// needs no words for it (formatting reasons is most of the cost of
// matching a long line).
const no = "no"

// cmdLabel names a command in a reason.
func cmdLabel(c *Command) string {
	const max = 60
	s := strings.Join(c.Argv, " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// matchLoose returns why a restrictive rule touches no command the line
// might run.
func (r *rule) matchLoose(rd *reading) string {
	if r.commandRegex != nil && len(r.programs) == 0 && r.argvPrefix == nil && r.argRegex == nil &&
		r.options == nil && r.forbidOptions == nil && r.commandRegex.MatchString(rd.raw) {
		return ""
	}
	for i := range rd.strict.Commands {
		c := &rd.strict.Commands[i]
		// A glob pattern (a rule with allow_globs) is no known literal: it
		// may expand to what the rule names.
		var lit []bool
		if pats := c.resolvedPatterns(); len(pats) > 0 {
			lit = make([]bool, len(c.Resolved()))
			for j := range lit {
				lit[j] = !slices.Contains(pats, j)
			}
		}
		if r.matchArgv(c.Resolved(), lit, false, false) == "" {
			return ""
		}
	}
	for _, c := range rd.loose.cands {
		if len(c.argv) > 0 && r.matchArgv(c.argv, c.lit, false, false) == "" {
			return ""
		}
	}
	if rd.unsurePass && rd.loose.unsure != "" {
		// What the engine could not read might be what the rule names.
		return ""
	}
	return "no command the line might run matches"
}

// matchArgv returns why argv does not satisfy the rule's command
// conditions, or "". lit[i] reports argv[i] a known literal (nil: all
// are). Strictly (permissive rules), program names match exactly;
// loosely, by base name.
func (r *rule) matchArgv(argv []string, lit []bool, strict, why bool) string {
	isLit := func(i int) bool { return lit == nil || lit[i] }
	if len(r.programs) > 0 {
		found := false
		for _, p := range r.programs {
			if !strict && !isLit(0) && mayName(argv[0], p) {
				found = true
				break
			}
			if isLit(0) && programIs(argv[0], p, strict) {
				found = true
				break
			}
		}
		if !found {
			if !why {
				return no
			}
			return fmt.Sprintf("program %s is not %s", argv[0], strings.Join(r.programs, ", "))
		}
	}
	// mayBe reports whether argv[i] is, or loosely may become, w: a word
	// that is no known literal (a glob pattern) may expand to it.
	mayBe := func(i int, w string) bool {
		if isLit(i) {
			return argv[i] == w
		}
		return !strict && mayExpandTo(argv[i], w)
	}
	rest := 1
	if r.argvPrefix != nil {
		want := r.argvPrefix
		if !(isLit(0) && programIs(argv[0], want[0], strict)) && !(!strict && !isLit(0) && mayName(argv[0], want[0])) {
			if !why {
				return no
			}
			return fmt.Sprintf("program %s is not %s", argv[0], want[0])
		}
		i := 1
		if path.Base(want[0]) == "git" && len(want) > 1 && !strings.HasPrefix(want[1], "-") {
			sub, reason := gitSubcommand(argv, strict)
			if reason != "" {
				if !why {
					return no
				}
				return reason
			}
			i = sub
		}
		for _, w := range want[1:] {
			if i >= len(argv) || !mayBe(i, w) {
				if !why {
					return no
				}
				return fmt.Sprintf("argv does not start with %s", strings.Join(want, " "))
			}
			i++
			if !isLit(i - 1) {
				// A pattern may expand to several words (npm c* is npm
				// cache clean with files cache and clean): it may stand
				// for the rest of the prefix too.
				break
			}
		}
		rest = i
	}
	if rest > len(argv) {
		rest = len(argv)
	}
	args := argv[rest:]
	// Where the options end: at the first "--" at the earliest, and
	// maybe never (it may be an option's argument, see danger). A
	// condition is read over the range that can only make an accept rule
	// match less, and a decline rule more: forbid_options over every
	// argument for accepts, options up to the first "--".
	first := len(args)
	for i, a := range args {
		if a == "--" && isLit(rest+i) {
			first = i
			break
		}
	}
	forbidEnd, optionsEnd := len(args), first
	if !strict {
		forbidEnd, optionsEnd = first, len(args)
	}
	if r.forbidOptions != nil {
		for _, a := range args[:forbidEnd] {
			if o := optionIn(a, r.forbidOptions); o != "" {
				if !why {
					return no
				}
				return fmt.Sprintf("argument %s is the forbidden option %s", a, o)
			}
		}
	}
	if r.options != nil {
		found := false
		for k, a := range args[:optionsEnd] {
			if strict {
				// An accept rule's options admit: a word counts only if
				// it can be nothing but that option (review, round 8).
				if requiredOption(args[:optionsEnd], k, r.options) {
					found = true
				}
				continue
			}
			if optionIn(a, r.options) != "" {
				found = true
				break
			}
		}
		if strict && found {
			if neg := negated(args[:optionsEnd], r.options); neg != "" {
				if !why {
					return no
				}
				return fmt.Sprintf("argument %s turns off the option the rule requires", neg)
			}
		}
		if !found {
			if !why {
				return no
			}
			return fmt.Sprintf("no argument is one of the options %s", strings.Join(r.options, ", "))
		}
	}
	if r.argRegex != nil {
		any := false
		for i, a := range args {
			// Loosely, a pattern may expand to a name arg_regex matches.
			m := isLit(rest+i) && r.argRegex.MatchString(a) || !strict && !isLit(rest+i)
			if strict && !m {
				if !why {
					return no
				}
				return fmt.Sprintf("argument %q does not match arg_regex", a)
			}
			any = any || m
		}
		if !strict && !any {
			return no
		}
	}
	if r.commandRegex != nil && !r.commandRegex.MatchString(joinArgv(argv, strict)) && (strict || !r.mayMatchCommand(argv, isLit)) {
		if !why {
			return no
		}
		return "command_regex does not match"
	}
	return ""
}

// unreadPattern reports whether w holds what the engine's reading of
// patterns does not follow: braces, expansions, [[:class:]].
func unreadPattern(w string) bool {
	return strings.ContainsAny(w, "{$`") || strings.Contains(w, "[[")
}

// mayExpandTo reports whether bash or dash may expand the glob pattern w
// to the word want (a file of that name in the directory): a pattern it
// cannot read (bracket classes, braces, expansions) may. bash negates a
// bracket with ! as well as ^; dash only with !.
func mayExpandTo(w, want string) bool {
	if unreadPattern(w) {
		return true
	}
	ok, err := path.Match(strings.ReplaceAll(w, "[!", "[^"), want)
	if ok || err != nil {
		return true
	}
	// dash (sh) reads [^u] as ^ or u, not bash's "not u".
	ok, err = path.Match(strings.ReplaceAll(w, "[^", `[\^`), want)
	return ok || err != nil
}

// mayMatchCommand reports whether command_regex may match argv once its
// glob patterns (the words isLit says are no known literals) have
// expanded, each to one or more names (mayMatchGlobbed).
func (r *rule) mayMatchCommand(argv []string, isLit func(int) bool) bool {
	return mayMatchGlobbed(r.commandRegex, argv, isLit)
}

// joinArgv joins argv with single spaces for command_regex. Strictly (for
// rules that accept), a blank, tab or newline inside a word becomes a NUL
// byte, which no word can hold: a word cannot then pass for several
// (git -C 'x status' config … would read as "git -C x status …").
func joinArgv(argv []string, strict bool) string {
	j := strings.Join(argv, " ")
	if !strict {
		return j
	}
	b := []byte(j)
	k := 0
	for wi, w := range argv {
		if wi > 0 {
			k++ // the separator
		}
		for i := 0; i < len(w); i++ {
			if strings.IndexByte(" \t\n\r\v\f", w[i]) >= 0 {
				b[k+i] = 0
			}
		}
		k += len(w)
	}
	return string(b)
}

// optionIn returns the option of opts that arg is, or "". A long option
// matches itself, with a value (--opt=v), and abbreviated (--outp); a
// one-letter option (-o) matches itself and any cluster of short options
// that contains its letter (-xo, -ofile); any other option matches
// exactly.
func optionIn(arg string, opts []string) string {
	for _, o := range opts {
		switch {
		case arg == o:
			return o
		case strings.HasPrefix(o, "--"):
			name, _, _ := strings.Cut(arg, "=")
			if name == o || longAbbrev(arg, o) {
				return o
			}
		case len(o) == 2 && o[0] == '-':
			if len(arg) > 1 && arg[0] == '-' && arg[1] != '-' && strings.IndexByte(arg[1:], o[1]) >= 0 {
				return o
			}
		}
	}
	return ""
}

// requiredOption reports whether args[k] can only be one of the options
// opts: the option as a word of its own (not in a cluster, where it may
// be the value of the option before it: make -In is -I n; not as
// --opt=VALUE, whose value may turn it off: --dry-run=false), not right
// after a word that is an option of another kind, whose value it may be
// (make -I -n, git clean -e -n).
func requiredOption(args []string, k int, opts []string) bool {
	a := args[k]
	// After an operand, an option may be the program's to pass on (go run
	// . -n: Go's flag package stops at the first operand; review, round 9).
	if slices.ContainsFunc(args[:k], func(w string) bool { return !strings.HasPrefix(w, "-") || w == "-" }) {
		return false
	}
	ok := slices.Contains(opts, a) || strings.HasPrefix(a, "--") && !strings.Contains(a, "=") &&
		slices.ContainsFunc(opts, func(o string) bool { return strings.HasPrefix(o, "--") && longAbbrev(a, o) })
	if !ok || k == 0 {
		return ok
	}
	prev := args[k-1]
	return !strings.HasPrefix(prev, "-") || prev == "-" || requiredOption(args, k-1, opts)
}

// negated returns a word of args that turns off one of the long options
// of opts (--no-dry-run after --dry-run or -n), or "".
func negated(args []string, opts []string) string {
	short := slices.ContainsFunc(opts, func(o string) bool { return !strings.HasPrefix(o, "--") })
	for k, a := range args {
		name, _, eq := strings.Cut(a, "=")
		if slices.ContainsFunc(opts, func(o string) bool { return strings.HasPrefix(o, "--") && (name == o || longAbbrev(name, o)) }) {
			// The option given a value (--dry-run=false), or followed by
			// one a boolean option may take (npm: --dry-run false): the
			// last one given wins (review, round 10).
			if eq || k+1 < len(args) && slices.Contains([]string{"false", "true", "0", "1", "no", "yes", "off", "on"}, strings.ToLower(args[k+1])) {
				return a
			}
		}
		if short && strings.HasPrefix(name, "--no-") {
			// A short option's long name is the program's to know (git's
			// -n is --dry-run): any --no- form may turn it off.
			return a
		}
		for _, o := range opts {
			if strings.HasPrefix(o, "--") && (name == "--no-"+o[2:] || longAbbrev(name, "--no-"+o[2:])) {
				return a
			}
		}
	}
	return ""
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
	return arg0 == want || path.Base(arg0) == want && inSystemDir(arg0)
}

// mayName reports, loosely, whether the program word w, which is not a
// literal, may name the program want: an expansion, a substitution or a
// brace ($x, {} of find -exec, {r,x}m) may name any program, a glob
// pattern those whose base name it matches (r[m], /usr/bin/r?).
func mayName(w, want string) bool {
	if w == "" || strings.ContainsAny(w, "{$`") || strings.Contains(w, "[[") {
		return true // and bracket classes ([[:lower:]]), which path.Match lacks
	}
	return mayExpandTo(path.Base(w), path.Base(want))
}

// inSystemDir reports whether the program path p names a file of one of
// the systemDirs. p must be clean: the kernel resolves "..", after a
// symbolic link, where path.Dir removes it as text
// (/work/l/../../usr/bin/cat may be a file of the workspace).
func inSystemDir(p string) bool {
	return path.Clean(p) == p && systemDirs[path.Dir(p)]
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
