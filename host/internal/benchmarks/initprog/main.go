// Command initprog is the program of figure 11 (BenchmarkPackageInit): a
// program that imports host and calls it, so that the linker keeps all of
// host, and exits. Its package initialization is what the figure measures
// with GODEBUG=inittrace=1.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/codexhost/codexhost/host"
)

func main() {
	if len(os.Args) > 1 { // never, in the benchmark: host is linked, not run
		c, err := host.Start(context.Background(), &host.Options{Codex: os.Args[1]})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_ = c.Close()
	}
}
