package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"
)

// A command is one codexhost subcommand: the command table below is the
// one place that names them, for dispatch, help, suggestions and shell
// completion.
type command struct {
	// path is the command's words, e.g. "run" or "plugin inspect".
	path string
	// args is the synopsis after the path, for the main usage.
	args string
	// summary is one line for the main usage.
	summary string
	run     func(ctx context.Context, cio *cmdIO, args []string) error
	// hidden commands are left out of the usage and of suggestions.
	hidden bool
}

// commands is the command table, in the order of the usage text. It is
// set in init because help and completion refer to it.
var commands []*command

func init() {
	commands = []*command{
		{path: "run", args: "[flags] [PROMPT | -]", summary: "run one turn on a new (or --thread) thread", run: cmdRun},
		{path: "run resume", args: "[flags] (--last | THREAD_ID | NAME) [PROMPT | -]", summary: "run the next turn of a stored thread (codex exec resume)", run: cmdRunResume},
		{path: "run review", args: "[flags] (--uncommitted | --base BRANCH | --commit SHA [--title TITLE] | PROMPT | -)", summary: "review the repository's code changes (codex exec review)", run: cmdRunReview},
		{path: "run fork", args: "[flags] (THREAD_ID | NAME) [PROMPT | -]", summary: "copy a stored thread, and run PROMPT on the copy (codex exec fork)", run: cmdRunFork},
		{path: "plugin inspect", args: "[--json] PATH|oci://REF", summary: "print a plugin's manifest and sha256 digest", run: cmdInspect},
		{path: "plugin test", args: "PATH --cases FILE | --transcript FILE", summary: "check a plugin's answers to recorded requests", run: cmdPluginTest},
		{path: "plugin build", args: "[--runtime wasm|process] [-o OUT] [DIR]", summary: "build an sdk-guest plugin", run: cmdPluginBuild},
		{path: "plugin new", args: "[--dir DIR] NAME", summary: "scaffold an approval policy plugin with a test", run: cmdPluginNew},
		{path: "plugin push", args: "[--sign KEY] PATH oci://REGISTRY/REPOSITORY:TAG", summary: "publish a plugin to an OCI registry", run: cmdPush},
		{path: "plugin pull", args: "oci://REF", summary: "fetch and verify a plugin into the cache", run: cmdPull},
		{path: "plugin sign", args: "--key KEY oci://REF|PATH", summary: "sign a published or local plugin", run: cmdSign},
		{path: "plugin verify", args: "[--trust-policy FILE] oci://REF|PATH", summary: "verify a plugin's signatures", run: cmdVerify},
		{path: "plugin keygen", args: "NAME", summary: "make a signing key pair", run: func(_ context.Context, cio *cmdIO, args []string) error { return cmdKeygen(cio, args) }},
		{path: "trust refresh", args: "[--out FILE] [--mirror URL]", summary: "fetch the Sigstore trusted root for keyless verification (network)", run: cmdTrustRefresh},
		{path: "policy explain", args: "[--cwd DIR] RULES_FILE 'CMD'", summary: "what the rule policy makes of a command line", run: cmdPolicyExplain},
		{path: "audit verify", args: "[--prev HASH] FILE...", summary: "check the hash chain of a decision audit log", run: cmdAuditVerify},
		{path: "agent serve", args: "[--codex-home DIR] SCRIPT", summary: "serve an offline agent script for codex (no account, no network)", run: cmdAgentServe},
		{path: "demo", args: "[--mode smoke|demo|full]", summary: "offline demo: the real codex on a fake model", run: cmdDemo},
		{path: "version", args: "[--json] [--codex BIN]", summary: "print versions", run: func(_ context.Context, cio *cmdIO, args []string) error { return cmdVersion(cio, args) }},
		{path: "help", args: "[COMMAND]", summary: "print the usage of codexhost or of a command", run: cmdHelp},
		{path: "completion", args: "bash|zsh|fish", summary: "print a shell completion script", run: cmdCompletion},
		{path: "__complete", hidden: true, run: cmdComplete},
	}
}

// groups are the words that only lead to subcommands ("plugin").
func groups() []string {
	var out []string
	for _, c := range commands {
		if g, _, ok := strings.Cut(c.path, " "); ok && !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// lookup finds the command args start with. It returns the command and
// the rest of args; or, for a group without a known subcommand, nil and
// the group's name.
func lookup(args []string) (*command, []string, string) {
	if len(args) == 0 {
		return nil, nil, ""
	}
	if len(args) >= 2 {
		for _, c := range commands {
			if c.path == args[0]+" "+args[1] {
				return c, args[2:], ""
			}
		}
	}
	for _, c := range commands {
		if c.path == args[0] {
			return c, args[1:], ""
		}
	}
	if slices.Contains(groups(), args[0]) {
		return nil, nil, args[0]
	}
	return nil, nil, ""
}

// dispatch runs the command args name.
func dispatch(ctx context.Context, cio *cmdIO, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(cio.stderr, mainUsage())
		return usageErr("no command given")
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprint(cio.stdout, mainUsage())
		return nil
	case "-V", "--version":
		return cmdVersion(cio, args[1:])
	}
	c, rest, group := lookup(args)
	if c != nil {
		return c.run(ctx, cio, rest)
	}
	if group != "" {
		return groupCommand(cio, group, args[1:])
	}
	fmt.Fprint(cio.stderr, mainUsage())
	return usageErr("unknown command %q%s", args[0], suggest(args[0], topLevelNames()))
}

// groupCommand handles a group word without a known subcommand: its
// usage on help, a usage error otherwise.
func groupCommand(cio *cmdIO, group string, args []string) error {
	var names []string
	for _, c := range commands {
		if g, sub, ok := strings.Cut(c.path, " "); ok && g == group && !c.hidden {
			names = append(names, sub)
		}
	}
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprint(cio.stdout, groupUsage(group))
		return nil
	}
	fmt.Fprint(cio.stderr, groupUsage(group))
	want := strings.Join(names, ", ")
	if len(args) == 0 {
		return usageErr("%s: no subcommand given (want %s)", group, want)
	}
	return usageErr("%s: unknown subcommand %q (want %s)%s", group, args[0], want, suggest(args[0], names))
}

// topLevelNames are the first words of the visible commands.
func topLevelNames() []string {
	var out []string
	for _, c := range commands {
		w, _, _ := strings.Cut(c.path, " ")
		if !c.hidden && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func writeCommandList(b *strings.Builder, only string) {
	for _, c := range commands {
		if c.hidden || (only != "" && !strings.HasPrefix(c.path, only+" ")) {
			continue
		}
		left := "  " + c.path
		if c.args != "" {
			left += " " + c.args
		}
		if len(left) > 30 {
			fmt.Fprintf(b, "%s\n%32s%s\n", left, "", c.summary)
		} else {
			fmt.Fprintf(b, "%-32s%s\n", left, c.summary)
		}
	}
}

// mainUsage is codexhost's usage text, from the command table.
func mainUsage() string {
	var b strings.Builder
	b.WriteString("Usage: codexhost <command> [flags]\n\nCommands:\n")
	writeCommandList(&b, "")
	b.WriteString("\nRun 'codexhost help <command>' (or <command> --help) for a command's flags.\n\n")
	b.WriteString(exitCodesHelp)
	return b.String()
}

func groupUsage(group string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: codexhost %s <command> [flags]\n\nCommands:\n", group)
	writeCommandList(&b, group)
	fmt.Fprintf(&b, "\nRun 'codexhost help %s <command>' for a command's flags.\n", group)
	return b.String()
}

// cmdHelp prints the usage of codexhost, of a group or of a command, on
// stdout.
func cmdHelp(ctx context.Context, cio *cmdIO, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(cio.stdout, mainUsage())
		return nil
	}
	c, _, group := lookup(args)
	switch {
	case c != nil && c.path != "help":
		return c.run(ctx, cio, []string{"--help"})
	case group != "":
		fmt.Fprint(cio.stdout, groupUsage(group))
		return nil
	case c != nil:
		fmt.Fprint(cio.stdout, mainUsage())
		return nil
	}
	return usageErr("help: unknown command %q%s", strings.Join(args, " "), suggest(args[0], topLevelNames()))
}

// suggest returns " (did you mean X?)" for the candidate closest to word,
// or "" when none is close: an edit distance of at most 2 (1 for short
// words), or a unique prefix.
func suggest(word string, candidates []string) string {
	word = strings.TrimLeft(word, "-")
	best, bestD := "", 1<<30
	var prefixed []string
	for _, c := range candidates {
		// Ties go to the longer common prefix, then the closer length.
		d := editDistance(word, c)
		if d < bestD || d == bestD && (commonPrefix(c, word) > commonPrefix(best, word) ||
			commonPrefix(c, word) == commonPrefix(best, word) && absDiff(len(c), len(word)) < absDiff(len(best), len(word))) {
			best, bestD = c, d
		}
		if word != "" && strings.HasPrefix(c, word) {
			prefixed = append(prefixed, c)
		}
	}
	limit := 2
	if len(word) <= 3 {
		limit = 1
	}
	switch {
	case bestD <= limit:
	case len(prefixed) == 1:
		best = prefixed[0]
	default:
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// editDistance is the optimal string alignment distance of a and b, by
// bytes: insertions, deletions, substitutions and swaps of two adjacent
// bytes each cost 1 ("modle" is 1 from "model").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// flagSuggestion names the defined flag closest to the unknown one in a
// pflag parse error, as " (did you mean --x?)", or "".
func flagSuggestion(fs *pflag.FlagSet, err error) string {
	msg := err.Error()
	var name string
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: '"):
		return "" // one letter: nothing sensible to suggest
	default:
		return ""
	}
	if fs.Name() == "run" || strings.HasPrefix(fs.Name(), "run ") {
		if h := codexExecFlagHint(name); h != "" {
			return h
		}
	}
	var names []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	if s := suggest(name, names); s != "" {
		return strings.Replace(s, "mean ", "mean --", 1)
	}
	return ""
}

// errProbe ends a command run in probe mode, right after it defined its
// flags (see [cmdIO.probe]).
var errProbe = errors.New("probe")

// commandFlags runs c in probe mode and returns its flags, or nil.
func commandFlags(ctx context.Context, c *command) *pflag.FlagSet {
	probe := &cmdIO{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, probe: new(*pflag.FlagSet)}
	if err := c.run(ctx, probe, nil); !errors.Is(err, errProbe) {
		return nil
	}
	return *probe.probe
}

const completionBash = `# bash completion for codexhost; load with: source <(codexhost completion bash)
_codexhost() {
  local IFS=$'\n'
  COMPREPLY=($(codexhost __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _codexhost codexhost
`

const completionZsh = `#compdef codexhost
# zsh completion for codexhost; load with: source <(codexhost completion zsh)
_codexhost() {
  local -a out
  out=("${(@f)$(codexhost __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a out
}
compdef _codexhost codexhost
`

const completionFish = `# fish completion for codexhost; load with: codexhost completion fish | source
complete -c codexhost -f -a '(codexhost __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'
`

// cmdCompletion prints a completion script for a shell. The scripts ask
// `codexhost __complete` for the candidates, so they follow the command
// table and every command's flags.
func cmdCompletion(_ context.Context, cio *cmdIO, args []string) error {
	fs := newFlagSet(cio, "completion", "completion bash|zsh|fish\n\nPrints a shell completion script: source <(codexhost completion bash)")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("completion: want one shell: bash, zsh or fish")
	}
	switch fs.Arg(0) {
	case "bash":
		fmt.Fprint(cio.stdout, completionBash)
	case "zsh":
		fmt.Fprint(cio.stdout, completionZsh)
	case "fish":
		fmt.Fprint(cio.stdout, completionFish)
	default:
		return usageErr("completion %q: want bash, zsh or fish%s", fs.Arg(0), suggest(fs.Arg(0), []string{"bash", "zsh", "fish"}))
	}
	return nil
}

// cmdComplete prints the completion candidates for the words typed so far
// (the last one being completed), one a line.
func cmdComplete(ctx context.Context, cio *cmdIO, words []string) error {
	cur := ""
	if len(words) > 0 {
		cur, words = words[len(words)-1], words[:len(words)-1]
	}
	var cands []string
	c, _, group := lookup(words)
	switch {
	case len(words) == 0:
		cands = topLevelNames()
	case group != "" && len(words) == 1:
		for _, cmd := range commands {
			if g, sub, ok := strings.Cut(cmd.path, " "); ok && g == group && !cmd.hidden {
				cands = append(cands, sub)
			}
		}
	case c != nil && c.path == "run" && len(words) == 1 && !strings.HasPrefix(cur, "-"):
		// run's subcommands (codex exec's): resume, review, fork.
		for _, cmd := range commands {
			if sub, ok := strings.CutPrefix(cmd.path, "run "); ok && !cmd.hidden {
				cands = append(cands, sub)
			}
		}
	case c != nil && c.path == "help":
		cands = topLevelNames()
	case c != nil && c.path == "completion":
		cands = []string{"bash", "zsh", "fish"}
	case c != nil && strings.HasPrefix(cur, "-"):
		if fs := commandFlags(ctx, c); fs != nil {
			fs.VisitAll(func(f *pflag.Flag) {
				if !f.Hidden {
					cands = append(cands, "--"+f.Name)
				}
			})
		}
	}
	for _, s := range cands {
		if strings.HasPrefix(s, cur) {
			fmt.Fprintln(cio.stdout, s)
		}
	}
	return nil
}
