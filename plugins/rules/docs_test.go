package rules

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

// fenced returns the bodies of the ```lang blocks of a markdown text.
func fenced(doc, lang string) []string {
	var blocks []string
	for _, part := range strings.Split(doc, "```"+lang+"\n")[1:] {
		body, _, ok := strings.Cut(part, "```")
		if ok {
			blocks = append(blocks, body)
		}
	}
	return blocks
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

// exampleRows returns the rows of the tables that follow a
// "<!-- rules-examples: FILE -->" marker: FILE, the command line (code
// spans joined by ⏎ are its lines), the decision and the rule.
func exampleRows(t *testing.T, doc string) (rows [][4]string) {
	t.Helper()
	for _, part := range strings.Split(doc, "<!-- rules-examples: ")[1:] {
		file, table, ok := strings.Cut(part, " -->\n")
		require.True(t, ok)
		for _, line := range strings.Split(table, "\n") {
			if !strings.HasPrefix(line, "|") {
				break
			}
			cells := strings.Split(strings.Trim(line, "|"), " | ")
			if len(cells) != 3 || !strings.Contains(cells[0], "`") {
				continue
			}
			var lines []string
			for _, m := range codeSpan.FindAllStringSubmatch(cells[0], -1) {
				lines = append(lines, m[1])
			}
			rows = append(rows, [4]string{file, strings.Join(lines, "\n"), strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])})
		}
	}
	return rows
}

// Every rules file and rules document shown in the docs parses, and every
// documented command line gets the documented decision.
func TestDocumentedExamples(t *testing.T) {
	docs := map[string]string{}
	for _, name := range []string{"README.md", "../../docs/security.md"} {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		docs[name] = string(data)
	}
	nrows, nfiles := 0, 0
	for name, doc := range docs {
		for i, block := range fenced(doc, "toml") {
			_, err := Parse(name, []byte(block))
			assert.NoError(t, err, "%s: toml block %d", name, i+1)
			nfiles++
		}
		for i, block := range fenced(doc, "json") {
			if strings.Contains(block, "...") {
				continue // elided
			}
			var doc map[string]any
			require.NoError(t, json.Unmarshal([]byte(block), &doc), "%s: json block %d", name, i+1)
			if text, ok := doc["rules"].(string); ok {
				_, err := Parse("rules.toml", []byte(text))
				assert.NoError(t, err, "%s: json block %d", name, i+1)
			} else {
				_, err := ParseDocument("settings", doc)
				assert.NoError(t, err, "%s: json block %d", name, i+1)
			}
			nfiles++
		}
		for _, row := range exampleRows(t, doc) {
			p := policyFile(t, strings.TrimPrefix(row[0], "testdata/"))
			v := p.Evaluate(context.Background(), cmd(row[1]))
			assert.Equal(t, abi.Decision(row[2]), v.Decision, "%s: %q: %s", name, row[1], v.Response().Reason)
			assert.Equal(t, row[3], v.Rule, "%s: %q", name, row[1])
			nrows++
		}
	}
	assert.GreaterOrEqual(t, nrows, 25, "documented command lines")
	assert.GreaterOrEqual(t, nfiles, 2, "documented rules files")
}

// Every rules file shipped in testdata parses, and reads the same as a
// JSON document (what --settings @rules.toml passes to the Wasm plugin)
// as it does as TOML text.
func TestShippedRulesFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/*.toml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	lines := []string{"ls -la", "git status", "ls; rm x", "echo hi > x", "git push --force", "sed -i s/a/b/ f", "/bin/bash -lc 'ls && git diff'"}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		fromTOML, err := Parse(f, data)
		require.NoError(t, err, f)
		var doc map[string]any
		_, err = toml.Decode(string(data), &doc)
		require.NoError(t, err)
		js, err := json.Marshal(doc)
		require.NoError(t, err)
		doc = nil
		require.NoError(t, json.Unmarshal(js, &doc))
		fromJSON, err := ParseDocument(f, doc)
		require.NoError(t, err, f)
		assert.Equal(t, fromTOML.Rules(), fromJSON.Rules())
		for _, l := range lines {
			a, b := fromTOML.Evaluate(context.Background(), cmd(l)), fromJSON.Evaluate(context.Background(), cmd(l))
			assert.Equal(t, a.Decision, b.Decision, "%s: %q", f, l)
			assert.Equal(t, a.Rule, b.Rule, "%s: %q", f, l)
		}
	}
}
