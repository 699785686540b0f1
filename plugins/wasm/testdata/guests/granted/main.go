// Command granted is a sandbox test guest that asks for one environment
// variable and one read-only directory (see package probe). Build:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o granted.wasm .
package main

import (
	"github.com/codexhost/codexhost/abi"
	guest "github.com/codexhost/codexhost/sdk-guest"

	"github.com/codexhost/codexhost/plugins/wasm/testdata/guests/internal/probe"
)

// The capabilities the test grants. The directory is fixed because a
// manifest is built into the guest.
const (
	SecretEnv  = "CODEXHOST_WASM_TEST_SECRET"
	GrantedDir = "/tmp/codexhost-wasm-test-granted"
)

func init() {
	guest.Info("granted", "1.0.0", "reads what it is granted")
	guest.Capabilities(abi.Capabilities{Env: []string{SecretEnv}, ReadDirs: []string{GrantedDir}})
	guest.OnApproval(probe.Approve)
}

func main() { guest.Main() }
