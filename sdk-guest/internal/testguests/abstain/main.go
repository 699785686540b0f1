// Command abstain is a reference plugin that abstains on every approval
// request. Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o abstain.wasm .
package main

import (
	"context"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("abstain", "1.0.0", "abstains on every approval request")
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	})
}

func main() { guest.Main() }
