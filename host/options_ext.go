package host

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
)

// This file holds the thread and turn options that map onto app-server
// params directly: each is sent only when set, before the options' Extra
// map, which is merged last and so wins.

// Personalities are the values [ThreadOptions.Personality] and
// [TurnOptions.Personality] take.
var Personalities = []string{"none", "friendly", "pragmatic"}

// ApprovalsReviewers are the values [ThreadOptions.ApprovalsReviewer] takes:
// who reviews approval requests before they reach the client. "user" (the
// default) sends every one to the client's handler.
var ApprovalsReviewers = []string{"user", "auto_review", "guardian_subagent"}

// ReasoningSummaries are the values [TurnOptions.Summary] takes.
var ReasoningSummaries = []string{"auto", "concise", "detailed", "none"}

// A ThreadSortKey orders [Client.Threads].
type ThreadSortKey string

const (
	// ThreadsByUpdated lists the most recently updated threads first (the
	// server's default).
	ThreadsByUpdated ThreadSortKey = "updated_at"
	// ThreadsByCreated lists the most recently created threads first.
	ThreadsByCreated ThreadSortKey = "created_at"
)

// A ThreadSource is the kind of codex client that started a stored thread
// ([ListOptions.Sources]).
type ThreadSource string

const (
	// ThreadSourceCLI is the interactive codex.
	ThreadSourceCLI ThreadSource = "cli"
	// ThreadSourceVSCode is the IDE extension.
	ThreadSourceVSCode ThreadSource = "vscode"
	// ThreadSourceExec is codex exec.
	ThreadSourceExec ThreadSource = "exec"
	// ThreadSourceAppServer is an app-server client.
	ThreadSourceAppServer ThreadSource = "appServer"
)

// A SandboxPolicy is the sandbox one turn runs its commands in
// ([TurnOptions.SandboxPolicy]); it replaces the thread's sandbox mode for
// that turn and the turns after it.
type SandboxPolicy struct {
	// Type is "readOnly", "workspaceWrite", "dangerFullAccess" or
	// "externalSandbox".
	Type string
	// WritableRoots are absolute directories a workspaceWrite sandbox may
	// write besides the working directory.
	WritableRoots []string
	// NetworkAccess lets sandboxed commands use the network.
	NetworkAccess bool
	// ExcludeTmpdirEnvVar and ExcludeSlashTmp keep $TMPDIR and /tmp
	// read-only under workspaceWrite.
	ExcludeTmpdirEnvVar, ExcludeSlashTmp bool
}

func (s *SandboxPolicy) wire() map[string]any {
	m := map[string]any{"type": s.Type}
	switch s.Type {
	case "readOnly":
		m["networkAccess"] = s.NetworkAccess
	case "workspaceWrite":
		m["networkAccess"] = s.NetworkAccess
		m["writableRoots"] = append([]string{}, s.WritableRoots...)
		m["excludeTmpdirEnvVar"] = s.ExcludeTmpdirEnvVar
		m["excludeSlashTmp"] = s.ExcludeSlashTmp
	case "externalSandbox":
		m["networkAccess"] = "restricted"
		if s.NetworkAccess {
			m["networkAccess"] = "enabled"
		}
	}
	return m
}

// A CollaborationMode is a preset for one turn ([TurnOptions.Collaboration]):
// "plan" has the agent plan without acting; "default" is the usual mode.
// Its settings take precedence over the turn's Model and Effort.
type CollaborationMode struct {
	Mode                  string // "default" or "plan"
	Model                 string // required by codex
	Effort                string
	DeveloperInstructions string
}

func (m *CollaborationMode) wire() map[string]any {
	s := map[string]any{"model": m.Model}
	if m.Effort != "" {
		s["reasoning_effort"] = m.Effort
	}
	if m.DeveloperInstructions != "" {
		s["developer_instructions"] = m.DeveloperInstructions
	}
	return map[string]any{"mode": m.Mode, "settings": s}
}

// extraParams returns the thread/start, thread/resume and thread/fork
// params that o sets beyond the typed wire fields, Extra last.
func (o *ThreadOptions) extraParams() map[string]any {
	m := map[string]any{}
	if o.Personality != "" {
		m["personality"] = o.Personality
	}
	if o.ServiceTier != "" {
		m["serviceTier"] = o.ServiceTier
	}
	if o.ApprovalsReviewer != "" {
		m["approvalsReviewer"] = o.ApprovalsReviewer
	}
	return joinExtra(m, o.Extra)
}

// extraParams returns the turn/start params that o sets beyond the typed
// wire fields, Extra last. A nil o sets none.
func (o *TurnOptions) extraParams() map[string]any {
	if o == nil {
		return nil
	}
	m := map[string]any{}
	if len(o.OutputSchema) > 0 {
		m["outputSchema"] = json.RawMessage(o.OutputSchema)
	}
	if o.Summary != "" {
		m["summary"] = o.Summary
	}
	if o.SandboxPolicy != nil {
		m["sandboxPolicy"] = o.SandboxPolicy.wire()
	}
	if o.Collaboration != nil {
		m["collaborationMode"] = o.Collaboration.wire()
	}
	if o.Personality != "" {
		m["personality"] = o.Personality
	}
	if o.ServiceTier != "" {
		m["serviceTier"] = o.ServiceTier
	}
	return joinExtra(m, o.Extra)
}

// processEnv is app-server's environment: the inherited one (or none, with
// ReplaceEnv), then CODEX_HOME, then Env. A later entry for a key wins, as
// in exec.Cmd. A relative CODEX_HOME (CodexHome, or inherited) is made
// absolute against this process's directory: app-server runs in Dir, and
// would read another directory than the caller means.
func (o *Options) processEnv() []string {
	var env []string
	if !o.ReplaceEnv {
		env = os.Environ()
		if h := os.Getenv("CODEX_HOME"); h != "" && !filepath.IsAbs(h) {
			if abs, err := filepath.Abs(h); err == nil {
				env = append(env, "CODEX_HOME="+abs)
			}
		}
	}
	if h := o.CodexHome; h != "" {
		if abs, err := filepath.Abs(h); err == nil {
			h = abs
		}
		env = append(env, "CODEX_HOME="+h)
	}
	return append(env, o.Env...)
}

// resumeForRun resumes threadID for [RunOptions.ThreadID], as the seed SDK
// does, without fetching its history. A thread codex has no rollout for
// yet (started on this app-server, never run) cannot be resumed but takes
// turns: for ErrThreadNotFound the turn is started anyway, and turn/start
// reports a thread that does not exist.
func (c *Client) resumeForRun(ctx context.Context, threadID string, opts *ThreadOptions) error {
	o := ThreadOptions{}
	if opts != nil {
		o = *opts
	}
	o.noHistory = true
	if _, err := c.ResumeThread(ctx, threadID, &o); err != nil && !errors.Is(err, ErrThreadNotFound) {
		return err
	}
	return nil
}
