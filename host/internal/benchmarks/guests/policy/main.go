// Command policy is the benchmarks' approval policy (package policy) as a
// plugin. The same source builds for both runtimes:
//
//	GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared -o policy.wasm .
//	go build -trimpath -o policy .
package main

import (
	"github.com/codexhost/codexhost/host/internal/benchmarks/policy"
	guest "github.com/codexhost/codexhost/sdk-guest"
)

func init() {
	guest.Info("bench-policy", "1.0.0", "declines rm -rf, accepts everything else (benchmarks)")
	guest.OnApproval(policy.Decide)
}

func main() { guest.Main() }
