package guest

import (
	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/sdk-guest/internal/abijson"
)

// A Field is one member of a JSON object that [DecodeObject] reads: its
// name and where its value goes. Make one with [StringField],
// [BoolField], [IntField], [StringsField] or [RawField].
type Field struct{ f abijson.Field }

// StringField reads the member name, a JSON string, into *p.
func StringField(name string, p *string) Field {
	return Field{abijson.Field{Name: name, String: p}}
}

// BoolField reads the member name, true or false, into *p.
func BoolField(name string, p *bool) Field { return Field{abijson.Field{Name: name, Bool: p}} }

// IntField reads the member name, an integer in int's range, into *p.
func IntField(name string, p *int) Field { return Field{abijson.Field{Name: name, Int: p}} }

// StringsField reads the member name, an array of strings, into *p.
func StringsField(name string, p *[]string) Field {
	return Field{abijson.Field{Name: name, Strings: p}}
}

// RawField keeps the member name, any JSON value, verbatim in *p.
func RawField(name string, p *abi.RawJSON) Field { return Field{abijson.Field{Name: name, Raw: p}} }

// DecodeObject reads the JSON object data (a plugin's settings, a tool
// call's arguments) into fields, without reflection: a plugin that uses it
// instead of encoding/json is about a third smaller (see the package's
// Performance section).
//
// Values decode as encoding/json would decode them into the same Go types:
// null leaves a string, bool or int unchanged and sets a slice to nil; a
// number with a fraction is not an int. Members not listed are checked
// and skipped. Stricter than encoding/json, names match exactly, not
// case-insensitively, and a listed member given twice is an error. null
// sets nothing; empty data (a tool call without arguments) is an error, as
// for encoding/json. The error names the member at fault. Decoded strings
// share one copy of data; data is not retained.
func DecodeObject(data []byte, fields ...Field) error {
	fs := make([]abijson.Field, len(fields))
	for i, f := range fields {
		fs[i] = f.f
	}
	return abijson.DecodeObject(data, fs)
}
