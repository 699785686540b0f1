// Command ref is the reference plugin of the conformance kit: it implements
// every hook and misbehaves on request, so that a runtime can be tested
// against each failure mode. Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o ref.wasm .
//
// Approval requests, by command (first match wins):
//
//	contains "panic-now"     panics with "guest panic"
//	contains "loop-forever"  never returns
//	contains "exit-now"      exits the process (Wasm: proc_exit) with code 3
//	contains "alloc-huge"    allocates and touches 1 GiB
//	contains "big-reason"    accepts with a 2 MiB reason
//	contains "error-out"     returns abi.Error{CodeInternal, "asked to fail"}
//	contains "bad-decision"  returns the invalid decision "maybe"
//	contains "rm "           declines: "rm is not allowed"
//	contains "echo"          accepts: "echo is harmless"
//
// A file change is declined if a path ends in ".env" and accepted
// otherwise; anything else gets abstain.
//
// Settings: {"prefix": "..."} prefixes each rendered line; {"fail": true}
// makes configure fail with CodeBadConfig "configured to fail".
package main

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

type settings struct {
	Prefix string `json:"prefix"`
	Fail   bool   `json:"fail"`
}

var config settings

func init() {
	guest.Info("ref", "1.0.0", "codexhost reference plugin: every hook, and every way to fail")
	guest.OnConfigure(configure)
	guest.OnApproval(approve)
	guest.OnToolInput(answer)
	guest.AddTool(abi.Tool{
		Name:        "echo",
		Description: "returns its arguments",
		InputSchema: abi.RawJSON(`{"type":"object","properties":{"text":{"type":"string"}}}`),
	}, echo)
	guest.AddTool(abi.Tool{
		Name:        "size",
		Description: "returns the byte length of its raw arguments",
		InputSchema: abi.RawJSON(`{"type":"object"}`),
	}, size)
	guest.OnRender(render)
}

func main() { guest.Main() }

func configure(raw []byte) error {
	var s settings
	if err := json.Unmarshal(raw, &s); err != nil {
		return err // reported as CodeBadConfig
	}
	if s.Fail {
		return &abi.Error{Code: abi.CodeBadConfig, Message: "configured to fail"}
	}
	config = s
	guest.Log(abi.LogDebug, "ref: configured")
	return nil
}

func approve(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	cmd := req.Command
	switch {
	case strings.Contains(cmd, "panic-now"):
		panic("guest panic")
	case strings.Contains(cmd, "loop-forever"):
		spin()
	case strings.Contains(cmd, "exit-now"):
		os.Exit(3)
	case strings.Contains(cmd, "alloc-huge"):
		allocHuge()
	case strings.Contains(cmd, "big-reason"):
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: strings.Repeat("x", 2<<20)}, nil
	case strings.Contains(cmd, "error-out"):
		return nil, &abi.Error{Code: abi.CodeInternal, Message: "asked to fail"}
	case strings.Contains(cmd, "bad-decision"):
		return &abi.ApprovalResponse{Decision: "maybe"}, nil
	case strings.Contains(cmd, "rm "):
		return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "rm is not allowed"}, nil
	case strings.Contains(cmd, "echo"):
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "echo is harmless"}, nil
	}
	if req.Kind == abi.ApprovalFileChange {
		for _, c := range req.Changes {
			if strings.HasSuffix(c.Path, ".env") {
				return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "changes a .env file"}, nil
			}
		}
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "no .env file changed"}, nil
	}
	return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
}

// Spins and Sink are exported package state so that the compiler cannot
// remove the loop or the allocation.
var (
	Spins uint64
	Sink  []byte
)

// spin never returns; only the host's deadline stops it.
func spin() {
	for {
		Spins++
	}
}

// allocHuge allocates 1 GiB and touches every page, which must exceed the
// host's memory limit.
func allocHuge() {
	Sink = make([]byte, 1<<30)
	for i := 0; i < len(Sink); i += 4096 {
		Sink[i] = 1
	}
}

func answer(ctx context.Context, req *abi.ToolInputRequest) (*abi.ToolInputResponse, error) {
	resp := &abi.ToolInputResponse{Answers: map[string][]string{}}
	for _, q := range req.Questions {
		if q.ID == "abstain" {
			return &abi.ToolInputResponse{Abstain: true}, nil
		}
		a := "42"
		if len(q.Options) > 0 {
			a = q.Options[0].Label
		}
		resp.Answers[q.ID] = []string{a}
	}
	return resp, nil
}

func echo(ctx context.Context, req *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
	var args struct {
		Text string `json:"text"`
	}
	if len(req.Arguments) > 0 {
		if err := json.Unmarshal(req.Arguments, &args); err != nil {
			return &abi.ToolCallResponse{Success: false, Content: []abi.Content{{Type: "text", Text: "bad arguments: " + err.Error()}}}, nil
		}
	}
	return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: args.Text}}}, nil
}

func size(ctx context.Context, req *abi.ToolCallRequest) (*abi.ToolCallResponse, error) {
	return &abi.ToolCallResponse{Success: true, Content: []abi.Content{{Type: "text", Text: strconv.Itoa(len(req.Arguments))}}}, nil
}

func render(ctx context.Context, req *abi.RenderRequest) (*abi.RenderResponse, error) {
	var b strings.Builder
	for _, e := range req.Events {
		b.WriteString(config.Prefix)
		b.WriteString(string(e.Kind))
		if e.Delta != "" {
			b.WriteString(":")
			b.WriteString(e.Delta)
		}
		b.WriteString("\n")
		if e.Kind == abi.EventItemCompleted && e.Item != nil && e.Item.Type == "agentMessage" {
			b.WriteString("message: ")
			b.WriteString(e.Item.Text)
			b.WriteString("\n")
		}
	}
	return &abi.RenderResponse{Output: b.String()}, nil
}
