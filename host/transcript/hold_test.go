package transcript_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/transcript"
)

// Held records wait for Begin, which writes the header (with the codex
// version set meanwhile) and then them, in order.
func TestTranscriptHold(t *testing.T) {
	var buf bytes.Buffer
	w := transcript.NewWriter(&buf, transcript.Header{Codexhost: "1.0.0", Codex: "0.169.0"})
	w.Hold()
	w.Record(transcript.Out, []byte(`{"id":0,"method":"initialize"}`))
	w.Record(transcript.In, []byte(`{"id":0,"result":{"userAgent":"codexhost/0.171.0"}}`))
	assert.Zero(t, buf.Len(), "nothing is written while held")
	require.True(t, w.SetCodex("0.171.0"))
	require.NoError(t, w.Begin())
	w.Record(transcript.Out, []byte(`{"method":"initialized"}`))
	assert.False(t, w.SetCodex("0.172.0"), "the header is written")
	w.Hold() // no effect once begun
	w.Record(transcript.In, []byte(`{"method":"thread/started","params":{}}`))
	require.NoError(t, w.Err())
	assert.Equal(t, 5, strings.Count(buf.String(), "\n"), "no record held after Begin")

	tr, err := transcript.Read(&buf)
	require.NoError(t, err)
	assert.Equal(t, "0.171.0", tr.Header.Codex)
	require.Len(t, tr.Records, 4)
	var msgs []string
	for _, r := range tr.Records {
		msgs = append(msgs, string(r.Dir)+" "+string(r.Msg))
	}
	assert.Equal(t, []string{
		`out {"id":0,"method":"initialize"}`,
		`in {"id":0,"result":{"userAgent":"codexhost/0.171.0"}}`,
		`out {"method":"initialized"}`,
		`in {"method":"thread/started","params":{}}`,
	}, msgs)
}
