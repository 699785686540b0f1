// Package docs_test runs the documentation: every ```sh block of
// README.md, docs/*.md and plugins/rules/README.md (the rule engine's
// reference), exactly as written, in order, offline. The examples'
// READMEs are run by examples/readme_test.go.
//
// Each Markdown file runs in a fresh copy of the repository (so commands
// that write files do not touch the checkout), with:
//
//   - PATH starting with a GOBIN that holds a codexhost built from the
//     checkout (once, for every file; a `go install ./cmd/codexhost` in
//     the docs lands there too);
//   - CODEX_HOME pointing at a fake model that answers every turn, so a
//     plain `codexhost run "…"` works without an account or a network;
//   - HOME and XDG_CONFIG_HOME in a scratch directory;
//   - Debian's docker-registry on 127.0.0.1:5000 when the file names it.
//
// The blocks of one file share the working directory and the shell
// variables, as in one terminal. An HTML comment just above a block
// changes how it runs:
//
//	<!-- doc-test: exit=3 -->          the block must exit with 3
//	<!-- doc-test: skip REASON -->     not run; counted and printed with REASON
//	<!-- doc-test: file=PATH -->       (above a block of any language, such as
//	                                   ```go) the block is not run but written
//	                                   to PATH, relative to the current
//	                                   directory, so that later blocks build
//	                                   or run the code the page shows
//
// The test prints how many blocks it ran and skipped.
package docs_test

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/host/hosttest/e2e"
	"github.com/codexhost/codexhost/plugins/dist/disttest"
)

// A block is one ```sh block of a Markdown file.
type block struct {
	file    string
	line    int // of the opening fence
	text    string
	exit    int    // the exit status it must end with
	skip    string // why it is not run, if it is not
	writeTo string // where the block is written instead of run, if set
}

var marker = regexp.MustCompile(`^<!--\s*doc-test:\s*(.*?)\s*-->$`)

// blocksOf parses the ```sh blocks of a Markdown file and their markers.
func blocksOf(t *testing.T, path string) []block {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []block
	var cur *block
	var body strings.Builder
	var pending string // the marker just above the next block
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```") && (trimmed == "```sh" || strings.HasPrefix(pending, "file=")):
			cur = &block{file: path, line: n}
			if pending != "" {
				switch {
				case strings.HasPrefix(pending, "file="):
					cur.writeTo = strings.TrimSpace(strings.TrimPrefix(pending, "file="))
					require.True(t, cur.writeTo != "" && !filepath.IsAbs(cur.writeTo) && !strings.Contains(cur.writeTo, ".."),
						"%s:%d: doc-test: file= needs a relative path inside the directory, got %q", path, n, cur.writeTo)
				case strings.HasPrefix(pending, "skip"):
					cur.skip = strings.TrimSpace(strings.TrimPrefix(pending, "skip"))
					require.NotEmpty(t, cur.skip, "%s:%d: doc-test: skip needs a reason", path, n)
				case strings.HasPrefix(pending, "exit="):
					cur.exit, err = strconv.Atoi(strings.TrimPrefix(pending, "exit="))
					require.NoError(t, err, "%s:%d: bad doc-test marker %q", path, n, pending)
				default:
					t.Fatalf("%s:%d: unknown doc-test marker %q", path, n, pending)
				}
			}
			pending = ""
			body.Reset()
		case cur != nil && trimmed == "```":
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		case marker.MatchString(trimmed):
			pending = marker.FindStringSubmatch(trimmed)[1]
		case trimmed != "":
			pending = ""
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: a ```sh block is not closed", path)
	return out
}

// copyRepo copies the files of the checkout git knows (tracked, and
// untracked but not ignored) into dir, commits them there as a fresh git
// repository, and links tools/codex/node_modules.
func copyRepo(t *testing.T, root, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	require.NoError(t, err)
	for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, name)
		st, err := os.Lstat(src)
		if err != nil || !st.Mode().IsRegular() {
			continue // deleted in the work tree, or a link
		}
		dst := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(dst, b, st.Mode().Perm()))
	}
	// A reader follows the docs in a clone: the copy is a git checkout with
	// one commit, so `git diff` and codex's repository check see one.
	for _, args := range [][]string{
		{"init", "-q"},
		{"add", "-A"},
		{"-c", "user.name=docs", "-c", "user.email=docs@example.invalid", "commit", "-q", "--no-gpg-sign", "-m", "copy"},
	} {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}
	nm := filepath.Join(root, "tools", "codex", "node_modules")
	if _, err := os.Stat(nm); err == nil {
		require.NoError(t, os.Symlink(nm, filepath.Join(dir, "tools", "codex", "node_modules")))
	}
	// The cosign make test built, as the reader who ran it has it: linked
	// with its time, and its module files with theirs, so that the docs'
	// `make cosign` finds it up to date instead of linking it again.
	cosign := filepath.Join(root, ".cache", "bin", "cosign")
	if fi, err := os.Stat(cosign); err == nil {
		dst := filepath.Join(dir, ".cache", "bin", "cosign")
		require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
		if os.Link(cosign, dst) != nil { // another file system: a copy
			b, err := os.ReadFile(cosign)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(dst, b, 0o755))
			require.NoError(t, os.Chtimes(dst, fi.ModTime(), fi.ModTime()))
		}
		for _, f := range []string{"go.mod", "go.sum"} {
			if fi, err := os.Stat(filepath.Join(root, "tools", "cosign", f)); err == nil {
				require.NoError(t, os.Chtimes(filepath.Join(dir, "tools", "cosign", f), fi.ModTime(), fi.ModTime()))
			}
		}
	}
}

var ran, skipped, written atomic.Int64

// codexhostBin is the codexhost that TestDocs builds once.
var codexhostBin string

// bashInternal matches the lines of `declare -p` that a later block must
// not set again: read-only variables and bash's own state. Every other
// variable, exported or not, carries over to the next block, as in one
// terminal.
const bashInternal = `^declare -[^ ]*r[^ ]* |^declare -[^ ]* (BASH[A-Z_]*|FUNCNAME|PIPESTATUS|GROUPS|DIRSTACK|LINENO|RANDOM|SRANDOM|SECONDS|EPOCHSECONDS|EPOCHREALTIME|SHLVL|PWD|OLDPWD|_)=`

func TestDocs(t *testing.T) {
	if testing.Short() && os.Getenv("CI") == "" {
		t.Skip("runs every command of the docs; skipped with -short outside CI")
	}
	e2e.RequireCodex(t)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	files := []string{filepath.Join(root, "README.md"), filepath.Join(root, "plugins", "rules", "README.md")}
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return err
	}))

	// One fake model for every plain `codexhost run`: it answers each turn.
	model, err := hosttest.StartModel(nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = model.Close() })

	var needRegistry bool
	byFile := map[string][]block{}
	for _, f := range files {
		byFile[f] = blocksOf(t, f)
		for _, b := range byFile[f] {
			if b.skip == "" && strings.Contains(b.text, "localhost:5000") {
				needRegistry = true
			}
		}
	}
	if needRegistry {
		disttest.StartRegistryOn(t, "127.0.0.1:5000")
	}

	// codexhost, built once from the checkout the copies are made of, for
	// every file's PATH (a build per copy compiled it once per file).
	codexhostBin = filepath.Join(t.TempDir(), "codexhost")
	build := exec.Command("go", "build", "-o", codexhostBin, "./cmd/codexhost")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "build codexhost: %s", out)

	t.Run("files", func(t *testing.T) {
		for _, f := range files {
			rel, _ := filepath.Rel(root, f)
			blocks := byFile[f]
			if len(blocks) == 0 {
				continue
			}
			t.Run(rel, func(t *testing.T) {
				t.Parallel()
				runFile(t, root, rel, blocks, model.URL())
			})
		}
	})
	t.Logf("docs: %d blocks run, %d written to files, %d skipped (marked), in %d files", ran.Load(), written.Load(), skipped.Load(), len(files))
	fmt.Printf("docs: %d blocks run, %d written to files, %d skipped (marked), in %d files\n", ran.Load(), written.Load(), skipped.Load(), len(files))
}

func runFile(t *testing.T, root, rel string, blocks []block, modelURL string) {
	scratch := t.TempDir()
	repo := filepath.Join(scratch, "codexhost")
	copyRepo(t, root, repo)
	gobin := filepath.Join(scratch, "gobin")
	home := filepath.Join(scratch, "home")
	codexHome := filepath.Join(scratch, "codex-home")
	state := filepath.Join(scratch, "state")
	for _, d := range []string{gobin, home, state} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	require.NoError(t, hosttest.WriteCodexHome(codexHome, modelURL, &hosttest.CodexHomeOptions{OmitApprovalPolicy: true}))
	bin, err := os.ReadFile(codexhostBin)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(gobin, "codexhost"), bin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(state, "cwd"), []byte(repo), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(state, "env"), nil, 0o644))

	// The Go caches stay the machine's (HOME is a scratch directory).
	goenv, err := exec.Command("go", "env", "GOPATH", "GOMODCACHE", "GOCACHE").Output()
	require.NoError(t, err)
	gov := strings.Split(strings.TrimSpace(string(goenv)), "\n")
	require.Len(t, gov, 3)
	env := append(os.Environ(),
		"GOPATH="+gov[0], "GOMODCACHE="+gov[1], "GOCACHE="+gov[2],
		"PATH="+gobin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOBIN="+gobin, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"CODEX_HOME="+codexHome, "CODEXHOST_DOCS_TEST=1", "NO_COLOR=1")
	for _, b := range blocks {
		where := fmt.Sprintf("%s:%d", rel, b.line)
		if b.skip != "" {
			skipped.Add(1)
			t.Logf("%s: skipped: %s", where, b.skip)
			continue
		}
		if b.writeTo != "" {
			cwd, err := os.ReadFile(filepath.Join(state, "cwd"))
			require.NoError(t, err)
			dst := filepath.Join(string(cwd), b.writeTo)
			require.NoError(t, os.MkdirAll(filepath.Dir(dst), 0o755))
			require.NoError(t, os.WriteFile(dst, []byte(b.text), 0o644), where)
			written.Add(1)
			t.Logf("%s: wrote %s", where, b.writeTo)
			continue
		}
		script := fmt.Sprintf(`cd "$(cat %[1]q/cwd)"
. %[1]q/env
trap 'pwd > %[1]q/cwd; declare -p | grep -Ev %[3]q > %[1]q/env' EXIT
set -e -o pipefail
%[2]s`, state, b.text, bashInternal)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", "-c", script)
		cmd.Env = env
		cmd.Stdin = nil
		start := time.Now()
		out, err := cmd.CombinedOutput()
		cancel()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		t.Logf("%s (%s, exit %d):\n$ %s\n%s", where, time.Since(start).Round(time.Millisecond), code,
			strings.ReplaceAll(strings.TrimRight(b.text, "\n"), "\n", "\n$ "), out)
		ran.Add(1)
		require.Equal(t, b.exit, code, "%s: the block exited %d, the docs say %d", where, code, b.exit)
	}
}
