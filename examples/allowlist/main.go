// Command allowlist is an approval policy that asks a team's allow-list
// service whether a command may run. It needs the network, which the Wasm
// sandbox forbids, so it runs as a process plugin (hashicorp/go-plugin):
//
//	go build -o allowlist ./examples/allowlist
//	process.Load(ctx, "./allowlist", &process.Options{...Settings: {"url": ...}, Grants: {Network: true}})
//
// The service answers GET <url>?command=<command> with {"allow": true|false,
// "why": "..."}. When the service cannot be reached, the policy declines:
// an outage must not turn into an approval.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

var settings struct {
	URL string `json:"url"`
}

var client = &http.Client{Timeout: 2 * time.Second}

func init() {
	guest.Info("allowlist", "1.0.0", "asks an allow-list service about each command")
	guest.Capabilities(abi.Capabilities{Network: true})
	guest.OnConfigure(func(raw []byte) error {
		if err := json.Unmarshal(raw, &settings); err != nil || settings.URL == "" {
			return fmt.Errorf(`settings must be {"url": "http://host:port/path"}`)
		}
		return nil
	})
	guest.OnApproval(func(ctx context.Context, req *abi.ApprovalRequest) (*abi.ApprovalResponse, error) {
		if req.Kind != abi.ApprovalCommand {
			return &abi.ApprovalResponse{Decision: abi.Abstain}, nil
		}
		resp, err := client.Get(settings.URL + "?command=" + url.QueryEscape(req.Command))
		if err != nil {
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "allow-list service unreachable: " + err.Error()}, nil
		}
		defer resp.Body.Close()
		var verdict struct {
			Allow bool   `json:"allow"`
			Why   string `json:"why"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&verdict) != nil {
			return &abi.ApprovalResponse{Decision: abi.Decline, Reason: "allow-list service gave no verdict: " + resp.Status}, nil
		}
		if verdict.Allow {
			return &abi.ApprovalResponse{Decision: abi.Accept, Reason: verdict.Why}, nil
		}
		return &abi.ApprovalResponse{Decision: abi.Decline, Reason: verdict.Why}, nil
	})
}

func main() { guest.Main() }
