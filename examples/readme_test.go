// Package examples_test runs the commands of every example's README.
package examples_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest/e2e"
)

// shBlocks returns the ```sh blocks of a Markdown file: the commands a
// reader is meant to run, from the repository root. Blocks in other
// languages (```go, ```json, ```text) are not run.
func shBlocks(t *testing.T, path string) []string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```sh":
			cur = &strings.Builder{}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: a ```sh block is not closed", path)
	return blocks
}

// Every example's README works as written: each ```sh block runs from the
// repository root with bash -e and exits 0. The commands build into bin/
// (ignored by git) and use the go build cache, so a second run is quick;
// the hello README runs make demo, the whole offline demo.
func TestREADMECommands(t *testing.T) {
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("runs every example README's commands (make demo among them); skipped with -short outside CI")
	}
	e2e.RequireCodex(t)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	readmes, err := filepath.Glob(filepath.Join(root, "examples", "*", "README.md"))
	require.NoError(t, err)
	require.NotEmpty(t, readmes)
	for _, readme := range readmes {
		name := filepath.Base(filepath.Dir(readme))
		blocks := shBlocks(t, readme)
		t.Run(name, func(t *testing.T) {
			require.NotEmpty(t, blocks, "%s has no ```sh block: show how to build or run the example", readme)
			for _, block := range blocks {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				start := time.Now()
				cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", block)
				cmd.Dir = root
				out, err := cmd.CombinedOutput()
				t.Logf("$ %s(%s)\n%s", strings.ReplaceAll(block, "\n", "\n$ "), time.Since(start).Round(time.Millisecond), out)
				require.NoError(t, err, "examples/%s/README.md: a command failed", name)
			}
		})
	}
}

// The ```sh blocks of docs/operations.md work as written, from the
// repository root (they need no codex).
func TestOperationsDocCommands(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	doc := filepath.Join(root, "docs", "operations.md")
	blocks := shBlocks(t, doc)
	require.NotEmpty(t, blocks)
	for _, block := range blocks {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", block)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		t.Logf("$ %s\n%s", strings.ReplaceAll(block, "\n", "\n$ "), out)
		require.NoError(t, err, "docs/operations.md: a command failed")
	}
}
