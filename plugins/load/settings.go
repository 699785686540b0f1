package load

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	// MaxSchemaExpansion bounds the subschemas of a settings schema with
	// every $ref expanded in place: what validating one value may visit.
	// A schema of 18 levels of anyOf, each of two $refs to the next (1.2
	// KB), expands to 2^18 and took seconds and hundreds of MB to
	// validate; a schema without $ref expands to its own size.
	MaxSchemaExpansion = 10_000
	// maxSchemaNumber bounds the characters of a number in a settings
	// schema, and its exponent: math/big, which the schema compiler keeps
	// them in, cannot hold 1e-10000000, and takes 27 ms for 1e999999.
	maxSchemaNumber   = 64
	maxSchemaExponent = 400 // float64's reach ±308
	// maxProblemsShown bounds the problems a SettingsError's message lists.
	maxProblemsShown = 10
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

// Error lists the first problems (10), and says how many more there are.
func (e *SettingsError) Error() string {
	shown := e.Problems[:min(len(e.Problems), maxProblemsShown)]
	parts := make([]string, len(shown), len(shown)+1)
	for i, p := range shown {
		parts[i] = p.Path + ": " + p.Message
	}
	if n := len(e.Problems) - len(shown); n > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", n))
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
//     refers to another document ($ref to a URL: never loaded), or to
//     itself in a cycle (a recursive schema), or uses $dynamicRef or
//     $recursiveRef; with ErrSchemaTooLarge, it exceeds
//     DefaultMaxSchemaBytes, DefaultMaxSchemaDepth or MaxSchemaExpansion,
//     or holds a number of more than 64 characters or with an exponent
//     beyond ±400.
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
	if err := checkTokens(raw, maxDepth); err != nil {
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
	var sch *jsonschema.Schema
	// The compiler checks the schema against its metaschema; on input it
	// did not foresee it has panicked (a nil *big.Rat): the schema is the
	// plugin's, and the host stays up.
	err = recovered(func() (err error) { sch, err = c.Compile(schemaURL); return err })
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settingsSchema: %s", plugins.ErrBadManifest, m.Name, firstLine(err.Error()))
	}
	if err := checkExpansion(sch, MaxSchemaExpansion); err != nil {
		if _, ok := errors.AsType[*expansionError](err); ok {
			return fmt.Errorf("%w: %w: plugin %q: settingsSchema %v", plugins.ErrBadManifest, ErrSchemaTooLarge, m.Name, err)
		}
		return fmt.Errorf("%w: plugin %q: settingsSchema %v", plugins.ErrBadManifest, m.Name, err)
	}
	if len(bytes.TrimSpace(settings)) == 0 {
		settings = json.RawMessage("null")
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(settings))
	if err != nil {
		return fmt.Errorf("%w: plugin %q: settings are not JSON: %v", ErrBadSettings, m.Name, err)
	}
	err = recovered(func() error { return sch.Validate(v) })
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return &SettingsError{Plugin: m.Name, Problems: leafErrors(ve, nil)}
	}
	if err != nil {
		return fmt.Errorf("%w: plugin %q: %v", ErrBadSettings, m.Name, err)
	}
	return nil
}

// recovered runs f, turning a panic into an error.
func recovered(f func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("the schema compiler failed on it: %v", v)
		}
	}()
	return f()
}

// checkExpansion refuses a compiled schema that refers to itself in a
// cycle, uses $dynamicRef or $recursiveRef, or has more than limit
// subschemas once every $ref is expanded in place (ErrSchemaTooLarge).
func checkExpansion(root *jsonschema.Schema, limit int) error {
	const visiting = -1
	size := map[*jsonschema.Schema]int{}
	var walk func(s *jsonschema.Schema) (int, error)
	walk = func(s *jsonschema.Schema) (int, error) {
		if s == nil {
			return 0, nil
		}
		switch n, ok := size[s]; {
		case ok && n == visiting:
			return 0, fmt.Errorf("refers to itself (%s): a settings schema may not be recursive", s.Location)
		case ok:
			return n, nil
		}
		if s.DynamicRef != nil || s.RecursiveRef != nil {
			return 0, fmt.Errorf("uses $dynamicRef or $recursiveRef (%s), which a settings schema may not", s.Location)
		}
		size[s] = visiting
		n := 1
		add := func(c *jsonschema.Schema) error {
			m, err := walk(c)
			n = min(n+m, limit+1)
			return err
		}
		var err error
		for _, c := range subschemas(s) {
			if err = add(c); err != nil {
				return 0, err
			}
		}
		if n > limit {
			return 0, &expansionError{limit: limit, where: s.Location}
		}
		size[s] = n
		return n, nil
	}
	_, err := walk(root)
	return err
}

// An expansionError is a schema over MaxSchemaExpansion.
type expansionError struct {
	limit int
	where string // the subschema at which the count passed the limit
}

func (e *expansionError) Error() string {
	return fmt.Sprintf("has more than %d subschemas with its $refs expanded (at %s)", e.limit, e.where)
}

// subschemas lists the schemas s applies to a value or its parts, its
// $ref's included.
func subschemas(s *jsonschema.Schema) []*jsonschema.Schema {
	out := []*jsonschema.Schema{s.Ref, s.Not, s.If, s.Then, s.Else, s.PropertyNames, s.UnevaluatedProperties,
		s.Contains, s.Items2020, s.UnevaluatedItems, s.ContentSchema}
	out = append(out, s.AllOf...)
	out = append(out, s.AnyOf...)
	out = append(out, s.OneOf...)
	out = append(out, s.PrefixItems...)
	for _, c := range s.Properties {
		out = append(out, c)
	}
	for _, c := range s.PatternProperties {
		out = append(out, c)
	}
	for _, c := range s.DependentSchemas {
		out = append(out, c)
	}
	for _, v := range s.Dependencies {
		if c, ok := v.(*jsonschema.Schema); ok {
			out = append(out, c)
		}
	}
	for _, v := range []any{s.AdditionalProperties, s.AdditionalItems, s.Items} {
		switch v := v.(type) {
		case *jsonschema.Schema:
			out = append(out, v)
		case []*jsonschema.Schema:
			out = append(out, v...)
		}
	}
	return out
}

// smallNumber reports whether the JSON number n has at most
// maxSchemaNumber characters and an exponent within ±maxSchemaExponent.
func smallNumber(n string) bool {
	if len(n) > maxSchemaNumber {
		return false
	}
	i := strings.IndexAny(n, "eE")
	if i < 0 {
		return true
	}
	e, err := strconv.Atoi(strings.TrimPrefix(n[i+1:], "+"))
	return err == nil && e >= -maxSchemaExponent && e <= maxSchemaExponent
}

// checkTokens refuses JSON nested deeper than max, or with a number of
// more than maxSchemaNumber characters, reading no further than the
// first such token.
func checkTokens(raw []byte, max int) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
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
		if n, ok := tok.(json.Number); ok && !smallNumber(string(n)) {
			return fmt.Errorf("has the number %.20s…, of more than %d characters or with an exponent beyond ±%d", n, maxSchemaNumber, maxSchemaExponent)
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
