// Package disttest runs a real OCI registry for tests: Debian's
// docker-registry (the CNCF distribution server), installed by `make
// registry`, on 127.0.0.1 with its storage in a temporary directory.
package disttest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is the registry executable tests run; $CODEXHOST_REGISTRY_BIN
// overrides it.
const Binary = "/usr/bin/docker-registry"

func binary() string {
	if b := os.Getenv("CODEXHOST_REGISTRY_BIN"); b != "" {
		return b
	}
	return Binary
}

// RequireRegistry skips the test when docker-registry is not installed,
// and fails it under CI (CI=true), where `make test` installs it.
func RequireRegistry(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(binary()); err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed (run `make registry`); registry tests must run in CI", binary())
	}
	t.Skipf("%s is not installed; run `make registry`", binary())
}

// A Registry is a running docker-registry.
type Registry struct {
	// Host is "127.0.0.1:PORT", the registry part of a reference.
	Host string
	// Storage is the registry's storage root directory: blobs are under
	// docker/registry/v2/blobs/sha256/XX/HEX/data.
	Storage string

	cmd    *exec.Cmd
	config string
	out    *syncBuffer
	exited chan struct{}
	mu     sync.Mutex
}

// StartRegistry starts docker-registry on a free loopback port with empty
// storage and waits until it answers /v2/. It is stopped when t ends.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	RequireRegistry(t)
	dir := t.TempDir()
	r := &Registry{Storage: filepath.Join(dir, "storage"), config: filepath.Join(dir, "config.yml")}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// StartRegistryOn is StartRegistry on a fixed address, such as the
// 127.0.0.1:5000 the documentation uses. It fails if the port is taken.
func StartRegistryOn(t testing.TB, host string) *Registry {
	t.Helper()
	RequireRegistry(t)
	dir := t.TempDir()
	r := &Registry{Host: host, Storage: filepath.Join(dir, "storage"), config: filepath.Join(dir, "config.yml")}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	return r
}

// BlobPath is the file in which the registry keeps the blob with digest
// ("sha256:HEX").
func (r *Registry) BlobPath(digest string) string {
	h := strings.TrimPrefix(digest, "sha256:")
	return filepath.Join(r.Storage, "docker", "registry", "v2", "blobs", "sha256", h[:2], h, "data")
}

// Start (re)starts a stopped registry, on the same port if it was started
// before (the storage is kept).
func (r *Registry) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return nil
	}
	// The first start of StartRegistry's registry is on port 0: the
	// registry binds a free port and logs which. (A port read from a
	// closed listener could be taken by another process before the
	// registry binds it.) A restart is on the same port.
	addr := r.Host
	if addr == "" {
		addr = "127.0.0.1:0"
	} else if l, err := net.Listen("tcp", r.Host); err != nil {
		// Another server there would answer the readiness check below in
		// this registry's place: say so instead.
		return fmt.Errorf("docker-registry: %s is not free (another registry left running?): %w", r.Host, err)
	} else {
		_ = l.Close()
	}
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
`, r.Storage, addr)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		return err
	}
	// Ready when the registry logs that it listens, and on which address:
	// it binds its port before it says so, and serves from that socket,
	// so a client that connects from then on is answered (no polling).
	ready := make(chan struct{})
	r.out = &syncBuffer{watch: listening, seen: ready}
	cmd := exec.Command(binary(), "serve", r.config)
	cmd.Stdout, cmd.Stderr = r.out, r.out
	cmd.SysProcAttr = registryProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", binary(), err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	timeout := time.NewTimer(15 * time.Second)
	defer timeout.Stop()
	select {
	case <-ready:
	case <-exited:
		return fmt.Errorf("docker-registry exited: %s", r.out.String())
	case <-timeout.C:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		return fmt.Errorf("docker-registry did not listen on %s within 15s: %s", addr, r.out.String())
	}
	if r.Host == "" {
		r.Host = listening.FindStringSubmatch(r.out.String())[1]
		if strings.HasSuffix(r.Host, ":0") {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			return fmt.Errorf("docker-registry does not say which port it bound for port 0: %s", r.out.String())
		}
	}
	r.cmd = cmd
	r.exited = exited
	return nil
}

// Stop stops the registry (SIGTERM, then SIGKILL after 5s). It is
// idempotent; Start starts it again.
func (r *Registry) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.exited
	}
	r.cmd = nil
}

// listening matches the line in which docker-registry says the address
// it listens on (msg="listening on 127.0.0.1:PORT", the port it bound);
// the quote after it says the address is whole.
var listening = regexp.MustCompile(`listening on ([^"\s]+)"`)

// syncBuffer collects a process's output; seen, if not nil, is closed
// when the output first matches watch.
type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	watch *regexp.Regexp
	seen  chan struct{}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.seen != nil && s.watch.Match(s.b.Bytes()) {
		close(s.seen)
		s.seen = nil
	}
	return n, err
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// EnvCosignBin names the cosign executable the interop tests run, instead
// of the one `make cosign` builds into .cache/bin/cosign.
const EnvCosignBin = "CODEXHOST_COSIGN_BIN"

// Cosign returns the path of the real cosign CLI that `make cosign` builds
// from the module proxy (tools/cosign pins its version) into
// .cache/bin/cosign of this repository, or $CODEXHOST_COSIGN_BIN. It skips
// the test when there is none, and fails it under CI (CI=true), where
// `make test` builds it.
func Cosign(t testing.TB) string {
	t.Helper()
	if b := os.Getenv(EnvCosignBin); b != "" {
		return b
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "tools", "cosign", "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("disttest.Cosign: no tools/cosign/go.mod above the working directory")
		}
		dir = parent
	}
	bin := filepath.Join(dir, ".cache", "bin", "cosign")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is missing (run `make cosign`); the cosign interop tests must run in CI", bin)
	}
	t.Skipf("%s is missing; run `make cosign`", bin)
	return ""
}

// RunCosign runs cosign with args, offline from any Sigstore service and
// from the user's files: HOME and TUF_ROOT are temporary directories, and
// password is $COSIGN_PASSWORD. It returns the combined output and the
// exit error.
func RunCosign(t testing.TB, password string, args ...string) (string, error) {
	t.Helper()
	bin := Cosign(t)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "TUF_ROOT="+filepath.Join(home, "tuf"),
		"COSIGN_PASSWORD="+password, "COSIGN_YES=true", "DOCKER_CONFIG="+filepath.Join(home, "docker"))
	out, err := cmd.CombinedOutput()
	t.Logf("cosign %s → %v\n%s", strings.Join(args, " "), err, out)
	return string(out), err
}

// CosignSignArgs are the flags of a keyed `cosign sign` with no Sigstore
// service: no signing config from TUF, no transparency log upload, HTTP to
// the loopback registry.
var CosignSignArgs = []string{"--use-signing-config=false", "--tlog-upload=false", "--allow-http-registry", "--yes"}

// CosignVerifyArgs are the flags of a keyed `cosign verify` with no
// transparency log.
var CosignVerifyArgs = []string{"--insecure-ignore-tlog", "--allow-http-registry"}
