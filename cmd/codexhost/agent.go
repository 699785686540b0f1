package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	hosttest "github.com/codexhost/codexhost/internal/fakemodel"
)

// The offline scripted agent: a script file (TOML) says what the agent
// does, turn by turn, and codexhost serves it as a fake model that the
// real codex talks to. Policies and plugins then see exactly the requests
// they would see in production, without an account or a network.
//
//	codexhost agent serve --codex-home DIR SCRIPT   serve until Ctrl-C
//	codexhost run --scripted SCRIPT "prompt"        one step: serve and run

// An agentScript is a parsed script file.
type agentScript struct {
	// Turns answer the user's prompts in order; the last one answers any
	// further prompt.
	Turns []scriptTurn `toml:"turn"`
}

type scriptTurn struct {
	Steps []scriptStep `toml:"step"`
}

// A scriptStep is one response of the model: optional text, and at most
// one action. A step without an action ends the turn.
type scriptStep struct {
	Say      string           `toml:"say"`
	Think    string           `toml:"think"`
	Run      string           `toml:"run"`
	Escalate bool             `toml:"escalate"`
	Workdir  string           `toml:"workdir"`
	Patch    string           `toml:"patch"`
	Write    *scriptWrite     `toml:"write"`
	Ask      []scriptQuestion `toml:"ask"`
	Tool     *scriptTool      `toml:"tool"`
	Fail     string           `toml:"fail"`
}

type scriptWrite struct {
	Path    string `toml:"path"`
	Content string `toml:"content"`
}

type scriptQuestion struct {
	ID       string   `toml:"id"`
	Header   string   `toml:"header"`
	Question string   `toml:"question"`
	Options  []string `toml:"options"`
}

type scriptTool struct {
	Name      string         `toml:"name"`
	Namespace string         `toml:"namespace"`
	Arguments map[string]any `toml:"arguments"`
}

// loadAgentScript reads and checks a script file. Errors name the file,
// the turn and step, and what is wrong.
func loadAgentScript(path string) (*agentScript, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, usageErr("%s: no such script file", path)
		}
		return nil, usageErr("%s: %v", path, err)
	}
	var s agentScript
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&s)
	if err != nil {
		return nil, usageErr("%s: not a valid script: %s", path, oneLine(err.Error()))
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, usageErr("%s: unknown key %q (a step takes say, think, run, escalate, workdir, patch, write, ask, tool or fail)", path, un[0].String())
	}
	if len(s.Turns) == 0 {
		return nil, usageErr("%s: no [[turn]]: a script needs at least one turn with its [[turn.step]]s", path)
	}
	for i, t := range s.Turns {
		if len(t.Steps) == 0 {
			return nil, usageErr("%s: turn %d has no [[turn.step]]", path, i+1)
		}
		for j, st := range t.Steps {
			where := fmt.Sprintf("%s: turn %d, step %d", path, i+1, j+1)
			n := 0
			for _, set := range []bool{st.Run != "", st.Patch != "", st.Write != nil, st.Ask != nil, st.Tool != nil, st.Fail != ""} {
				if set {
					n++
				}
			}
			switch {
			case n > 1:
				return nil, usageErr("%s: more than one action (a step takes one of run, patch, write, ask, tool, fail, with an optional say)", where)
			case n == 0 && st.Say == "":
				return nil, usageErr("%s: empty step: give say, or an action (run, patch, write, ask, tool, fail); think goes with either", where)
			case n == 0 && j != len(t.Steps)-1:
				return nil, usageErr("%s: a step with only say ends the turn, so it must be the turn's last step", where)
			case (st.Escalate || st.Workdir != "") && st.Run == "":
				return nil, usageErr("%s: escalate and workdir go with run", where)
			case st.Write != nil && st.Write.Path == "":
				return nil, usageErr("%s: write needs a path", where)
			case st.Tool != nil && st.Tool.Name == "":
				return nil, usageErr("%s: tool needs a name", where)
			}
			for k, q := range st.Ask {
				if q.ID == "" || q.Question == "" {
					return nil, usageErr("%s: question %d needs an id and a question", where, k+1)
				}
			}
		}
	}
	return &s, nil
}

// fakeModelScript turns the script into the fake model's answers.
func (s *agentScript) fakeModelScript() hosttest.Script {
	turns := make([]hosttest.Script, 0, len(s.Turns))
	for _, t := range s.Turns {
		replies := make([]hosttest.Reply, 0, len(t.Steps))
		for _, st := range t.Steps {
			replies = append(replies, st.reply())
		}
		turns = append(turns, hosttest.Turn(replies...))
	}
	return hosttest.Turns(turns...)
}

func (st scriptStep) reply() hosttest.Reply {
	r := st.act()
	if st.Think != "" {
		return hosttest.Reasoning(st.Think).And(r)
	}
	return r
}

// act is the step's text and action, without its reasoning.
func (st scriptStep) act() hosttest.Reply {
	var action *hosttest.Reply
	set := func(r hosttest.Reply) { action = &r }
	switch {
	case st.Run != "":
		args := hosttest.ExecArgs{Cmd: st.Run, Workdir: st.Workdir}
		if st.Escalate {
			args.SandboxPermissions = "require_escalated"
			args.Justification = st.Say
		}
		set(hosttest.ExecCommandArgs(args))
	case st.Patch != "":
		set(hosttest.ApplyPatch(st.Patch))
	case st.Write != nil:
		set(hosttest.ApplyPatch(hosttest.AddFilePatch(st.Write.Path, st.Write.Content)))
	case st.Ask != nil:
		qs := make([]hosttest.Question, 0, len(st.Ask))
		for _, q := range st.Ask {
			hq := hosttest.Question{ID: q.ID, Header: q.Header, Question: q.Question, Options: []hosttest.Option{}}
			for _, o := range q.Options {
				hq.Options = append(hq.Options, hosttest.Option{Label: o, Description: o})
			}
			qs = append(qs, hq)
		}
		set(hosttest.RequestUserInput(qs...))
	case st.Tool != nil:
		args := st.Tool.Arguments
		if args == nil {
			args = map[string]any{}
		}
		r := hosttest.FunctionCall(st.Tool.Name, args)
		if st.Tool.Namespace != "" {
			r = r.InNamespace(st.Tool.Namespace)
		}
		set(r)
	case st.Fail != "":
		return hosttest.Failed("server_error", st.Fail)
	}
	switch {
	case action == nil:
		return hosttest.Text(st.Say)
	case st.Say != "":
		return hosttest.Text(st.Say).And(*action)
	}
	return *action
}

// A scriptedAgent is a served script: the fake model and the CODEX_HOME
// that points codex at it.
type scriptedAgent struct {
	model *hosttest.Model
	home  string
}

// startScriptedAgent serves the script at path and writes a CODEX_HOME
// for it into home (created if needed). The CODEX_HOME sets no approval
// policy, so codexhost's own default applies as with a user's codex.
func startScriptedAgent(path, home string) (*scriptedAgent, error) {
	s, err := loadAgentScript(path)
	if err != nil {
		return nil, err
	}
	m, err := hosttest.StartModel(&hosttest.ModelOptions{Script: s.fakeModelScript()})
	if err != nil {
		return nil, fail(exitConn, "start the scripted agent: %v", err)
	}
	// Never over a user's own codex configuration (--codex-home ~/.codex):
	// only over one an earlier agent serve wrote.
	cfg := filepath.Join(home, "config.toml")
	if b, err := os.ReadFile(cfg); err == nil && !bytes.HasPrefix(b, []byte(hosttest.CodexHomeHeader)) {
		_ = m.Close()
		return nil, usageErr("agent serve: %s exists and is not one agent serve wrote: pick another --codex-home (it would replace that codex configuration)", cfg)
	}
	opts := &hosttest.CodexHomeOptions{OmitApprovalPolicy: true, RequestUserInput: true, SandboxMode: "workspace-write"}
	if err := hosttest.WriteCodexHome(home, m.URL(), opts); err != nil {
		_ = m.Close()
		return nil, usageErr("write the scripted agent's CODEX_HOME %s: %v", home, err)
	}
	return &scriptedAgent{model: m, home: home}, nil
}

func (a *scriptedAgent) Close() error { return a.model.Close() }

const agentServeSynopsis = `agent serve [--codex-home DIR] SCRIPT

Serves an agent script (TOML; docs/cli.md#agent-scripts) as a fake model on
127.0.0.1 and writes a CODEX_HOME that points codex at it, then waits until
Ctrl-C. Run turns against it with codexhost run --codex-home DIR, or with
CODEX_HOME=DIR; the real codex drives your plugins as in production, with no
account and no network. run --scripted SCRIPT does both in one step.`

func cmdAgentServe(ctx context.Context, cio *cmdIO, args []string) error {
	home := ".codexhost-agent"
	fs := newFlagSet(cio, "agent serve", agentServeSynopsis)
	fs.StringVar(&home, "codex-home", home, "write the CODEX_HOME for the script into `DIR`")
	if err := parseFlags(cio, fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageErr("agent serve: want one SCRIPT, got %d arguments", fs.NArg())
	}
	a, err := startScriptedAgent(fs.Arg(0), home)
	if err != nil {
		return err
	}
	defer a.Close()
	abs, _ := filepath.Abs(home)
	fmt.Fprintf(cio.stdout, "serving %s at %s\nCODEX_HOME=%s\n", fs.Arg(0), a.model.URL(), abs)
	fmt.Fprintf(cio.stderr, "Ctrl-C stops it; in another shell: codexhost run --codex-home %s \"PROMPT\"\n", shellQuote(abs))
	<-ctx.Done()
	return nil
}

// shellQuote quotes s for a POSIX shell if it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
