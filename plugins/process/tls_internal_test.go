package process

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/codexhost/codexhost/internal/pluginwire"
)

// handshake runs a TLS handshake between client and server configurations.
func tlsHandshake(t *testing.T, client, server *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	a, b := net.Pipe()
	done := make(chan error, 1)
	go func() {
		s := tls.Server(b, server)
		err := s.Handshake()
		_ = s.Close()
		done <- err
	}()
	c := tls.Client(a, client)
	clientErr = c.Handshake()
	_ = c.Close()
	return clientErr, <-done
}

// The plugin side reads the key pair the host made for it from the
// inherited descriptor, and accepts only the host's client certificate.
func TestServerTLSFromHost(t *testing.T) {
	host, err := hostTLS()
	require.NoError(t, err)
	server, err := newKeyPair()
	require.NoError(t, err)
	r, w, err := os.Pipe()
	require.NoError(t, err)
	_, err = w.Write(tlsBlob(server))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	// serverTLS closes the descriptor, as a plugin does with its fd 3:
	// give it one of its own.
	fd, err := syscall.Dup(int(r.Fd()))
	require.NoError(t, err)
	require.NoError(t, r.Close())
	t.Setenv(envTLSFD, fmt.Sprint(fd))
	t.Setenv(envClientCert, string(host.CertPEM))
	scfg, err := pluginwire.ServerTLS()
	require.NoError(t, err)
	require.NotNil(t, scfg)

	cerr, serr := tlsHandshake(t, clientTLS(host, server), scfg)
	require.NoError(t, cerr)
	require.NoError(t, serr)

	// Another client certificate is refused; so is another server.
	other, err := newKeyPair()
	require.NoError(t, err)
	_, serr = tlsHandshake(t, clientTLS(other, server), scfg)
	assert.Error(t, serr, "a client the host did not announce")
	cerr, _ = tlsHandshake(t, clientTLS(host, other), scfg)
	assert.Error(t, cerr, "a server whose certificate the host did not make")
}

func TestServerTLSWithoutHostKeys(t *testing.T) {
	t.Setenv(envTLSFD, "")
	cfg, err := pluginwire.ServerTLS()
	require.NoError(t, err)
	assert.Nil(t, cfg, "go-plugin's AutoMTLS then")
	t.Setenv(envTLSFD, "x")
	_, err = pluginwire.ServerTLS()
	assert.Error(t, err)
}
