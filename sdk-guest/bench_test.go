package guest_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

// BenchmarkHandleApproval measures an approval round trip through Handle
// with a ~1 KB command request: decode, a deny-rm policy, encode. The
// inproc case is the policy alone on a decoded request, with encoding/json
// around it, as a host would run it in process.
func BenchmarkHandleApproval(b *testing.B) {
	req, err := os.ReadFile("testdata/approval-request.json")
	if err != nil {
		b.Fatal(err)
	}
	policy := func(_ context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		if strings.Contains(req.Command, "rm ") {
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "no rm"}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
	}
	b.Run("abijson", func(b *testing.B) {
		guest.UseFreshRegistry(b)
		guest.OnApproval(policy)
		ctx := context.Background()
		b.SetBytes(int64(len(req)))
		b.ReportAllocs()
		for b.Loop() {
			if status, out := guest.Handle(ctx, abi.HookApproval, req); status != abi.StatusOK {
				b.Fatalf("%s", out)
			}
		}
	})
	b.Run("inproc-encoding-json", func(b *testing.B) {
		ctx := context.Background()
		b.SetBytes(int64(len(req)))
		b.ReportAllocs()
		for b.Loop() {
			var r abi.ApprovalRequest
			if err := json.Unmarshal(req, &r); err != nil {
				b.Fatal(err)
			}
			resp, _ := policy(ctx, &r)
			if _, err := json.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
