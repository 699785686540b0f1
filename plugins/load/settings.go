package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/plugins"
)

// Bounds on a plugin's settings schema, checked before it is compiled: a
// schema is the plugin's, hence untrusted, and the compiler's time grows
// with its nesting (a 3000-deep schema compiled for minutes).
const (
	// DefaultMaxSchemaBytes bounds abi.Manifest.SettingsSchema when
	// Options.MaxSchemaBytes is zero.
	DefaultMaxSchemaBytes = 64 << 10
	// DefaultMaxSchemaDepth bounds the nesting of objects and arrays in
	// the settings schema when Options.MaxSchemaDepth is zero.
	DefaultMaxSchemaDepth = 32
)

// A SettingsError says why the operator's settings do not satisfy a
// plugin's settings schema. errors.Is(err, ErrBadSettings) holds.
type SettingsError struct {
	// Plugin is the plugin's manifest name.
	Plugin string
	// Problems lists each failing field, at least one.
	Problems []SettingsProblem
}

// A SettingsProblem is one field of the settings that fails the schema.
type SettingsProblem struct {
	// Path is the field's JSON pointer ("/" for the whole value,
	// "/maxFiles", "/paths/1").
	Path string
	// Message says what is wrong, e.g. "got string, want integer".
	Message string
}

func (e *SettingsError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Path + ": " + p.Message
	}
	return fmt.Sprintf("%v: plugin %q: %s", ErrBadSettings, e.Plugin, strings.Join(parts, "; "))
}

// Is reports whether target is ErrBadSettings.
func (e *SettingsError) Is(target error) bool { return target == ErrBadSettings }

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
// as null) against the manifest's SettingsSchema, with the default bounds
// on the schema. A manifest without a schema accepts any settings. [Set]
// runs it on every plugin it loads, before the plugin is configured.
//
// # Errors
//
//   - plugins.ErrBadManifest: the schema is not valid JSON Schema, or
//     refers to another document ($ref to a URL: never loaded); with
//     ErrSchemaTooLarge, it exceeds DefaultMaxSchemaBytes or
//     DefaultMaxSchemaDepth.
//   - *SettingsError (ErrBadSettings): the settings do not validate.
//   - ErrBadSettings: the settings are not JSON.
func CheckSettings(m *abi.Manifest, settings json.RawMessage) error {
	return checkSettings(m, settings, DefaultMaxSchemaBytes, DefaultMaxSchemaDepth)
}

func checkSettings(m *abi.Manifest, settings json.RawMessage, maxBytes, maxDepth int) error {
	raw := bytes.TrimSpace(m.SettingsSchema)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if len(raw) > maxBytes {
		return fmt.Errorf("%w: %w: plugin %q: settingsSchema is %d bytes, the limit is %d bytes",
			plugins.ErrBadManifest, ErrSchemaTooLarge, m.Name, len(raw), maxBytes)
	}
	if err := checkDepth(raw, maxDepth); err != nil {
		return fmt.Errorf("%w: %w: plugin %q: settingsSchema %v", plugins.ErrBadManifest, ErrSchemaTooLarge, m.Name, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema is not JSON: %v", plugins.ErrBadManifest, m.Name, err)
	}
	c := jsonschema.NewCompiler()
	c.UseLoader(noLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema: %v", plugins.ErrBadManifest, m.Name, err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema: %s", plugins.ErrBadManifest, m.Name, firstLine(err.Error()))
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
		return &SettingsError{Plugin: m.Name, Problems: leafErrors(ve, nil)}
	}
	if err != nil {
		return fmt.Errorf("%w: plugin %q: %v", ErrBadSettings, m.Name, err)
	}
	return nil
}

// checkDepth refuses JSON nested deeper than max, reading no further than
// the first object or array past it.
func checkDepth(raw []byte, max int) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // not JSON: the compiler says so
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth > max {
				return fmt.Errorf("is nested more than %d deep, the limit", max)
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// leafErrors lists the innermost validation errors.
func leafErrors(e *jsonschema.ValidationError, out []SettingsProblem) []SettingsProblem {
	if len(e.Causes) == 0 {
		msg := e.ErrorKind.LocalizedString(printer)
		if _, ok := e.ErrorKind.(*kind.Schema); ok {
			msg = "does not match the schema"
		}
		return append(out, SettingsProblem{Path: "/" + strings.Join(e.InstanceLocation, "/"), Message: msg})
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
