package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/cmd/codexhost/internal/config"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/internal/termsafe"
	"github.com/codexhost/codexhost/plugins"
	"github.com/codexhost/codexhost/plugins/dist"
	"github.com/codexhost/codexhost/plugins/load"
	"github.com/codexhost/codexhost/plugins/rules"
)

// A loader loads plugin files, Wasm or process, and plugins from OCI
// registries (oci://) through plugins/load, and owns what it loaded: one
// load.Set per plugin set, created on the first plugin.
type loader struct {
	set     *load.Set
	digests []string // hex sha256 of each loaded module, in order

	// Distribution and trust (dist.go); the zero value has no trust policy.
	trust distConfig
	// lazy loads Wasm plugins lazily (load.Options.Lazy); wait for them
	// with ready.
	lazy bool
}

func fileDigest(path string) (string, error) {
	b, err := regfile.Read(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// pluginLoggerKey is a test hook: a *slog.Logger stored under this context
// key, on the context given to run, receives the logs and output of the
// plugins the run loads (load.Options.Logger), which the CLI otherwise
// discards. Tests use it to see a plugin reach a point (such as falling
// asleep in a call) instead of sleeping and hoping it did. Nothing but
// tests sets it.
type pluginLoggerKey struct{}

// load loads the plugin at path (a file or an oci:// reference); want is
// its module's expected sha256 or "". The errors are usage errors that name
// the plugin and what to fix.
func (l *loader) load(ctx context.Context, path, want string) (plugins.Plugin, error) {
	return l.loadWith(ctx, path, want, nil)
}

// loadWith is load with the plugin's settings, grants and limits (nil:
// none, defaults).
func (l *loader) loadWith(ctx context.Context, path, want string, o *plugins.Options) (plugins.Plugin, error) {
	p, err := l.loadPlugin(ctx, path, want, o)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// loadPlugin is loadWith returning what the loader knows of the plugin.
func (l *loader) loadPlugin(ctx context.Context, path, want string, o *plugins.Options) (*load.Plugin, error) {
	if l.set == nil {
		lo := l.trust.loadOptions()
		lo.Lazy = l.lazy
		if lg, ok := ctx.Value(pluginLoggerKey{}).(*slog.Logger); ok {
			lo.Logger = lg
		}
		l.set = load.NewSet(lo)
	}
	po := &load.PluginOptions{SHA256: want}
	if o != nil {
		po.Options = *o
	}
	p, err := l.set.Load(ctx, path, po)
	if err != nil {
		ue := l.loadErr(path, want, err)
		if ee := (*exitError)(nil); errors.As(ue, &ee) {
			ee.cause = err
		}
		return nil, ue
	}
	l.digests = append(l.digests, p.SHA256)
	return p, nil
}

// loadErr turns an error of load.Set.Load into a one-line usage error that
// names the plugin and says what to do. It reads no error's text: the
// cases are told apart with errors.Is and errors.As, and what the error
// says is printed, escaped for the terminal.
func (l *loader) loadErr(path, want string, err error) error {
	msg := termsafe.Line(oneLine(err.Error()))
	var le *load.Error
	if errors.As(err, &le) {
		msg = termsafe.Line(oneLine(le.Err.Error())) // without the "plugin PATH: " prefix
	}
	ref := dist.IsRef(path)
	var de *load.DigestError
	switch {
	case errors.Is(err, load.ErrBadDigest):
		return usageErr("--sha256 %q is not a hex sha256 digest (64 hex digits)", want)
	case errors.Is(err, fs.ErrNotExist) && !ref:
		return usageErr("plugin %s: no such file; check the --plugin path", path)
	case errors.As(err, &de):
		return usageErr("plugin %s: sha256 is %s, --sha256 expects %s; refusing to load it", path, de.Got, de.Want)
	case errors.Is(err, load.ErrUnsigned) && ref:
		return usageErr("plugin %s is not signed, and the trust policy requires a signature; sign it (codexhost plugin sign) or pass --allow-unsigned for local development", path)
	case errors.Is(err, load.ErrUnsigned):
		return usageErr("plugin %s has no signature (%s) and trust policy %s is in force; sign it (codexhost plugin sign %s --key KEY) or pass --allow-unsigned for local development",
			path, dist.SignatureFile(path), l.trust.policy.Path(), path)
	case errors.Is(err, load.ErrUntrusted):
		return usageErr("plugin %s: %s; refusing it (add the key to the trust policy if you trust it)", path, msg)
	case errors.Is(err, load.ErrUnpinned):
		return usageErr("plugin %s: a tag with no trust policy to verify it is not trusted; pass --trust-policy FILE, pin it with @sha256:DIGEST, or --allow-unsigned", path)
	case errors.Is(err, load.ErrNotAsSigned) && ref:
		return usageErr("plugin %s describes itself differently from its artifact's manifest; refusing it", path)
	case errors.Is(err, load.ErrNotAsSigned):
		return usageErr("plugin %s: %s; refusing it", path, msg)
	case errors.Is(err, load.ErrCache):
		return usageErr("plugin cache: %s; pass --plugin-cache DIR", msg)
	case le != nil && le.Runtime == "" && ref:
		// The reference, the registry or the cache.
		return distErr("plugin "+path, le.Err)
	case admission(err):
		return usageErr("plugin %s: %s", path, msg)
	case le != nil && le.Runtime == dist.RuntimeProcess && !ref:
		return usageErr("plugin %s does not load as a process plugin (a Wasm plugin must start with \\0asm): %s", path, msg)
	}
	return usageErr("plugin %s does not load: %s", path, msg)
}

// admission reports whether err is a check of the plugin's manifest,
// settings or tools that failed, or its configure.
func admission(err error) bool {
	var ae *abi.Error
	for _, target := range []error{plugins.ErrBadManifest, plugins.ErrNotGranted, plugins.ErrLimits, plugins.ErrIncompatibleABI,
		load.ErrBadSettings, load.ErrTool, load.ErrTooManyTools} {
		if errors.Is(err, target) {
			return true
		}
	}
	return errors.As(err, &ae)
}

// ready loads the plugins that loaded lazily and have not loaded yet (a
// lazy plugin loads at its first call or Ready), waits for them, and
// returns the first that failed, as a usage error naming it. A plugin
// closed meanwhile (a reload retired its set, or the run is ending) is
// not a failure.
func (l *loader) ready(ctx context.Context) error {
	if l.set == nil {
		return nil
	}
	for _, p := range l.set.Plugins() {
		if err := plugins.Ready(ctx, p.Plugin); err != nil && !errors.Is(err, plugins.ErrClosed) {
			return l.loadErr(p.Source, "", &load.Error{Source: p.Source, Runtime: p.Runtime, Err: err})
		}
	}
	return nil
}

// close closes every plugin, then the Wasm runtime.
func (l *loader) close() {
	if l.set != nil {
		_ = l.set.Close(context.Background())
	}
}

// loadPolicy parses the rules file of --policy into the in-process rules
// plugin. A file that does not validate is a usage error naming the first
// problem's line and field.
func loadPolicy(path string) (plugins.Plugin, error) {
	data, err := regfile.Read(path)
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

// settingsUsage is the help of every --settings flag but run's (which
// adds the pairing with --plugin): readSettings reads all of them.
const settingsUsage = "the plugin's settings: `JSON` text, or @FILE (TOML for a .toml file, JSON otherwise)"

// readSettings reads a --settings value: JSON text, or @FILE, a file of
// settings: TOML for a .toml file, JSON for a .json file, else JSON (see
// config.ReadSettingsFile).
func readSettings(flag, s string) ([]byte, error) {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		b, err := config.ReadSettingsFile(name)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, usageErr("%s %s: no such file or directory", flag, s)
			}
			return nil, usageErr("%s %s: %v", flag, s, unwrapPathError(err))
		}
		return b, nil
	}
	if !jsonValid(s) {
		return nil, usageErr("%s %q is not JSON (give JSON text, or @FILE for a .toml or .json file)", flag, s)
	}
	return []byte(strings.TrimSpace(s)), nil
}
