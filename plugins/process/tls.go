package process

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"sync"
	"time"
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
	envTLSFD      = "CODEXHOST_PLUGIN_TLS_FD"
	envClientCert = "PLUGIN_CLIENT_CERT"
	tlsFD         = 3 // the first of exec.Cmd.ExtraFiles
)

// hostTLS is the host's client certificate, made on first use.
var hostTLS = sync.OnceValues(func() (*keyPair, error) { return newKeyPair() })

// A keyPair is a self-signed certificate for "localhost" and its key.
type keyPair struct {
	cert    tls.Certificate
	leaf    *x509.Certificate
	certPEM []byte
	keyPEM  []byte
}

// newKeyPair makes a P-256 key and a self-signed certificate for
// "localhost" usable by a TLS client and server, as go-plugin's
// generateCert does with P-521.
func newKeyPair() (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	sn, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"codexhost"}},
		DNSNames:              []string{"localhost"},
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		SerialNumber:          sn,
		NotBefore:             time.Now().Add(-30 * time.Second),
		NotAfter:              time.Now().Add(30 * 365 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	kp := &keyPair{
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	if kp.leaf, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	kp.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: kp.leaf}
	return kp, nil
}

// clientTLS returns the host's TLS configuration for a plugin whose server
// certificate is server's.
func clientTLS(host, server *keyPair) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(server.leaf)
	return &tls.Config{
		Certificates: []tls.Certificate{host.cert},
		RootCAs:      pool,
		ServerName:   "localhost",
		MinVersion:   tls.VersionTLS12,
	}
}

// serverTLS is the plugin side: the TLS configuration from the key pair
// the host passed on envTLSFD, accepting only the host's client
// certificate, or nil if the host passed none.
func serverTLS() (*tls.Config, error) {
	fdStr := os.Getenv(envTLSFD)
	if fdStr == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(fdStr)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not a file descriptor", envTLSFD, fdStr)
	}
	f := os.NewFile(uintptr(fd), "codexhost-tls")
	if f == nil {
		return nil, fmt.Errorf("%s=%d is not open", envTLSFD, fd)
	}
	blob, err := io.ReadAll(io.LimitReader(f, 64<<10))
	_ = f.Close()
	if err != nil {
		return nil, fmt.Errorf("read the TLS key pair: %w", err)
	}
	var certPEM, keyPEM []byte
	for rest := blob; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			certPEM = pem.EncodeToMemory(block)
		case "EC PRIVATE KEY":
			keyPEM = pem.EncodeToMemory(block)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("the TLS key pair from the host: %w", err)
	}
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM([]byte(os.Getenv(envClientCert))) {
		return nil, errors.New("no client certificate from the host (" + envClientCert + ")")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

// tlsBlob is what the host writes to the plugin's envTLSFD.
func tlsBlob(server *keyPair) []byte {
	return bytes.Join([][]byte{server.certPEM, server.keyPEM}, nil)
}
