package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// ParseGrant parses a --grant value, NAME:CAPABILITY, where NAME is a
// plugin's name and CAPABILITY is one of
//
//	env=VAR     the environment variable VAR
//	read=DIR    the directory DIR, read-only (made absolute)
//	network     the network (process plugins only)
func ParseGrant(s string) (name string, g Grants, err error) {
	name, capab, ok := strings.Cut(s, ":")
	if !ok || name == "" || capab == "" {
		return "", g, fmt.Errorf("--grant %q: want PLUGIN:CAPABILITY, e.g. policy:env=HOME, policy:read=/etc/policy or policy:network", s)
	}
	key, val, hasVal := strings.Cut(capab, "=")
	switch {
	case key == "env" && hasVal && val != "":
		g.Env = []string{val}
	case key == "read" && hasVal && val != "":
		abs, err := filepath.Abs(val)
		if err != nil {
			return "", g, fmt.Errorf("--grant %q: %v", s, err)
		}
		g.ReadDirs = []string{abs}
	case key == "network" && !hasVal:
		g.Network = true
	default:
		return "", g, fmt.Errorf("--grant %q: unknown capability %q (want env=VAR, read=DIR or network)", s, capab)
	}
	return name, g, nil
}

// Add adds o's grants to g.
func (g *Grants) Add(o Grants) {
	for _, e := range o.Env {
		if !slices.Contains(g.Env, e) {
			g.Env = append(g.Env, e)
		}
	}
	for _, d := range o.ReadDirs {
		if !slices.Contains(g.ReadDirs, d) {
			g.ReadDirs = append(g.ReadDirs, d)
		}
	}
	g.Network = g.Network || o.Network
}
