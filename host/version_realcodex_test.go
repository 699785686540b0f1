package host_test

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/transcript"
)

// wantCodexVersion is the version the real-codex tests run against:
// $CODEXHOST_WANT_CODEX_VERSION (set by `make test-codex-newest`), else,
// with the pinned install, the minimum.
func wantCodexVersion(t *testing.T) string {
	if v := os.Getenv("CODEXHOST_WANT_CODEX_VERSION"); v != "" {
		return v
	}
	if os.Getenv("CODEX_BIN") != "" {
		return "" // some other codex; nothing to compare with
	}
	return host.MinCodexVersion
}

// The version codex reports at initialize is the Client's, the
// transcript's, and the one `codex --version` prints.
func TestRealCodexVersion(t *testing.T) {
	var buf bytes.Buffer
	tw := transcript.NewWriter(&buf, transcript.Header{Codexhost: host.Version, Codex: host.CodexVersion})
	e := startReal(t, hosttest.Text("hi"), &host.Options{Transcript: tw}, nil)
	v := e.client.CodexVersion()
	require.NotEmpty(t, v, "user agent %q", e.client.UserAgent())
	if want := wantCodexVersion(t); want != "" {
		assert.Equal(t, want, v)
	}
	cmp, ok := host.CompareCodexVersions(v, host.MinCodexVersion)
	require.True(t, ok)
	assert.GreaterOrEqual(t, cmp, 0)

	probed, err := host.ProbeCodexVersion(ctxFor(t, 30*time.Second), os.Getenv("CODEX_BIN"))
	require.NoError(t, err)
	assert.Equal(t, v, probed)

	_, err = e.client.Run(ctxFor(t, 60*time.Second), "hello", e.thread())
	require.NoError(t, err)
	require.NoError(t, e.client.Close())
	require.NoError(t, e.client.Wait())
	require.NoError(t, tw.Err())
	tr, err := transcript.Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, v, tr.Header.Codex, "the transcript records the version codex reported")
	require.NotEmpty(t, tr.Records)
	var first struct{ Method string }
	require.NoError(t, json.Unmarshal(tr.Records[0].Msg, &first))
	assert.Equal(t, "initialize", first.Method, "the held initialize lines follow the header, in order")
}

// Client.Call reaches a method codexhost does not wrap.
func TestRealCallUnwrappedMethod(t *testing.T) {
	e := startReal(t, hosttest.Text("hi"), nil, nil)
	var modes struct {
		Data []struct {
			Name string `json:"name"`
			Mode string `json:"mode"`
		} `json:"data"`
	}
	require.NoError(t, e.client.Call(ctxFor(t, 30*time.Second), "collaborationMode/list", map[string]any{}, &modes))
	var kinds []string
	for _, m := range modes.Data {
		kinds = append(kinds, m.Mode)
	}
	assert.Contains(t, kinds, "plan", "codex's collaboration modes: %+v", modes.Data)

	var raw json.RawMessage
	err := e.client.Call(ctxFor(t, 30*time.Second), "thread/read", map[string]any{"threadId": "00000000-0000-0000-0000-000000000000"}, &raw)
	require.ErrorIs(t, err, host.ErrThreadNotFound, "Call maps errors like the typed methods")
}
