package main

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/host"
	"github.com/codexhost/codexhost/host/hosttest"
)

// run resume and run fork take a thread's name where its id would go, as
// codex exec resume and fork do ("id or thread name; UUIDs take precedence"): before, the
// name went to codex as an id, which it refused ("invalid session id",
// and the message named --thread, which the user had not given).
func TestRunResumeByThreadName(t *testing.T) {
	t.Parallel()
	model, home := fakeCodexHome(t, hosttest.Turns(hosttest.Turn(hosttest.Text("first answer")), hosttest.Turn(hosttest.Text("second answer")),
		hosttest.Turn(hosttest.Text("third answer"))))
	work := t.TempDir()
	r := runCmd(t, "run", "--codex-home", home, "-C", work, "--json", "first prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	m := regexp.MustCompile(`"thread_id":"([^"]+)"`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	id := m[1]

	// Name it as a user of codex's TUI (/rename) or of the library would.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := host.Start(ctx, &host.Options{CodexHome: home, Dir: work})
	require.NoError(t, err)
	_, err = c.ResumeThread(ctx, id, nil)
	require.NoError(t, err)
	require.NoError(t, c.SetThreadName(ctx, id, "my work"))
	require.NoError(t, c.Close())
	_ = c.Wait()

	r = runCmd(t, "run", "resume", "--codex-home", home, "-C", work, "--render", "none", "my work", "second prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "thread "+id+":", "the named thread")
	reqs := model.Requests()
	require.Len(t, reqs, 2)
	assert.Contains(t, string(reqs[1].Body), "first answer", "the resumed turn carries the thread's history")

	// run fork takes the name too, as codex exec fork does.
	r = runCmd(t, "run", "fork", "--codex-home", home, "-C", work, "--render", "none", "my work", "third prompt")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "thread "+id+":", "a new thread, the copy")
	reqs = model.Requests()
	require.Len(t, reqs, 3)
	assert.Contains(t, string(reqs[2].Body), "second answer", "the copy carries the named thread's history")

	r = runCmd(t, "run", "resume", "--codex-home", home, "-C", work, "no such name", "x")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codexhost: run resume no such name: no thread has that id or name in this CODEX_HOME")
	r = runCmd(t, "run", "fork", "--codex-home", home, "-C", work, "no such name", "x")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "codexhost: run fork no such name: no thread has that id or name in this CODEX_HOME")
}
