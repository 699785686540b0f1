package e2e_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/codexhost/codexhost/host/hosttest/e2e"
)

// What a login shell's profile printed (here, pyenv racing another
// shell's rehash, as seen in a full test run) goes; the rest stays.
func TestWithoutProfileOutput(t *testing.T) {
	const line = "$ /bin/bash -lc 'echo hi'"
	noisy := "Let me check.\n" + line + "\nrm: cannot remove '/root/.pyenv/shims/tmp.Xb9AMpgFlN': No such file or directory\n" +
		"pyenv: cannot rehash: /root/.pyenv/shims isn't writable\nhi\nexit 0\n"
	clean := "Let me check.\n" + line + "\nhi\nexit 0\n"
	assert.Equal(t, clean, e2e.WithoutProfileOutput(noisy, line, "hi"))
	assert.Equal(t, clean, e2e.WithoutProfileOutput(clean, line, "hi"))
	assert.Equal(t, noisy, e2e.WithoutProfileOutput(noisy, "$ other", "hi"), "no such line: as it is")
	assert.Equal(t, noisy, e2e.WithoutProfileOutput(noisy, line, "bye"), "no such output: as it is")
}
