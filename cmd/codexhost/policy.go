package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/rules"
)

// cmdPolicyExplain runs "codexhost policy explain" with the arguments
// after "explain".
func cmdPolicyExplain(ctx context.Context, cio *cmdIO, args []string) error {
	fset := newFlagSet(cio, "policy explain", "policy explain [--cwd DIR] RULES_FILE 'COMMAND LINE'")
	cwd := fset.String("cwd", "", "the request's working directory (default: the current one)")
	if err := parseFlags(cio, fset, args); err != nil {
		return err
	}
	if fset.NArg() != 2 {
		fset.Usage()
		return usageErr("policy explain: want RULES_FILE and a command line, got %d arguments", fset.NArg())
	}
	file, line := fset.Arg(0), fset.Arg(1)
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return usageErr("policy explain: %s: no such file; check the path of the rules file", file)
		}
		return usageErr("policy explain: %v", err)
	}
	pol, err := rules.Parse(file, data)
	if err != nil {
		return usageErr("policy explain: %s", oneLine(err.Error()))
	}
	if *cwd == "" {
		*cwd, _ = os.Getwd()
	}
	req := &abi.ApprovalRequest{Kind: abi.ApprovalCommand, Command: line, Cwd: *cwd}
	v, trials := pol.Explain(ctx, req)
	printExplanation(cio.stdout, v, trials)
	return nil
}

// printExplanation prints an explanation; every text from the command
// line is quoted, so none of it can drive the terminal.
func printExplanation(w io.Writer, v rules.Verdict, trials []rules.Trial) {
	a := v.Analysis
	if a.Vouched {
		fmt.Fprintln(w, "parse: vouched: bash will execute exactly these commands, with only these redirections")
	} else {
		fmt.Fprintln(w, "parse: "+safeText(a.Reason))
		if len(a.Commands) > 0 {
			fmt.Fprintln(w, "  (the commands read before it:)")
		}
	}
	for i, c := range a.Commands {
		fmt.Fprintf(w, "command %d: %s\n", i+1, quoteArgv(c.Argv))
		if c.Inner > 0 {
			fmt.Fprintf(w, "  runs: %s\n", quoteArgv(c.Resolved()))
		}
		for _, r := range c.Redirects {
			switch {
			case r.Path == "":
				fmt.Fprintf(w, "  redirect: %d%s\n", r.Fd, r.Op)
			default:
				fmt.Fprintf(w, "  redirect: %d%s %s\n", r.Fd, r.Op, strconv.QuoteToGraphic(r.Path))
			}
		}
	}
	for _, t := range trials {
		if t.Combined {
			fmt.Fprintf(w, "rules %s: match, each covering some of the commands\n", safeText(t.Rule))
		} else if t.Matched {
			fmt.Fprintf(w, "rule %s: matches\n", safeText(t.Rule))
		} else {
			fmt.Fprintf(w, "rule %s: no: %s\n", safeText(t.Rule), safeText(t.Why))
		}
	}
	resp := v.Response()
	fmt.Fprintf(w, "decision: %s (%s)\n", resp.Decision, safeText(resp.Reason))
}

func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = strconv.QuoteToGraphic(a)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// safeText escapes the characters of s that are not graphic.
func safeText(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsGraphic(r) }) < 0 {
		return s
	}
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}
