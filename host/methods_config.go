package host

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"slices"

	"github.com/codexhost/codexhost/host/internal/protocol"
)

// A ConfigSnapshot is codex's effective configuration ([Client.ReadConfig]).
// Its shape is codex's config.toml as JSON, which changes between codex
// versions, so it is kept raw.
type ConfigSnapshot struct {
	// Config is the merged configuration.
	Config json.RawMessage
	// Origins maps each dotted key to the layer that set it.
	Origins json.RawMessage
	// Layers are the configuration layers, highest precedence first, when
	// asked for with ConfigReadOptions.Layers.
	Layers []json.RawMessage
}

// ConfigReadOptions configure [Client.ReadConfig]. A nil *ConfigReadOptions
// reads the configuration of app-server's working directory, without
// layers.
type ConfigReadOptions struct {
	// Cwd resolves project-level config (.codex/config.toml) from there.
	Cwd string
	// Layers includes every layer in the result.
	Layers bool
}

// ReadConfig reads codex's effective configuration (config/read).
func (c *Client) ReadConfig(ctx context.Context, opts *ConfigReadOptions) (*ConfigSnapshot, error) {
	var p protocol.ConfigReadParams
	if opts != nil {
		p.Cwd = optStr(opts.Cwd)
		if opts.Layers {
			p.IncludeLayers = ptr(true)
		}
	}
	var resp struct {
		Config  json.RawMessage   `json:"config"`
		Origins json.RawMessage   `json:"origins"`
		Layers  []json.RawMessage `json:"layers"`
	}
	if err := c.call(ctx, protocol.ClientConfigRead, p, &resp); err != nil {
		return nil, fmt.Errorf("host: config/read: %w", err)
	}
	return &ConfigSnapshot{Config: resp.Config, Origins: resp.Origins, Layers: resp.Layers}, nil
}

// A ConfigEdit sets one configuration value: KeyPath is dotted
// ("model", "features.web_search"), Value any JSON-encodable value.
type ConfigEdit struct {
	KeyPath string
	Value   any
	// Replace replaces a table value whole; by default tables are merged
	// key by key (upsert).
	Replace bool
}

func (e *ConfigEdit) wire() (protocol.ConfigEdit, error) {
	v, err := json.Marshal(e.Value)
	if err != nil {
		return protocol.ConfigEdit{}, fmt.Errorf("config edit %s: %w", e.KeyPath, err)
	}
	ms := protocol.MergeStrategyUpsert
	if e.Replace {
		ms = protocol.MergeStrategyReplace
	}
	return protocol.ConfigEdit{KeyPath: e.KeyPath, Value: v, MergeStrategy: ms}, nil
}

// ConfigWriteOptions configure [Client.WriteConfig]. A nil
// *ConfigWriteOptions writes the user's config.toml unconditionally.
type ConfigWriteOptions struct {
	// FilePath is the config file to write. Default: CODEX_HOME/config.toml.
	FilePath string
	// ExpectedVersion makes the write fail if the file changed since the
	// read that returned this version (optimistic locking).
	ExpectedVersion string
}

// A ConfigWriteResult says where and how a configuration write landed.
type ConfigWriteResult struct {
	FilePath string
	// Version is the file's new version, for ExpectedVersion.
	Version string
	// Overridden is set when a higher-precedence layer (a managed config,
	// a -c override) still overrides the value written.
	Overridden bool
}

// WriteConfig applies edits to a configuration file, atomically: one edit
// with config/value/write, more with config/batchWrite.
func (c *Client) WriteConfig(ctx context.Context, edits []ConfigEdit, opts *ConfigWriteOptions) (*ConfigWriteResult, error) {
	if len(edits) == 0 {
		return nil, fmt.Errorf("host: WriteConfig: no edits")
	}
	var file, version *string
	if opts != nil {
		file, version = optStr(opts.FilePath), optStr(opts.ExpectedVersion)
	}
	wire := make([]protocol.ConfigEdit, len(edits))
	for i := range edits {
		w, err := edits[i].wire()
		if err != nil {
			return nil, fmt.Errorf("host: WriteConfig: %w", err)
		}
		wire[i] = w
	}
	var resp protocol.ConfigWriteResponse
	method := protocol.ClientConfigBatchWrite
	var params any = protocol.ConfigBatchWriteParams{Edits: wire, FilePath: file, ExpectedVersion: version}
	if len(wire) == 1 {
		method = protocol.ClientConfigValueWrite
		params = protocol.ConfigValueWriteParams{KeyPath: wire[0].KeyPath, Value: wire[0].Value,
			MergeStrategy: wire[0].MergeStrategy, FilePath: file, ExpectedVersion: version}
	}
	if err := c.call(ctx, method, params, &resp); err != nil {
		return nil, fmt.Errorf("host: %s: %w", method, err)
	}
	return &ConfigWriteResult{FilePath: string(resp.FilePath), Version: resp.Version,
		Overridden: resp.Status == protocol.WriteStatusOkOverridden}, nil
}

// ConfigRequirements reads the requirements an administrator imposes on
// codex's configuration (configRequirements/read: allowed approval
// policies, sandbox modes, ...), raw, or nil when there are none.
func (c *Client) ConfigRequirements(ctx context.Context) (json.RawMessage, error) {
	var resp struct {
		Requirements json.RawMessage `json:"requirements"`
	}
	if err := c.call(ctx, protocol.ClientConfigRequirementsRead, nil, &resp); err != nil {
		return nil, fmt.Errorf("host: configRequirements/read: %w", err)
	}
	if string(resp.Requirements) == "null" {
		return nil, nil
	}
	return resp.Requirements, nil
}

// ReloadMCPServers makes codex reread the MCP server configuration
// (config/mcpServer/reload); running threads pick it up at their next turn.
func (c *Client) ReloadMCPServers(ctx context.Context) error {
	if err := c.call(ctx, protocol.ClientConfigMcpServerReload, nil, nil); err != nil {
		return fmt.Errorf("host: config/mcpServer/reload: %w", err)
	}
	return nil
}

// An MCPServer is the state of one configured MCP server.
type MCPServer struct {
	Name string
	// AuthStatus is "unknown", "unsupported", "notLoggedIn", "bearerToken"
	// or "oAuth".
	AuthStatus string
	// Tools are the names of the tools it offers.
	Tools []string
	// ToolsError says why its tools could not be listed, if they could not.
	ToolsError string
}

// MCPServers yields the configured MCP servers and their state
// (mcpServerStatus/list), fetching pages as the loop advances. Iteration
// stops at the first error, which is yielded.
func (c *Client) MCPServers(ctx context.Context) iter.Seq2[*MCPServer, error] {
	return func(yield func(*MCPServer, error) bool) {
		var p protocol.ListMCPServerStatusParams
		for {
			var resp protocol.ListMCPServerStatusResponse
			if err := c.call(ctx, protocol.ClientMcpServerStatusList, p, &resp); err != nil {
				yield(nil, fmt.Errorf("host: mcpServerStatus/list: %w", err))
				return
			}
			for _, s := range resp.Data {
				m := &MCPServer{Name: s.Name, AuthStatus: string(s.AuthStatus)}
				for name := range s.Tools {
					m.Tools = append(m.Tools, name)
				}
				slices.Sort(m.Tools)
				if s.ToolsError != nil {
					m.ToolsError = *s.ToolsError
				}
				if !yield(m, nil) {
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

// MCPLoginOptions configure [Client.LoginMCPServer]. A nil *MCPLoginOptions
// asks for the server's default scopes.
type MCPLoginOptions struct {
	Scopes []string
	// TimeoutSecs bounds how long codex waits for the browser callback.
	TimeoutSecs int
}

// An MCPLogin is an OAuth login in progress: open AuthorizationURL in a
// browser; codex sends mcpServer/oauthLogin/completed (see
// [NotificationObserver]) when it ends.
type MCPLogin struct {
	AuthorizationURL string
	LoginID          string
}

// LoginMCPServer starts an OAuth login to the configured streamable-HTTP
// MCP server name (mcpServer/oauth/login).
func (c *Client) LoginMCPServer(ctx context.Context, name string, opts *MCPLoginOptions) (*MCPLogin, error) {
	p := protocol.MCPServerOauthLoginParams{Name: name}
	if opts != nil {
		p.Scopes = opts.Scopes
		if opts.TimeoutSecs > 0 {
			p.TimeoutSecs = ptr(opts.TimeoutSecs)
		}
	}
	var resp protocol.MCPServerOauthLoginResponse
	if err := c.call(ctx, protocol.ClientMcpServerOauthLogin, p, &resp); err != nil {
		return nil, fmt.Errorf("host: mcpServer/oauth/login %s: %w", name, err)
	}
	l := &MCPLogin{AuthorizationURL: resp.AuthorizationURL}
	if resp.LoginID != nil {
		l.LoginID = *resp.LoginID
	}
	return l, nil
}

// A FileMatch is one result of [Client.SearchFiles].
type FileMatch struct {
	// Root is the search root it was found under; Path is relative to it.
	Root, Path, FileName string
	Score                int
	// Indices are the positions in Path of the query's characters.
	Indices []int
}

// SearchFiles fuzzy-matches query against the file paths under roots
// (fuzzyFileSearch), best first. No roots means app-server's working
// directory ([Options.Dir], else the current one).
func (c *Client) SearchFiles(ctx context.Context, query string, roots []string) ([]*FileMatch, error) {
	if len(roots) == 0 {
		dir := c.opts.Dir
		if dir == "" {
			var err error
			if dir, err = os.Getwd(); err != nil {
				return nil, fmt.Errorf("host: SearchFiles: %w", err)
			}
		}
		roots = []string{dir}
	}
	p := protocol.FuzzyFileSearchParams{Query: query, Roots: roots}
	var resp protocol.FuzzyFileSearchResponse
	if err := c.call(ctx, protocol.ClientFuzzyFileSearch, p, &resp); err != nil {
		return nil, fmt.Errorf("host: fuzzyFileSearch: %w", err)
	}
	out := make([]*FileMatch, len(resp.Files))
	for i, f := range resp.Files {
		out[i] = &FileMatch{Root: f.Root, Path: f.Path, FileName: f.FileName, Score: f.Score, Indices: f.Indices}
	}
	return out, nil
}
