// Package config reads codexhost.toml, the configuration file of the
// codexhost command: the plugin chain and each plugin's grants, settings,
// timeout, mode and crash budget; rendering, audit and metrics; and the
// codex options. docs/configuration.md is the reference.
//
// Decoding is strict: an unknown key is an error that names the key and
// its line, and a value of the wrong type names the field. Every error is
// one line that starts with the file name and line.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/internal/regfile"
	"github.com/codexhost/codexhost/plugins/chain/audit"
)

// ErrNotFound is returned (wrapped) by [Load] for a file that does not
// exist.
var ErrNotFound = errors.New("config: no such file")

// File is a parsed codexhost.toml. Relative paths in it (plugin paths,
// settings files, the audit file, codex.home, codex.cwd) are resolved
// against the directory of the file.
type File struct {
	// Policy is a rules file (plugins/rules) decided in-process, before
	// the plugins.
	Policy  string   `toml:"policy"`
	Chain   Chain    `toml:"chain"`
	Plugins []Plugin `toml:"plugin"`
	// Render is how events are shown on stdout: exec, json or none.
	Render string `toml:"render"`
	// Audit is the decision log file (JSON lines).
	Audit string `toml:"audit"`
	// AuditMask names the decision record fields the OTLP decision log
	// stream sends masked (audit.MaskableFields); the local file keeps
	// them.
	AuditMask []string `toml:"audit_mask"`
	// Judge adds the LLM judge after the plugins.
	Judge   bool    `toml:"judge"`
	Metrics Metrics `toml:"metrics"`
	Reload  Reload  `toml:"reload"`
	Codex   Codex   `toml:"codex"`

	// Path is where the file was read from ("" when parsed from memory).
	Path string `toml:"-"`
	// Defined reports whether a key ("render", "chain.mode",
	// "metrics.addr") is set in the file, so that flags can tell an
	// explicit value from a default.
	defined map[string]bool
}

// Chain configures how the plugins' answers combine.
type Chain struct {
	// Mode is deny-wins (default) or first-answer.
	Mode string `toml:"mode"`
	// Fallback is decline (default), accept or cancel.
	Fallback    string      `toml:"fallback"`
	CrashBudget CrashBudget `toml:"crash_budget"`
}

// CrashBudget disables a plugin after Failures failures within Window.
type CrashBudget struct {
	// Failures: a positive number; 0 means never disable; unset means the
	// chain's (or the host's) default.
	Failures *int `toml:"failures"`
	// Window is a duration ("1m"). Default: the host's (one minute).
	Window Duration `toml:"window"`
}

// Plugin is one [[plugin]] entry.
type Plugin struct {
	// Name identifies the entry for --grant and --monitor and in messages.
	// Default: the file name of Path without its extension.
	Name string `toml:"name"`
	// Path is the plugin file (Wasm or process plugin) or an oci://
	// reference. Required.
	Path string `toml:"path"`
	// SHA256 pins the plugin's digest (64 hex digits, "sha256:" allowed).
	SHA256 string `toml:"sha256"`
	// Mode is enforce (default) or monitor.
	Mode string `toml:"mode"`
	// Timeout bounds each hook call ("2s"). Default: the runtime's, 5s.
	Timeout Duration `toml:"timeout"`
	// Settings are passed to the plugin's configure hook, as JSON.
	Settings map[string]any `toml:"settings"`
	// SettingsFiles maps a settings key to a file whose text becomes that
	// key's string value (e.g. rules = "rules.toml").
	SettingsFiles map[string]string `toml:"settings_files"`
	// SettingsFile is a file that holds the whole settings object: TOML
	// for a .toml file, else JSON (see ReadSettingsFile). It goes alone,
	// without Settings and SettingsFiles.
	SettingsFile string      `toml:"settings_file"`
	Grants       Grants      `toml:"grants"`
	CrashBudget  CrashBudget `toml:"crash_budget"`
	// RawSettings, if set, are the settings as JSON (from a flag); they
	// replace Settings and SettingsFiles.
	RawSettings json.RawMessage `toml:"-"`
}

// Grants are the capabilities granted to a plugin (abi.Capabilities).
type Grants struct {
	// Env are environment variable names the plugin may read.
	Env []string `toml:"env"`
	// ReadDirs are directories mounted read-only (absolute after
	// resolution).
	ReadDirs []string `toml:"read_dirs"`
	// Network grants the network (process plugins only).
	Network bool `toml:"network"`
}

// Metrics configures the metrics endpoint.
type Metrics struct {
	// Addr is host:port of the endpoint; empty means none.
	Addr string `toml:"addr"`
	// AllowRemote allows an address that is not loopback.
	AllowRemote bool `toml:"allow_remote"`
}

// Reload configures hot reload.
type Reload struct {
	// Watch polls the file (and its settings files and plugin files) for
	// changes. Default: true.
	Watch *bool `toml:"watch"`
	// Interval between polls. Default: DefaultReloadInterval.
	Interval Duration `toml:"interval"`
}

// DefaultReloadInterval is how often the file is polled by default.
const DefaultReloadInterval = time.Second

// Codex configures app-server and the thread. These apply at start; a
// reload that changes them is reported and otherwise ignored.
type Codex struct {
	Bin            string   `toml:"bin"`
	Home           string   `toml:"home"`
	Model          string   `toml:"model"`
	Cwd            string   `toml:"cwd"`
	Sandbox        string   `toml:"sandbox"`
	ApprovalPolicy string   `toml:"approval_policy"`
	Config         []string `toml:"config"` // -c key=value overrides
}

// A Duration is a TOML string such as "500ms", "2s" or "1m".
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration (e.g. \"500ms\", \"2s\", \"1m\")", b)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", b)
	}
	d.Duration = v
	return nil
}

// MarshalText formats the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Load reads and parses the file at path.
func Load(path string) (*File, error) {
	data, err := regfile.Read(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	// The directories are the file's to name: checked here, where the
	// file's place makes its relative paths real (Parse takes any path).
	for _, d := range []struct {
		key  toml.Key
		path string
	}{{toml.Key{"codex", "cwd"}, f.Codex.Cwd}, {toml.Key{"codex", "home"}, f.Codex.Home}} {
		if st, err := os.Stat(d.path); d.path != "" && (err != nil || !st.IsDir()) {
			return nil, keyError(path, data, d.key, "%s: not a directory", d.path)
		}
	}
	return f, nil
}

// DefaultPath is the configuration file used when none is named:
// $XDG_CONFIG_HOME/codexhost/config.toml, or ~/.config/codexhost/config.toml.
// getenv is os.Getenv in production.
func DefaultPath(getenv func(string) string) string {
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "codexhost", "config.toml")
}

// Parse parses data, read from path (used in messages and to resolve
// relative paths; "" means the current directory).
func Parse(data []byte, path string) (*File, error) {
	name := path
	if name == "" {
		name = "config"
	}
	var f File
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, decodeError(name, err)
	}
	if err := unknownKeys(name, data, md.Undecoded()); err != nil {
		return nil, err
	}
	f.Path = path
	f.defined = map[string]bool{}
	for _, k := range md.Keys() {
		f.defined[k.String()] = true
	}
	if err := f.validate(name, data); err != nil {
		return nil, err
	}
	f.resolve()
	return &f, nil
}

// keyError is an error about key: file:line: key: message, or file: key:
// message when the line cannot be found.
func keyError(name string, data []byte, key toml.Key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if line, _ := keyLine(data, key); line > 0 {
		return fmt.Errorf("%s:%d: %s: %s", name, line, key.String(), msg)
	}
	return fmt.Errorf("%s: %s: %s", name, key.String(), msg)
}

// Defined reports whether key (dotted, e.g. "chain.mode") is set in the
// file.
func (f *File) Defined(key string) bool { return f.defined[key] }

var typeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// decodeError turns the toml package's errors into one line that starts
// with file:line.
func decodeError(name string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.LastKey != "" && !strings.Contains(msg, pe.LastKey) {
			msg = pe.LastKey + ": " + msg
		}
		return fmt.Errorf("%s:%d: %s", name, pe.Position.Line, msg)
	}
	if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
		msg := strings.Replace(m[3], "incompatible types: TOML value has type", "wrong type: the file has", 1)
		msg = strings.Replace(msg, "; destination has type", ", want", 1)
		return fmt.Errorf("%s:%s: %s: %s", name, m[1], m[2], msg)
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "toml: "))
}

// unknownKeys reports the first key the file has and File does not know.
// Settings are free-form: their nested keys are not unknown.
func unknownKeys(name string, data []byte, keys []toml.Key) error {
	var bad []toml.Key
	for _, k := range keys {
		if len(k) >= 3 && k[0] == "plugin" && k[1] == "settings" {
			continue
		}
		bad = append(bad, k)
	}
	if len(bad) == 0 {
		return nil
	}
	k := bad[0]
	more := ""
	// Keys inside an unknown table are unknown too: count the others.
	n := 0
	for _, o := range bad[1:] {
		if !strings.HasPrefix(o.String(), k.String()+".") {
			n++
		}
	}
	if n > 0 {
		more = fmt.Sprintf(" (and %d more unknown key(s))", n)
	}
	what := "key"
	if line, header := keyLine(data, k); line > 0 {
		if header {
			what = "table"
		}
		return fmt.Errorf("%s:%d: unknown %s %q%s; see docs/configuration.md for the keys", name, line, what, k.String(), more)
	}
	return fmt.Errorf("%s: unknown key %q%s; see docs/configuration.md for the keys", name, k.String(), more)
}

// keyLine finds the line of key in data, and whether it is a table header.
// The toml package does not report positions of keys, so this is a light
// lexical scan: it follows table headers and key = value lines, skipping
// multi-line strings; it returns 0 if it cannot tell.
func keyLine(data []byte, key toml.Key) (int, bool) {
	want := key.String()
	var table []string
	inMulti := ""
	for i, line := range strings.Split(string(data), "\n") {
		s := strings.TrimSpace(line)
		if inMulti != "" {
			if strings.Count(s, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if strings.HasPrefix(s, "[") {
			inner := strings.TrimSpace(strings.Trim(strings.SplitN(s, "#", 2)[0], " \t"))
			inner = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]"))
			inner = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(inner, "["), "]"))
			table = splitKey(inner)
			if toml.Key(table).String() == want {
				return i + 1, true
			}
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		full := append(append([]string(nil), table...), splitKey(strings.TrimSpace(k))...)
		if fk := toml.Key(full).String(); fk == want ||
			strings.HasPrefix(want, fk+".") && strings.HasPrefix(strings.TrimSpace(v), "{") { // in an inline table
			return i + 1, false
		}
		for _, q := range []string{`"""`, `'''`} {
			if strings.Count(v, q)%2 == 1 {
				inMulti = q
			}
		}
	}
	return 0, false
}

// arrayKeyLine is keyLine for field in the n-th (from 0) [[array]] table,
// or 0.
func arrayKeyLine(data []byte, array string, n int, field string) int {
	header := "[[" + array + "]]"
	offset, lines := 0, 0
	for seen := -1; ; {
		i := bytes.Index(data[offset:], []byte(header))
		if i < 0 {
			return 0
		}
		if start := offset + i; start == 0 || data[start-1] == '\n' { // a header, not a string
			seen++
			if seen == n {
				lines += bytes.Count(data[offset:start], []byte("\n"))
				offset = start
				break
			}
		}
		lines += bytes.Count(data[offset:offset+i+len(header)], []byte("\n"))
		offset += i + len(header)
	}
	rest := data[offset:]
	if next := bytes.Index(rest[len(header):], []byte("\n"+header)); next >= 0 {
		rest = rest[:len(header)+next+1] // this table only
	}
	if line, _ := keyLine(rest, toml.Key{array, field}); line > 0 {
		return lines + line
	}
	return 0
}

// splitKey splits a dotted key, honouring quotes.
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	quote := byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validate checks values the types cannot; errors name the key and, when
// it can be found, its line.
func (f *File) validate(name string, data []byte) error {
	at := func(key toml.Key, format string, args ...any) error {
		return keyError(name, data, key, format, args...)
	}
	for _, k := range []string{"policy", "audit"} {
		if f.defined[k] && map[string]string{"policy": f.Policy, "audit": f.Audit}[k] == "" {
			// Empty would mean none: a run without the policy or the log
			// the file meant to give it.
			return at(toml.Key{k}, "\"\": want a file name (leave the key out for none)")
		}
	}
	for _, e := range []struct {
		key     toml.Key
		v       string
		allowed []string
	}{
		{toml.Key{"chain", "mode"}, f.Chain.Mode, []string{"deny-wins", "first-answer"}},
		{toml.Key{"chain", "fallback"}, f.Chain.Fallback, []string{"decline", "accept", "cancel"}},
		{toml.Key{"render"}, f.Render, []string{"exec", "json", "none"}},
		{toml.Key{"codex", "approval_policy"}, f.Codex.ApprovalPolicy, host.ApprovalPolicies},
		{toml.Key{"codex", "sandbox"}, f.Codex.Sandbox, host.SandboxModes},
	} {
		if e.v == "" && f.defined[e.key.String()] {
			// Empty is not "the default": leave the key out for that.
			return at(e.key, "\"\": want %s (leave the key out for the default)", strings.Join(e.allowed, ", "))
		}
		if err := oneOf(e.v, e.allowed...); err != nil {
			return at(e.key, "%v", err)
		}
	}
	if err := f.Chain.CrashBudget.check(); err != nil {
		return at(toml.Key{"chain", "crash_budget", "failures"}, "%v", err)
	}
	if err := audit.CheckMask(f.AuditMask); err != nil {
		return at(toml.Key{"audit_mask"}, "%v", err)
	}
	if a := f.Metrics.Addr; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return at(toml.Key{"metrics", "addr"}, "%q: want HOST:PORT, e.g. 127.0.0.1:9464", a)
		}
	}
	for _, kv := range f.Codex.Config {
		if !strings.Contains(kv, "=") {
			return at(toml.Key{"codex", "config"}, "%q: want key=value", kv)
		}
	}
	names := map[string]int{}
	for i := range f.Plugins {
		p := &f.Plugins[i]
		where := fmt.Sprintf("[[plugin]] #%d", i+1)
		// pat is an error about the field of this [[plugin]], on its line.
		pat := func(field, format string, args ...any) error {
			msg := fmt.Sprintf(format, args...)
			if line := arrayKeyLine(data, "plugin", i, field); line > 0 {
				return fmt.Errorf("%s:%d: plugin.%s: %s (%s)", name, line, field, msg, where)
			}
			return fmt.Errorf("%s: %s: %s: %s", name, where, field, msg)
		}
		named := func() { where = fmt.Sprintf("plugin %q", p.Name) } // once the name is known good
		if p.Path == "" {
			return fmt.Errorf("%s: %s has no path; every plugin needs path = \"FILE\"", name, where)
		}
		if p.Name == "" {
			p.Name = DefaultName(p.Path)
		}
		if !nameRE.MatchString(p.Name) {
			return pat("name", "%q: use letters, digits, '.', '_' and '-' (it is used as --grant NAME:CAP)", p.Name)
		}
		if j, dup := names[p.Name]; dup {
			return fmt.Errorf("%s: %s and #%d are both named %q; give one a name = \"...\"", name, where, j+1, p.Name)
		}
		named()
		names[p.Name] = i
		if p.SHA256 != "" {
			if _, err := NormDigest(p.SHA256); err != nil {
				return pat("sha256", "%v", err)
			}
		}
		if err := oneOf(p.Mode, "enforce", "monitor"); err != nil {
			return pat("mode", "%v", err)
		}
		if err := p.CrashBudget.check(); err != nil {
			return pat("crash_budget", "failures: %v", err)
		}
		for k := range p.SettingsFiles {
			if _, dup := p.Settings[k]; dup {
				return fmt.Errorf("%s: plugin %q: settings key %q is set both in settings and in settings_files", name, p.Name, k)
			}
		}
		if p.SettingsFile != "" && (len(p.Settings) > 0 || len(p.SettingsFiles) > 0) {
			return fmt.Errorf("%s: plugin %q: settings_file goes alone, without settings and settings_files", name, p.Name)
		}
		if _, err := json.Marshal(p.Settings); err != nil {
			return fmt.Errorf("%s: plugin %q: settings cannot be passed as JSON: %v", name, p.Name, err)
		}
	}
	return nil
}

func (b CrashBudget) check() error {
	if b.Failures != nil && *b.Failures < 0 {
		return fmt.Errorf("%d is negative (0 means never disable)", *b.Failures)
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("%q: want %s", v, strings.Join(allowed, ", "))
}

// DefaultName is a plugin's name when the file gives none: the last
// element of path without its extension ("bin/rules-policy.wasm" →
// "rules-policy").
func DefaultName(path string) string {
	base := path
	if i := strings.LastIndexAny(base, "/\\"); i >= 0 {
		base = base[i+1:]
	}
	if i := strings.IndexAny(base, ":@"); i > 0 && strings.Contains(path, "://") { // oci://reg/repo:tag
		base = base[:i]
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// resolve makes relative paths relative to the file's directory.
func (f *File) resolve() {
	if f.Path == "" {
		return
	}
	dir := filepath.Dir(f.Path)
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) && !strings.Contains(*p, "://") && !strings.HasPrefix(*p, "~") {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&f.Audit)
	abs(&f.Policy)
	abs(&f.Codex.Home)
	abs(&f.Codex.Cwd)
	for i := range f.Plugins {
		p := &f.Plugins[i]
		abs(&p.Path)
		abs(&p.SettingsFile)
		for k, v := range p.SettingsFiles {
			abs(&v)
			p.SettingsFiles[k] = v
		}
		for j := range p.Grants.ReadDirs {
			abs(&p.Grants.ReadDirs[j])
		}
	}
}

// SettingsJSON returns the plugin's settings as JSON, with the text of
// each settings file read now; nil when there are none.
func (p *Plugin) SettingsJSON() (json.RawMessage, error) {
	if p.RawSettings != nil {
		return p.RawSettings, nil
	}
	if p.SettingsFile != "" {
		b, err := ReadSettingsFile(p.SettingsFile)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: settings_file: %w", p.Name, err)
		}
		return b, nil
	}
	if len(p.Settings) == 0 && len(p.SettingsFiles) == 0 {
		return nil, nil
	}
	m := make(map[string]any, len(p.Settings)+len(p.SettingsFiles))
	for k, v := range p.Settings {
		m[k] = v
	}
	for k, path := range p.SettingsFiles {
		b, err := regfile.Read(path)
		if err != nil {
			return nil, fmt.Errorf("plugin %q: settings_files.%s: %w", p.Name, k, err)
		}
		m[k] = string(b)
	}
	return json.Marshal(m)
}

// ReloadInterval is the poll interval (default applied).
func (f *File) ReloadInterval() time.Duration {
	if f.Reload.Interval.Duration > 0 {
		return f.Reload.Interval.Duration
	}
	return DefaultReloadInterval
}

// Watch reports whether the file is polled for changes.
func (f *File) Watch() bool { return f.Reload.Watch == nil || *f.Reload.Watch }

// WatchedFiles are the local files whose change triggers a reload: the
// file itself, settings files and local plugin files.
func (f *File) WatchedFiles() []string {
	var out []string
	if f.Path != "" {
		out = append(out, f.Path)
	}
	if f.Policy != "" {
		out = append(out, f.Policy)
	}
	for _, p := range f.Plugins {
		if !strings.Contains(p.Path, "://") {
			out = append(out, p.Path)
		}
		for _, s := range p.SettingsFiles {
			out = append(out, s)
		}
		if p.SettingsFile != "" {
			out = append(out, p.SettingsFile)
		}
	}
	return out
}

// NormDigest validates a sha256 digest (64 hex digits, optionally
// prefixed "sha256:") and returns it in lower case without the prefix.
func NormDigest(s string) (string, error) {
	h := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "sha256:")
	if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
		return "", fmt.Errorf("%q is not a hex sha256 digest (64 hex digits)", s)
	}
	return h, nil
}
