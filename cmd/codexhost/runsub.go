package main

import (
	"context"
	"errors"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/rpc"
)

// Codex exec's review and fork subcommands (codex exec review, codex exec
// fork), as run's: they take every flag of run, before the word (run
// --json review --uncommitted) or after it.

const runReviewSynopsis = `run review [flags] (--uncommitted | --base BRANCH | --commit SHA [--title TITLE] | PROMPT | -)

Reviews the code changes of the repository in --cwd (default: the current
directory), as codex exec review does: the uncommitted changes (staged,
unstaged and untracked), the changes against a base branch, those of one
commit, or what PROMPT (or stdin with "-") asks to review. The review runs
as a turn of a new thread (or --thread), rendered like one. codex asks no
approval during a review (its reviewer's approval policy is never): its
commands run in the thread's sandbox (-s read-only keeps them from
writing), so with --policy, --plugin or --judge run review refuses, unless
--allow-unasked-policy. Takes every flag of run, before review (run --json
review --uncommitted) or after it.`

const runForkSynopsis = `run fork [flags] (THREAD_ID | NAME) [PROMPT | -]

Copies the stored thread THREAD_ID (or the most recently updated thread
named NAME) into a new thread, as codex exec fork does, and runs PROMPT (or stdin with "-") as the new thread's next turn;
without a PROMPT it only copies the thread and names the copy. The stored
thread is left as it was. Takes every flag of run, before fork (run --json
fork ID PROMPT) or after it.`

// reviewFlags are the target flags of run review.
type reviewFlags struct {
	uncommitted bool   // --uncommitted
	base        string // --base BRANCH
	commit      string // --commit SHA
	title       string // --title TITLE (with --commit)
}

// target is the review target the flags name, or nil without one (the
// review's instructions are then the prompt).
func (r *reviewFlags) target(changed func(string) bool) (*host.ReviewTarget, error) {
	var set []string
	for _, name := range []string{"uncommitted", "base", "commit"} {
		if changed(name) {
			set = append(set, "--"+name)
		}
	}
	for _, name := range []string{"base", "commit", "title"} {
		if changed(name) && map[string]string{"base": r.base, "commit": r.commit, "title": r.title}[name] == "" {
			return nil, usageErr("run review: --%s \"\": want a value", name)
		}
	}
	switch {
	case len(set) > 1:
		return nil, usageErr("run review: %s and %s: choose one", set[0], set[1])
	case changed("title") && !changed("commit"):
		return nil, usageErr("run review: --title goes with --commit")
	case r.uncommitted:
		return &host.ReviewTarget{Type: reviewUncommitted}, nil
	case changed("base"):
		return &host.ReviewTarget{Type: reviewBaseBranch, Branch: r.base}, nil
	case changed("commit"):
		return &host.ReviewTarget{Type: reviewCommit, Sha: r.commit, Title: r.title}, nil
	}
	return nil, nil
}

// The review target types of app-server's review/start.
const (
	reviewUncommitted = "uncommittedChanges"
	reviewBaseBranch  = "baseBranch"
	reviewCommit      = "commit"
	reviewCustom      = "custom"
)

// cmdRunReview is `run review`: a code review, as codex exec review.
func cmdRunReview(ctx context.Context, cio *cmdIO, args []string) error {
	var c runConfig
	var rf reviewFlags
	fs := newFlagSet(cio, "run review", runReviewSynopsis)
	c.register(fs)
	fs.BoolVar(&rf.uncommitted, "uncommitted", false, "review the staged, unstaged and untracked changes")
	fs.StringVar(&rf.base, "base", "", "review the changes against the base `BRANCH`")
	fs.StringVar(&rf.commit, "commit", "", "review the changes of the commit `SHA`")
	fs.StringVar(&rf.title, "title", "", "with --commit: the commit's `TITLE`, shown in the review summary")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	target, err := rf.target(fs.Changed)
	if err != nil {
		return err
	}
	// What review/start has no place for is refused, not dropped.
	switch {
	case len(c.exec.images) > 0:
		return usageErr("run review: -i/--image: a review takes no images (codex exec review has no -i)")
	case c.exec.outputSchemaFile != "":
		return usageErr("run review: --output-schema: a review answers in codex's review format, and review/start takes no schema (codex exec review ignores the flag)")
	}
	rest := fs.Args()
	switch {
	case target != nil && len(rest) > 0:
		return usageErr("run review: %s and a PROMPT: choose one (the PROMPT is the review's instructions)", reviewFlagName(target))
	case target == nil && len(rest) == 0:
		fs.Usage()
		return usageErr("run review: give --uncommitted, --base BRANCH, --commit SHA, or the review's instructions (PROMPT, or - for stdin)")
	case target == nil:
		target = &host.ReviewTarget{Type: reviewCustom} // its instructions are the prompt
	}
	c.review = target
	return c.run(ctx, cio, rest)
}

// reviewFlagName is the flag that chose t.
func reviewFlagName(t *host.ReviewTarget) string {
	switch t.Type {
	case reviewBaseBranch:
		return "--base"
	case reviewCommit:
		return "--commit"
	}
	return "--uncommitted"
}

// cmdRunFork is `run fork`: run on a copy of a stored thread, as codex
// exec fork.
func cmdRunFork(ctx context.Context, cio *cmdIO, args []string) error {
	args = expandImageArgs(args)
	var c runConfig
	fs := newFlagSet(cio, "run fork", runForkSynopsis)
	c.register(fs)
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	rest := fs.Args()
	switch {
	case c.thread != "":
		return usageErr("run fork: give the thread to copy as THREAD_ID, not --thread")
	case len(rest) == 0:
		fs.Usage()
		return usageErr("run fork: give the THREAD_ID of the thread to copy")
	case rest[0] == "" || rest[0] == "-":
		return usageErr("run fork: %q is not a THREAD_ID", rest[0])
	}
	c.fork = rest[0]
	return c.run(ctx, cio, rest[1:])
}

// subPrompt is the prompt of run review and run fork, and whether they
// have one: a review with a target flag takes none (its instructions are
// codex's), and a fork without one only copies the thread. ok is false
// for run and run resume, whose prompt readPrompt reads.
func (c *runConfig) subPrompt(args []string) (prompt string, ok bool) {
	switch {
	case c.review != nil && c.review.Type != reviewCustom:
		return "", true
	case c.fork != "" && len(args) == 0:
		return "", true
	}
	return "", false
}

// forkThread copies the thread run fork names, with run's thread settings.
func (c *runConfig) forkThread(ctx context.Context, client *host.Client, opts *host.ThreadOptions) (*host.Thread, error) {
	th, err := client.ForkThread(ctx, c.fork, opts)
	if err != nil {
		return nil, c.storedThreadErr(ctx, c.fork, "fork the thread", err)
	}
	return th, nil
}

// storedThreadErr is the error of resuming or forking the stored thread
// id (what says which): a thread codex does not have, or an id it
// refuses, is a usage error naming how the user gave it (threadFlag);
// anything else is the connection's failure.
func (c *runConfig) storedThreadErr(ctx context.Context, id, what string, err error) error {
	switch {
	case errors.Is(err, host.ErrThreadNotFound):
		return usageErr("%s %s: no such thread in this CODEX_HOME", c.threadFlag(), id)
	case errors.Is(err, rpc.ErrInvalidParams) || errors.Is(err, rpc.ErrInvalidRequest):
		return usageErr("%s %s: codex refused it: %s", c.threadFlag(), id, innermost(err))
	}
	return connFailure(ctx, what, err)
}

// startWork starts the run's work on threadID: the review with run
// review, else the turn of prompt.
func (c *runConfig) startWork(ctx context.Context, client *host.Client, threadID, prompt string, topts *host.TurnOptions) (*host.Turn, error) {
	if c.review == nil {
		t, err := client.StartTurn(ctx, threadID, c.exec.inputs(prompt), topts)
		if err != nil {
			return nil, c.failure(ctx, "start the turn", err)
		}
		return t, nil
	}
	target := *c.review
	if target.Type == reviewCustom {
		target.Instructions = prompt
	}
	t, err := client.StartReview(ctx, threadID, target)
	if err != nil {
		return nil, c.failure(ctx, "start the review", err)
	}
	return t, nil
}

// reviewUnasked is why run review refuses a policy: codex reviews with a
// sub-agent whose approval policy is never, whatever the thread's
// (codex-rs core/src/tasks/review.rs), so it asks nothing during a
// review.
const reviewUnasked = "codex runs a review's commands without asking anyone (its reviewer's approval policy is \"never\", whatever the thread's), inside the thread's sandbox: the policy and plugins would not be asked about any of them; run the review without --policy, --plugin and --judge (with -s read-only it cannot write)"

// checkReviewUnasked refuses run review with a policy, a plugin or the
// judge loaded (none of them would be asked), or only warns with
// --allow-unasked-policy.
func (c *runConfig) checkReviewUnasked(cio *cmdIO) error {
	if c.review == nil || !c.guarded() {
		return nil
	}
	return c.refuseUnasked(cio, reviewUnasked)
}
