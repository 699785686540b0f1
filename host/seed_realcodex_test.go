package host_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
	"github.com/codexhost/codexhost/rpc"
)

// The seed SDK (codex_python_sdk, AsyncCodexAgenticClient) wraps these 30
// app-server methods. Each is called below through codexhost on the real
// codex with the fake model, in this order; docs/methods.md maps them.
var seedMethods = []struct{ python, method string }{
	{"thread_start", "thread/start"},
	{"thread_name_set", "thread/name/set"},
	{"thread_read", "thread/read"},
	{"thread_list", "thread/list"},
	{"thread_loaded_list", "thread/loaded/list"},
	{"thread_fork", "thread/fork"},
	{"thread_archive", "thread/archive"},
	{"thread_unarchive", "thread/unarchive"},
	{"thread_compact_start", "thread/compact/start"},
	{"thread_rollback", "thread/rollback"},
	{"turn_steer", "turn/steer"},
	{"turn_interrupt", "turn/interrupt"},
	{"review_start", "review/start"},
	{"skills_list", "skills/list"},
	{"skills_remote_read", "skills/remote/read"},
	{"skills_remote_write", "skills/remote/write"},
	{"skills_config_write", "skills/config/write"},
	{"app_list", "app/list"},
	{"model_list", "model/list"},
	{"account_read", "account/read"},
	{"account_rate_limits_read", "account/rateLimits/read"},
	{"command_exec", "command/exec"},
	{"config_read", "config/read"},
	{"config_value_write", "config/value/write"},
	{"config_batch_write", "config/batchWrite"},
	{"config_requirements_read", "configRequirements/read"},
	{"config_mcp_server_reload", "config/mcpServer/reload"},
	{"mcp_server_status_list", "mcpServerStatus/list"},
	{"mcp_server_oauth_login", "mcpServer/oauth/login"},
	{"fuzzy_file_search", "fuzzyFileSearch"},
}

// removedSeedMethods are the seed's methods that codex no longer has (as of
// the minimum supported version): thread/rollback gave way to thread/revert,
// and the remote skills API was dropped.
var removedSeedMethods = []string{"thread/rollback", "skills/remote/read", "skills/remote/write"}

// mcpOAuthFixture is a streamable-HTTP MCP server that wants an OAuth
// login: it answers every MCP request 401 and serves the OAuth metadata and
// dynamic client registration codex's login flow needs. No login ever
// completes.
func mcpOAuthFixture(t *testing.T) *httptest.Server {
	var srv *httptest.Server
	mux := http.NewServeMux()
	metadata := func(w http.ResponseWriter, r *http.Request) {
		// RFC 8414: the issuer is the URL the metadata was found under.
		issuer := srv.URL + strings.TrimPrefix(r.URL.Path, "/.well-known/oauth-authorization-server")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer":                                issuer,
			"authorization_endpoint":                srv.URL + "/authorize",
			"token_endpoint":                        srv.URL + "/token",
			"registration_endpoint":                 srv.URL + "/register",
			"response_types_supported":              []string{"code"},
			"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
			"code_challenge_methods_supported":      []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"none"},
		})
	}
	mux.HandleFunc("/.well-known/oauth-authorization-server", metadata)
	mux.HandleFunc("/.well-known/oauth-authorization-server/mcp", metadata)
	mux.HandleFunc("/register", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		_ = json.NewDecoder(r.Body).Decode(&req)
		req["client_id"] = "fixture-client"
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(req)
	})
	mux.HandleFunc("/mcp", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fixture"`)
		http.Error(w, "login required", http.StatusUnauthorized)
	})
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// reviewJSON is what codex's reviewer must answer: its review output.
const reviewJSON = `{"findings":[],"overall_correctness":"patch is correct","overall_explanation":"nothing to fix","overall_confidence_score":0.9}`

func TestRealSeedMethods(t *testing.T) {
	// The model: turn 1 is plain text; turn 2 hangs until interrupted (for
	// steer and interrupt); compaction and review get text.
	hang := make(chan struct{})
	var hangOnce sync.Once
	script := hosttest.ScriptFunc(func(req *hosttest.ModelRequest) hosttest.Reply {
		texts := strings.Join(req.UserTexts(), "\n")
		switch {
		case strings.Contains(texts, "hold on"):
			hangOnce.Do(func() { close(hang) })
			return hosttest.TextDeltas(400).WithDelay(25 * time.Millisecond)
		case strings.Contains(texts, "review-marker"):
			return hosttest.Text(reviewJSON)
		}
		return hosttest.Text("seed reply")
	})
	w := &eventWaiter{}
	e := startReal(t, script, &host.Options{Observers: []host.EventObserver{w, host.NotificationObserver(w.recordOutside)}}, nil)
	c := e.client
	ctx := ctxFor(t, 3*time.Minute)
	mcp := mcpOAuthFixture(t)

	// Fixtures: a skill in CODEX_HOME, files to search in the work dir.
	skillDir := filepath.Join(e.home, "skills", "seed-demo")
	require.NoError(t, os.MkdirAll(skillDir, 0o755))
	skillFile := filepath.Join(skillDir, "SKILL.md")
	require.NoError(t, os.WriteFile(skillFile, []byte("---\nname: seed-demo\ndescription: A skill the seed test lists.\n---\nSay hello.\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(e.work, "src"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(e.work, "src", "seedling.go"), []byte("package src\n"), 0o644))

	var thread *host.Thread
	steps := map[string]func() error{
		"thread/start": func() (err error) {
			thread, err = c.StartThread(ctx, &host.ThreadOptions{Cwd: e.work})
			if err != nil {
				return err
			}
			// A turn, so that the thread is stored and has history.
			res, err := c.Run(ctx, "hello", &host.RunOptions{ThreadID: thread.ID})
			if err != nil {
				return err
			}
			assert.Equal(t, "seed reply", res.Text)
			return nil
		},
		"thread/name/set": func() error { return c.SetThreadName(ctx, thread.ID, "seed thread") },
		"thread/read": func() error {
			th, err := c.ReadThread(ctx, thread.ID, false)
			if err == nil {
				assert.Equal(t, "seed thread", th.Name, "thread/name/set took effect")
			}
			return err
		},
		"thread/list": func() error {
			var ids []string
			for th, err := range c.Threads(ctx, &host.ListOptions{SortKey: host.ThreadsByCreated}) {
				if err != nil {
					return err
				}
				ids = append(ids, th.ID)
			}
			assert.Contains(t, ids, thread.ID)
			return nil
		},
		"thread/loaded/list": func() error {
			var ids []string
			for id, err := range c.LoadedThreads(ctx) {
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			assert.Contains(t, ids, thread.ID)
			return nil
		},
		"thread/fork": func() error {
			f, err := c.ForkThread(ctx, thread.ID, &host.ThreadOptions{Extra: map[string]any{"excludeTurns": true}})
			if err == nil {
				assert.NotEqual(t, thread.ID, f.ID)
			}
			return err
		},
		"thread/archive":   func() error { return c.ArchiveThread(ctx, thread.ID) },
		"thread/unarchive": func() error { _, err := c.UnarchiveThread(ctx, thread.ID); return err },
		"thread/compact/start": func() error {
			compacted := w.expect(func(ev *host.Event) bool {
				return ev.ThreadID == thread.ID && ev.Kind == abi.EventTurnCompleted
			})
			if err := c.CompactThread(ctx, thread.ID); err != nil {
				return err
			}
			return waitFor(ctx, compacted, "the compaction turn")
		},
		"turn/steer": func() error {
			var steerErr, interruptErr error
			steered := make(chan struct{})
			res, err := c.Run(ctx, "hold on", &host.RunOptions{ThreadID: thread.ID, OnTurn: func(turn *host.Turn) {
				go func() {
					defer close(steered)
					select {
					case <-hang:
					case <-ctx.Done():
						return
					}
					steerErr = turn.Steer(ctx, []host.Input{host.TextInput("steered in")})
					interruptErr = turn.Interrupt(ctx)
				}()
			}})
			if err != nil {
				return err
			}
			<-steered // OnTurn ran: Run started the turn
			if steerErr != nil {
				return steerErr
			}
			if interruptErr != nil {
				return fmt.Errorf("turn/interrupt: %w", interruptErr)
			}
			assert.Equal(t, host.TurnInterrupted, res.Status, "turn/interrupt ended the turn")
			return nil
		},
		"turn/interrupt": nil, // with turn/steer, on the same running turn
		"review/start": func() error {
			turn, err := c.StartReview(ctx, thread.ID, host.ReviewTarget{Type: "custom", Instructions: "review-marker: check nothing"})
			if err != nil {
				return err
			}
			defer turn.Close()
			res, err := turn.Wait(ctx)
			if err != nil {
				return err
			}
			assert.Equal(t, host.TurnCompleted, res.Status)
			return nil
		},
		"skills/list": func() error {
			sets, err := c.Skills(ctx, &host.SkillsOptions{Cwds: []string{e.work}, ForceReload: true})
			if err != nil {
				return err
			}
			var names []string
			for _, s := range sets {
				for _, sk := range s.Skills {
					names = append(names, sk.Name)
				}
			}
			assert.Contains(t, names, "seed-demo")
			return nil
		},
		"skills/config/write": func() error {
			on, err := c.WriteSkillConfig(ctx, host.SkillConfig{Path: skillFile, Enabled: false})
			if err == nil {
				assert.False(t, on, "the skill is disabled")
			}
			return err
		},
		"app/list": func() error {
			for _, err := range c.Apps(ctx, nil) {
				if err != nil {
					return err
				}
			}
			return nil
		},
		"model/list": func() error {
			var ids []string
			for m, err := range c.Models(ctx) {
				if err != nil {
					return err
				}
				ids = append(ids, m.Model)
			}
			assert.Contains(t, ids, "mock-model")
			return nil
		},
		"account/read": func() error { _, err := c.Account(ctx); return err },
		"account/rateLimits/read": func() error {
			// Rate limits are a ChatGPT account's: a second codex, logged
			// in to a fake ChatGPT backend.
			chatgpt := chatGPTFixture(t)
			e2 := startRealPrepared(t, script, &hosttest.CodexHomeOptions{
				ExtraTOML: fmt.Sprintf("chatgpt_base_url = %q", chatgpt.URL),
			}, func(home string) { writeChatGPTAuth(t, home) })
			raw, err := e2.client.RateLimits(ctx)
			if err != nil {
				return err
			}
			var rl struct {
				RateLimits struct {
					Primary struct {
						UsedPercent float64 `json:"usedPercent"`
					} `json:"primary"`
				} `json:"rateLimits"`
			}
			require.NoError(t, json.Unmarshal(raw, &rl))
			assert.Equal(t, 42.0, rl.RateLimits.Primary.UsedPercent, "the fake backend's usage")
			return nil
		},
		"command/exec": func() error {
			res, err := c.Exec(ctx, []string{"sh", "-c", "echo seed-out; echo seed-err >&2; exit 3"}, &host.ExecOptions{Cwd: e.work})
			if err == nil {
				assert.Equal(t, 3, res.ExitCode)
				assert.Equal(t, "seed-out\n", res.Stdout)
				assert.Equal(t, "seed-err\n", res.Stderr)
			}
			return err
		},
		"config/value/write": func() error {
			_, err := c.WriteConfig(ctx, []host.ConfigEdit{{KeyPath: "hide_agent_reasoning", Value: true}}, nil)
			return err
		},
		"config/batchWrite": func() error {
			_, err := c.WriteConfig(ctx, []host.ConfigEdit{
				{KeyPath: "mcp_servers.fixture.url", Value: mcp.URL + "/mcp"},
				{KeyPath: "mcp_servers.fixture.startup_timeout_sec", Value: 2},
			}, nil)
			return err
		},
		"config/read": func() error {
			snap, err := c.ReadConfig(ctx, &host.ConfigReadOptions{Cwd: e.work})
			if err != nil {
				return err
			}
			var cfg struct {
				Model              string `json:"model"`
				HideAgentReasoning bool   `json:"hide_agent_reasoning"`
			}
			require.NoError(t, json.Unmarshal(snap.Config, &cfg))
			assert.Equal(t, "mock-model", cfg.Model)
			assert.True(t, cfg.HideAgentReasoning, "config/value/write took effect")
			return nil
		},
		"configRequirements/read": func() error { _, err := c.ConfigRequirements(ctx); return err },
		"config/mcpServer/reload": func() error { return c.ReloadMCPServers(ctx) },
		"mcpServerStatus/list": func() error {
			var names []string
			for s, err := range c.MCPServers(ctx) {
				if err != nil {
					return err
				}
				names = append(names, s.Name)
			}
			assert.Contains(t, names, "fixture", "config/batchWrite and the reload took effect")
			return nil
		},
		"mcpServer/oauth/login": func() error {
			l, err := c.LoginMCPServer(ctx, "fixture", &host.MCPLoginOptions{TimeoutSecs: 5})
			if err == nil {
				assert.True(t, strings.HasPrefix(l.AuthorizationURL, mcp.URL+"/authorize?"), "authorization URL %q", l.AuthorizationURL)
			}
			return err
		},
		"fuzzyFileSearch": func() error {
			files, err := c.SearchFiles(ctx, "seedling", nil)
			if err != nil {
				return err
			}
			var paths []string
			for _, f := range files {
				paths = append(paths, f.Path)
			}
			assert.Contains(t, paths, filepath.Join("src", "seedling.go"))
			return nil
		},
	}
	// Run in the order of the configuration-dependent steps: config writes
	// before the reads and MCP calls that see them.
	order := []string{"thread/start", "thread/name/set", "thread/read", "thread/list", "thread/loaded/list",
		"thread/fork", "thread/compact/start", "turn/steer", "turn/interrupt", "review/start",
		"thread/archive", "thread/unarchive", "skills/list", "skills/config/write", "app/list", "model/list", "account/read",
		"account/rateLimits/read", "command/exec", "config/value/write", "config/batchWrite", "config/read",
		"configRequirements/read", "config/mcpServer/reload", "mcpServerStatus/list", "mcpServer/oauth/login",
		"fuzzyFileSearch"}
	called := 0
	for _, m := range order {
		require.True(t, slices.ContainsFunc(seedMethods, func(s struct{ python, method string }) bool { return s.method == m }), m)
		step, ok := steps[m]
		require.True(t, ok, m)
		if step == nil {
			called++ // exercised by the step before it
			continue
		}
		if err := step(); err != nil {
			t.Errorf("%s: %v", m, err)
			continue
		}
		called++
	}
	// The removed ones: codex refuses them as unknown methods.
	for _, m := range removedSeedMethods {
		err := c.Call(ctx, m, map[string]any{"threadId": thread.ID}, nil)
		var we *rpc.WireError
		require.ErrorAs(t, err, &we, m)
		assert.True(t, errors.Is(err, rpc.ErrInvalidRequest) || errors.Is(err, rpc.ErrMethodNotFound), "%s: %v", m, err)
	}
	require.Equal(t, len(seedMethods), len(order)+len(removedSeedMethods), "every seed method is accounted for")
	t.Logf("seed methods called through codexhost on codex %s: %d of %d; not in this codex: %d (%s)",
		c.CodexVersion(), called, len(seedMethods), len(removedSeedMethods), strings.Join(removedSeedMethods, ", "))
	fmt.Printf("seed methods: %d of %d called on codex %s, %d removed from codex\n", called, len(seedMethods), c.CodexVersion(), len(removedSeedMethods))
	assert.Equal(t, len(seedMethods)-len(removedSeedMethods), called)
	outside := w.outsideMethods()
	t.Logf("notifications outside threads: %v", outside)
	assert.Contains(t, outside, "remoteControl/status/changed", "NotificationObserver sees the notifications of no thread")
}

// An eventWaiter is an observer that signals the events tests wait for.
type eventWaiter struct {
	mu    sync.Mutex
	waits []eventWait
	// outside are the methods of the notifications of no thread, in order.
	outside []string
}

type eventWait struct {
	match func(*host.Event) bool
	ch    chan struct{}
}

func (w *eventWaiter) ObserveEvent(ev *host.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waits = slices.DeleteFunc(w.waits, func(x eventWait) bool {
		if x.match(ev) {
			close(x.ch)
			return true
		}
		return false
	})
}

// expect returns a channel closed at the first event that matches, from
// now on.
func (w *eventWaiter) expect(match func(*host.Event) bool) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.waits = append(w.waits, eventWait{match, ch})
	w.mu.Unlock()
	return ch
}

func (w *eventWaiter) recordOutside(ev *host.Event) {
	w.mu.Lock()
	w.outside = append(w.outside, ev.Method)
	w.mu.Unlock()
}

func (w *eventWaiter) outsideMethods() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.outside)
}

func waitFor(ctx context.Context, ch <-chan struct{}, what string) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
}

// startRealPrepared is startReal with prepare run on CODEX_HOME before codex
// starts.
func startRealPrepared(t *testing.T, script hosttest.Script, home *hosttest.CodexHomeOptions, prepare func(home string)) *realEnv {
	t.Helper()
	requireCodex(t)
	model, err := hosttest.StartModel(&hosttest.ModelOptions{Script: script})
	require.NoError(t, err)
	t.Cleanup(func() { _ = model.Close() })
	e := &realEnv{model: model, work: t.TempDir(), home: t.TempDir()}
	require.NoError(t, hosttest.WriteCodexHome(e.home, model.URL(), home))
	prepare(e.home)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	e.client, err = host.Start(ctx, &host.Options{CodexHome: e.home, Dir: e.work, Env: []string{"OPENAI_API_KEY="}})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = e.client.Close()
		_ = e.client.Wait()
	})
	return e
}

// writeChatGPTAuth writes a ChatGPT login to CODEX_HOME/auth.json, with an
// unsigned id token (codex reads its claims, it does not verify them).
func writeChatGPTAuth(t *testing.T, home string) {
	b64 := func(v any) string {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	idToken := b64(map[string]any{"alg": "none", "typ": "JWT"}) + "." +
		b64(map[string]any{"email": "seed@example.com", "https://api.openai.com/auth": map[string]any{
			"chatgpt_plan_type": "pro", "chatgpt_account_id": "account-123"}}) + "." +
		base64.RawURLEncoding.EncodeToString([]byte("signature"))
	auth := map[string]any{
		"auth_mode":      "chatgpt",
		"OPENAI_API_KEY": nil,
		"tokens": map[string]any{"id_token": idToken, "access_token": "chatgpt-token",
			"refresh_token": "refresh-token", "account_id": "account-123"},
		"last_refresh": time.Now().UTC().Format(time.RFC3339),
	}
	b, err := json.Marshal(auth)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(home, "auth.json"), b, 0o600))
}

// chatGPTFixture is the ChatGPT backend's usage endpoint, for the login
// writeChatGPTAuth writes.
func chatGPTFixture(t *testing.T) *httptest.Server {
	usage := func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer chatgpt-token" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"plan_type":"pro","rate_limit":{"allowed":true,"limit_reached":false,`+
			`"primary_window":{"used_percent":42,"limit_window_seconds":3600,"reset_after_seconds":120,"reset_at":1735689720},`+
			`"secondary_window":{"used_percent":5,"limit_window_seconds":86400,"reset_after_seconds":43200,"reset_at":1735693200}}}`)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/codex/usage", usage)
	mux.HandleFunc("/wham/usage", usage)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
