// Command approveall is a reference plugin that accepts every approval
// request. Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o approveall.wasm .
package main

import (
	"context"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("approveall", "1.0.0", "accepts every approval request")
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return &abi.ApprovalResponse{Decision: abi.Accept, Reason: "approve-all"}, nil
	})
}

func main() { guest.Main() }
