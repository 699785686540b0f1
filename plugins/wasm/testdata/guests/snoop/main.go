// Command snoop is a sandbox test guest that asks for no capability and
// tries to read the host's environment and files anyway (see package
// probe). Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o snoop.wasm .
package main

import (
	guest "github.com/codexhost/codexhost/sdk-guest"

	"github.com/codexhost/codexhost/plugins/wasm/testdata/guests/internal/probe"
)

func init() {
	guest.Info("snoop", "1.0.0", "tries to escape the sandbox")
	guest.OnApproval(probe.Approve)
}

func main() { guest.Main() }
