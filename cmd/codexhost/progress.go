package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
)

// A progress is the one-line status `run` keeps on a terminal's stderr
// while the agent works ("⠋ working… 12s · 3 commands"). It is redrawn in
// place with \r at most every progressInterval, and erased before anything
// else is written to the terminal through the writers [progress.wrap]
// returns. It is drawn only when the cursor is at the start of a line, so
// it never overwrites streaming text.
type progress struct {
	out   io.Writer // the terminal
	now   func() time.Time
	color bool // dim the line (off with NO_COLOR)

	mu        sync.Mutex
	label     string
	start     time.Time
	commands  int
	shown     bool // the status line is on the screen
	lineStart bool // the cursor is at the start of a line
	lastDraw  time.Time
	frame     int
	stopped   bool

	done chan struct{}
	wg   sync.WaitGroup
}

// progressInterval bounds how often the line is redrawn (10 times a second).
const progressInterval = 100 * time.Millisecond

var progressFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

var _ host.EventObserver = (*progress)(nil)

// newProgress returns a progress drawing on out, or nil when out is not a
// terminal or TERM is dumb.
func newProgress(out io.Writer) *progress {
	if !isTerminal(out) || os.Getenv("TERM") == "dumb" {
		return nil
	}
	return newProgressOn(out, time.Now, os.Getenv("NO_COLOR") == "")
}

func newProgressOn(out io.Writer, now func() time.Time, color bool) *progress {
	return &progress{out: out, now: now, color: color, label: "starting codex", start: now(), lineStart: true, done: make(chan struct{})}
}

// run redraws the line until stop.
func (p *progress) run() {
	p.wg.Go(func() {
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.draw()
			}
		}
	})
}

// stop erases the line and ends the redrawing. It is idempotent.
func (p *progress) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	close(p.done)
	p.clear()
	p.mu.Unlock()
	p.wg.Wait()
}

// setLabel changes what the line says, e.g. "working", and restarts the
// clock.
func (p *progress) setLabel(label string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.label, p.start = label, p.now()
}

// ObserveEvent counts the turn's commands.
func (p *progress) ObserveEvent(ev *host.Event) {
	if ev.Kind == abi.EventItemStarted && ev.Item != nil && ev.Item.Type == host.ItemCommandExecution {
		p.mu.Lock()
		p.commands++
		p.mu.Unlock()
	}
}

// line is the status text.
func (p *progress) line() string {
	s := fmt.Sprintf("%s %s… %ds", progressFrames[p.frame%len(progressFrames)], p.label, int(p.now().Sub(p.start).Seconds()))
	switch p.commands {
	case 0:
	case 1:
		s += " · 1 command"
	default:
		s += fmt.Sprintf(" · %d commands", p.commands)
	}
	return s
}

// draw redraws the line, unless it was drawn less than progressInterval
// ago or the cursor is not at the start of a line.
func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || !p.lineStart {
		return
	}
	now := p.now()
	if p.shown && now.Sub(p.lastDraw) < progressInterval {
		return
	}
	p.lastDraw = now
	p.frame++
	s := "\r" + p.line()
	if p.color {
		s = "\r\x1b[2m" + p.line() + "\x1b[0m"
	}
	_, _ = io.WriteString(p.out, s+"\x1b[K")
	p.shown = true
}

// clear erases the line if it is shown; p.mu is held.
func (p *progress) clear() {
	if p.shown {
		_, _ = io.WriteString(p.out, "\r\x1b[K")
		p.shown = false
	}
}

// wrap returns a writer to the same terminal as p's: each write first
// erases the status line.
func (p *progress) wrap(w io.Writer) io.Writer { return &progressWriter{p: p, w: w} }

type progressWriter struct {
	p *progress
	w io.Writer
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	p := pw.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	n, err := pw.w.Write(b)
	if n > 0 {
		p.lineStart = b[n-1] == '\n'
	}
	return n, err
}

// startProgress starts the status line on cio's stderr when it is a
// terminal, and returns the I/O to use while it runs (stdout too is
// wrapped when it is a terminal: the same screen, presumably) and the
// progress, nil when there is none. The caller must stop it.
func startProgress(cio *cmdIO, disabled bool) (*cmdIO, *progress) {
	if disabled {
		return cio, nil
	}
	p := newProgress(cio.stderr)
	if p == nil {
		return cio, nil
	}
	wrapped := &cmdIO{stdin: cio.stdin, stdout: cio.stdout, stderr: p.wrap(cio.stderr)}
	if isTerminal(cio.stdout) {
		wrapped.stdout = p.wrap(cio.stdout)
	}
	p.run()
	return wrapped, p
}
