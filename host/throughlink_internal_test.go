package host

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/abi"
)

// A permissions grant through a symbolic link grants what the link names:
// throughLink finds the link, on any part of the path, relative or not.
func TestThroughLink(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "src", "real"), 0o755))
	require.NoError(t, os.Symlink(out, filepath.Join(work, "src", "vendor")))
	for p, wantLink := range map[string]string{
		filepath.Join(work, "src", "vendor"):           filepath.Join(work, "src", "vendor"),
		filepath.Join(work, "src", "vendor", "x", "y"): filepath.Join(work, "src", "vendor"),
		"src/vendor":                                     filepath.Join(work, "src", "vendor"),
		"src/real/../vendor/z":                           filepath.Join(work, "src", "vendor"),
		filepath.Join(work, "src", "real"):               "",
		filepath.Join(work, "src", "real", "new", "dir"): "", // not there yet
		"src/real": "",
	} {
		link, target := throughLink(p, work, work)
		assert.Equal(t, wantLink, link, p)
		if wantLink != "" {
			assert.Equal(t, out, target, p)
		}
	}
}

// A ".." after a link is the link's target's parent to the kernel, not
// the link's directory: the walk stops at the link.
func TestThroughLinkDotDotAfterALink(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(out, "deep"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(out, "deep"), filepath.Join(work, "l")))
	link, _ := throughLink("l/../x", work, work)
	assert.Equal(t, filepath.Join(work, "l"), link, "l/../x is %s/x to the kernel", out)
}

// An accepted patch writes through any link on its paths: each change's
// path and move target, and the grant root, are checked; a refusal is
// not.
func TestPatchThroughLinkIsInvalid(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "src", "real"), 0o755))
	require.NoError(t, os.Symlink(out, filepath.Join(work, "src", "vendor")))
	in, via := filepath.Join(work, "src", "real", "a.txt"), filepath.Join(work, "src", "vendor", "a.txt")
	for name, tc := range map[string]struct {
		a       abi.ApprovalRequest
		invalid bool
	}{
		"path":        {abi.ApprovalRequest{Changes: []abi.FileChange{{Path: via, Kind: "add"}}}, true},
		"move target": {abi.ApprovalRequest{Changes: []abi.FileChange{{Path: in, Kind: "update", MovePath: via}}}, true},
		"grant root":  {abi.ApprovalRequest{Changes: []abi.FileChange{{Path: in, Kind: "add"}}, GrantRoot: filepath.Join(work, "src", "vendor")}, true},
		"relative":    {abi.ApprovalRequest{Cwd: work, Changes: []abi.FileChange{{Path: "src/vendor/a.txt", Kind: "add"}}}, true},
		"no link":     {abi.ApprovalRequest{Changes: []abi.FileChange{{Path: in, Kind: "add"}}}, false},
	} {
		tc.a.Kind = abi.ApprovalFileChange
		a := &ApprovalRequest{ApprovalRequest: &tc.a}
		err := a.check(&abi.ApprovalResponse{Decision: abi.Accept})
		if tc.invalid {
			assert.ErrorIs(t, err, ErrInvalidAnswer, name)
		} else {
			assert.NoError(t, err, name)
		}
		assert.NoError(t, a.check(&abi.ApprovalResponse{Decision: abi.Decline}), name)
	}
}

// The thread's cwd may itself be reached through a link, which the user
// chose: paths under it are walked from it, links below it found, and a
// path that climbs out with ".." is walked from the root.
func TestThroughLinkCwdThroughALink(t *testing.T) {
	real, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(real, "src"), 0o755))
	require.NoError(t, os.Symlink(out, filepath.Join(real, "src", "vendor")))
	cwd := filepath.Join(t.TempDir(), "ws")
	require.NoError(t, os.Symlink(real, cwd))
	for p, wantLink := range map[string]string{
		filepath.Join(cwd, "src", "a.txt"):       "",
		"src/a.txt":                              "",
		cwd:                                      "",
		filepath.Join(cwd, "src", "vendor", "x"): filepath.Join(cwd, "src", "vendor"),
		"src/vendor/x":                           filepath.Join(cwd, "src", "vendor"),
		cwd + "/src/../src/a.txt":                cwd,
		cwd + "/../" + filepath.Base(cwd) + "/src": cwd,
	} {
		link, _ := throughLink(p, cwd, cwd)
		assert.Equal(t, wantLink, link, p)
	}
}

// A command's cwd (its workdir) is the agent's: a workdir that is a link
// the agent made is found, whatever the path relative to it.
func TestThroughLinkWorkdirIsNotTrusted(t *testing.T) {
	work, out := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "src"), 0o755))
	vendor := filepath.Join(work, "src", "vendor")
	require.NoError(t, os.Symlink(out, vendor))
	for _, p := range []string{".", "x", vendor, filepath.Join(vendor, "x")} {
		link, _ := throughLink(p, vendor, work)
		assert.Equal(t, vendor, link, p)
	}
}
