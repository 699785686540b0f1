package chain

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIntersectKeepsEachOnce: the meet of two grants lists each path once,
// in the first grant's order, however often either grant repeats it.
func TestIntersectKeepsEachOnce(t *testing.T) {
	assert.Equal(t, []string{"/w/tmp", "/"}, intersect([]string{"/w/tmp", "/", "/", "/x", "/w/tmp"}, []string{"/", "/", "/w/tmp"}))
	assert.Nil(t, intersect([]string{"/a"}, nil))
	assert.Nil(t, intersect(nil, []string{"/a"}))
}
