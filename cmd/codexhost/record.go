package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/transcript"
)

// A recording is the --record transcript file of a run.
type recording struct {
	cio  *cmdIO
	path string
	f    *os.File
	tw   *transcript.Writer
}

// openRecord creates the transcript file for --record; an empty path means
// no recording (a nil *recording, whose methods do nothing). The file is
// written unbuffered, one record per write, so that what was recorded is on
// disk whatever way codexhost ends.
func openRecord(cio *cmdIO, path string) (*recording, error) {
	if path == "" {
		return nil, nil
	}
	// A transcript holds prompts, command output and file contents:
	// readable by its owner only.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, usageErr("--record %s: %v", path, unwrapPathError(err))
	}
	// The header is written when host.Start has read the version of the
	// codex that runs (host holds it until initialize), so that it names
	// that codex, not the one codexhost was built against; close writes
	// it, without a codex version, if codex never started.
	tw := transcript.NewWriter(f, transcript.Header{Codexhost: host.Version})
	return &recording{cio: cio, path: path, f: f, tw: tw}, nil
}

func (r *recording) writer() *transcript.Writer {
	if r == nil {
		return nil
	}
	return r.tw
}

// close syncs and closes the file; a failure is reported on stderr (the
// run's own result stands).
func (r *recording) close() {
	if r == nil || r.f == nil {
		return
	}
	err := r.tw.Begin() // if codex never started; else a no-op
	if terr := r.tw.Err(); err == nil {
		err = terr
	}
	if serr := r.f.Sync(); err == nil {
		err = serr
	}
	if cerr := r.f.Close(); err == nil {
		err = cerr
	}
	r.f = nil
	if err != nil {
		fmt.Fprintf(r.cio.stderr, "codexhost: --record %s: the transcript is incomplete: %v\n", r.path, err)
	}
}

// unwrapPathError drops the *PathError's own "open PATH:" prefix, which the
// message already has.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// failure is [connFailure], but says so when --timeout is what ended ctx
// (codex can take seconds to start on a busy machine).
func (c *runConfig) failure(ctx context.Context, what string, err error) error {
	if c.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fail(exitTurnFailed, "%s: timed out after %s (--timeout)", what, c.timeout)
	}
	return connFailure(ctx, what, err)
}
