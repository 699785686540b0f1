package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/codexhost/codexhost/host/transcript"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/cases"
)

const pluginTestSynopsis = `plugin test [flags] PATH (--cases FILE | --transcript FILE)

Replays requests against the plugin at PATH (Wasm or process) and checks
its answers, like go test: a line per failed case with what was expected
and what the plugin answered, then ok or FAIL.

--cases FILE lists requests and the answers expected (TOML, or JSON for a
.json file; see docs/cli.md). --transcript FILE replays every request of a
turn recorded with 'codexhost run --record FILE' that the plugin answers
(its hooks, its tools) through the host's own translation, and checks that
the host would send codex the answer it sent in the recorded run; with
--print it prints the answers instead. A plugin that renders also renders
the transcript's events (shown with -v).

Exit status: 0 every case passed, 1 a case failed, 2 bad input.`

type pluginTestConfig struct {
	cases, transcript string
	settings          string
	fallback          string
	run               string
	verbose, print    bool
	sha256            string
}

func cmdPluginTest(ctx context.Context, cio *cmdIO, args []string) error {
	var c pluginTestConfig
	fs := newFlagSet(cio, "plugin test", pluginTestSynopsis)
	fs.StringVar(&c.cases, "cases", "", "the cases `FILE` (TOML or JSON)")
	fs.StringVar(&c.transcript, "transcript", "", "replay the requests of a transcript `FILE` (from run --record)")
	fs.StringVar(&c.settings, "settings", "", settingsUsage+" (overrides the cases file's)")
	fs.StringVar(&c.fallback, "fallback", "decline", "the host's answer when the plugin abstains or fails (as run --fallback)")
	fs.StringVar(&c.run, "run", "", "run only the cases whose name matches `REGEXP`")
	fs.BoolVarP(&c.verbose, "verbose", "v", false, "print every case and the plugin's answer, not only failures")
	fs.BoolVar(&c.print, "print", false, "with --transcript: print the plugin's answers, do not compare them with the recorded ones")
	fs.StringVar(&c.sha256, "sha256", "", "refuse the plugin unless its sha256 is `HEX`")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: codexhost %s\n\nFlags:\n", pluginTestSynopsis)
		fs.PrintDefaults()
	}
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("plugin test: want exactly one PATH, got %d arguments", fs.NArg())
	}
	if c.cases == "" && c.transcript == "" {
		fs.Usage()
		return usageErr("plugin test: nothing to test: give --cases FILE, --transcript FILE, or both")
	}
	if c.print && c.transcript == "" {
		return usageErr("plugin test: --print goes with --transcript")
	}
	return c.runTests(ctx, cio, fs.Arg(0))
}

func (c *pluginTestConfig) runTests(ctx context.Context, cio *cmdIO, path string) error {
	fallback, err := parseFallback(c.fallback)
	if err != nil {
		return err
	}
	var filter *regexp.Regexp
	if c.run != "" {
		if filter, err = regexp.Compile(c.run); err != nil {
			return usageErr("--run %q: %v", c.run, err)
		}
	}
	suite := &cases.Suite{}
	if c.cases != "" {
		if suite, err = cases.ReadFile(c.cases); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return usageErr("--cases %s: no such file", c.cases)
			}
			return usageErr("%s", oneLine(err.Error()))
		}
	}
	settings := suite.Settings
	if c.settings != "" {
		if settings, err = readSettings("--settings", c.settings); err != nil {
			return err
		}
	}
	var tr *transcript.Transcript
	if c.transcript != "" {
		if tr, err = readTranscript(c.transcript); err != nil {
			return err
		}
	}

	var ld loader
	defer ld.close()
	p, err := ld.loadWith(ctx, path, c.sha256, &plugins.Options{Settings: settings})
	if err != nil {
		return err
	}
	runner, err := cases.NewRunner(p, &cases.Options{Fallback: fallback, Print: c.print})
	if err != nil {
		return usageErr("%v", err)
	}
	if tr != nil {
		ts, err := cases.FromTranscript(tr, filepath.Base(c.transcript), p.Manifest())
		if err != nil {
			return usageErr("--transcript %s", oneLine(err.Error()))
		}
		suite.Add(ts)
	}

	start := time.Now()
	failed, ran, differ := 0, 0, 0
	verbose := c.verbose || c.print
	for _, tc := range suite.Cases() {
		if filter != nil && !filter.MatchString(tc.Name) {
			continue
		}
		ran++
		res := runner.Run(ctx, tc)
		switch res.Status {
		case cases.Fail:
			failed++
		case cases.Differs:
			differ++
		}
		if res.Status == cases.Pass && !verbose {
			continue
		}
		// Names, problems and answers carry the plugin's text: escaped.
		w := cio.stdout
		fmt.Fprintf(w, "--- %s: %s (%s)\n", res.Status, termsafe.Line(tc.Name), fmtDuration(res.Took))
		for _, p := range res.Problems {
			fmt.Fprintln(w, indent(termsafe.Text(p), "    "))
		}
		if verbose || res.Status == cases.Fail {
			for _, line := range res.Answer {
				fmt.Fprintln(w, indent(termsafe.Text(line), "    "))
			}
		}
	}
	if ctx.Err() != nil {
		return fail(exitTurnFailed, "plugin test: %v", ctx.Err())
	}
	summary := fmt.Sprintf("%d cases", ran)
	if len(suite.Skipped) > 0 {
		summary += fmt.Sprintf(", %d requests skipped (not for this plugin)", len(suite.Skipped))
	}
	if c.print {
		summary += fmt.Sprintf(", %d differ from the recording", differ)
	}
	took := time.Since(start).Round(time.Millisecond)
	if ran == 0 {
		fmt.Fprintf(cio.stdout, "FAIL\t%s\tno cases ran (%s)\n", path, summary)
		return fail(exitTurnFailed, "")
	}
	if failed > 0 {
		fmt.Fprintf(cio.stdout, "FAIL\t%s\t%s, %d failed (%s)\n", path, summary, failed, took)
		return fail(exitTurnFailed, "")
	}
	fmt.Fprintf(cio.stdout, "ok  \t%s\t%s (%s)\n", path, summary, took)
	return nil
}

func readTranscript(path string) (*transcript.Transcript, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usageErr("--transcript %s: no such file (record one with codexhost run --record FILE)", path)
		}
		return nil, usageErr("--transcript %s: %v", path, unwrapPathError(err))
	}
	defer f.Close()
	tr, err := transcript.Read(f)
	if err != nil {
		return nil, usageErr("--transcript %s: %v", path, err)
	}
	return tr, nil
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
