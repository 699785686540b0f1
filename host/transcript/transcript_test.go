package transcript_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/transcript"
)

func TestTranscriptReadErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "empty"},
		{"no header", `{"t":"2026-01-01T00:00:00Z","dir":"in","msg":{}}` + "\n", "not a transcript header"},
		{"other version", `{"format":"codexhost-transcript","version":2}` + "\n", "format version 2"},
		{"bad dir", `{"format":"codexhost-transcript","version":1}` + "\n" + `{"dir":"up","msg":{}}` + "\n", `line 2: dir "up"`},
		{"not json", `{"format":"codexhost-transcript","version":1}` + "\n" + "garbage\n" + `{"dir":"in","msg":{}}` + "\n", "line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := transcript.Read(bytes.NewBufferString(tc.in))
			require.ErrorIs(t, err, transcript.ErrFormat)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// A last line cut short by a crash is dropped, the rest is read.
	tr, err := transcript.Read(bytes.NewBufferString(`{"format":"codexhost-transcript","version":1}` + "\n" +
		`{"t":"2026-01-01T00:00:00Z","dir":"in","msg":{"method":"x"}}` + "\n" + `{"t":"2026-01-01T00:00:00Z","dir":"in","msg":{"meth`))
	require.NoError(t, err)
	require.Len(t, tr.Records, 1)
	assert.Equal(t, 2, tr.Records[0].Line)
}

// Lines that are not JSON are kept as text; records are whole lines.
func TestTranscriptWriter(t *testing.T) {
	var buf bytes.Buffer
	tw := transcript.NewWriter(&buf, transcript.Header{})
	tw.Record(transcript.Out, []byte(`{"id":1,"method":"m"}`+"\n"))
	tw.Record(transcript.In, []byte("not json"))
	tw.Record(transcript.In, []byte("\n"))
	require.NoError(t, tw.Err())
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	require.Len(t, lines, 3)
	var h transcript.Header
	require.NoError(t, json.Unmarshal(lines[0], &h))
	assert.Equal(t, transcript.Version, h.Version)
	assert.False(t, h.Start.IsZero())
	tr, err := transcript.Read(&buf)
	require.NoError(t, err)
	require.Len(t, tr.Records, 2)
	assert.JSONEq(t, `{"id":1,"method":"m"}`, string(tr.Records[0].Msg))
	assert.Equal(t, "not json", tr.Records[1].Text)
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(b), nil
}

// A write error stops the recording and is reported by Err.
func TestTranscriptWriteError(t *testing.T) {
	fw := &failWriter{n: 2}
	tw := transcript.NewWriter(fw, transcript.Header{})
	tw.Record(transcript.Out, []byte(`{}`))
	require.NoError(t, tw.Err())
	tw.Record(transcript.Out, []byte(`{}`))
	require.ErrorContains(t, tw.Err(), "disk full")
	tw.Record(transcript.Out, []byte(`{}`))
	require.ErrorContains(t, tw.Err(), "disk full")
}

// TestTranscriptEscapesTerminalControls: a transcript is printed (cat,
// less -R), and the agent's text in it must not drive the terminal: C1
// controls (U+009B is CSI), bidirectional overrides and invisible format
// characters, which JSON allows raw inside strings, are written as \u
// escapes, in "msg" and "text" lines alike; the values read back are the
// same. Before, they were written raw.
func TestTranscriptEscapesTerminalControls(t *testing.T) {
	const hostile = "ls \u009b31m red \u202e txt.exe \u200b \u2066x\u2069 \U000e0041 ok é"
	line, err := json.Marshal(map[string]any{"method": "item/agentMessage/delta", "params": map[string]any{"delta": hostile}})
	require.NoError(t, err)
	var buf bytes.Buffer
	tw := transcript.NewWriter(&buf, transcript.Header{})
	tw.Record(transcript.In, line)
	tw.Record(transcript.In, []byte("not json: "+hostile))
	require.NoError(t, tw.Err())
	out := buf.String()
	for _, r := range []rune{0x9b, 0x202e, 0x200b, 0x2066, 0x2069, 0xe0041} {
		assert.NotContains(t, out, string(r), "U+%04X written raw", r)
	}
	assert.Contains(t, out, `\u009b31m`)
	assert.Contains(t, out, "é", "printable text stays as it is")

	tr, err := transcript.Read(&buf)
	require.NoError(t, err)
	require.Len(t, tr.Records, 2)
	var got struct{ Params struct{ Delta string } }
	require.NoError(t, json.Unmarshal(tr.Records[0].Msg, &got))
	assert.Equal(t, hostile, got.Params.Delta, "the same value")
	assert.Equal(t, "not json: "+hostile, tr.Records[1].Text)
}
