// Command policy is a codexhost approval policy: it declines commands that
// remove files and accepts echo; anything else it leaves to the next plugin
// (and, at the end of the chain, to the fallback, which declines).
//
// Build it as a sandboxed WebAssembly plugin:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o policy.wasm ./examples/policy
package main

import (
	"context"
	"strings"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("deny-rm", "1.0.0", "declines rm, accepts echo, abstains otherwise")
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		switch {
		case strings.Contains(req.Command, "rm "):
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "removing files is not allowed"}, nil
		case strings.Contains(req.Command, "echo "):
			return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "echo is harmless"}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	})
}

func main() { guest.Main() }
