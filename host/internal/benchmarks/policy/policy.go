// Package policy is the approval policy of codexhost's benchmarks. The same
// function runs in the host process (the floor), in the Wasm sandbox and as
// a process plugin (guests/policy), so that the figures compare runtimes,
// not policies.
package policy

import (
	"context"
	"strings"

	"github.com/codexhost/codexhost/abi"
)

// Decide declines commands that remove files recursively and accepts every
// other request, with a reason for the audit trail. It is the policy
// limits.md measured: one substring test on the command.
func Decide(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
	if req.Kind == abi.ApprovalCommand && strings.Contains(req.Command, "rm -rf") {
		return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "recursive removal is not allowed"}, nil
	}
	return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "allowed by the benchmark policy"}, nil
}
