package main

import (
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/plugins/judge"
)

// judgeFlags are run's --judge-* options: the judge's own settings
// (plugins/judge.Options). Each needs --judge.
type judgeFlags struct {
	rubric          string        // --judge-rubric FILE
	timeout         time.Duration // --judge-timeout
	effort          string        // --judge-effort
	summary         string        // --judge-summary
	schema          bool          // --judge-schema
	maxRequestBytes int           // --judge-max-request-bytes
}

func (j *judgeFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&j.rubric, "judge-rubric", "", "the judge's instructions from `FILE`, instead of its default rubric")
	fs.DurationVar(&j.timeout, "judge-timeout", 0, "bound one judge decision (default 60s); past it the judge's fallback (decline) answers")
	fs.StringVar(&j.effort, "judge-effort", "", "the judge turns' reasoning `EFFORT` (low, medium, high, ...; default: codex's)")
	fs.StringVar(&j.summary, "judge-summary", "", "the judge turns' reasoning summary `MODE`: "+strings.Join(host.ReasoningSummaries, ", ")+" (default: codex's)")
	fs.BoolVar(&j.schema, "judge-schema", false, "send the verdict's JSON Schema with each judge turn (turn/start outputSchema)")
	fs.IntVar(&j.maxRequestBytes, "judge-max-request-bytes", 0, "cut the request shown to the judge at `N` bytes (default 16384; -1: no bound)")
}

// options checks the flags and returns the judge's options (without its
// Client). set reports whether a flag was given; judgeOn is --judge.
func (j *judgeFlags) options(set func(name string) bool, judgeOn bool, model string) (*judge.Options, error) {
	for _, name := range []string{"judge-rubric", "judge-timeout", "judge-effort", "judge-summary", "judge-schema", "judge-max-request-bytes"} {
		if set(name) && !judgeOn {
			return nil, usageErr("--%s needs --judge", name)
		}
	}
	o := &judge.Options{Model: model, Timeout: j.timeout, Effort: j.effort, Summary: j.summary, MaxRequestBytes: j.maxRequestBytes}
	if set("judge-timeout") && j.timeout <= 0 {
		return nil, usageErr("--judge-timeout %v: want a positive duration, e.g. 30s", j.timeout)
	}
	if set("judge-effort") && strings.TrimSpace(j.effort) == "" {
		return nil, usageErr("--judge-effort: want a reasoning effort, e.g. low")
	}
	if j.summary != "" && !slices.Contains(host.ReasoningSummaries, j.summary) {
		return nil, usageErr("--judge-summary %q: want one of %s%s", j.summary, strings.Join(host.ReasoningSummaries, ", "), suggest(j.summary, host.ReasoningSummaries))
	}
	if set("judge-max-request-bytes") && (j.maxRequestBytes == 0 || j.maxRequestBytes < -1) {
		return nil, usageErr("--judge-max-request-bytes %d: want a positive bound, or -1 for none", j.maxRequestBytes)
	}
	if j.rubric != "" {
		b, err := os.ReadFile(j.rubric)
		if err != nil {
			return nil, usageErr("--judge-rubric: %v", err)
		}
		if strings.TrimSpace(string(b)) == "" {
			return nil, usageErr("--judge-rubric %s: the file is empty", j.rubric)
		}
		o.Rubric = string(b)
	}
	if j.schema {
		o.OutputSchema = judge.VerdictSchema
	}
	return o, nil
}
