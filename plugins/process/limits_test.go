//go:build linux

package process_test

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/process"
)

// testdata/liar speaks the wire through internal/pluginwire, without
// sdk-guest, to answer what sdk-guest never would (LIAR_MODE).
func liarBin(t *testing.T) string { return plugintest.BuildProcessGuest(t, "testdata/liar") }

func totalAlloc() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc
}

// Describe and Configure answers are bounded on the wire as the Wasm
// runtime bounds them (16 MiB): a 128 MiB answer is refused unread, and
// its text is not in the error.
func TestSetupAnswersAreBounded(t *testing.T) {
	bin := liarBin(t)
	for _, mode := range []string{"describe-huge", "configure-huge"} {
		t.Run(mode, func(t *testing.T) {
			before := totalAlloc()
			p, err := process.Load(t.Context(), bin, &process.Options{
				Env:     []string{"LIAR_MODE=" + mode, "LIAR_MB=128"},
				Options: plugins.Options{MaxResultBytes: 1 << 20},
			})
			grew := totalAlloc() - before
			if err == nil {
				_ = p.Close(context.Background())
			}
			require.Error(t, err)
			t.Logf("host allocated %d MiB; %.300s", grew>>20, err)
			assert.Less(t, grew, uint64(64<<20), "the host read a 128 MiB %s answer whole", mode)
			assert.Less(t, len(err.Error()), 1<<10, "the error carries the plugin's answer")
			assert.Contains(t, err.Error(), "over 16777216 bytes")
			if mode == "describe-huge" {
				assert.ErrorIs(t, err, plugins.ErrBadManifest)
			}
		})
	}
}

// rawRecorder records the log records whose message or attributes hold a
// terminal control; seen is closed at the first record that holds want.
type rawRecorder struct {
	mu       sync.Mutex
	all, bad []string
	want     string
	seen     chan struct{}
}

func newRawRecorder(want string) *rawRecorder {
	return &rawRecorder{want: want, seen: make(chan struct{})}
}

func (r *rawRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *rawRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *rawRecorder) WithGroup(string) slog.Handler            { return r }
func (r *rawRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Any()); return true })
	s := b.String()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, s)
	if strings.ContainsAny(s, "\x1b\x07\r\u009b\u202e") {
		r.bad = append(r.bad, s)
	}
	if strings.Contains(s, r.want) {
		select {
		case <-r.seen:
		default:
			close(r.seen)
		}
	}
	return nil
}

// A stderr line shaped like go-plugin's JSON log record is decoded, then
// its message, keys and values are escaped: its JSON escapes ("\u001b")
// must not become the controls they stand for. On the raw stderr (where
// go-plugin's own hclog logger and sdk-guest's Log write) Close reads the
// line to its end; on os.Stderr, which go-plugin relays over the plugin
// connection on its own schedule, the test waits for it.
func TestLogRecordEscapes(t *testing.T) {
	for _, mode := range []string{"hclog-escape", "hclog-escape-relayed"} {
		t.Run(mode, func(t *testing.T) {
			rec := newRawRecorder("accepted")
			p := load(t, liarBin(t), &process.Options{Env: []string{"LIAR_MODE=" + mode}, Logger: slog.New(rec)})
			_, err := approve(p, "echo")
			require.NoError(t, err)
			if mode == "hclog-escape-relayed" {
				<-rec.seen
			}
			require.NoError(t, p.Close(context.Background()))
			rec.mu.Lock()
			defer rec.mu.Unlock()
			select {
			case <-rec.seen:
			default:
				t.Fatalf("Close returned before the plugin's stderr line was logged; logged:\n%s", strings.Join(rec.all, "\n"))
			}
			assert.Empty(t, rec.bad, "the plugin's text reached the logger with raw terminal controls")
		})
	}
}

// A plugin asks, in its manifest, for an environment variable or a
// directory it is not granted, named with terminal controls (review,
// adv3): Load refuses it, and its error names what was asked. The
// plugin's name is quoted there (%q); what it asks for was not, so ESC ]
// 0 (a title), ESC [ 2 J (clear screen) and an OSC 8 hyperlink reached
// whoever prints Load's error, as TestDescribeStatusNotEscaped found for
// a describe failure's gRPC status.
func TestManifestCapabilitiesEscaped(t *testing.T) {
	bin := liarBin(t)
	for _, grants := range []abi.Capabilities{{}, {Env: []string{"\x1b]0;pwned\a\x1b[2JHOME"}}} {
		_, err := process.Load(t.Context(), bin, &process.Options{
			Env:     []string{"LIAR_MODE=describe-escape-caps"},
			Options: plugins.Options{Grants: grants},
		})
		require.ErrorIs(t, err, plugins.ErrNotGranted)
		msg := err.Error()
		t.Logf("Load error: %q", msg)
		assert.False(t, strings.ContainsAny(msg, "\x1b\x07"), "Load's error carries the plugin's terminal controls raw: %q", msg)
	}
}
