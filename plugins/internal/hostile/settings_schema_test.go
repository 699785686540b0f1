package hostile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/load"
)

// TestSettingsSchemaBomb: the settings schema is the plugin's
// (its manifest), and plugins/load bounds its size (64 KiB) and nesting
// (32 deep) because compiling a deep one took minutes. Its validation is
// not bounded: schema-bomb.wat declares 1.2 KB of 18 levels of anyOf,
// each of two $refs to the next level (local references, which are
// allowed), over a leaf that always fails. The settings, even none
// (checked as null), are tried 2^18 ways and every failure is kept: the
// load runs seconds past its deadline (no context reaches the check),
// allocates hundreds of MB and fails with an error of megabytes. Each
// level more doubles all three; 20 levels (1.3 KB) took 12 s, 2 GB of
// allocations and a 17 MB error.
func TestSettingsSchemaBomb(t *testing.T) {
	path := filepath.Join("testdata", "wat", "schema-bomb.wasm")
	// Without it the load fails at once (no such file), and the test
	// passed whatever the host does with the schema.
	_, err := os.Stat(path)
	require.NoError(t, err, "make testdata builds it")
	set := load.NewSet(nil)
	defer set.Close(context.Background())
	const deadline = WasmLoad
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	start := time.Now()
	_, err = set.Load(ctx, path, nil)
	took := time.Since(start)
	require.Error(t, err)
	msg := err.Error()
	t.Logf("after %v: %d bytes of error: %.300s", took, len(msg), msg)
	margin := WasmMargin
	if raceEnabled {
		// As for the suite's guests: the race detector on a loaded
		// machine delays the host's side of the stop.
		margin = (&Guest{Runtime: Wasm}).RaceMargin()
	}
	assert.Less(t, took, deadline+margin, "the load ends by its deadline")
	assert.Less(t, len(msg), 64<<10, "the error says what is wrong in a bounded message")
}

// TestSettingsSchemaNumberPanics: a settings schema with
// "multipleOf": 1e-10000000, a number math/big cannot hold, makes the
// schema compiler (santhosh-tekuri/jsonschema, checking the schema against
// its metaschema, where multipleOf must be > 0) compare a nil *big.Rat:
// the host panics while loading the plugin, and nothing on the load path
// recovers. The load runs in a child process (this test binary again), so
// that the panic is seen rather than ending this test run; the child must
// come back with an error naming the bad manifest, not a panic.
func TestSettingsSchemaNumberPanics(t *testing.T) {
	path := filepath.Join("testdata", "wat", "schema-number.wasm")
	if os.Getenv("CODEXHOST_SCHEMA_CHILD") == "schema-number" {
		set := load.NewSet(nil)
		defer set.Close(context.Background())
		_, err := set.Load(t.Context(), path, nil)
		fmt.Printf("load error: %v\n", err)
		if !errors.Is(err, plugins.ErrBadManifest) {
			t.Fatalf("want plugins.ErrBadManifest, got %v", err)
		}
		return
	}
	_, err := os.Stat(path)
	require.NoError(t, err, "make testdata builds it")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSettingsSchemaNumberPanics$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CODEXHOST_SCHEMA_CHILD=schema-number")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%.3000s", out)
	assert.NotContains(t, string(out), "panic:", "loading the plugin panics the host")
	assert.NoError(t, err, "the child loading the plugin failed")
}
