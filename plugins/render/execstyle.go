package render

import (
	"io"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// DefaultMaxOutputLines is how many lines of a command's output ExecStyle
// shows when MaxOutputLines is zero.
const DefaultMaxOutputLines = 20

// ExecStyle renders a turn for a person, like `codex exec`:
//
//   - the agent's messages as they stream, ending with a newline;
//   - reasoning summaries under a "thinking" line;
//   - a command as "$ cmd" (escaped: the agent's text) when it starts,
//     then, when it ends, its output (the last MaxOutputLines lines, with
//     a count of the ones left out)
//     and "exit N in 12ms", or its status if it did not complete;
//   - a file change as one line per file: "+ path" (added), "~ path"
//     (updated), "- path" (deleted), "~ old -> new" (moved), with the
//     status when it is not "completed";
//   - tool calls as "tool server.name(args)" and their status;
//   - errors, and a turn that failed or was interrupted;
//   - at turn end, the turn's tokens: "tokens: in N (cached C) out M".
//
// Command output deltas are not streamed: the output is shown once, at
// the end, so that it can be truncated and never interleaves with the
// agent's text.
//
// The zero value is ready to use and prints no colour. An ExecStyle keeps
// state across events (whether a line is open, which items streamed, the
// token count when the turn started): give one value every event of a
// client, in order. It is not safe for concurrent use.
type ExecStyle struct {
	// Color adds ANSI colour and emphasis. The caller decides; the host's
	// built-in renderer enables it only when the output is a terminal and
	// NO_COLOR is unset.
	Color bool
	// MaxOutputLines caps the command output shown. Zero means
	// DefaultMaxOutputLines; negative means no output at all.
	MaxOutputLines int
	// Dir, if set, is removed from the front of file-change paths, so that
	// files in the working directory show relative to it.
	Dir string
	// HideReasoning leaves out the model's reasoning (the "thinking"
	// lines and their text), as codex exec does with
	// hide_agent_reasoning.
	HideReasoning bool
	// NoTurnSummary leaves out the line that ends each turn with its
	// token counts. A failed or interrupted turn is still reported.
	NoTurnSummary bool

	midLine  bool            // the last byte written was not a newline
	streamed map[string]bool // items whose deltas were written
	usage    *abi.TokenUsage // the last usage seen
	base     abi.TokenCounts // usage.Total when the turn started
}

var _ Renderer = (*ExecStyle)(nil)

const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiItalic  = "\x1b[3m"
	ansiRed     = "\x1b[31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiMagenta = "\x1b[35m"
	ansiCyan    = "\x1b[36m"
)

// Render implements [Renderer].
func (s *ExecStyle) Render(w io.Writer, ev *abi.Event) error {
	var b strings.Builder
	s.render(&b, ev)
	if b.Len() == 0 {
		return nil
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// RenderString renders ev and returns the output, for plugins that return
// their output as a string.
func (s *ExecStyle) RenderString(ev *abi.Event) string {
	var b strings.Builder
	s.render(&b, ev)
	return b.String()
}

func (s *ExecStyle) render(b *strings.Builder, ev *abi.Event) {
	switch ev.Kind {
	case abi.EventTurnStarted:
		s.streamed = nil
		if s.usage != nil {
			s.base = s.usage.Total
		}
	case abi.EventAgentMessageDelta:
		s.delta(b, ev, "")
	case abi.EventReasoningSummaryDelta:
		if s.HideReasoning {
			return
		}
		if !s.streamed[ev.ItemID] {
			s.line(b, "thinking", ansiMagenta+ansiItalic)
		}
		s.delta(b, ev, ansiDim+ansiItalic)
	case abi.EventItemStarted:
		if ev.Item != nil {
			s.itemStarted(b, ev.Item)
		}
	case abi.EventItemCompleted:
		if ev.Item != nil {
			s.itemCompleted(b, ev.Item)
		}
	case abi.EventTokenUsage:
		s.usage = ev.Usage
	case abi.EventError:
		if ev.Error != nil {
			msg := "error: " + ev.Error.Message
			if ev.Error.WillRetry {
				msg += " (retrying)"
			}
			s.line(b, msg, ansiRed)
		}
	case abi.EventTurnCompleted:
		s.turnCompleted(b, ev)
	}
}

// delta writes streamed text of an item.
func (s *ExecStyle) delta(b *strings.Builder, ev *abi.Event, style string) {
	if ev.Delta == "" {
		return
	}
	if s.streamed == nil {
		s.streamed = map[string]bool{}
	}
	s.streamed[ev.ItemID] = true
	b.WriteString(s.paint(style, ev.Delta))
	s.midLine = !strings.HasSuffix(ev.Delta, "\n")
}

func (s *ExecStyle) itemStarted(b *strings.Builder, it *abi.Item) {
	switch it.Type {
	case "commandExecution":
		// The command is the agent's text: escaped (\x1b[30;40m), not
		// filtered, so that its colours cannot hide part of what ran.
		s.line(b, "$ "+termsafe.Text(it.Command), ansiBold)
	case "mcpToolCall", "dynamicToolCall":
		s.line(b, "tool "+toolName(it)+"("+string(it.Arguments)+")", ansiCyan)
	}
}

func (s *ExecStyle) itemCompleted(b *strings.Builder, it *abi.Item) {
	switch it.Type {
	case "agentMessage":
		if !s.streamed[it.ID] && it.Text != "" {
			s.newline(b)
			b.WriteString(it.Text)
			s.midLine = !strings.HasSuffix(it.Text, "\n")
		}
		s.newline(b)
	case "reasoning":
		if s.HideReasoning {
			return
		}
		if !s.streamed[it.ID] && it.Text != "" {
			s.line(b, "thinking", ansiMagenta+ansiItalic)
			s.line(b, it.Text, ansiDim+ansiItalic)
		}
		s.newline(b)
	case "commandExecution":
		s.output(b, it.Output)
		switch {
		case it.Status == "completed" && it.ExitCode != nil:
			style := ansiGreen
			if *it.ExitCode != 0 {
				style = ansiRed
			}
			s.line(b, "exit "+strconv.Itoa(*it.ExitCode)+took(it.DurationMs), style)
		case it.ExitCode != nil:
			s.line(b, orUnknown(it.Status)+" (exit "+strconv.Itoa(*it.ExitCode)+")"+took(it.DurationMs), ansiRed)
		default:
			s.line(b, orUnknown(it.Status), ansiRed)
		}
	case "fileChange":
		for _, c := range it.Changes {
			mark, style := "~", ansiYellow
			switch c.Kind {
			case "add":
				mark, style = "+", ansiGreen
			case "delete":
				mark, style = "-", ansiRed
			}
			text := mark + " " + s.path(c.Path)
			if c.MovePath != "" {
				text += " -> " + s.path(c.MovePath)
			}
			if it.Status != "completed" {
				text += " (" + orUnknown(it.Status) + ")"
				style = ansiRed
			}
			s.line(b, text, style)
		}
	case "mcpToolCall", "dynamicToolCall":
		status, style := orUnknown(it.Status), ansiCyan
		if it.Success != nil && !*it.Success {
			status = "failed"
		}
		if status != "completed" {
			style = ansiRed
		}
		s.line(b, "tool "+toolName(it)+": "+status, style)
	}
}

func (s *ExecStyle) turnCompleted(b *strings.Builder, ev *abi.Event) {
	if t := ev.Turn; t != nil {
		switch t.State {
		case "failed":
			msg := "turn failed"
			if ev.Error != nil {
				msg += ": " + ev.Error.Message
			}
			s.line(b, msg, ansiRed)
		case "interrupted":
			s.line(b, "turn interrupted", ansiYellow)
		}
	}
	if s.usage != nil {
		in := s.usage.Total.Input - s.base.Input
		cached := s.usage.Total.CachedInput - s.base.CachedInput
		out := s.usage.Total.Output - s.base.Output
		if (in != 0 || out != 0) && !s.NoTurnSummary {
			s.line(b, "tokens: in "+strconv.Itoa(in)+" (cached "+strconv.Itoa(cached)+") out "+strconv.Itoa(out), ansiDim)
		}
		s.base = s.usage.Total
	}
	s.streamed = nil
}

// output writes the tail of a command's output.
func (s *ExecStyle) output(b *strings.Builder, out string) {
	limit := s.MaxOutputLines
	if limit == 0 {
		limit = DefaultMaxOutputLines
	}
	out = strings.TrimRight(out, "\n")
	if limit < 0 || out == "" {
		return
	}
	lines := strings.Split(out, "\n")
	if n := len(lines) - limit; n > 0 {
		s.line(b, "… "+strconv.Itoa(n)+" earlier lines", ansiDim)
		lines = lines[n:]
	}
	for _, l := range lines {
		s.line(b, l, ansiDim)
	}
}

// line writes text as whole lines, closing an open line first.
func (s *ExecStyle) line(b *strings.Builder, text, style string) {
	s.newline(b)
	for l := range strings.SplitSeq(text, "\n") {
		b.WriteString(s.paint(style, l))
		b.WriteByte('\n')
	}
	s.midLine = false
}

// newline closes an open line.
func (s *ExecStyle) newline(b *strings.Builder) {
	if s.midLine {
		b.WriteByte('\n')
		s.midLine = false
	}
}

func (s *ExecStyle) paint(style, text string) string {
	if !s.Color || style == "" || text == "" {
		return text
	}
	return style + text + ansiReset
}

// path is p as shown: relative to Dir, and escaped (a path is the
// agent's text; its colours could hide part of it).
func (s *ExecStyle) path(p string) string {
	if s.Dir != "" {
		dir := strings.TrimSuffix(s.Dir, "/") + "/"
		if rel, ok := strings.CutPrefix(p, dir); ok && rel != "" {
			p = rel
		}
	}
	return termsafe.Line(p)
}

func toolName(it *abi.Item) string {
	if it.Server != "" {
		return termsafe.Line(it.Server + "." + it.Tool)
	}
	return termsafe.Line(it.Tool)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// took formats a command's duration as " in 12ms", " in 1.5s" or
// " in 2m05s"; "" when it is unknown.
func took(ms int) string {
	switch {
	case ms <= 0:
		return ""
	case ms < 1000:
		return " in " + strconv.Itoa(ms) + "ms"
	case ms < 60_000:
		return " in " + strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) + "s"
	}
	sec := ms % 60_000 / 1000
	return " in " + strconv.Itoa(ms/60_000) + "m" + string(rune('0'+sec/10)) + string(rune('0'+sec%10)) + "s"
}
