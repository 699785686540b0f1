package abijson

import (
	"errors"
	"slices"
	"strconv"

	"github.com/codexhost/codexhost/abi"
)

// DecodeToolInputRequest decodes data into *v like json.Unmarshal. Decoded
// strings share one copy of data; data is not retained.
func DecodeToolInputRequest(data []byte, v *abi.ToolInputRequest) error {
	d := newDecoder(data)
	if d.peek() != '{' {
		return d.top("abi.ToolInputRequest")
	}
	if err := d.decodeToolInputRequest(v); err != nil {
		return err
	}
	return d.end()
}

// DecodeToolCallRequest decodes data into *v like json.Unmarshal. Decoded
// strings and RawJSON share one copy of data; data is not retained.
func DecodeToolCallRequest(data []byte, v *abi.ToolCallRequest) error {
	d := newDecoder(data)
	if d.peek() != '{' {
		return d.top("abi.ToolCallRequest")
	}
	if err := d.decodeToolCallRequest(v); err != nil {
		return err
	}
	return d.end()
}

// AppendToolInputResponse appends v's JSON as json.Marshal writes it: the
// answers' keys sorted.
func AppendToolInputResponse(dst []byte, v *abi.ToolInputResponse) []byte {
	dst = append(dst, '{')
	n := len(dst)
	if v.Abstain {
		dst = append(dst, `"abstain":true`...)
	}
	if len(v.Answers) > 0 {
		dst = appendSep(dst, n, `"answers":{`)
		keys := make([]string, 0, len(v.Answers))
		for k := range v.Answers {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k)
			dst = append(dst, ':')
			dst = AppendStrings(dst, v.Answers[k])
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendToolCallResponse appends v's JSON as json.Marshal writes it.
func AppendToolCallResponse(dst []byte, v *abi.ToolCallResponse) []byte {
	dst = append(dst, `{"success":`...)
	dst = strconv.AppendBool(dst, v.Success)
	dst = append(dst, `,"content":`...)
	if v.Content == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range v.Content {
			if i > 0 {
				dst = append(dst, ',')
			}
			c := &v.Content[i]
			dst = append(dst, `{"type":`...)
			dst = AppendString(dst, c.Type)
			dst = appendOptString(dst, `,"text":`, c.Text)
			dst = appendOptString(dst, `,"imageUrl":`, c.ImageURL)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

// AppendManifest appends m's JSON as json.Marshal writes it. The errors
// are json.Marshal's: a hook [abi.Hook.MarshalText] refuses, or a schema
// that is not valid JSON.
func AppendManifest(dst []byte, m *abi.Manifest) ([]byte, error) {
	dst = append(dst, `{"name":`...)
	dst = AppendString(dst, m.Name)
	dst = append(dst, `,"version":`...)
	dst = AppendString(dst, m.Version)
	dst = append(dst, `,"abi":`...)
	dst = strconv.AppendUint(dst, uint64(m.ABI), 10)
	if m.Features != 0 {
		dst = append(dst, `,"features":`...)
		dst = strconv.AppendUint(dst, uint64(m.Features), 10)
	}
	dst = append(dst, `,"hooks":`...)
	if m.Hooks == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, h := range m.Hooks {
			if i > 0 {
				dst = append(dst, ',')
			}
			b, err := h.MarshalText()
			if err != nil {
				return dst, err
			}
			dst = AppendString(dst, string(b))
		}
		dst = append(dst, ']')
	}
	var err error
	if len(m.Tools) > 0 {
		dst = append(dst, `,"tools":[`...)
		for i := range m.Tools {
			if i > 0 {
				dst = append(dst, ',')
			}
			t := &m.Tools[i]
			dst = append(dst, `{"name":`...)
			dst = AppendString(dst, t.Name)
			dst = append(dst, `,"description":`...)
			dst = AppendString(dst, t.Description)
			if len(t.InputSchema) > 0 {
				dst = append(dst, `,"inputSchema":`...)
				if dst, err = AppendRaw(dst, t.InputSchema); err != nil {
					return dst, errors.New("abijson: tool " + strconv.Quote(t.Name) + ": inputSchema: " + err.Error())
				}
			}
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	if c := &m.Capabilities; c.Env != nil || c.ReadDirs != nil || c.Network {
		dst = append(dst, `,"capabilities":{`...)
		n := len(dst)
		if len(c.Env) > 0 {
			dst = append(dst, `"env":`...)
			dst = AppendStrings(dst, c.Env)
		}
		if len(c.ReadDirs) > 0 {
			dst = appendSep(dst, n, `"readDirs":`)
			dst = AppendStrings(dst, c.ReadDirs)
		}
		if c.Network {
			dst = appendSep(dst, n, `"network":true`)
		}
		dst = append(dst, '}')
	}
	dst = appendOptString(dst, `,"description":`, m.Description)
	if len(m.SettingsSchema) > 0 {
		dst = append(dst, `,"settingsSchema":`...)
		if dst, err = AppendRaw(dst, m.SettingsSchema); err != nil {
			return dst, errors.New("abijson: settingsSchema: " + err.Error())
		}
	}
	if l := m.Limits; l != (abi.Limits{}) {
		dst = append(dst, `,"limits":{`...)
		n := len(dst)
		if l.MemoryPages != 0 {
			dst = append(dst, `"memoryPages":`...)
			dst = strconv.AppendUint(dst, uint64(l.MemoryPages), 10)
		}
		if l.TimeoutMillis != 0 {
			dst = appendSep(dst, n, `"timeoutMillis":`)
			dst = strconv.AppendUint(dst, uint64(l.TimeoutMillis), 10)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}'), nil
}

// Valid reports whether data is one valid JSON value, as json.Valid.
func Valid(data []byte) bool {
	d := decoder{b: data}
	return d.skip() == nil && d.end() == nil
}
