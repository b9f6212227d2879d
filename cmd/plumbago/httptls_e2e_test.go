package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert makes a self-signed ECDSA certificate for 127.0.0.1 with the
// given serial number, writes it and its key as PEM, and returns it.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{CommonName: "plumbago-test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Write through temporary files and rename, as certbot's deploy does.
	for _, f := range []struct {
		path string
		blk  *pem.Block
	}{{certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der}}, {keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}}} {
		if err := os.WriteFile(f.path+".tmp", pem.EncodeToMemory(f.blk), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f.path+".tmp", f.path); err != nil {
			t.Fatal(err)
		}
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// servedSerial makes a TLS handshake trusting only trust and returns the
// serial number of the certificate the server presented.
func servedSerial(addr string, trust *x509.Certificate) (int64, error) {
	pool := x509.NewCertPool()
	pool.AddCert(trust)
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: pool})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.Int64(), nil
}

// TestHTTPTLSServesAndReloads serves the API over TLS with a certificate
// made in the test, queries it with a real TLS client that trusts only
// that certificate, refuses plain HTTP, then swaps the files and sends
// SIGHUP: the next handshake presents the new certificate.
func TestHTTPTLSServesAndReloads(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := writeCert(t, certFile, keyFile, 1001)
	p := launchPlumbago(t, bin, "--data-dir", dir, "--http-tls-cert", certFile, "--http-tls-key", keyFile)
	pool := x509.NewCertPool()
	pool.AddCert(first)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(path string) (int, string, error) {
		r, err := client.Get("https://" + p.http + path)
		if err != nil {
			return 0, "", err
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b), nil
	}
	var code int
	var body string
	var err error
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if code, body, err = get("/healthz"); err == nil && code == 200 {
			break
		}
	}
	if code != 200 || body != "ok\n" {
		t.Fatalf("https /healthz: %d %q %v\n%s", code, body, err, p.log)
	}
	now := time.Now().Unix()
	ts := now - now%10 - 20
	c, err := net.Dial("tcp", p.carbon)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "tls.a 7 "+itoa(ts)+"\n")
	c.Close()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if _, body, err = get("/metrics"); err == nil && strings.Contains(body, "\nplumbago_points_received_total 1\n") {
			break
		}
	}
	if code, body, err = get("/render?noCache=1&format=json&target=tls.a&from=" + itoa(ts-10) + "&until=" + itoa(ts)); err != nil || code != 200 ||
		body != `[{"target": "tls.a", "tags": {"name": "tls.a"}, "datapoints": [[7.0, `+itoa(ts)+`]]}]` {
		t.Fatalf("https render: %d %q %v", code, body, err)
	}
	if r, err := http.Get("http://" + p.http + "/healthz"); err == nil {
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode == 200 {
			t.Fatalf("plain HTTP answered 200 %q on the TLS port", b)
		}
	}

	second := writeCert(t, certFile, keyFile, 2002)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var serial int64
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if serial, err = servedSerial(p.http, second); err == nil && serial == 2002 {
			break
		}
	}
	if serial != 2002 {
		t.Fatalf("after SIGHUP the server presents serial %d (%v); want 2002\n%s", serial, err, p.log)
	}
	// A broken pair on the next reload keeps the certificate in force.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(20 * time.Second); !strings.Contains(p.log.String(), "keeping the old certificate") && time.Now().Before(end); {
		time.Sleep(20 * time.Millisecond)
	}
	if serial, err = servedSerial(p.http, second); err != nil || serial != 2002 {
		t.Fatalf("after a failed reload: serial %d, %v; want 2002", serial, err)
	}
	p.stop(t)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
