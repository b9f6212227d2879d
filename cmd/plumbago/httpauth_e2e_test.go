package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

// needTool returns the path of an external tool; under CI=true a missing
// tool fails the test (scripts/test-deps.sh installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	return testenv.Command(t, name, "apt: scripts/test-deps.sh installs it")
}

// writeToolHtpasswd writes an htpasswd file with an entry of every format
// Debian's htpasswd (-m, -s, -B, -d, -2, -5) and openssl passwd (-1, -5,
// -6) make, and returns it with each user's password.
func writeToolHtpasswd(t *testing.T, path string) map[string]string {
	t.Helper()
	htpasswd, openssl := needTool(t, "htpasswd"), needTool(t, "openssl")
	users := map[string]string{}
	for i, flag := range []string{"-m", "-s", "-B", "-d", "-2", "-5"} {
		user, pass := "ht"+flag[1:], "s3cret"+flag
		args := []string{"-b", flag, path, user, pass}
		if i == 0 {
			args[0] = "-cb"
		}
		if flag == "-B" {
			args = append(args[:2], append([]string{"-C", "5"}, args[2:]...)...)
		}
		if out, err := exec.Command(htpasswd, args...).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd %v: %v %s", args, err, out)
		}
		users[user] = pass
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, alg := range []string{"-1", "-5", "-6"} {
		user, pass := "ossl"+alg[1:], "pw"+alg
		out, err := exec.Command(openssl, "passwd", alg, pass).Output()
		if err != nil {
			t.Fatalf("openssl passwd %s: %v", alg, err)
		}
		if _, err := f.WriteString(user + ":" + string(out)); err != nil {
			t.Fatal(err)
		}
		users[user] = pass
	}
	return users
}

// TestBasicAuthNginxFormats serves with an htpasswd file made by the real
// tools and checks the same users get in and out as nginx lets, that a 401
// carries the challenge (Python's urllib logs in with it), that the scheme
// is matched case-insensitively, and the per-client failure limit.
func TestBasicAuthNginxFormats(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "htpasswd")
	users := writeToolHtpasswd(t, pw)
	p := startPlumbago(t, bin, "--data-dir", dir, "--http-auth-file", pw, "--http-auth-failures-per-minute", "1000")
	defer p.stop(t)
	get := func(user, pass, header string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.http+"/metrics/find?query=*", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r
	}
	for user, pass := range users {
		if c := get(user, pass, "").StatusCode; c != 200 {
			t.Errorf("%s with its password: %d; want 200", user, c)
		}
		if c := get(user, "X"+pass, "").StatusCode; c != 401 {
			t.Errorf("%s with a wrong password: %d; want 401", user, c)
		}
		if c := get(user+"2", pass, "").StatusCode; c != 401 {
			t.Errorf("unknown %s2: %d; want 401", user, c)
		}
	}
	r := get("", "", "")
	if c, h := r.StatusCode, r.Header.Get("WWW-Authenticate"); c != 401 || !strings.HasPrefix(h, `Basic realm="plumbago"`) {
		t.Errorf("no credentials: %d, WWW-Authenticate %q; want 401 and a Basic challenge", c, h)
	}
	if c := get("", "", "bAsIc aHRtOnMzY3JldC1t").StatusCode; c != 200 { // htm:s3cret-m
		t.Errorf("lower-case scheme: %d; want 200", c)
	}
	// Python's urllib only sends credentials after a challenge.
	script := `import sys, urllib.request
mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
mgr.add_password(None, sys.argv[1], "ht5", "s3cret-5")
op = urllib.request.build_opener(urllib.request.HTTPBasicAuthHandler(mgr))
print(op.open(sys.argv[1]).status)`
	out, err := exec.Command(needTool(t, "python3"), "-c", script, "http://"+p.http+"/metrics/find?query=*").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "200" {
		t.Errorf("python urllib: %v %s", err, out)
	}
	// Failures were counted: one wrong password and one unknown user each.
	req, _ := http.NewRequest("GET", "http://"+p.http+"/metrics", nil)
	req.SetBasicAuth("ht5", "s3cret-5")
	mr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(mr.Body)
	mr.Body.Close()
	if want := "plumbago_http_auth_failures_total 18\n"; !strings.Contains(string(body), want) {
		t.Errorf("/metrics lacks %q", want)
	}
}

// TestBasicAuthFailureLimit checks a client that fails too often is
// answered 429, even with the right password, and that it is counted.
func TestBasicAuthFailureLimit(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	pw := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(pw, []byte("ops:{SHA}wLRj6V1KMJOvfvMeovciA0CKWSg=\n"), 0o600); err != nil { // "pa:ss word"
		t.Fatal(err)
	}
	p := startPlumbago(t, bin, "--data-dir", dir, "--http-auth-file", pw, "--http-auth-failures-per-minute", "3")
	defer p.stop(t)
	get := func(pass string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.http+"/metrics", nil)
		req.SetBasicAuth("ops", pass)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if c := get("pa:ss word"); c != 200 {
		t.Fatalf("right password: %d", c)
	}
	for i, want := range []int{401, 401, 401, 429, 429} {
		if c := get("wrong"); c != want {
			t.Fatalf("failed attempt %d: %d; want %d", i+1, c, want)
		}
	}
	if c := get("pa:ss word"); c != 429 {
		t.Fatalf("right password while limited: %d; want 429", c)
	}
	if c := readAll(t, "http://"+p.http+"/healthz"); c != "ok\n" {
		t.Fatalf("/healthz while limited: %q", c)
	}
	if !p.waitLog("basic auth on the HTTP API") {
		t.Fatalf("no start-up line:\n%s", p.log)
	}
}
