package pluginwire

import (
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
	"time"
)

// A KeyPair is a self-signed certificate for "localhost" and its key.
type KeyPair struct {
	Cert    tls.Certificate
	Leaf    *x509.Certificate
	CertPEM []byte
	KeyPEM  []byte
}

// NewKeyPair makes a P-256 key and a self-signed certificate for
// "localhost" usable by a TLS client and server, as go-plugin's
// generateCert does with P-521 (which costs ~10 ms more per start).
func NewKeyPair() (*KeyPair, error) {
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
	kp := &KeyPair{
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	if kp.Leaf, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	kp.Cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: kp.Leaf}
	return kp, nil
}

// ServerTLS is the plugin side of the host's mutual TLS: the configuration
// from the key pair the host passed on the descriptor EnvTLSFD names,
// accepting only the host's client certificate (EnvClientCert), or nil if
// the host passed none. It closes the descriptor.
func ServerTLS() (*tls.Config, error) {
	fdStr := os.Getenv(EnvTLSFD)
	if fdStr == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(fdStr)
	if err != nil || fd < 3 {
		return nil, fmt.Errorf("%s=%q is not a file descriptor", EnvTLSFD, fdStr)
	}
	f := os.NewFile(uintptr(fd), "codexhost-tls")
	if f == nil {
		return nil, fmt.Errorf("%s=%d is not open", EnvTLSFD, fd)
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
	return serverConfig(certPEM, keyPEM)
}

// serverConfig accepts only the host's client certificate.
func serverConfig(certPEM, keyPEM []byte) (*tls.Config, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("the TLS key pair: %w", err)
	}
	clients := x509.NewCertPool()
	if !clients.AppendCertsFromPEM([]byte(os.Getenv(EnvClientCert))) {
		return nil, errors.New("no client certificate from the host (" + EnvClientCert + ")")
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clients,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
