package host_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/host"
)

// A ConnError's Reason is codex's own error, not the backtrace that
// RUST_BACKTRACE=1 prints after it, nor a warning before it.
func TestConnErrorReason(t *testing.T) {
	backtrace := []string{"   0: <unknown>", "   1: <unknown>", "  8: <unknown>"}
	for _, tc := range []struct {
		name   string
		stderr []string
		want   string
	}{
		{"backtrace", append([]string{"WARNING: proceeding", "Error: Model provider `nope` not found", "", "Stack backtrace:"}, backtrace...),
			"Error: Model provider `nope` not found"},
		{"causes", append([]string{"Error: load config", "", "Caused by:", "    0: config.toml:3: bad key", "    1: expected a string", "", "Stack backtrace:"}, backtrace...),
			"Error: load config; caused by: 0: config.toml:3: bad key; caused by: 1: expected a string"},
		{"the last error", []string{"Error: first", "Error: second"}, "Error: second"},
		{"no error line", []string{"starting", "thread 'main' panicked at src/x.rs:1:1:", "boom", ""}, "boom"},
		{"indented, not codex's", []string{"  Error: quoted"}, "Error: quoted"},
		{"nothing", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &host.ConnError{Err: errors.New("exited"), ExitCode: 1, Stderr: tc.stderr}
			assert.Equal(t, tc.want, e.Reason())
			if tc.want != "" {
				assert.Contains(t, e.Error(), tc.want)
			}
			assert.NotContains(t, e.Error(), "<unknown>")
		})
	}
}
