package host

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The range of codex versions codexhost supports. Both ends are tested: CI
// runs the real-codex tests against each (`make test`, `make
// test-codex-newest`), from the lock files under tools/.
const (
	// MinCodexVersion is the oldest codex codexhost works with; [Start]
	// refuses older ones with [ErrCodexTooOld]. It is the version the wire
	// types are generated from ([CodexVersion]).
	MinCodexVersion = "0.169.0"
	// NewestTestedCodexVersion is the newest codex codexhost is tested
	// with. [Start] accepts newer ones, and logs a warning once per
	// version and process.
	NewestTestedCodexVersion = "0.171.0"
)

// ErrCodexTooOld is wrapped by the error [Start] returns for a codex
// older than [MinCodexVersion]; the message names both versions.
var ErrCodexTooOld = errors.New("host: codex is too old")

// CodexVersion reports the version of the codex app-server this Client is
// connected to, as codex reported it at initialize (in its user agent), or
// "" if it reported none that codexhost can read.
func (c *Client) CodexVersion() string { return codexVersionFromUserAgent(c.initResp.UserAgent) }

// codexVersionFromUserAgent extracts the version from app-server's user
// agent, "ORIGINATOR/VERSION (OS; ARCH) TERMINAL (CLIENT; CLIENT_VERSION)",
// where ORIGINATOR is the client name sent at initialize.
func codexVersionFromUserAgent(ua string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(ua), " ")
	i := strings.LastIndexByte(first, '/')
	if i < 0 {
		return ""
	}
	v := first[i+1:]
	if _, ok := parseVersion(v); !ok {
		return ""
	}
	return v
}

// A version is a parsed MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
type version struct {
	num [3]int
	pre string
}

// parseVersion parses a codex version. Anything else, including a bare
// "0" or "1.2", is not a version.
func parseVersion(s string) (version, bool) {
	var v version
	s, _, _ = strings.Cut(s, "+")
	s, v.pre, _ = strings.Cut(s, "-")
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p == "" {
			return v, false
		}
		v.num[i] = n
	}
	return v, true
}

// compare orders versions; a prerelease sorts before its release.
func (v version) compare(w version) int {
	for i := range v.num {
		if v.num[i] != w.num[i] {
			if v.num[i] < w.num[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case v.pre == w.pre:
		return 0
	case v.pre == "":
		return 1
	case w.pre == "":
		return -1
	}
	return strings.Compare(v.pre, w.pre)
}

// CompareCodexVersions compares two codex versions (MAJOR.MINOR.PATCH,
// with an optional -prerelease, which sorts before its release) and
// returns -1, 0 or +1. ok is false if either is not a version.
func CompareCodexVersions(a, b string) (cmp int, ok bool) {
	va, okA := parseVersion(a)
	vb, okB := parseVersion(b)
	if !okA || !okB {
		return 0, false
	}
	return va.compare(vb), true
}

// warnedNewer holds the codex versions newer than the newest tested that
// a warning was logged for, so that it is logged once per process.
var warnedNewer sync.Map

// checkCodexVersion refuses a codex older than MinCodexVersion and warns
// once about one newer than NewestTestedCodexVersion. A version codexhost
// cannot read is logged and accepted: refusing it would lock out every
// codex that changes its user agent.
func (c *Client) checkCodexVersion(bin string) error {
	v := c.CodexVersion()
	if v == "" {
		c.opts.Logger.Warn("codexhost: cannot read the codex version from app-server's user agent; its compatibility is unchecked",
			"userAgent", c.initResp.UserAgent, "codex", bin)
		return nil
	}
	if cmp, _ := CompareCodexVersions(v, MinCodexVersion); cmp < 0 {
		return fmt.Errorf("%w: %s is codex %s; codexhost needs codex %s or newer (npm install -g @openai/codex@%s, or `make codex`)",
			ErrCodexTooOld, bin, v, MinCodexVersion, NewestTestedCodexVersion)
	}
	if cmp, _ := CompareCodexVersions(v, NewestTestedCodexVersion); cmp > 0 {
		if _, seen := warnedNewer.LoadOrStore(v, true); !seen {
			c.opts.Logger.Warn("codexhost: codex is newer than the newest version codexhost is tested with; report what breaks",
				"codex", v, "newestTested", NewestTestedCodexVersion, "min", MinCodexVersion)
		}
	}
	return nil
}

// startTranscript holds the transcript's header until the initialize
// handshake has told the codex version (see finishTranscriptHeader).
func (c *Client) startTranscript() {
	if c.opts.Transcript != nil {
		c.opts.Transcript.Hold()
	}
}

// finishTranscriptHeader records the codex version codex reported in the
// transcript's header and writes what was held.
func (c *Client) finishTranscriptHeader() {
	tw := c.opts.Transcript
	if tw == nil {
		return
	}
	if v := c.CodexVersion(); v != "" {
		tw.SetCodex(v)
	}
	_ = tw.Begin()
}

// FindCodex reports the codex binary that [Start] runs for an
// [Options.Codex] of bin: bin itself (a bare name is looked up on PATH),
// else $CODEX_BIN, else the pinned install under tools/codex, else codex on
// PATH. The error wraps [ErrCodexNotFound].
func FindCodex(bin string) (string, error) { return findCodex(bin) }

// ProbeCodexVersion runs `bin --version` and returns the version it
// prints ("codex-cli 0.171.0" gives "0.171.0"), without starting
// app-server. An empty bin resolves as [Options.Codex] does. ctx bounds
// the run (and 10 seconds at most).
func ProbeCodexVersion(ctx context.Context, bin string) (string, error) {
	path, err := findCodex(bin)
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	cmd.WaitDelay = time.Second
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("host: %s --version: %w", path, err)
	}
	for _, f := range strings.Fields(string(out)) {
		if _, ok := parseVersion(f); ok {
			return f, nil
		}
	}
	return "", fmt.Errorf("host: %s --version printed no version: %q", path, strings.TrimSpace(string(out)))
}
