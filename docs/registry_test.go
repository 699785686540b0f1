package docs_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/plugins/dist/disttest"
)

// TestLocalRegistryTargets runs what the docs tell a reader to run before
// they push (`make local-registry`), on a port of its own: TestDocs runs the
// docs' own line too, but finds its registry already there. It starts the
// registry, finds it started on a second run, refuses a port that something
// else holds, and stops it.
func TestLocalRegistryTargets(t *testing.T) {
	disttest.RequireRegistry(t)
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	makeIn := func(args ...string) (string, error) {
		cmd := exec.Command("make", append([]string{"-s", "-C", root}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The target takes a HOST:PORT, not a listener, and port 0 would not
	// do (it says the address it was given): the port is one that was free
	// a moment ago. Another process may take it before the registry binds
	// it; then the target says so (the port is taken, a registry already
	// answers there, or docker-registry exited with "address already in
	// use") and the test tries another port.
	var addr string
	var vars []string
	for attempt := 1; ; attempt++ {
		addr = freeAddr(t)
		vars = []string{"LOCAL_REGISTRY_ADDR=" + addr, "LOCAL_REGISTRY_DIR=" + t.TempDir()}
		out, err := makeIn(append([]string{"local-registry"}, vars...)...)
		if err == nil && strings.Contains(out, "docker-registry answers on http://"+addr) {
			break
		}
		clash := strings.Contains(out, "address already in use") || strings.Contains(out, "is taken by something") ||
			err == nil && strings.Contains(out, "a registry already answers")
		if !clash || attempt == 5 {
			require.NoError(t, err, out)
			require.Contains(t, out, "docker-registry answers on http://"+addr)
		}
		t.Logf("%s was taken: %s; again on another port", addr, out)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_, _ = makeIn(append([]string{"local-registry-stop"}, vars...)...)
		}
	})
	resp, err := http.Get("http://" + addr + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	out, err := makeIn(append([]string{"local-registry"}, vars...)...)
	require.NoError(t, err, out)
	require.Contains(t, out, "a registry already answers on http://"+addr)

	// A port held by something that is not a registry: refused, with why.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() { // accepts and answers what is not a registry's answer
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("HTTP/1.0 404 Not Found\r\n\r\n"))
			c.Close()
		}
	}()
	out, err = makeIn("local-registry", "LOCAL_REGISTRY_ADDR="+l.Addr().String(), "LOCAL_REGISTRY_DIR="+t.TempDir())
	require.Error(t, err)
	require.Contains(t, out, l.Addr().String()+" is taken by something that is not an OCI registry")

	out, err = makeIn(append([]string{"local-registry-stop"}, vars...)...)
	require.NoError(t, err, out)
	stopped = true
	require.True(t, strings.HasPrefix(out, "local-registry: stopped process "), out)
	_, err = http.Get("http://" + addr + "/v2/")
	require.Error(t, err, "the registry still answers after local-registry-stop")
}

// freeAddr returns 127.0.0.1 with a port that was free a moment ago: what
// gets it must try another one if something took it meanwhile.
func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestLocalRegistryStopSparesAStranger: the pid file outlives the
// registry (a crash, a reboot); local-registry-stop then stops nothing
// rather than the process that has the pid now (review).
func TestLocalRegistryStopSparesAStranger(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	stranger := exec.Command("sleep", "300")
	require.NoError(t, stranger.Start())
	t.Cleanup(func() { _ = stranger.Process.Kill(); _ = stranger.Wait() })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(stranger.Process.Pid)), 0o644))
	out, err := exec.Command("make", "-s", "-C", root, "local-registry-stop", "LOCAL_REGISTRY_DIR="+dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "nothing stopped")
	st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(stranger.Process.Pid), "status"))
	require.NoError(t, err)
	assert.NotContains(t, string(st), "zombie", "the stranger was stopped")
}
