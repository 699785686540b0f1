package warmcache

import (
	"context"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codexhost/codexhost/plugins/plugintest"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// envWarm must be set for TestWarmGuests to run: under `go test -race
// ./...` it would be the slow compile it exists to avoid.
const envWarm = "CODEXHOST_WARM"

// guestDirs returns the directories under root of the Go plugin guests: a
// main package that calls guest.Main.
func guestDirs(t *testing.T, root string) []string {
	t.Helper()
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", ".cache", "node_modules", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		// A guest is a main package that imports sdk-guest; the text
		// guest.Main() alone also appears in cmd/codexhost's templates.
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if f.Name.Name != "main" {
			return nil
		}
		for _, imp := range f.Imports {
			if imp.Path.Value == `"github.com/codexhost/codexhost/sdk-guest"` && !slices.Contains(dirs, filepath.Dir(path)) {
				dirs = append(dirs, filepath.Dir(path))
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

// TestWarmGuests builds each guest (go build's cache keeps the result for
// the tests' own builds) and compiles it into the default compilation
// cache.
func TestWarmGuests(t *testing.T) {
	if os.Getenv(envWarm) == "" {
		t.Skipf("set %s=1 to warm the caches (make warm)", envWarm)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dirs := guestDirs(t, root)
	if len(dirs) == 0 {
		t.Fatal("no guests found")
	}
	bins := make([][]byte, len(dirs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	start := time.Now()
	for i, dir := range dirs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			b, err := plugintest.GoGuest(dir)
			if err != nil {
				t.Error(err)
				return
			}
			bins[i] = b
		})
	}
	// One native build of the reference guest compiles what every process
	// plugin shares (go-plugin, gRPC, protobuf) without the race detector,
	// as the tests' own builds of process plugins need it: on a fresh
	// clone, that is minutes the tests would otherwise spend inside their
	// timeouts.
	wg.Go(func() {
		src, err := plugintest.GuestSource(plugintest.GuestRef)
		if err == nil {
			_, err = plugintest.ProcessGuest(src)
		}
		if err != nil {
			t.Error(err)
		}
	})
	wg.Wait()
	t.Logf("built %d guests for Wasm and one natively in %s", len(dirs), time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	rt, err := wasm.NewRuntime(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	for i, dir := range dirs {
		if bins[i] == nil {
			continue
		}
		rel, _ := filepath.Rel(root, dir)
		t0 := time.Now()
		if err := rt.Precompile(ctx, bins[i]); err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		t.Logf("%s: compiled (or found in the cache) in %s", rel, time.Since(t0).Round(time.Millisecond))
	}
	t.Logf("cache: %s", wasm.DefaultCacheDir())
}
