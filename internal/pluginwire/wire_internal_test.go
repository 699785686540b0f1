package pluginwire

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// The hand-written codec agrees with the protobuf library both ways.
func TestBytesValueCodec(t *testing.T) {
	for _, v := range [][]byte{nil, {}, []byte("x"), make([]byte, 300), []byte(`{"decision":"accept"}`)} {
		ours := encodeBytes(v)
		theirs, err := proto.Marshal(wrapperspb.Bytes(v))
		assert.NoError(t, err)
		assert.Equal(t, string(theirs), string(ours))
		assert.Equal(t, string(v), string(decodeBytes(theirs)))
	}
	// Unknown fields are skipped; a truncated message decodes as far as
	// it goes.
	withUnknown := append([]byte{0x10, 0x05, 0x1d, 1, 2, 3, 4}, encodeBytes([]byte("v"))...)
	assert.Equal(t, "v", string(decodeBytes(withUnknown)))
	assert.Nil(t, decodeBytes([]byte{0x0a, 0x05, 'a'}))
}

func TestGRPCTimeout(t *testing.T) {
	for s, want := range map[string]time.Duration{"5S": 5 * time.Second, "100m": 100 * time.Millisecond, "2H": 2 * time.Hour, "7u": 7 * time.Microsecond} {
		d, ok := grpcTimeout(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, d, s)
	}
	for _, s := range []string{"", "5", "5x", "-1S", "xS"} {
		_, ok := grpcTimeout(s)
		assert.False(t, ok, s)
	}
}

func TestPercentEncode(t *testing.T) {
	assert.Equal(t, "a b%25c%0Ad%C3%A9", percentEncode("a b%c\ndé"))
}
