// Command configured is a test guest that declares a settings schema and
// resource limits. Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o configured.wasm .
package main

import (
	"context"
	"encoding/json"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

var maxFiles int

func init() {
	guest.Info("configured", "1.0.0", "declares a settings schema and limits")
	guest.SettingsSchema(`{
		"type": "object",
		"properties": {"maxFiles": {"type": "integer", "minimum": 1}},
		"required": ["maxFiles"],
		"additionalProperties": false
	}`)
	guest.Limits(abi.Limits{MemoryPages: 384, TimeoutMillis: 2000})
	guest.OnConfigure(func(settings []byte) error {
		var s struct{ MaxFiles int }
		if err := json.Unmarshal(settings, &s); err != nil {
			return err
		}
		maxFiles = s.MaxFiles
		return nil
	})
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		if len(req.Changes) > maxFiles {
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "too many files"}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Accept}, nil
	})
}

func main() { guest.Main() }
