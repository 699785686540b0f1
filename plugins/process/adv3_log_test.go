//go:build linux

package process_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/process"
)

// TestLogRecordCannotSpoofHostAttrs (review, adv3): a stderr line shaped
// like go-plugin's hclog JSON is logged as a record with its members as
// attributes, next to the ones the host gives every line of a plugin:
// "plugin" (which plugin wrote it) and "stream". A member named "plugin"
// became a second "plugin" attribute, and one named "msg", "level" or
// "time" a second copy of the record's own field: in slog's JSON output a
// reader (encoding/json, jq, most log pipelines) keeps the last, so the
// plugin's line was attributed to another plugin, at another level, with
// another message. What the plugin says must not take the host's names.
func TestLogRecordCannotSpoofHostAttrs(t *testing.T) {
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	bin := liarBin(t)
	p, err := process.Load(context.Background(), bin, &process.Options{Env: []string{"LIAR_MODE=hclog-spoof"}, Logger: logger})
	require.NoError(t, err)
	_, err = approve(p, "echo")
	require.NoError(t, err)
	require.NoError(t, p.Close(context.Background())) // the raw stderr is read to its end
	found := false
	sc := bufio.NewScanner(strings.NewReader(buf.String()))
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "spoofed") {
			continue
		}
		found = true
		t.Logf("logged: %s", sc.Text())
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m))
		assert.Equal(t, bin, m["plugin"], "the line is attributed to another plugin")
		assert.Equal(t, "stderr", m["stream"])
		assert.Equal(t, "INFO", m["level"])
		assert.Equal(t, "plugin: spoofed", m["msg"])
		assert.NotEqual(t, "2000-01-01T00:00:00Z", m["time"])
	}
	assert.True(t, found, "the record was not logged; log:\n%s", buf.String())
}
