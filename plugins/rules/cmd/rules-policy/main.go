// Command rules-policy is codexhost's rule policy plugin: it decides
// approval requests with the ordered rules of a TOML rules file, and
// answers the agent's questions with its [[answer]] tables (see package
// [github.com/codexhost/codexhost/plugins/rules]).
//
// Its settings are the rules document itself, as JSON (codexhost run
// --settings @rules.toml reads a TOML rules file into it):
//
//	{"rule": [{"name": "no-rm", "decision": "decline", "match": {"program": "rm"}}]}
//
// or, as before, the rules file's text:
//
//	{"name": "rules.toml", "rules": "[[rule]]\nname = ..."}
//
// A file that does not parse or validate refuses the plugin at load, with
// the line and field of each problem.
//
// Build it as a sandboxed WebAssembly plugin:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o rules-policy.wasm ./plugins/rules/cmd/rules-policy
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sync/atomic"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins/rules"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// settings are the plugin's settings.
type settings struct {
	// Name is the rules file's name, for error messages. Default
	// "rules.toml".
	Name string `json:"name"`
	// Rules is the rules file's text.
	Rules *string `json:"rules"`
}

var policy atomic.Pointer[rules.Policy]

func init() {
	guest.Info("rules", "1.0.0", "decides approvals with the ordered rules of a rules file, and answers the agent's questions with its answers")
	guest.OnConfigure(configure)
	guest.OnApproval(approve)
	guest.OnToolInput(answer)
}

func badConfig(msg string) error {
	return &abi.Error{Code: abi.CodeBadConfig, Message: msg}
}

const wantSettings = `want the rules document itself ({"rule": [...]}) or {"name": "rules.toml", "rules": "<the rules file's text>"}`

func configure(data []byte) error {
	if string(data) == "null" || len(data) == 0 {
		return badConfig("rules: no settings; " + wantSettings)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return badConfig("rules: settings: " + err.Error() + "; " + wantSettings)
	}
	var p *rules.Policy
	var err error
	if _, text := doc["rules"]; text {
		// The rules file's text.
		var s settings
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return badConfig("rules: settings: " + err.Error() + "; " + wantSettings)
		}
		if s.Rules == nil {
			return badConfig(`rules: settings: "rules" is null (want the rules file's text)`)
		}
		if s.Name == "" {
			s.Name = "rules.toml"
		}
		p, err = rules.Parse(s.Name, []byte(*s.Rules))
	} else {
		// The rules document itself, e.g. a rules file the host read
		// (--settings @rules.toml).
		name := "settings"
		if n, ok := doc["name"].(string); ok {
			name = n
			delete(doc, "name")
		}
		p, err = rules.ParseDocument(name, doc)
	}
	if err != nil {
		return badConfig(err.Error())
	}
	policy.Store(p)
	return nil
}

func approve(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	p := policy.Load()
	if p == nil {
		return nil, &abi.Error{Code: abi.CodeBadConfig, Message: "rules: not configured"}
	}
	return p.Evaluate(ctx, req).Response(), nil
}

func answer(_ context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
	p := policy.Load()
	if p == nil {
		return nil, &abi.Error{Code: abi.CodeBadConfig, Message: "rules: not configured"}
	}
	return p.Answer(req), nil
}

func main() { guest.Main() }
