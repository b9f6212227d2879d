package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

// TestCORS runs the server with --http-allowed-origins and basic auth and
// checks graphite-api's CORS behaviour: preflight answered 204 without
// credentials, allowed origins echoed with credentials allowed, others not.
func TestCORS(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pw, []byte("ops:{SHA}wLRj6V1KMJOvfvMeovciA0CKWSg=\n"), 0o600); err != nil { // "pa:ss word"
		t.Fatal(err)
	}
	p := startPlumbago(t, bin, "--data-dir", dir, "--http-auth-file", pw,
		"--http-allowed-origins", "dashboard.example.com, grafana.example.com:3000")
	defer p.stop(t)
	do := func(method, origin string, creds bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, "http://"+p.http+"/render?target=x&format=json", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "GET")
			req.Header.Set("Access-Control-Request-Headers", "authorization")
		}
		if creds {
			req.SetBasicAuth("ops", "pa:ss word")
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	check := func(name string, r *http.Response, code int, allow string) {
		t.Helper()
		if r.StatusCode != code || r.Header.Get("Access-Control-Allow-Origin") != allow {
			t.Errorf("%s: %d, Allow-Origin %q; want %d, %q", name, r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"), code, allow)
		}
		if allow != "" && (r.Header.Get("Access-Control-Allow-Credentials") != "true" ||
			r.Header.Get("Access-Control-Allow-Headers") != "origin,authorization, accept") {
			t.Errorf("%s: headers %v", name, r.Header)
		}
	}
	check("preflight", do("OPTIONS", "https://dashboard.example.com", false), 204, "https://dashboard.example.com")
	check("preflight with port", do("OPTIONS", "http://grafana.example.com:3000", false), 204, "http://grafana.example.com:3000")
	check("GET", do("GET", "https://dashboard.example.com", true), 200, "https://dashboard.example.com")
	check("GET without credentials", do("GET", "https://dashboard.example.com", false), 401, "https://dashboard.example.com")
	check("other origin", do("GET", "https://evil.example.com", true), 200, "")
	check("other origin preflight", do("OPTIONS", "https://evil.example.com", false), 401, "")
	check("no origin", do("GET", "", true), 200, "")
}
