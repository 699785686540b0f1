//go:build linux

package process_test

// A process plugin (review, round 10) served by go-plugin and
// grpc-go (testdata/grpcstatus) that answers with gRPC statuses of
// its choosing.

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/process"
)

// grpcStatusBin builds testdata/grpcstatus into t's temporary directory.
func grpcStatusBin(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "grpcstatus")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = filepath.Join("testdata", "grpcstatus")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", b)
	return out
}

// maxErrorText is a generous bound for the text of an error that quotes a
// plugin: the host keeps 20 stderr lines of 512 bytes for the same
// purpose.
const maxErrorText = 64 << 10

// A plugin fails Handle with a gRPC status whose message is 8 MiB (grpc-go
// accepts trailers up to 16 MiB by default). The host's MaxResultBytes
// and its output budget (1 MiB per process) bound what the plugin answers
// and logs, but the status message is kept whole in the *CallError: every
// failed call hands the chain (its log, audit record, the CLI's error
// line) an 8 MiB string, escaped anew (termsafe.Text, up to 4x) each time
// Error() is called. An error quoting a plugin must be bounded, as its
// quoted stderr is.
func TestHandleStatusMessageUnbounded(t *testing.T) {
	bin := grpcStatusBin(t)
	// The subject is the error's size, not the time: 8 MiB through gRPC
	// under the race detector on 2 busy cores took 4.4 s of the default 5 s.
	p, err := process.Load(context.Background(), bin, &process.Options{Env: []string{"STATUS_MODE=handle-huge", "STATUS_MB=8"},
		Options: plugins.Options{Timeout: time.Minute}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	_, err = approve(p, "echo hi")
	require.Error(t, err)
	requireCallError(t, err, plugins.FailTrap)
	msg := err.Error()
	t.Logf("error text: %d bytes, starts %.200q", len(msg), msg)
	require.LessOrEqual(t, len(msg), maxErrorText, "the error quoting the plugin's gRPC status is %d bytes", len(msg))
}

// A plugin fails Describe with a gRPC status whose message holds terminal
// controls. Handle's gRPC errors (callError) and start errors
// (startError) are wrapped in escapedError so that what the plugin wrote
// is never obeyed; Load's describe error (and a restart's redescribe, and
// configure's) quote the status message raw: ESC ] 0 (title), ESC [ 2 J
// (clear screen), an OSC 8 hyperlink reach whoever prints Load's error
// (the CLI escapes its own final error line, a library user or a log
// handler does not).
func TestDescribeStatusNotEscaped(t *testing.T) {
	bin := grpcStatusBin(t)
	_, err := process.Load(context.Background(), bin, &process.Options{Env: []string{"STATUS_MODE=describe-escape"}})
	require.Error(t, err)
	msg := err.Error()
	t.Logf("Load error: %q", msg)
	require.False(t, strings.ContainsAny(msg, "\x1b\x07"), "Load's error carries the plugin's terminal controls raw: %q", msg)
}
