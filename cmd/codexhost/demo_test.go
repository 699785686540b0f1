package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The full demo (make demo): everything of --mode demo, then a question
// answered by examples/answer, an interrupted turn and a compacted thread.
func TestDemoFullMode(t *testing.T) {
	t.Parallel()
	requireCodex(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	r := runCtx(ctx, t, "", "demo", "--mode", "full")
	require.Equal(t, exitOK, r.code)
	for _, s := range []string{
		"loaded deny-rm", "loaded word-count", "loaded answer",
		"deny-rm: removing files is not allowed", "victim.txt is still there",
		`the model received the tool's answer: "4 words"`, "archived ",
		`question "Which color should the banner be?" answered by answer`,
		`the model received the answer: {"answers":{"color":{"answers":["Blue"]}}}`,
		": interrupted, ", " compacted (a contextCompaction item)",
		"demo: done",
	} {
		assert.Contains(t, r.stdout, s)
	}
}
