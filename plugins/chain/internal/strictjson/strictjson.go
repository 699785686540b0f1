// Package strictjson decodes plugin answers strictly: member names must
// match a struct field's JSON name exactly (encoding/json also takes them
// case-insensitively), and no object may name a member twice (encoding/json
// keeps the last) — not even inside unknown or raw members, since such a
// document means different things to different readers. Unknown members
// are still ignored, as the ABI says.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
)

// Unmarshal checks data against v's type, then decodes it into v with
// encoding/json. v must be a non-nil pointer.
func Unmarshal(data []byte, v any) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return errors.New("strictjson: Unmarshal needs a pointer")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := check(dec, t.Elem(), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return errors.New("strictjson: data after the value")
		}
		return err
	}
	return json.Unmarshal(data, v)
}

var rawType = reflect.TypeFor[json.RawMessage]()

// check reads one value from dec and checks it against t. path names the
// value in errors.
func check(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: encoding/json checks its type
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && !t.ConvertibleTo(rawType) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := check(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	case '{':
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil {
			switch {
			case t.Kind() == reflect.Struct:
				fields = structFields(t)
			case t.Kind() == reflect.Map:
				elem = t.Elem()
			}
			if t.ConvertibleTo(rawType) {
				fields, elem = nil, nil
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			key := tok.(string)
			if seen[key] {
				return fmt.Errorf("strictjson: member %q appears twice in %s", key, orTop(path))
			}
			seen[key] = true
			next := elem
			if fields != nil {
				ft, ok := fields[key]
				if !ok {
					// encoding/json matches a name with Unicode's simple
					// folding ("deci\u017fion" is "decision" to it, U+017F
					// folding to s): a name it would take for a field is a
					// misspelling, never an unknown member.
					for exact := range fields {
						if strings.EqualFold(key, exact) {
							return fmt.Errorf("strictjson: member %q of %s must be spelled %q", key, orTop(path), exact)
						}
					}
				}
				next = ft // nil for an unknown member: anything goes
			}
			if err := check(dec, next, path+"."+key); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	return nil
}

func orTop(path string) string {
	if path == "" {
		return "the answer"
	}
	return strings.TrimPrefix(path, ".")
}

var cache sync.Map // reflect.Type → map[string]reflect.Type

// structFields maps t's JSON member names to their types.
func structFields(t reflect.Type) map[string]reflect.Type {
	if fields, ok := cache.Load(t); ok {
		return fields.(map[string]reflect.Type)
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name := f.Name
		if tag, ok := f.Tag.Lookup("json"); ok {
			n, _, _ := strings.Cut(tag, ",")
			if n == "-" {
				continue
			}
			if n != "" {
				name = n
			}
		}
		fields[name] = f.Type
	}
	cache.Store(t, fields)
	return fields
}
