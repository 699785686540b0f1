package wasm_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// testRuntime is shared by the tests, as a process shares one Runtime: it
// compiles each guest once.
var testRuntime *wasm.Runtime

func TestMain(m *testing.M) {
	ctx := context.Background()
	var err error
	testRuntime, err = wasm.NewRuntime(ctx, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := setupExample(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if err := testRuntime.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "close runtime:", err)
		code = 1
	}
	cleanupExample()
	os.Exit(code)
}

// load loads wasm bytes in the shared runtime, closing the plugin when t
// ends.
func load(t *testing.T, b []byte, opts *wasm.Options) (*wasm.Plugin, error) {
	t.Helper()
	p, err := testRuntime.Load(t.Context(), b, opts)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	return p, nil
}

func mustLoad(t *testing.T, b []byte, opts *wasm.Options) *wasm.Plugin {
	t.Helper()
	p, err := load(t, b, opts)
	require.NoError(t, err)
	return p
}

// testdataWAT returns the binary of testdata/name.wat.
func testdataWAT(t *testing.T, name string) []byte {
	t.Helper()
	return plugintest.BuildWAT(t, filepath.Join("testdata", name+".wat"))
}

// testdataGuest builds the Go guest testdata/guests/name.
func testdataGuest(t *testing.T, name string) []byte {
	t.Helper()
	return plugintest.BuildGoGuest(t, filepath.Join("testdata", "guests", name))
}

// logRecorder is a slog.Handler that keeps the records it handles.
type logRecorder struct {
	store *recordStore
	attrs []slog.Attr
}

type recordStore struct {
	mu      sync.Mutex
	records []slog.Record
}

func newLogger() (*slog.Logger, *logRecorder) {
	r := &logRecorder{store: &recordStore{}}
	return slog.New(r), r
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }

func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	out.AddAttrs(r.attrs...)
	rec.Attrs(func(a slog.Attr) bool { out.AddAttrs(a); return true })
	rec = out
	r.store.mu.Lock()
	r.store.records = append(r.store.records, rec)
	r.store.mu.Unlock()
	return nil
}

func (r *logRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &logRecorder{store: r.store, attrs: append(append([]slog.Attr(nil), r.attrs...), as...)}
}

func (r *logRecorder) WithGroup(string) slog.Handler { return r }

// messages returns the records logged so far as "LEVEL message k=v ...".
func (r *logRecorder) messages() []string {
	r.store.mu.Lock()
	defer r.store.mu.Unlock()
	var out []string
	for _, rec := range r.store.records {
		var b strings.Builder
		b.WriteString(rec.Level.String() + " " + rec.Message)
		rec.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		out = append(out, b.String())
	}
	return out
}

func opts(o plugins.Options) *wasm.Options { return &wasm.Options{Options: o} }
