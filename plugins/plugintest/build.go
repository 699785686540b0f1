package plugintest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// moduleRoot returns the root of the codexhost module's source tree, found
// from this file's location.
func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if ok && filepath.IsAbs(file) {
		return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..")), nil
	}
	// Built with -trimpath: ask the go command.
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("plugintest: find the module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("plugintest: find the module root: not in a module")
	}
	return filepath.Dir(gomod), nil
}

// GuestSource returns the source of a reference guest: the package
// directory of a Go guest (GuestRef, GuestApproveAll, GuestAbstain), or
// the .wat file of GuestDeclineAllWAT or GuestSleeperWAT.
func GuestSource(guest string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	switch guest {
	case GuestRef, GuestApproveAll, GuestAbstain:
		return filepath.Join(root, "sdk-guest", "internal", "testguests", guest), nil
	case GuestDeclineAllWAT:
		return filepath.Join(root, "plugins", "plugintest", "testdata", "wat", "declineall.wat"), nil
	case GuestSleeperWAT:
		return filepath.Join(root, "plugins", "plugintest", "testdata", "wat", "sleeper.wat"), nil
	}
	return "", fmt.Errorf("plugintest: unknown guest %q", guest)
}

// GuestWasm returns the WebAssembly binary of a reference guest, built
// from source with [BuildGoGuest] or [BuildWAT]. Runtimes that load
// WebAssembly can use it in their [Loader].
func GuestWasm(t testing.TB, guest string) []byte {
	t.Helper()
	src, err := GuestSource(guest)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(src, ".wat") {
		return BuildWAT(t, src)
	}
	return BuildGoGuest(t, src)
}

// builds caches what this process built, by source path.
var builds sync.Map // string -> *build

type build struct {
	once sync.Once
	wasm []byte
	err  error
}

func cached(key string, f func() ([]byte, error)) ([]byte, error) {
	v, _ := builds.LoadOrStore(key, new(build))
	b := v.(*build)
	b.once.Do(func() { b.wasm, b.err = f() })
	return b.wasm, b.err
}

// BuildGoGuest builds the Go package in dir as a codexhost Wasm guest
// (GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared) and
// returns the module's bytes. -trimpath makes the bytes independent of
// where the source is checked out, so the compilation cache serves every
// checkout. Each package is built once per process (the go command's build
// cache makes later processes fast too). It fails t if the build fails. The
// caller must not modify the result.
func BuildGoGuest(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := GoGuest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// GoGuest is [BuildGoGuest] for code without a testing.TB, such as a
// TestMain.
func GoGuest(dir string) ([]byte, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return cached("go:"+abs, func() ([]byte, error) {
		tmp, err := os.MkdirTemp("", "codexhost-guest-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		out := filepath.Join(tmp, filepath.Base(abs)+".wasm")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-buildmode=c-shared", "-o", out, ".")
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("plugintest: build guest %s: %w\n%s", abs, err, stderr.Bytes())
		}
		return os.ReadFile(out)
	})
}

// BuildProcessGuest builds the Go package in dir as a process plugin (a
// native executable for the host OS, served with hashicorp/go-plugin) and
// returns its path. The same source builds as a Wasm guest with
// [BuildGoGuest]. Each package is built once per process.
func BuildProcessGuest(t testing.TB, dir string) string {
	t.Helper()
	p, err := ProcessGuest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ProcessGuest is [BuildProcessGuest] for code without a testing.TB. The
// binary is written under the system's temporary directory and kept for the
// life of the machine's temp dir, so later builds are fast.
func ProcessGuest(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	b, err := cached("process:"+abs, func() ([]byte, error) {
		tmp, err := os.MkdirTemp("", "codexhost-process-guest-")
		if err != nil {
			return nil, err
		}
		out := filepath.Join(tmp, filepath.Base(abs))
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
		cmd.Dir = abs
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("plugintest: build process guest %s: %w\n%s", abs, err, stderr.Bytes())
		}
		return []byte(out), nil
	})
	return string(b), err
}

// BuildWAT returns the binary of the WebAssembly text file path: its
// sibling .wasm if that is at least as new (`make testdata` builds them),
// else one built now with wabt's wat2wasm (once per process). Without
// either, it fails t when the CI environment variable is set, and skips t
// otherwise.
func BuildWAT(t testing.TB, path string) []byte {
	t.Helper()
	b, err := WAT(path)
	if errors.Is(err, errNoWat2wasm) {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v; CI must run `make testdata` first", err)
		}
		t.Skipf("%v; run `make testdata` (installs wabt)", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var errNoWat2wasm = errors.New("wat2wasm not found")

// WAT is [BuildWAT] for code without a testing.TB.
func WAT(path string) ([]byte, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return cached("wat:"+abs, func() ([]byte, error) {
		src, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("plugintest: %w", err)
		}
		bin := strings.TrimSuffix(abs, ".wat") + ".wasm"
		if st, err := os.Stat(bin); err == nil && !st.ModTime().Before(src.ModTime()) {
			return os.ReadFile(bin)
		}
		tool, err := exec.LookPath("wat2wasm")
		if err != nil {
			return nil, fmt.Errorf("plugintest: %s is missing or older than its source, and %w", bin, errNoWat2wasm)
		}
		tmp, err := os.MkdirTemp("", "codexhost-wat-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		out := filepath.Join(tmp, filepath.Base(bin))
		cmd := exec.Command(tool, "-o", out, abs)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("plugintest: wat2wasm %s: %w\n%s", abs, err, stderr.Bytes())
		}
		return os.ReadFile(out)
	})
}
