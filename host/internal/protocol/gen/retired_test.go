package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// moduleRoot is the directory of codexhost's go.mod, above the test's
// working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// generated reports whether rel (slash-separated, relative to the module
// root) is generated wire-type code, which may name anything.
func generated(rel string) bool {
	return strings.HasPrefix(rel, "host/protocol/") || rel == "host/internal/protocol/aliases.go"
}

// identUses counts, per name in names, the identifiers and selectors
// (protocol.X) of the Go source src that name it.
func identUses(fset *token.FileSet, filename string, src any, names []string) (map[string][]string, error) {
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	uses := map[string][]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if ok && slices.Contains(names, id.Name) {
			uses[id.Name] = append(uses[id.Name], fset.Position(id.Pos()).String())
		}
		return true
	})
	return uses, nil
}

// The methods of retiredMethods are handled by name only, so that the
// code builds against the wire types of every supported codex, including
// the ones whose schema lacks them (`make protocol` from codex 0.171.0):
//
//   - no hand-written code, tests included, names a retired method's params or result type
//     (they are generated only while the schema has them);
//   - no hand-written code names the constant of a retired client method
//     (a wrapped call to it would fail on the newer codex);
//   - the constant of a retired server request is used, by host's
//     dispatch, so that the older codex that still sends it is answered.
func TestRetiredMethodTypesAreUnused(t *testing.T) {
	if len(retiredMethods) == 0 {
		t.Skip("no retired methods")
	}
	var types, clientConsts, serverConsts []string
	for _, m := range retiredMethods {
		for _, typ := range []string{m.params, m.result} {
			if typ != "" {
				types = append(types, typ)
			}
		}
		switch m.kind {
		case "client":
			clientConsts = append(clientConsts, "Client"+goName(m.method))
		case "server":
			serverConsts = append(serverConsts, "Server"+goName(m.method))
		}
	}
	names := slices.Concat(types, clientConsts, serverConsts)

	root := moduleRoot(t)
	fset := token.NewFileSet()
	uses := map[string][]string{}
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || generated(rel) {
			return nil
		}
		files++
		u, err := identUses(fset, path, nil, names)
		if err != nil {
			return err
		}
		for n, at := range u {
			uses[n] = append(uses[n], at...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("only %d Go files under %s: the walk missed the module", files, root)
	}
	for _, n := range slices.Concat(types, clientConsts) {
		if at := uses[n]; len(at) > 0 {
			t.Errorf("%s belongs to a method the newest codex lacks; hand-written code must not name it: %s", n, strings.Join(at, ", "))
		}
	}
	for _, n := range serverConsts {
		if len(uses[n]) == 0 {
			t.Errorf("%s: the retired server request is not dispatched by any hand-written code; the older codex that sends it would go unanswered", n)
		}
	}
	t.Logf("%d hand-written files; retired types %v unused; server constants %v used at %v", files, types, serverConsts, uses)
}

// The check finds a use of a retired type through a package selector.
func TestIdentUsesFindsSelectors(t *testing.T) {
	src := `package host
import "github.com/codexhost/codexhost/host/internal/protocol"
var _ = protocol.CurrentTimeReadResponse{CurrentTimeAt: 1}
`
	u, err := identUses(token.NewFileSet(), "x.go", src, []string{"CurrentTimeReadResponse", "CurrentTimeReadParams"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u["CurrentTimeReadResponse"]) != 1 || len(u["CurrentTimeReadParams"]) != 0 {
		t.Fatalf("uses = %v, want one of CurrentTimeReadResponse", u)
	}
}
