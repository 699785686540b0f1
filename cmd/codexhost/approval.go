package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/protocol"
	"github.com/codexhost/codexhost/internal/termsafe"
)

// The approval model: codex decides which actions it asks about, and the
// policy (--policy, --plugin, --judge, the config file's plugins) can only
// answer what codex asks. This file makes that visible and enforced:
//
//   - --approval-policy and --sandbox take only the values the pinned codex
//     accepts (exit 2 with the list otherwise);
//   - with a policy configured and no approval policy chosen (flag, -c,
//     config.toml), run asks codex for "untrusted": codex 0.169.0 then asks
//     about every command and patch;
//   - what codex reports in effect for the thread is checked before the
//     first turn: approval policy "never", codex's own approvals reviewer,
//     "on-request"/"granular" without a sandbox, permission-request hooks
//     codex runs, or exec-policy rules that allow commands (execpolicy.go)
//     mean a plugin is not asked,
//     so run refuses (exit 2) unless --allow-unasked-policy turns that into
//     a warning; "granular", and "on-request" nobody passed on the command
//     line, get a note;
//   - with a policy configured, codex's terminal execution is off
//     (checkTerminal): input the agent writes to a running command is
//     not asked about;
//   - without usable credentials, run stops with exit 4 before any turn
//     instead of letting codex retry for minutes.

// defaultGuardedApprovalPolicy is the approval policy run asks for when a
// policy is configured and the user chose none.
const defaultGuardedApprovalPolicy = "untrusted"

// guarded reports whether anything would answer codex's approval
// requests besides the safe default: a rules policy, a plugin, the judge.
func (c *runConfig) guarded() bool {
	if c.policy != "" || len(c.plugins) > 0 || c.judge {
		return true
	}
	if f := c.ops.file; f != nil && (len(f.Plugins) > 0 || f.Policy != "") {
		return true
	}
	return false
}

// checkApprovalFlags validates --approval-policy and --sandbox against
// the values the pinned codex accepts, and picks the guarded default.
// It runs after the config file is applied.
func (c *runConfig) checkApprovalFlags() error {
	if c.approvalPolicy != "" && !slices.Contains(host.ApprovalPolicies, c.approvalPolicy) {
		return usageErr("--approval-policy %q: want one of %s", c.approvalPolicy, strings.Join(host.ApprovalPolicies, ", "))
	}
	if c.sandbox != "" && !slices.Contains(host.SandboxModes, c.sandbox) {
		return usageErr("--sandbox %q: want one of %s", c.sandbox, strings.Join(host.SandboxModes, ", "))
	}
	if c.approvalPolicy == "" && c.guarded() && !c.codexConfigSetsApprovalPolicy() {
		c.approvalPolicy = defaultGuardedApprovalPolicy
	}
	return nil
}

// terminalFeature is codex's feature that lets exec_command run a command
// in a terminal (tty), whose input the agent then writes with write_stdin.
// codex 0.169 asks no one about that input, under every approval policy,
// and its approval request for the command does not say that the command
// runs in a terminal: an accepted "less README.md" or "python3" runs
// whatever the agent types next. Without a terminal a command's stdin is
// closed.
const terminalFeature = "unified_exec_tty"

// checkTerminal turns codex's terminal execution off when a policy is
// loaded, so that what runs is what the policy was shown. An explicit
// --enable of it is refused (unless --allow-unasked-policy): the policy
// would not be asked about what the agent types.
func (c *runConfig) checkTerminal(cio *cmdIO) error {
	if !c.guarded() {
		return nil
	}
	if slices.Contains(c.exec.enable, terminalFeature) {
		return c.refuseUnasked(cio, fmt.Sprintf("--enable %s: codex lets the agent write input to a command it runs in a terminal (write_stdin) without asking the policy, which was shown only the command", terminalFeature))
	}
	if !slices.Contains(c.exec.disable, terminalFeature) {
		c.exec.disable = append(c.exec.disable, terminalFeature)
	}
	return nil
}

// codexConfigSetsApprovalPolicy reports whether the user chose an
// approval policy in codex's own configuration: a -c override, or
// approval_policy in CODEX_HOME/config.toml (codex 0.169.0 refuses the
// legacy profile = NAME that selected a [profiles] table). That choice is
// respected (and checked after the thread starts); only a policy nobody
// chose is replaced by the guarded default.
func (c *runConfig) codexConfigSetsApprovalPolicy() bool {
	for _, kv := range c.config {
		if k, _, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == "approval_policy" {
			return true
		}
	}
	home := c.codexHomeDir()
	if home == "" {
		return false
	}
	var cfg struct {
		ApprovalPolicy any `toml:"approval_policy"`
	}
	if _, err := toml.DecodeFile(filepath.Join(home, "config.toml"), &cfg); err != nil {
		return false // codex reports a bad config itself
	}
	return cfg.ApprovalPolicy != nil
}

// codexHomeDir is the CODEX_HOME codex will use: --codex-home,
// $CODEX_HOME (made absolute, as host passes them to codex), or ~/.codex;
// "" if none can be found. Once codex runs, the client says which it uses.
func (c *runConfig) codexHomeDir() string {
	for _, h := range []string{c.codexHome, os.Getenv("CODEX_HOME")} {
		if h != "" {
			if abs, err := filepath.Abs(h); err == nil {
				return abs
			}
			return h
		}
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(h, ".codex")
}

// runningCodexHome is the CODEX_HOME the running codex uses, as the
// client reports it, or else codexHomeDir.
func (c *runConfig) runningCodexHome(client *host.Client) string {
	if h := client.CodexHome(); h != "" {
		return h
	}
	return c.codexHomeDir()
}

// unsandboxed names th's sandbox if it confines nothing: none, one codex
// does not manage, or writes allowed everywhere; else it returns "".
func unsandboxed(th *host.Thread) string {
	switch {
	case th.Sandbox == "danger-full-access" || th.Sandbox == "external":
		return fmt.Sprintf("%q", th.Sandbox)
	case th.Sandbox == "workspace-write" && slices.ContainsFunc(th.WritableRoots, func(r string) bool { return filepath.Clean(r) == "/" }):
		return `"workspace-write" with the writable root "/"`
	}
	return ""
}

// threadCwd is the directory the thread runs in: --cwd (which run makes
// absolute), or this process's.
func (c *runConfig) threadCwd() string {
	if c.cwd != "" {
		return c.cwd
	}
	wd, _ := os.Getwd()
	return wd
}

// checkEffectiveApproval refuses a run whose policy would never be
// asked, and notes one that is asked only about some actions. th is what
// codex reports in effect for the thread, after its config.toml, profiles
// and -c overrides: its approval policy, who reviews approvals, and its
// sandbox; codexHome is the CODEX_HOME codex uses (runningCodexHome);
// project is what codex loads of the thread's project, or nil if codex did
// not say (readCodexProject).
func (c *runConfig) checkEffectiveApproval(cio *cmdIO, th *host.Thread, codexHome string, project *codexProject, hooks []string) error {
	if !c.guarded() {
		return nil
	}
	if project != nil && len(project.servers) > 0 {
		fmt.Fprintf(cio.stderr, "codexhost: note: codex has MCP servers (%s): it calls their tools that say they only read (readOnlyHint) without asking, and asks about the others with an MCP elicitation, which codexhost declines; the policy is asked about neither\n", strings.Join(project.servers, ", "))
	}
	unsandboxed := unsandboxed(th)
	var why string
	switch allowing := execPolicyAllowing(execPolicyDirs(codexHome, c.effectiveCwd(th), project)); {
	case len(hooks) > 0:
		why = fmt.Sprintf("codex runs permission-request hooks, which answer approval requests before the policy is asked: %s; disable them for this run", strings.Join(hooks, ", "))
	case len(allowing) > 0:
		why = fmt.Sprintf("codex's exec-policy rules may run commands without asking, under any approval policy: %s; remove the allow rules (an accept with an amendment adds one to CODEX_HOME/rules/default.rules)", strings.Join(allowing, ", "))
	case th.ApprovalsReviewer != "" && th.ApprovalsReviewer != "user":
		why = fmt.Sprintf("codex's approvals reviewer is %q: codex's own reviewer answers its approval requests, so the policy and plugins are not asked; set approvals_reviewer=\"user\" (-c approvals_reviewer='\"user\"')", th.ApprovalsReviewer)
	case th.ApprovalPolicy == "never":
		why = "codex's approval policy is \"never\": codex will run commands without asking, so the policy and plugins are never consulted; use --approval-policy untrusted or on-request (and check approval_policy in config.toml, profiles and -c)"
	case unsandboxed != "" && th.ApprovalPolicy != "untrusted":
		why = fmt.Sprintf("codex's approval policy is %q with the sandbox %s: nothing is sandboxed, so nothing is escalated and codex runs every command without asking the policy; use --approval-policy untrusted", th.ApprovalPolicy, unsandboxed)
	case th.ApprovalPolicy == "granular":
		fmt.Fprintln(cio.stderr, `codexhost: note: codex's approval policy is "granular" (from codex's config): the policy is asked only about the kinds of request it lets through, and only about actions codex escalates; commands inside the sandbox run unasked; --approval-policy untrusted asks about every command`)
		return nil
	case th.ApprovalPolicy == "on-request" && c.approvalPolicy == "":
		fmt.Fprintln(cio.stderr, `codexhost: note: codex's approval policy is "on-request" (from codex's config): the policy is asked only about actions codex escalates, and commands inside the sandbox run unasked; --approval-policy untrusted asks about every command`)
		return nil
	default:
		return nil
	}
	return c.refuseUnasked(cio, why)
}

// effectiveCwd is the directory th runs in, as codex reports it, or
// threadCwd.
func (c *runConfig) effectiveCwd(th *host.Thread) string {
	if th != nil && th.Cwd != "" {
		return th.Cwd
	}
	return c.threadCwd()
}

// checkProjectMCP refuses, before the thread starts or resumes, a run with
// a policy loaded whose project declares MCP servers: codex starts them as
// the thread starts. It asks codex which project config it loads
// (readCodexProject), and reads the files itself (projectMCPServers) only
// if codex does not say. It returns what codex said, and for which cwd,
// for checkEffectiveApproval to reuse (nil when it did not say).
func (c *runConfig) checkProjectMCP(ctx context.Context, cio *cmdIO, client *host.Client, threadID string) (*codexProject, string, error) {
	if !c.guarded() {
		return nil, "", nil
	}
	cwd := c.threadCwd()
	if threadID != "" && c.cwd == "" {
		// A resumed thread runs in its stored cwd.
		if t, err := client.ReadThread(ctx, threadID, false); err == nil && t.Cwd != "" {
			cwd = t.Cwd
		}
	}
	var servers, keys []string
	p, err := readCodexProject(ctx, client, cwd)
	if err == nil {
		servers, keys = p.mcp, p.run
	} else {
		for _, s := range projectMCPServers(c.runningCodexHome(client), cwd) {
			if slices.ContainsFunc(projectRunKeys, func(k string) bool { return strings.HasSuffix(s, ": "+k) }) {
				keys = append(keys, s)
			} else {
				servers = append(servers, s)
			}
		}
	}
	if len(servers) > 0 {
		return p, cwd, c.refuseUnasked(cio, fmt.Sprintf("the project's codex config declares MCP servers, which codex starts (commands of the project's) when a thread starts in the trusted project, asking no one: %s; remove them", strings.Join(servers, ", ")))
	}
	if len(keys) > 0 {
		return p, cwd, c.refuseUnasked(cio, fmt.Sprintf("the project's codex config sets what an accepted command runs with, or where (a shell environment such as BASH_ENV runs a script before every command), which the policy does not see: %s; remove them (a file in the workspace is the agent's to write)", strings.Join(keys, ", ")))
	}
	return p, cwd, nil
}

// refuseUnasked refuses a run for why (a setting under which the policy
// is not asked), or only warns with --allow-unasked-policy.
func (c *runConfig) refuseUnasked(cio *cmdIO, why string) error {
	if c.allowUnasked {
		fmt.Fprintf(cio.stderr, "codexhost: warning: %s (--allow-unasked-policy)\n", termsafe.Line(why))
		return nil
	}
	return usageErr("%s; or pass --allow-unasked-policy to run anyway", why)
}

// permissionHooks returns the hooks codex runs for threadID's permission
// requests, each named by where it is configured: such a hook answers a
// request before the client is asked. Hooks that are disabled, or that
// codex does not trust (untrusted, or modified since trusted), do not run.
func permissionHooks(ctx context.Context, client *host.Client, threadID string) ([]string, error) {
	var resp protocol.HooksListResponse
	if err := client.Call(ctx, string(protocol.ClientHooksList), protocol.HooksListParams{ThreadID: &threadID}, &resp); err != nil {
		return nil, err
	}
	var out []string
	for _, e := range resp.Data {
		for _, h := range e.Hooks {
			if h.EventName != protocol.HookEventNamePermissionRequest || !h.Enabled {
				continue
			}
			if h.TrustStatus != protocol.HookTrustStatusTrusted && h.TrustStatus != protocol.HookTrustStatusManaged {
				continue
			}
			out = append(out, termsafe.Line(fmt.Sprintf("%s (%s)", h.SourcePath, h.Source)))
		}
	}
	return out, nil
}

// checkAccount stops a run that cannot reach a model: codex requires an
// OpenAI login for the configured provider and has none. Without this
// check codex would retry the model for minutes before the turn fails.
func checkAccount(ctx context.Context, client *host.Client) error {
	a, err := client.Account(ctx)
	if err != nil {
		return connFailure(ctx, "read the account", err)
	}
	if a.RequiresOpenAIAuth && !a.LoggedIn {
		return fail(exitConn, "codex is not logged in: run `codex login`, set OPENAI_API_KEY (then `codex login --with-api-key`), or pass --codex-home with a configured model provider")
	}
	return nil
}
