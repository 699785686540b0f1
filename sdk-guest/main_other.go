//go:build !wasip1

package guest

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/codexhost/codexhost/abi"
)

// serve will serve the process runtime (hashicorp/go-plugin). Until then,
// a plugin built for the host OS says how to build it for WebAssembly.
func serve() {
	fmt.Fprintf(os.Stderr, "codexhost plugin %s: this build serves the WebAssembly runtime; build with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared\n", std.name)
	os.Exit(1)
}

// hostLog writes to stderr: stdout belongs to the process runtime's
// handshake.
func hostLog(level abi.LogLevel, msg string) {
	fmt.Fprintf(os.Stderr, "%s %s\n", slog.Level(level), msg)
}
