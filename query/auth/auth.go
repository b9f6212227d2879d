package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// maxFile bounds an htpasswd file.
const maxFile = 4 << 20

// Users is a parsed htpasswd file.
type Users struct {
	hashes map[string][]byte
	// ok caches successful checks: bcrypt costs tens of milliseconds by
	// design, and Grafana sends the same credentials with every request.
	mu sync.Mutex
	ok map[[32]byte]bool
}

// Parse reads htpasswd lines "user:hash"; blank lines and lines starting
// with # are skipped.
func Parse(r io.Reader) (*Users, error) {
	u := &Users{hashes: map[string][]byte{}, ok: map[[32]byte]bool{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxFile))
	sc.Buffer(make([]byte, 4096), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok || user == "" || hash == "" {
			return nil, fmt.Errorf("htpasswd line %d: want user:hash", n)
		}
		if !strings.HasPrefix(hash, "$2y$") && !strings.HasPrefix(hash, "$2a$") && !strings.HasPrefix(hash, "$2b$") {
			return nil, fmt.Errorf("htpasswd line %d: user %q: only bcrypt hashes are supported (htpasswd -B)", n, user)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("htpasswd line %d: user %q: %w", n, user, err)
		}
		u.hashes[user] = []byte(hash)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading htpasswd: %w", err)
	}
	if len(u.hashes) == 0 {
		return nil, errors.New("htpasswd file has no users")
	}
	return u, nil
}

// Load parses the htpasswd file at path.
func Load(path string) (*Users, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening htpasswd file: %w", err)
	}
	defer f.Close()
	u, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return u, nil
}

// Len returns the number of users.
func (u *Users) Len() int { return len(u.hashes) }

// Check verifies an Authorization header value ("Basic base64(user:pass)").
func (u *Users) Check(header []byte) bool {
	rest, ok := bytes.CutPrefix(header, []byte("Basic "))
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(rest)))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return false
	}
	hash, known := u.hashes[user]
	if !known {
		// Same work as a wrong password, so user names cannot be probed by timing.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
		return false
	}
	key := sha256.Sum256(append(append([]byte(user), 0), pass...))
	u.mu.Lock()
	cached := u.ok[key]
	u.mu.Unlock()
	if cached {
		return true
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil {
		return false
	}
	u.mu.Lock()
	if len(u.ok) > 10000 {
		clear(u.ok)
	}
	u.ok[key] = true
	u.mu.Unlock()
	return true
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("plumbago"), bcrypt.MinCost)
