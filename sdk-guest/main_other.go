//go:build !wasip1

package guest

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/internal/pluginwire"
)

// serve serves the plugin as a process plugin (hashicorp/go-plugin over
// gRPC). It does not return. Started by hand rather than by a codexhost
// host, it says how to use it and exits 1.
func serve() {
	if os.Getenv(abi.HandshakeCookieKey) != abi.HandshakeCookieValue {
		fmt.Fprintf(os.Stderr, "codexhost plugin %s: load this binary with codexhost's process runtime (plugins/process), "+
			"or build the same source for the Wasm sandbox with GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared\n", std.name)
		os.Exit(1)
	}
	pluginwire.Serve(processServer{})
}

type processServer struct{}

func (processServer) Describe() []byte {
	b, err := std.describe(nil)
	if err != nil {
		// The manifest is built from registrations; this is a bug.
		fmt.Fprintln(os.Stderr, "codexhost plugin: manifest:", err)
		os.Exit(1)
	}
	return b
}

func (processServer) Configure(settings []byte) (abi.Status, []byte) { return Configure(settings) }

func (processServer) Handle(ctx context.Context, hook abi.Hook, req []byte) (abi.Status, []byte) {
	return Handle(ctx, hook, req)
}

// rawStderr is the process's own stderr, taken before go-plugin's Serve
// points os.Stderr at a pipe it relays over the plugin connection.
var rawStderr = os.Stderr

// hostLog writes to the raw stderr, which the host captures: stdout belongs
// to the process runtime's handshake. Not os.Stderr: go-plugin relays that
// over the connection, asynchronously, and a line written just before the
// host closes the plugin may be lost there; the raw stderr the host reads to
// its end.
func hostLog(level abi.LogLevel, msg string) {
	fmt.Fprintf(rawStderr, "%s %s\n", slog.Level(level), msg)
}
