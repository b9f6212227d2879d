package auth

import (
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func basic(user, pass string) []byte {
	return []byte("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
}

func TestCheck(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	u, err := Parse(strings.NewReader("# users\n\ngrafana:" + string(h) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := func(header []byte, want bool) {
		t.Helper()
		for i := 0; i < 2; i++ { // second time through the cache
			if got := u.Check(header); got != want {
				t.Fatalf("Check(%q) = %v; want %v", header, got, want)
			}
		}
	}
	f(basic("grafana", "s3cret"), true)
	f(basic("grafana", "wrong"), false)
	f(basic("nobody", "s3cret"), false)
	f([]byte("Bearer x"), false)
	f([]byte("Basic !!!"), false)
	f([]byte("Basic "+base64.StdEncoding.EncodeToString([]byte("nocolon"))), false)
	f(nil, false)
}

func TestParseErrors(t *testing.T) {
	f := func(in, wantErr string) {
		t.Helper()
		_, err := Parse(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("Parse(%q) error = %v; want it to mention %q", in, err, wantErr)
		}
	}
	f("", "no users")
	f("user\n", "line 1: want user:hash")
	f("a:$apr1$xyz$abc\n", "only bcrypt")
	f("a:{SHA}abc=\n", "only bcrypt")
	f("a:$2y$99$abc\n", "line 1")
}

// TestApacheHtpasswd checks files written by Apache's htpasswd -B (Debian
// package apache2-utils) when it is installed.
func TestApacheHtpasswd(t *testing.T) {
	bin, err := exec.LookPath("htpasswd")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("htpasswd (apache2-utils) not installed")
		}
		t.Skip("htpasswd (apache2-utils) not installed")
	}
	path := filepath.Join(t.TempDir(), "htpasswd")
	if out, err := exec.Command(bin, "-cbB", path, "ops", "pa:ss word").CombinedOutput(); err != nil {
		t.Fatalf("htpasswd: %v %s", err, out)
	}
	u, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !u.Check(basic("ops", "pa:ss word")) || u.Check(basic("ops", "pa")) {
		t.Fatal("credentials from htpasswd -B not checked right")
	}
}

func FuzzParse(f *testing.F) {
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	f.Add("u:" + string(h) + "\n")
	f.Add("# c\nu:$2y$04$abc\n")
	f.Add("::::\n")
	f.Fuzz(func(t *testing.T, in string) {
		u, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		if u.Len() == 0 {
			t.Fatal("parsed a file with no users")
		}
		_ = u.Check(basic("u", "x"))
	})
}
