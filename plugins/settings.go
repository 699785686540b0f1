package plugins

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/codexhost/codexhost/abi"
)

var (
	// ErrBadSettings: the operator's settings do not satisfy the plugin's
	// settings schema (abi.Manifest.SettingsSchema).
	ErrBadSettings = errors.New("plugins: settings do not match the plugin's schema")
	// ErrLimits: the plugin asks for more resources (abi.Manifest.Limits)
	// than the operator's limits allow.
	ErrLimits = errors.New("plugins: plugin needs more than its limits allow")
)

var printer = message.NewPrinter(language.English)

// schemaURL names the settings schema in the compiler; it is never loaded.
const schemaURL = "codexhost:settings-schema.json"

// noLoader refuses every URL: a plugin's schema is untrusted input and must
// never make the host read a file or the network.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references %s; a settings schema must be self-contained", url)
}

// CheckSettings validates settings (a JSON value; empty means none, checked
// as null) against the manifest's SettingsSchema. A manifest without a
// schema accepts any settings.
//
// # Errors
//
//   - ErrBadManifest: the schema is not valid JSON Schema, or refers to
//     another document ($ref to a URL: never loaded).
//   - ErrBadSettings: the settings are not JSON or do not validate; the
//     message names the path of each failing field, e.g.
//     `/maxFiles: got string, want integer`.
func CheckSettings(m *abi.Manifest, settings json.RawMessage) error {
	if len(bytes.TrimSpace(m.SettingsSchema)) == 0 || string(bytes.TrimSpace(m.SettingsSchema)) == "null" {
		return nil
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(m.SettingsSchema))
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema is not JSON: %v", ErrBadManifest, m.Name, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema: %v", ErrBadManifest, m.Name, err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema: %s", ErrBadManifest, m.Name, firstLine(err.Error()))
	}
	if len(bytes.TrimSpace(settings)) == 0 {
		settings = json.RawMessage("null")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(settings))
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settings are not JSON: %v", ErrBadSettings, m.Name, err)
	}
	err = sch.Validate(v)
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("%w: plugin %q: %s", ErrBadSettings, m.Name, strings.Join(leafErrors(ve, nil), "; "))
	}
	if err != nil {
		return fmt.Errorf("%w: plugin %q: %v", ErrBadSettings, m.Name, err)
	}
	return nil
}

// leafErrors lists the innermost validation errors as "/path: message".
func leafErrors(e *jsonschema.ValidationError, out []string) []string {
	if len(e.Causes) == 0 {
		path := "/" + strings.Join(e.InstanceLocation, "/")
		msg := e.ErrorKind.LocalizedString(printer)
		if _, ok := e.ErrorKind.(*kind.Schema); ok {
			msg = "does not match the schema"
		}
		return append(out, path+": "+msg)
	}
	for _, c := range e.Causes {
		out = leafErrors(c, out)
	}
	return out
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// CheckLimits compares the manifest's Limits (what the plugin says it
// needs) with the operator's: memoryPages, the Wasm memory limit in 64 KiB
// pages (0: the runtime has none, the request is not checked), and timeout,
// the per-call deadline. It never raises a limit.
//
// # Errors
//
//   - ErrLimits, naming what the plugin asks for and what is allowed.
func CheckLimits(m *abi.Manifest, memoryPages uint32, timeout time.Duration) error {
	l := m.Limits
	if memoryPages > 0 && l.MemoryPages > memoryPages {
		return fmt.Errorf("%w: plugin %q needs %d MiB of memory, the limit is %d MiB; raise the memory limit or do not load the plugin",
			ErrLimits, m.Name, uint64(l.MemoryPages)*65536>>20, uint64(memoryPages)*65536>>20)
	}
	if need := time.Duration(l.TimeoutMillis) * time.Millisecond; need > timeout {
		return fmt.Errorf("%w: plugin %q needs up to %v per call, the timeout is %v; raise the timeout or do not load the plugin",
			ErrLimits, m.Name, need, timeout)
	}
	return nil
}
