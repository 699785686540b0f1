package plugintest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/plugintest"
)

func TestGuestSource(t *testing.T) {
	for _, g := range plugintest.Guests {
		src, err := plugintest.GuestSource(g)
		require.NoError(t, err)
		_, err = os.Stat(src)
		assert.NoError(t, err, "guest %s", g)
	}
	_, err := plugintest.GuestSource("nope")
	assert.Error(t, err)
}

// A runtime without a guest skips its cases.
func TestRunSkipsMissingGuests(t *testing.T) {
	var loaded []string
	plugintest.Run(t, func(t *testing.T, guest string, opts *plugins.Options) (plugins.Plugin, error) {
		loaded = append(loaded, guest)
		return nil, fmt.Errorf("no %s here: %w", guest, plugintest.ErrNoGuest)
	})
	assert.Equal(t, plugintest.Guests, loaded, "each guest is loaded once, then skipped")
}

func TestBuildWAT(t *testing.T) {
	src, err := plugintest.GuestSource(plugintest.GuestDeclineAllWAT)
	require.NoError(t, err)
	b := plugintest.BuildWAT(t, src)
	assert.Equal(t, []byte("\x00asm\x01\x00\x00\x00"), b[:8])
}
