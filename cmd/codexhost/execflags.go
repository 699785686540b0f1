package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// The flags of `codex exec` that `codexhost run` takes with the same names
// and meanings, so that a codex exec command line works as it is. The
// shared ones (-m/--model, -C/--cd, -s/--sandbox, -c/--config) are
// declared with run's own flags.
type execFlags struct {
	images      []string // -i/--image
	lastMessage string   // -o/--output-last-message
	ephemeral   bool     // --ephemeral
	enable      []string // --enable FEATURE
	disable     []string // --disable FEATURE
	addDirs     []string // --add-dir DIR
	addDirsAbs  []string // the --add-dir directories, absolute (check sets them)
	color       string   // --color always|never|auto
	profile     string   // -p/--profile
	skipGit     bool     // --skip-git-repo-check (accepted: app-server never checks)
	strict      bool     // --strict-config (app-server --strict-config)
	// outputSchemaFile is --output-schema FILE; outputSchema its JSON,
	// read by check.
	outputSchemaFile string
	outputSchema     json.RawMessage
	// hideReasoning and noTurnSummary shape --render exec's output.
	hideReasoning bool // --hide-reasoning
	noTurnSummary bool // --no-turn-summary
	// hideToolOutput drops command output from --render exec;
	// hideSystemMessages drops codex's notices from stderr.
	hideToolOutput     bool // --hide-tool-output
	hideSystemMessages bool // --hide-system-messages
}

func (e *execFlags) register(fs *pflag.FlagSet) {
	// A comma-separated list, as codex exec's -i takes.
	fs.StringSliceVarP(&e.images, "image", "i", nil, "attach the image `FILE` to the prompt (repeatable; or FILE,FILE, or -i FILE FILE -- PROMPT, as codex exec)")
	fs.StringVarP(&e.lastMessage, "output-last-message", "o", "", "write the agent's last message to `FILE`")
	fs.BoolVar(&e.ephemeral, "ephemeral", false, "do not persist the thread")
	fs.StringArrayVar(&e.enable, "enable", nil, "enable the codex `FEATURE` (app-server --enable; codex refuses an unknown one; repeatable)")
	fs.StringArrayVar(&e.disable, "disable", nil, "disable the codex `FEATURE` (app-server --disable; repeatable)")
	fs.StringArrayVar(&e.addDirs, "add-dir", nil, "make `DIR` writable beside the workspace (repeatable)")
	fs.StringVar(&e.color, "color", "auto", "colour on stdout: always, never or auto (a terminal without NO_COLOR)")
	fs.StringVarP(&e.profile, "profile", "p", "", "refused: codex app-server takes no profile `NAME`; use -c overrides")
	fs.BoolVar(&e.hideReasoning, "hide-reasoning", false, "--render exec: leave out the model's reasoning (codex's hide_agent_reasoning)")
	fs.BoolVar(&e.noTurnSummary, "no-turn-summary", false, "--render exec: leave out the token counts that end each turn")
	fs.BoolVar(&e.hideToolOutput, "hide-tool-output", false, "--render exec: leave out what commands print (the command and its exit status stay)")
	fs.BoolVar(&e.hideSystemMessages, "hide-system-messages", false, "leave out codex's configuration warnings and deprecation notices (on stderr)")
	fs.BoolVar(&e.skipGit, "skip-git-repo-check", false, "accepted for codex exec compatibility (codexhost never requires a git repository)")
	fs.BoolVar(&e.strict, "strict-config", false, "refuse a codex config.toml with a field codex does not know (app-server --strict-config; the run stops at start, exit 4)")
	fs.StringVar(&e.outputSchemaFile, "output-schema", "", "the JSON Schema `FILE` the agent's final answer must match (turn/start outputSchema)")
}

// A codexExecFlag is a flag of codex exec (0.169) that run does not take.
type codexExecFlag struct {
	what    string // what it does in codex exec, if its name does not say
	instead string // what to do with codexhost run instead, if anything
}

// codexExecOnly are codex exec's flags that run does not take, by name. An
// unknown-flag error of run names them as codex exec's, rather than
// suggesting a flag of run's with a similar name and another meaning
// (--trust is not --trust-policy).
var codexExecOnly = map[string]codexExecFlag{
	"oss":            {instead: "choose the provider with -c model_provider=ID (ollama or lmstudio, codex's local providers) and the model with -m"},
	"local-provider": {instead: "choose the provider with -c model_provider=ID (ollama or lmstudio) and the model with -m"},
	"approve-for-me": {what: "which has codex review approvals itself", instead: "with codexhost, the policy answers them (--policy, --plugin, --judge)"},
	"dangerously-bypass-approvals-and-sandbox": {instead: "codexhost answers approvals with its policy; without a policy loaded, --sandbox danger-full-access --approval-policy never comes closest"},
	"dangerously-bypass-hook-trust":            {},
	"worktree":                                 {instead: "make the worktree yourself and run in it with -C DIR"},
	"thread-source":                            {},
	"cyber-access-program":                     {},
	"trust":                                    {what: "which trusts the project", instead: "trust it in codex's config.toml"},
	"ignore-user-config":                       {instead: "give a CODEX_HOME with the configuration you want (--codex-home DIR)"},
	"ignore-rules":                             {},
}

// codexExecFlagHint is the rest of run's unknown-flag error for name, if
// it is one of codex exec's, else "".
func codexExecFlagHint(name string) string {
	f, ok := codexExecOnly[name]
	if !ok {
		return ""
	}
	s := ": codex exec's --" + name
	if f.what != "" {
		s += ", " + f.what + ","
	}
	s += " has no counterpart in codexhost run"
	if f.instead != "" {
		s += "; " + f.instead
	}
	return s
}

// expandImageArgs rewrites codex exec's several files after one -i, ended
// by "--" before the prompt (-i a.png b.png -- PROMPT), into one -i per
// file (-i a.png -i b.png -- PROMPT), as run's flag parser takes them;
// parsed as they are, the files after the first would start the prompt.
// Without a "--" after them, the words after -i FILE stay the prompt
// (codex exec would take them as files, and then have no prompt).
func expandImageArgs(args []string) []string {
	dash := slices.Index(args, "--")
	if dash < 0 {
		return args
	}
	out := make([]string, 0, len(args)+4)
	for i := 0; i < dash; i++ {
		a := args[i]
		out = append(out, a)
		switch {
		case a == "-i" || a == "--image":
			if i+1 >= dash {
				continue
			}
			i++
			out = append(out, args[i]) // the flag's own value
		case strings.HasPrefix(a, "--image=") || strings.HasPrefix(a, "-i") && !strings.HasPrefix(a, "--"):
		default:
			continue
		}
		for i+1 < dash && !strings.HasPrefix(args[i+1], "-") {
			i++
			out = append(out, "-i", args[i])
		}
	}
	return append(out, args[dash:]...)
}

// features are the --enable and --disable flags, for host.Options.Features.
func (e *execFlags) features() map[string]bool {
	if len(e.enable)+len(e.disable) == 0 {
		return nil
	}
	m := make(map[string]bool, len(e.enable)+len(e.disable))
	for _, f := range e.enable {
		m[f] = true
	}
	for _, f := range e.disable {
		m[f] = false
	}
	return m
}

// check validates the flags and turns the config-shaped ones into codex
// -c overrides, appended to config.
func (e *execFlags) check(config []string) ([]string, error) {
	switch e.color {
	case "always", "never", "auto":
	default:
		return nil, usageErr("--color %q: want always, never or auto%s", e.color, suggest(e.color, []string{"always", "never", "auto"}))
	}
	for _, img := range e.images {
		if st, err := os.Stat(img); err != nil || st.IsDir() {
			return nil, usageErr("--image %s: not a readable file", img)
		}
	}
	if e.lastMessage != "" {
		// Checked before the turn, as codex exec does: the answer must not
		// be lost at the end for want of a directory.
		if st, err := os.Stat(e.lastMessage); err == nil && st.IsDir() {
			return nil, usageErr("--output-last-message %s: a directory, not a file", e.lastMessage)
		}
		dir := filepath.Dir(e.lastMessage)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, usageErr("--output-last-message %s: the directory %s does not exist", e.lastMessage, dir)
		}
	}
	for _, d := range e.addDirs {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return nil, usageErr("--add-dir %s: not a directory", d)
		}
	}
	for _, f := range append(append([]string(nil), e.enable...), e.disable...) {
		if f == "" || strings.HasPrefix(f, "-") || strings.ContainsAny(f, " .=\"'") {
			return nil, usageErr("--enable/--disable %q: want a feature name such as web_search_request", f)
		}
		if slices.Contains(e.enable, f) && slices.Contains(e.disable, f) {
			return nil, usageErr("--enable %s and --disable %s: choose one", f, f)
		}
	}
	if e.outputSchemaFile != "" {
		// Read before the turn, as codex exec does: a schema that cannot
		// be sent must not cost a turn.
		b, err := os.ReadFile(e.outputSchemaFile)
		if err != nil {
			return nil, usageErr("--output-schema %s: %v", e.outputSchemaFile, unwrapPathError(err))
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			return nil, usageErr("--output-schema %s: not JSON: %v", e.outputSchemaFile, err)
		}
		e.outputSchema = json.RawMessage(b)
	}
	if e.profile != "" {
		// codex 0.169.0 refuses both --profile for app-server and the
		// legacy -c profile=NAME; codex exec's -p layers
		// CODEX_HOME/NAME.config.toml, which app-server cannot.
		return nil, usageErr("-p/--profile %s: codex app-server takes no config profile (codex refuses --profile for app-server, and the legacy -c profile=NAME); pass the settings of CODEX_HOME/%s.config.toml with -c key=value, or put them in config.toml", e.profile, e.profile)
	}
	out := append([]string(nil), config...)
	e.addDirsAbs = nil
	for _, d := range e.addDirs {
		abs, err := absPath(d)
		if err != nil {
			return nil, usageErr("--add-dir %s: %v", d, err)
		}
		e.addDirsAbs = append(e.addDirsAbs, abs)
	}
	return out, nil
}

// addDirKey is the codex config key of the workspace-write sandbox's
// writable roots beside the workspace, which --add-dir extends.
const addDirKey = "sandbox_workspace_write.writable_roots"

// threadConfig is the per-thread config override that --add-dir makes:
// the writable roots codex's configuration already has (every layer and
// -c, as config/read reports them for cwd), then the --add-dir
// directories, as codex exec's --add-dir adds to them. Overriding the key
// with the --add-dir directories alone would take the configured roots
// away. nil without --add-dir.
func (e *execFlags) threadConfig(ctx context.Context, client *host.Client, cwd string) (map[string]any, error) {
	if len(e.addDirsAbs) == 0 {
		return nil, nil
	}
	snap, err := client.ReadConfig(ctx, &host.ConfigReadOptions{Cwd: cwd})
	if err != nil {
		return nil, err
	}
	var cfg struct {
		SandboxWorkspaceWrite struct {
			WritableRoots []string `json:"writable_roots"`
		} `json:"sandbox_workspace_write"`
	}
	if len(snap.Config) > 0 {
		if err := json.Unmarshal(snap.Config, &cfg); err != nil {
			return nil, fmt.Errorf("config/read: %s: %w", addDirKey, err)
		}
	}
	roots := slices.Clone(cfg.SandboxWorkspaceWrite.WritableRoots)
	for _, d := range e.addDirsAbs {
		if !slices.Contains(roots, d) {
			roots = append(roots, d)
		}
	}
	return map[string]any{addDirKey: roots}, nil
}

// inputs are the turn's inputs: the prompt, then the --image files.
func (e *execFlags) inputs(prompt string) []host.Input {
	in := []host.Input{host.TextInput(prompt)}
	for _, img := range e.images {
		abs, err := absPath(img)
		if err != nil {
			abs = img
		}
		in = append(in, host.Input{Type: "localImage", Path: abs})
	}
	return in
}

// useColor decides colour on stdout: --color always or never, else auto
// (what the renderer decides for stdout: a terminal, no NO_COLOR).
func (e *execFlags) useColor(auto bool) bool {
	switch e.color {
	case "always":
		return true
	case "never":
		return false
	}
	return auto
}

// writeLastMessage writes the agent's last message to -o FILE, as codex
// exec does (an empty file when the turn produced none).
func (e *execFlags) writeLastMessage(text string) error {
	if e.lastMessage == "" {
		return nil
	}
	if err := os.WriteFile(e.lastMessage, []byte(text), 0o644); err != nil {
		return fail(exitTurnFailed, "--output-last-message %s: %v", e.lastMessage, unwrapPathError(err))
	}
	return nil
}

func absPath(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return p, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	return wd + "/" + p, nil
}

// readAll reads stdin to its end, or until ctx ends (Ctrl-C, SIGTERM,
// --timeout): then it returns the run's error for that at once, and the
// read, which nothing can cancel, is left to the process's exit.
func readAll(ctx context.Context, stdin io.Reader) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() { // ends with the read; abandoned if ctx ends first
		b, err := io.ReadAll(stdin)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, usageErr("read the prompt from stdin: %v", r.err)
		}
		return r.b, nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fail(exitTurnFailed, "timed out (--timeout) while reading the prompt from stdin")
		}
		return nil, fail(exitTurnFailed, "interrupted while reading the prompt from stdin")
	}
}

// readPrompt reads the prompt as codex exec does: from the arguments; from
// stdin when there are none or the only one is "-"; and with a prompt
// given and stdin piped (a pipe or a file, not a terminal), stdin is
// appended as a <stdin> block.
func readPrompt(ctx context.Context, stdin io.Reader, args []string) (string, error) {
	const noPrompt = "no prompt: give it as arguments, or \"-\" (or nothing) to read it from a piped stdin"
	if len(args) == 0 || len(args) == 1 && args[0] == "-" {
		if f, ok := stdin.(*os.File); ok && isTerminal(f) {
			return "", usageErr("%s", noPrompt)
		}
		b, err := readAll(ctx, stdin)
		if err != nil {
			return "", err
		}
		if strings.TrimSpace(string(b)) == "" {
			return "", usageErr("%s", noPrompt)
		}
		return string(b), nil
	}
	p := strings.TrimSpace(strings.Join(args, " "))
	if p == "" {
		return "", usageErr("%s", noPrompt)
	}
	if !stdinPiped(stdin) {
		return p, nil
	}
	b, err := readAll(ctx, stdin)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return p, nil
	}
	s := string(b)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return fmt.Sprintf("%s\n\n<stdin>\n%s</stdin>", p, s), nil
}

// stdinPiped reports whether r is data piped in: a pipe or a regular file.
// A terminal, /dev/null and a socket (e.g. an inherited connection that
// never closes) are not, so run never blocks on them.
func stdinPiped(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return r != nil // a reader given by a caller (tests, embedding)
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	m := st.Mode()
	return m&os.ModeNamedPipe != 0 || m.IsRegular()
}

const runResumeSynopsis = `run resume [flags] (--last | THREAD_ID | NAME) [PROMPT | -]

Runs PROMPT as the next turn of a stored thread, as codex exec resume does:
THREAD_ID, the most recently updated thread named NAME (an argument that is
not a thread id is a name), or with --last the most recently updated thread whose working
directory is --cwd (default: the current directory; --all: any). Takes every
flag of run, before resume (run --json resume --last) or after it.`

// cmdRunResume is `run resume`: run on a stored thread, named or the last.
func cmdRunResume(ctx context.Context, cio *cmdIO, args []string) error {
	args = expandImageArgs(args)
	var c runConfig
	fs := newFlagSet(cio, "run resume", runResumeSynopsis)
	c.register(fs)
	fs.BoolVar(&c.resumeLast, "last", false, "resume the most recently updated thread of the working directory")
	fs.BoolVar(&c.resumeAll, "all", false, "with --last: of any working directory")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	switch {
	case c.thread != "":
		return usageErr("run resume: give the thread as THREAD_ID (or --last), not --thread")
	case c.resumeAll && !c.resumeLast:
		return usageErr("run resume: --all goes with --last")
	case c.resumeLast:
	case len(rest) == 0:
		fs.Usage()
		return usageErr("run resume: give a THREAD_ID or --last")
	default:
		c.thread, rest = rest[0], rest[1:]
		c.resumeByArg = true
	}
	return c.run(ctx, cio, rest)
}

// threadFlag names how the user gave the thread, for messages.
func (c *runConfig) threadFlag() string {
	switch {
	case c.fork != "":
		return "run fork"
	case c.resumeByArg:
		return "run resume"
	}
	return "--thread"
}

// threadIDPattern is the form of codex's thread ids: a UUID.
var threadIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isThreadID reports whether s has the form of a thread id; anything else
// given as the thread is its name.
func isThreadID(s string) bool { return threadIDPattern.MatchString(s) }

// namedThread finds the thread named name, as codex exec resume takes a
// thread name where an id does not parse as one: of the threads of every
// kind of client, the most recently updated one whose name is name,
// exactly.
func (c *runConfig) namedThread(ctx context.Context, client *host.Client, name string) (string, error) {
	var best *host.Thread
	for th, err := range client.Threads(ctx, &host.ListOptions{Sources: allThreadSources}) {
		if err != nil {
			return "", connFailure(ctx, "list the threads", err)
		}
		if th.Name == name && (best == nil || th.UpdatedAt > best.UpdatedAt) {
			best = th
		}
	}
	if best == nil {
		return "", usageErr("%s %s: no thread has that id or name in this CODEX_HOME", c.threadFlag(), termsafe.Line(name))
	}
	return best.ID, nil
}

// allThreadSources lists the threads of every kind of client, as codex
// exec resume finds them: app-server lists only the interactive ones by
// default, which leaves out codex exec's.
var allThreadSources = []host.ThreadSource{host.ThreadSourceCLI, host.ThreadSourceVSCode,
	host.ThreadSourceExec, host.ThreadSourceAppServer}

// lastThread finds the thread run resume --last continues.
func (c *runConfig) lastThread(ctx context.Context, client *host.Client) (string, error) {
	cwd := c.cwd
	if cwd == "" {
		var err error
		if cwd, err = os.Getwd(); err != nil {
			return "", usageErr("run resume --last: %v", err)
		}
	}
	if abs, err := filepath.Abs(cwd); err == nil {
		cwd = abs
	}
	var best *host.Thread
	// Every kind of client's threads, as codex exec resume --last finds
	// them: app-server lists only the interactive ones by default, which
	// leaves out codex exec's.
	sources := &host.ListOptions{Sources: allThreadSources}
	for th, err := range client.Threads(ctx, sources) {
		if err != nil {
			return "", connFailure(ctx, "list the threads", err)
		}
		if !c.resumeAll && filepath.Clean(th.Cwd) != cwd {
			continue
		}
		if best == nil || th.UpdatedAt > best.UpdatedAt {
			best = th
		}
	}
	if best == nil {
		where := "in " + cwd
		if c.resumeAll {
			where = "in this CODEX_HOME"
		}
		return "", usageErr("run resume --last: no thread %s to resume", where)
	}
	return best.ID, nil
}
