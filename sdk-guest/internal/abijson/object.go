package abijson

import (
	"errors"
	"strconv"

	"github.com/codexhost/codexhost/abi"
)

// A Field is one member of an object DecodeObject reads: its exact name
// and where its value goes. Exactly one pointer is set.
type Field struct {
	Name    string
	String  *string
	Bool    *bool
	Int     *int
	Strings *[]string
	Raw     *abi.RawJSON
}

// DecodeObject reads the JSON object data into fields, by exact name.
// Values decode as encoding/json decodes them into the pointed-to types
// (null leaves a scalar unchanged and sets a slice to nil); members not
// listed are checked for syntax and skipped. Unlike encoding/json, a
// listed member given twice is an error, and names do not match case
// insensitively: a settings object means one thing. null sets nothing;
// empty data is not JSON. Decoded strings share one copy of data.
func DecodeObject(data []byte, fields []Field) error {
	return bare(decodeObject(data, fields))
}

// bare drops the package's prefix from err's message: DecodeObject's
// errors reach plugin authors and operators, to whom abijson means nothing.
func bare(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(trimPrefix(err.Error()))
}

func trimPrefix(msg string) string {
	const prefix = "abijson: "
	if len(msg) >= len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}

func decodeObject(data []byte, fields []Field) error {
	d := newDecoder(data)
	switch c := d.peek(); {
	case c == 0 && d.i == len(d.b):
		return errEOF // empty, or white space: not JSON
	case c == 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
		return d.end()
	case c != '{':
		if err := d.skip(); err != nil {
			return err
		}
		return errors.New("not a JSON object")
	}
	seen := make([]bool, len(fields))
	k, _, more, err := d.first()
	for more {
		f := -1
		for i := range fields {
			if fields[i].Name == k {
				f = i
				break
			}
		}
		if f < 0 {
			err = d.skip()
		} else {
			if seen[f] {
				return errors.New("member " + strconv.Quote(k) + " appears twice")
			}
			seen[f] = true
			switch p := &fields[f]; {
			case p.String != nil:
				err = d.stringInto(p.String, "string")
			case p.Bool != nil:
				err = d.boolInto(p.Bool)
			case p.Int != nil:
				err = d.intInto(p.Int)
			case p.Strings != nil:
				err = d.stringsInto(p.Strings)
			case p.Raw != nil:
				err = d.rawInto(p.Raw)
			default:
				err = d.skip()
			}
			if err != nil {
				return errors.New("member " + strconv.Quote(k) + ": " + trimPrefix(err.Error()))
			}
		}
		if err != nil {
			return err
		}
		k, _, more, err = d.next()
	}
	if err != nil {
		return err
	}
	return d.end()
}
