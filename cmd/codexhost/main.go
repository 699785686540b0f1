// Command codexhost runs OpenAI Codex app-server sessions with policies and
// renderers as sandboxed plugins.
//
//	codexhost run [flags] [PROMPT | -]     one turn, with plugins as the policy
//	codexhost plugin inspect [--json] PATH  a plugin's manifest and digest
//	codexhost plugin test PATH --cases FILE check a plugin's answers (or --transcript)
//	codexhost plugin build [DIR]            build an sdk-guest plugin (Wasm or process)
//	codexhost plugin new NAME               scaffold a plugin with a test
//	codexhost plugin push|pull|sign|verify  signed plugins in OCI registries
//	codexhost demo [--mode smoke|demo|full] offline demo on the fake model
//	codexhost policy explain RULES 'CMD'    what a rules file makes of a line
//	codexhost audit verify FILE...          check an audit log's hash chain
//	codexhost version                       versions
//
// docs/cli.md is the reference. Exit codes: see [exitOK] and the constants
// after it.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/codexhost/codexhost/internal/termsafe"
)

// Exit codes of codexhost. They are part of its interface.
const (
	// exitOK: the command succeeded.
	exitOK = 0
	// exitTurnFailed: the turn failed, was interrupted, or timed out; a
	// plugin test case failed; a plugin did not build.
	exitTurnFailed = 1
	// exitUsage: bad command line or bad input (flags, files, plugins).
	exitUsage = 2
	// exitDeclined: the turn finished, but the policy declined or cancelled
	// at least one command or patch during it.
	exitDeclined = 3
	// exitConn: codex could not be started or the connection to it broke
	// (no codex binary, app-server died, not authenticated, bad config).
	exitConn = 4
)

const exitCodesHelp = `Exit codes:
  0  success
  1  the turn failed, was interrupted, or timed out; a plugin test case
     failed; a plugin build failed; an audit log does not verify
  2  usage error: bad flag, missing prompt or file, plugin that does not load
  3  the policy declined or cancelled a command or patch during the turn
  4  codex could not start or the connection broke: no codex binary,
     app-server exited, not authenticated, invalid configuration
`

func main() {
	// A closed stdout (| head) is an EPIPE the run handles: it stops the
	// turn and shuts down in order. SIGPIPE's default action killed the
	// process with none of that (codex stopped by Pdeathsig, temporary
	// files left behind).
	// Caught, not ignored: an ignored disposition survives exec, and
	// app-server and process plugins would start with SIGPIPE ignored
	// (a script's producer | head would then spin on EPIPE).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancelCause(ctx)
	stdout := &pipeOut{f: os.Stdout, gone: func() { cancel(errStdoutClosed) }}
	code := run(ctx, os.Args[1:], os.Stdin, stdout, os.Stderr)
	cancel(nil)
	stop()
	os.Exit(code)
}

// errStdoutClosed is the cause of a run's end when its stdout's reader
// has gone.
var errStdoutClosed = errors.New("stdout was closed")

// pipeOut is stdout: a write that finds its reader gone (EPIPE) ends the
// run's context, once, with errStdoutClosed.
type pipeOut struct {
	f    *os.File
	once sync.Once
	gone func()
}

func (p *pipeOut) Write(b []byte) (int, error) {
	n, err := p.f.Write(b)
	if errors.Is(err, syscall.EPIPE) {
		p.once.Do(p.gone)
	}
	return n, err
}

// An exitError carries an exit code and a one-line message for stderr,
// and the error it reports, if any, for errors.Is and errors.As.
type exitError struct {
	code  int
	msg   string
	cause error
}

func (e *exitError) Error() string { return e.msg }

func (e *exitError) Unwrap() error { return e.cause }

func fail(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

func usageErr(format string, args ...any) error { return fail(exitUsage, format, args...) }

// cmdIO is the I/O of one invocation.
type cmdIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// probe, when set, makes the command stop at parseFlags: its flag set
	// is stored here and parseFlags returns errProbe (shell completion).
	probe **pflag.FlagSet
}

// run runs codexhost with args (without the program name) and returns the
// exit code. Every error is reported on stderr as one line (plus usage for
// usage errors).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cio := &cmdIO{stdin: stdin, stdout: stdout, stderr: stderr}
	err := dispatch(ctx, cio, args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			// Messages quote codex, the agent, plugins and file names:
			// escaped here, where they reach the terminal.
			fmt.Fprintln(stderr, "codexhost: "+termsafe.Text(ee.msg))
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "codexhost: "+termsafe.Line(oneLine(err.Error())))
	return exitTurnFailed
}

// newFlagSet returns a FlagSet for a subcommand. Its usage (with the exit
// codes) goes to the flag set's output: stdout for --help, stderr for a
// usage error (see [parseFlags]).
func newFlagSet(cio *cmdIO, name, synopsis string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: codexhost %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+exitCodesHelp)
	}
	return fs
}

// parseFlags parses args. --help prints the usage on stdout and ends with
// exit 0; a parse error prints the usage on stderr, then the error as the
// last line, with the closest flag if one is near.
func parseFlags(cio *cmdIO, fs *pflag.FlagSet, args []string) error {
	if cio.probe != nil {
		*cio.probe = fs
		return errProbe
	}
	fs.SetOutput(cio.stdout) // pflag prints the usage only for --help
	err := fs.Parse(args)
	fs.SetOutput(cio.stderr)
	if err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		fs.Usage()
		return usageErr("%v%s", err, flagSuggestion(fs, err))
	}
	return nil
}

// oneLine keeps the first line of a multi-line message.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	if p, ok := w.(*pipeOut); ok {
		w = p.f
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
