package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/process"
	"github.com/codexhost/codexhost/plugins/rules"
	"github.com/codexhost/codexhost/plugins/wasm"
)

// wasmMagic starts every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

// A loader loads plugin files, Wasm or process, and plugins from OCI
// registries (oci://, see dist.go), and owns what it loaded.
type loader struct {
	rt      *wasm.Runtime // created on the first Wasm plugin
	loaded  []plugins.Plugin
	digests []string // hex sha256 of each loaded module, in order

	// Distribution and trust (dist.go); the zero value has no trust policy.
	trust distConfig
	cache *dist.Cache // opened on the first oci:// plugin
}

// isWasm reports whether the file at path starts with the Wasm magic.
func isWasm(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 4)
	n, _ := f.Read(head)
	return bytes.Equal(head[:n], wasmMagic), nil
}

func fileDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// normDigest validates a --sha256 value and returns it in lower-case hex.
func normDigest(s string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	b, err := hex.DecodeString(h)
	if err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("--sha256 %q is not a hex sha256 digest (64 hex digits)", s)
	}
	return h, nil
}

// load loads the plugin at path (a file or an oci:// reference); want is
// its module's expected sha256 or "". The errors are usage errors that name
// the plugin and what to fix.
func (l *loader) load(ctx context.Context, path, want string) (plugins.Plugin, error) {
	return l.loadWith(ctx, path, want, nil)
}

// loadWith is load with the plugin's settings, grants and limits (nil:
// none, defaults).
func (l *loader) loadWith(ctx context.Context, path, want string, o *plugins.Options) (plugins.Plugin, error) {
	if o == nil {
		o = &plugins.Options{}
	}
	if want != "" {
		var err error
		if want, err = normDigest(want); err != nil {
			return nil, usageErr("%v", err)
		}
	}
	if dist.IsRef(path) {
		return l.loadRef(ctx, path, want, o)
	}
	isW, err := isWasm(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageErr("plugin %s: no such file; check the --plugin path", path)
		}
		return nil, usageErr("plugin %s: %v", path, err)
	}
	digest, err := fileDigest(path)
	if err != nil {
		return nil, usageErr("plugin %s: %v", path, err)
	}
	if want != "" && want != digest {
		return nil, usageErr("plugin %s: sha256 is %s, --sha256 expects %s; refusing to load it", path, digest, want)
	}
	// With a trust policy, a local file needs a trusted signature beside
	// it (PATH.sig), or --allow-unsigned.
	signed, err := l.verifyFile(path, digest)
	if err != nil {
		return nil, err
	}
	if signed != nil && want == "" {
		want = digest // pin the process binary to the verified digest
	}
	var p plugins.Plugin
	if isW {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageErr("plugin %s: %v", path, err)
		}
		// Load the bytes that were hashed, not the file again.
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != digest {
			return nil, usageErr("plugin %s changed while it was being loaded; try again", path)
		}
		if p, err = l.loadWasm(ctx, path, b, o); err != nil {
			return nil, err
		}
	} else {
		pp, err := process.Load(ctx, path, &process.Options{Options: *o, SHA256: want})
		if err != nil {
			return nil, usageErr("plugin %s does not load as a process plugin (a Wasm plugin must start with \\0asm): %s", path, oneLine(err.Error()))
		}
		p = pp
	}
	if signed != nil {
		if err := checkSigned(path, p, signed); err != nil {
			_ = p.Close(context.Background())
			return nil, err
		}
	}
	l.loaded = append(l.loaded, p)
	l.digests = append(l.digests, digest)
	return p, nil
}

// loadWasm loads Wasm bytes in the loader's runtime.
func (l *loader) loadWasm(ctx context.Context, name string, b []byte, o *plugins.Options) (plugins.Plugin, error) {
	if l.rt == nil {
		var err error
		l.rt, err = wasm.NewRuntime(ctx, nil)
		if err != nil {
			return nil, fail(exitConn, "start the Wasm runtime: %v", err)
		}
	}
	wp, err := l.rt.Load(ctx, b, &wasm.Options{Options: *o, Name: name})
	if err != nil {
		return nil, usageErr("plugin %s does not load: %s", name, oneLine(err.Error()))
	}
	return wp, nil
}

// close closes every plugin, then the Wasm runtime.
func (l *loader) close() {
	ctx := context.Background()
	for _, p := range l.loaded {
		_ = p.Close(ctx)
	}
	if l.rt != nil {
		_ = l.rt.Close(ctx)
	}
}

// loadPolicy parses the rules file of --policy into the in-process rules
// plugin. A file that does not validate is a usage error naming the first
// problem's line and field.
func loadPolicy(path string) (plugins.Plugin, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usageErr("--policy %s: no such file; check the path of the rules file", path)
		}
		return nil, usageErr("--policy %s: %v", path, err)
	}
	pol, err := rules.Parse(path, data)
	if err != nil {
		msg := err.Error()
		if n := strings.Count(msg, "\n"); n > 0 {
			msg = oneLine(msg) + fmt.Sprintf(" (and %d more problems)", n)
		}
		return nil, usageErr("--policy: %s", msg)
	}
	return rules.NewPlugin(pol), nil
}
