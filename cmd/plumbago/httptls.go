package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"
)

// httpTLS serves the HTTP API over TLS with the certificate and key of
// --http-tls-cert and --http-tls-key, re-read on SIGHUP (a renewed
// certificate is used by the next handshake; open connections keep theirs).
type httpTLS struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// newHTTPTLS loads the pair, or returns nil when TLS is off.
func newHTTPTLS(cfg Config, log *slog.Logger) (*httpTLS, error) {
	if cfg.HTTPTLSCert == "" && cfg.HTTPTLSKey == "" {
		return nil, nil
	}
	t := &httpTLS{certFile: cfg.HTTPTLSCert, keyFile: cfg.HTTPTLSKey}
	c, err := loadKeyPair(t.certFile, t.keyFile)
	if err != nil {
		return nil, err
	}
	t.cert.Store(c)
	log.Info("TLS on the HTTP API", "cert", t.certFile, "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return t, nil
}

// loadKeyPair reads a PEM certificate (chain) and its key, and refuses a
// pair that does not match or a certificate already expired.
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--http-tls-cert %q, --http-tls-key %q: %w", certFile, keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("--http-tls-cert %q: %w", certFile, err)
		}
	}
	if time.Now().After(c.Leaf.NotAfter) {
		return nil, fmt.Errorf("--http-tls-cert %q: expired %s", certFile, c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &c, nil
}

// reload re-reads the pair; on error the old one stays.
func (t *httpTLS) reload() (*tls.Certificate, error) {
	c, err := loadKeyPair(t.certFile, t.keyFile)
	if err != nil {
		return nil, err
	}
	t.cert.Store(c)
	return c, nil
}

// listener wraps ln (the accept loop with its connection limit) in TLS.
func (t *httpTLS) listener(ln net.Listener) net.Listener {
	return tls.NewListener(ln, &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return t.cert.Load(), nil
		},
	})
}

// validateTLS checks the pair of flags is given together.
func validateTLS(cfg *Config) error {
	if (cfg.HTTPTLSCert == "") != (cfg.HTTPTLSKey == "") {
		return errors.New("--http-tls-cert and --http-tls-key go together")
	}
	return nil
}
