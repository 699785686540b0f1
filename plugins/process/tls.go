package process

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"sync"

	"github.com/codexhost/codexhost/internal/pluginwire"
)

// Mutual TLS between the host and a process plugin.
//
// go-plugin's AutoMTLS has each side generate a P-521 key and certificate
// at every start and sign the TLS handshake with it: in a fresh plugin
// process that is ~10 ms of a ~45 ms start (P-521's tables are built on
// first use). codexhost keeps the same trust (each side accepts only the
// certificate the host handed out for this start) with cheaper keys: the
// host makes one P-256 client certificate per host process and a fresh
// P-256 key and certificate for each plugin process, which it passes to
// the plugin on an inherited pipe (file descriptor envTLSFD), never in the
// environment. A plugin that does not read it (another language, an older
// sdk-guest) falls back to go-plugin's AutoMTLS: it generates its own
// certificate and announces it in the handshake, and the host trusts that
// one instead, as before.

// envTLSFD names the environment variable that holds the number of the
// file descriptor on which a plugin reads its PEM server certificate and
// key. envClientCert is go-plugin's: the host's client certificate.
const (
	envTLSFD      = pluginwire.EnvTLSFD
	envClientCert = pluginwire.EnvClientCert
	tlsFD         = 3 // the first of exec.Cmd.ExtraFiles
)

// A keyPair is a self-signed certificate for "localhost" and its key.
type keyPair = pluginwire.KeyPair

// newKeyPair makes a key pair (see pluginwire.NewKeyPair).
func newKeyPair() (*keyPair, error) { return pluginwire.NewKeyPair() }

// hostTLS is the host's client certificate, made on first use.
var hostTLS = sync.OnceValues(func() (*keyPair, error) { return newKeyPair() })

// clientTLS returns the host's TLS configuration for a plugin whose server
// certificate is server's.
func clientTLS(host, server *keyPair) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(server.Leaf)
	return &tls.Config{
		Certificates: []tls.Certificate{host.Cert},
		RootCAs:      pool,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS12,
	}
}

// tlsBlob is what the host writes to the plugin's envTLSFD; the plugin
// reads it with pluginwire.ServerTLS.
func tlsBlob(server *keyPair) []byte {
	return bytes.Join([][]byte{server.CertPEM, server.KeyPEM}, nil)
}
