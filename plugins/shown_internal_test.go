package plugins

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestShown(t *testing.T) {
	assert.Equal(t, "CODEXHOST_TOKEN", shown("CODEXHOST_TOKEN"), "a clean name reads as itself")
	assert.Equal(t, "/home/me/src", shown("/home/me/src"))
	assert.Equal(t, `"\x1b]0;pwned\a\x1b[2JHOME"`, shown("\x1b]0;pwned\a\x1b[2JHOME"))
	assert.Equal(t, `"a\u202eb"`, shown("a\u202eb"), "a bidirectional override")
	assert.Equal(t, `"a\xffb"`, shown("a\xffb"), "invalid UTF-8")
	long := shown(strings.Repeat("x", MaxQuotedErrorBytes+10))
	assert.True(t, strings.HasSuffix(long, "… (10 bytes more)"), long[len(long)-30:])
	assert.Len(t, long, MaxQuotedErrorBytes+len("… (10 bytes more)"))
}
