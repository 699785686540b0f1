package host

import (
	"context"
	"fmt"
	"iter"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// A Skill is a skill codex found (SKILL.md files under a skills directory).
type Skill struct {
	Name, Description, ShortDescription string
	// Path is the skill's SKILL.md.
	Path string
	// Scope is where it was found: "user", "repo", "system" or "admin".
	Scope   string
	Enabled bool
}

// A SkillSet is the skills that apply in one working directory.
type SkillSet struct {
	Cwd    string
	Skills []Skill
	// Errors are the skill files codex could not load, as "path: message".
	Errors []string
}

// SkillsOptions configure [Client.Skills]. A nil *SkillsOptions lists the
// skills of app-server's working directory from codex's cache.
type SkillsOptions struct {
	// Cwds are the working directories to list skills for.
	Cwds []string
	// ForceReload rescans the skill directories instead of using the cache.
	ForceReload bool
}

// Skills lists the skills codex offers, per working directory (skills/list).
func (c *Client) Skills(ctx context.Context, opts *SkillsOptions) ([]*SkillSet, error) {
	var p protocol.SkillsListParams
	if opts != nil {
		p.Cwds = opts.Cwds
		if opts.ForceReload {
			p.ForceReload = ptr(true)
		}
	}
	var resp protocol.SkillsListResponse
	if err := c.call(ctx, protocol.ClientSkillsList, p, &resp); err != nil {
		return nil, fmt.Errorf("host: skills/list: %w", err)
	}
	out := make([]*SkillSet, 0, len(resp.Data))
	for _, e := range resp.Data {
		set := &SkillSet{Cwd: e.Cwd}
		for _, s := range e.Skills {
			sk := Skill{Name: s.Name, Description: s.Description, Path: string(s.Path), Scope: string(s.Scope), Enabled: s.Enabled}
			if s.ShortDescription != nil {
				sk.ShortDescription = *s.ShortDescription
			}
			set.Skills = append(set.Skills, sk)
		}
		for _, e := range e.Errors {
			set.Errors = append(set.Errors, e.Path+": "+e.Message)
		}
		out = append(out, set)
	}
	return out, nil
}

// A SkillConfig enables or disables one skill, named by Path (its
// SKILL.md, absolute) or by Name ([Client.WriteSkillConfig]).
type SkillConfig struct {
	Path, Name string
	Enabled    bool
}

// WriteSkillConfig enables or disables a skill in the user's config
// (skills/config/write) and reports whether the skill is now enabled, which
// differs from cfg.Enabled when a managed setting overrides the user's.
func (c *Client) WriteSkillConfig(ctx context.Context, cfg SkillConfig) (enabled bool, err error) {
	p := protocol.SkillsConfigWriteParams{Enabled: cfg.Enabled, Name: optStr(cfg.Name)}
	if cfg.Path != "" {
		p.Path = ptr(protocol.AbsolutePathBuf(cfg.Path))
	}
	var resp protocol.SkillsConfigWriteResponse
	if err := c.call(ctx, protocol.ClientSkillsConfigWrite, p, &resp); err != nil {
		return false, fmt.Errorf("host: skills/config/write: %w", err)
	}
	return resp.EffectiveEnabled, nil
}

// An App is a connector (ChatGPT app) codex can use.
type App struct {
	ID, Name, Description string
	// InstallURL is where the user installs it, if it is not yet.
	InstallURL string
	// Accessible reports whether the account can use it; Enabled whether
	// it is switched on.
	Accessible, Enabled bool
}

// AppsOptions configure [Client.Apps]. A nil *AppsOptions lists every app
// from codex's cache, in the server's page size.
type AppsOptions struct {
	// ThreadID evaluates the apps with that thread's config.
	ThreadID string
	// ForceRefetch bypasses codex's cache.
	ForceRefetch bool
	PageSize     int
}

// Apps yields the apps codex knows (app/list), fetching pages as the loop
// advances. Without a ChatGPT login the list is empty. Iteration stops at
// the first error, which is yielded.
func (c *Client) Apps(ctx context.Context, opts *AppsOptions) iter.Seq2[*App, error] {
	return func(yield func(*App, error) bool) {
		var p protocol.AppsListParams
		if opts != nil {
			p.ThreadID = optStr(opts.ThreadID)
			if opts.ForceRefetch {
				p.ForceRefetch = ptr(true)
			}
			if opts.PageSize > 0 {
				p.Limit = ptr(opts.PageSize)
			}
		}
		for {
			var resp protocol.AppsListResponse
			if err := c.call(ctx, protocol.ClientAppList, p, &resp); err != nil {
				yield(nil, fmt.Errorf("host: app/list: %w", err))
				return
			}
			for _, a := range resp.Data {
				app := &App{ID: a.ID, Name: a.Name, Accessible: a.IsAccessible, Enabled: a.IsEnabled}
				if a.Description != nil {
					app.Description = *a.Description
				}
				if a.InstallURL != nil {
					app.InstallURL = *a.InstallURL
				}
				if !yield(app, nil) {
					return
				}
			}
			if resp.NextCursor == nil || *resp.NextCursor == "" {
				return
			}
			p.Cursor = resp.NextCursor
		}
	}
}
