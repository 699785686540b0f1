package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/codexhost/codexhost/internal/regfile"
)

// ReadSettingsFile reads a plugin's whole settings object from the file at
// path and returns it as JSON: a .toml file is parsed as TOML (its tables
// become JSON objects), a .json file as JSON, and a file of any other name
// as JSON. This is what --settings @FILE and a plugin's settings_file
// read.
//
// # Errors
//
// The file's read error (errors.Is(err, fs.ErrNotExist) for a missing
// file), or a parse error naming the file, with the line for TOML.
func ReadSettingsFile(path string) (json.RawMessage, error) {
	b, err := regfile.Read(path)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		var v map[string]any
		if _, err := toml.Decode(string(b), &v); err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s:%d: not valid TOML: %s", path, pe.Position.Line, pe.Message)
			}
			return nil, fmt.Errorf("%s: not valid TOML: %w", path, err)
		}
		out, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("%s: the settings cannot be passed as JSON: %w", path, err)
		}
		return out, nil
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) {
		hint := ""
		if !strings.EqualFold(filepath.Ext(path), ".json") {
			hint = " (name a TOML file .toml)"
		}
		return nil, fmt.Errorf("%s: not valid JSON%s", path, hint)
	}
	return b, nil
}
