package wasm

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"

	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm/internal/scan"
)

// The scan reads every section wazero decodes, more strictly than a
// validator would need to: it must never refuse as malformed a module
// wazero compiles, and never refuse a Go guest at the default limits.
// Every WAT module of the tests (hostile ones included) and the Go guests
// of the tests are checked against wazero itself.
func TestScanAgreesWithWazero(t *testing.T) {
	var mods []string
	for _, glob := range []string{"testdata/*.wat", "../internal/hostile/testdata/wat/*.wat", "../plugintest/testdata/wat/*.wat"} {
		m, err := filepath.Glob(glob)
		require.NoError(t, err)
		mods = append(mods, m...)
	}
	require.NotEmpty(t, mods)
	rt := wazero.NewRuntime(context.Background())
	defer rt.Close(context.Background())
	limits := moduleLimits(&Options{})
	check := func(name string, b []byte) {
		_, err := scan.Module(b, limits)
		if !errors.Is(err, scan.ErrMalformed) {
			return
		}
		cm, cerr := rt.CompileModule(context.Background(), b)
		if cerr == nil {
			_ = cm.Close(context.Background())
		}
		assert.Error(t, cerr, "%s: the scan says %v, and wazero compiles it", name, err)
	}
	for _, m := range mods {
		check(m, plugintest.BuildWAT(t, m))
	}
	for _, g := range []string{"testdata/guests/configured", "../../sdk-guest/internal/testguests/ref"} {
		b := plugintest.BuildGoGuest(t, g)
		st, err := scan.Module(b, limits)
		require.NoError(t, err, "the Go guest %s", g)
		t.Logf("%s: %d bytes, %d functions", g, len(b), st.Functions)
	}
}
