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
	"strconv"
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
	// json.Valid first: linear, and it refuses nesting deeper than
	// encoding/json's own limit (10000), which bounds check's recursion.
	if !json.Valid(data) {
		var v any
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&v); err != nil {
			return err // what is wrong with the value
		}
		return errors.New("strictjson: data after the value")
	}
	// The check reads one token at a time (~300 ns each): bound their
	// number first, so that a cheap answer of 16 MiB of zeros in an
	// unknown member cannot cost the host seconds (review, round 11).
	if n := values(data, MaxValues); n > MaxValues {
		return fmt.Errorf("strictjson: the answer holds more than %d values", MaxValues)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := check(dec, t.Elem(), &path{}); err != nil {
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

// MaxValues bounds the values (array elements, object members) of an
// answer: far above what any hook's answer needs (a render batch of a few
// thousand events is tens of thousands).
const MaxValues = 200_000

// values counts the commas and colons of data outside its strings (an
// upper bound on its values), stopping past max. data is valid JSON.
func values(data []byte, max int) int {
	n, in, esc := 0, false, false
	for _, c := range data {
		switch {
		case esc:
			esc = false
		case in:
			switch c {
			case '\\':
				esc = true
			case '"':
				in = false
			}
		case c == '"':
			in = true
		case c == ',' || c == ':':
			if n++; n > max {
				return n
			}
		}
	}
	return n
}

var rawType = reflect.TypeFor[json.RawMessage]()

// A path names the value being checked, for errors: the members and
// indexes from the top, as a stack that check pushes and pops, so that a
// deep document costs memory in its depth, not its square; the name is
// written out only for an error.
type path struct{ segs []string }

func (p *path) push(seg string) { p.segs = append(p.segs, seg) }
func (p *path) pop()            { p.segs = p.segs[:len(p.segs)-1] }

// String is the path as "a.b[2].c", or "the answer" at the top.
func (p *path) String() string {
	if len(p.segs) == 0 {
		return "the answer"
	}
	return strings.TrimPrefix(strings.Join(p.segs, ""), ".")
}

// check reads one value from dec and checks it against t. p names the
// value in errors.
func check(dec *json.Decoder, t reflect.Type, p *path) error {
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
			p.push("[" + strconv.Itoa(i) + "]")
			if err := check(dec, elem, p); err != nil {
				return err
			}
			p.pop()
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
				return fmt.Errorf("strictjson: member %q appears twice in %s", key, p)
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
							return fmt.Errorf("strictjson: member %q of %s must be spelled %q", key, p, exact)
						}
					}
				}
				next = ft // nil for an unknown member: anything goes
			}
			p.push("." + key)
			if err := check(dec, next, p); err != nil {
				return err
			}
			p.pop()
		}
		_, err := dec.Token()
		return err
	}
	return nil
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
