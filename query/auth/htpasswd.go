package auth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Bounds on what a file may ask for.
const (
	maxFile       = 4 << 20 // bytes in an htpasswd file
	maxLine       = 64 << 10
	maxBcryptCost = 17       // htpasswd -C's maximum; 18 takes seconds a login
	maxShaRounds  = 10000000 // about 3 s a login on this class of machine
)

// scheme is the kind of an htpasswd entry.
type scheme uint8

const (
	schemeBcrypt scheme = iota
	schemeAPR1
	schemeMD5
	schemeSHA256
	schemeSHA512
	schemeDES
	schemeSHA
	schemeSSHA
	schemePlain
)

var schemeNames = [...]string{"bcrypt", "apr1", "md5-crypt", "sha256-crypt", "sha512-crypt", "des-crypt", "{SHA}", "{SSHA}", "{PLAIN}"}

func (s scheme) String() string { return schemeNames[s] }

// entry is one user's stored password.
type entry struct {
	scheme scheme
	stored []byte // the whole hash as written, or the decoded digest for {SHA}/{SSHA}/{PLAIN}
	magic  string // "$1$", "$apr1$", "$5$", "$6$"
	salt   []byte
	rounds int  // SHA-crypt
	explic bool // SHA-crypt "rounds=" given
	cost   int  // bcrypt cost
}

// work estimates one verification's cost in nanoseconds, to find the
// file's costliest entry.
func (e *entry) work() int64 {
	switch e.scheme {
	case schemeBcrypt:
		return int64(1) << e.cost * 60000
	case schemeSHA256:
		return int64(e.rounds) * 250
	case schemeSHA512:
		return int64(e.rounds) * 350
	case schemeAPR1, schemeMD5:
		return 200000
	case schemeDES:
		return 100000
	}
	return 1000
}

// verify reports whether pw matches, comparing in constant time.
func (e *entry) verify(pw []byte) bool {
	var got []byte
	switch e.scheme {
	case schemeBcrypt:
		return bcrypt.CompareHashAndPassword(e.stored, pw) == nil
	case schemeAPR1, schemeMD5:
		got = md5Crypt(e.magic, pw, e.salt)
	case schemeSHA256, schemeSHA512:
		got = shaCrypt(e.magic, pw, e.salt, e.rounds, e.explic)
	case schemeDES:
		got = desCrypt(pw, [2]byte{e.stored[0], e.stored[1]})
	case schemeSHA:
		s := sha1.Sum(pw)
		got = s[:]
	case schemeSSHA:
		h := sha1.New()
		h.Write(pw)
		h.Write(e.salt)
		got = append(h.Sum(nil), e.salt...)
	case schemePlain:
		got = pw
	}
	return subtle.ConstantTimeCompare(got, e.stored) == 1
}

// dummy returns an entry of the same scheme and cost that no password is
// known to match: checking an unknown user against it costs what checking
// a known one does.
func (e *entry) dummy() *entry {
	d := *e
	d.salt = randomCrypt(len(e.salt))
	switch e.scheme {
	case schemeBcrypt:
		// "$2y$NN$" then 53 characters of salt and hash.
		d.stored = append([]byte(nil), e.stored[:7]...)
		for _, c := range randomCrypt(53) {
			d.stored = append(d.stored, bcryptAlphabet[strings.IndexByte(cryptAlphabet, c)])
		}
	case schemeDES:
		d.stored = randomCrypt(13)
	default:
		d.stored = randomCrypt(len(e.stored))
	}
	return &d
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomCrypt returns n random characters of the crypt(3) alphabet.
func randomCrypt(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = cryptAlphabet[b[i]&0x3f]
	}
	return b
}

// parseEntry reads one stored password in any form nginx accepts.
func parseEntry(h string) (*entry, error) {
	switch {
	case strings.HasPrefix(h, "$2y$") || strings.HasPrefix(h, "$2a$") || strings.HasPrefix(h, "$2b$"):
		cost, err := bcrypt.Cost([]byte(h))
		if err != nil || len(h) != 60 {
			return nil, fmt.Errorf("malformed bcrypt hash")
		}
		if cost > maxBcryptCost {
			return nil, fmt.Errorf("bcrypt cost %d above %d (htpasswd -C's maximum)", cost, maxBcryptCost)
		}
		return &entry{scheme: schemeBcrypt, stored: []byte(h), cost: cost}, nil
	case strings.HasPrefix(h, "$apr1$"):
		return parseMD5(h, "$apr1$", schemeAPR1)
	case strings.HasPrefix(h, "$1$"):
		return parseMD5(h, "$1$", schemeMD5)
	case strings.HasPrefix(h, "$5$"):
		return parseSHA(h, "$5$", schemeSHA256, 43)
	case strings.HasPrefix(h, "$6$"):
		return parseSHA(h, "$6$", schemeSHA512, 86)
	case strings.HasPrefix(h, "{SHA}"):
		d, err := base64.StdEncoding.DecodeString(h[5:])
		if err != nil || len(d) != sha1.Size {
			return nil, errors.New("malformed {SHA} hash: want base64 of a 20-byte SHA-1 digest")
		}
		return &entry{scheme: schemeSHA, stored: d}, nil
	case strings.HasPrefix(h, "{SSHA}"):
		d, err := base64.StdEncoding.DecodeString(h[6:])
		if err != nil || len(d) < sha1.Size {
			return nil, errors.New("malformed {SSHA} hash: want base64 of a SHA-1 digest and salt")
		}
		return &entry{scheme: schemeSSHA, stored: d, salt: d[sha1.Size:]}, nil
	case strings.HasPrefix(h, "{PLAIN}"):
		return &entry{scheme: schemePlain, stored: []byte(h[7:])}, nil
	case len(h) == 13 && allCrypt(h):
		return &entry{scheme: schemeDES, stored: []byte(h)}, nil
	case strings.HasPrefix(h, "$y$") || strings.HasPrefix(h, "$7$") || strings.HasPrefix(h, "$gy$"):
		return nil, errors.New("yescrypt/scrypt hashes are not supported: make the entry with htpasswd -B (bcrypt)")
	}
	return nil, errors.New("unrecognised hash: want bcrypt ($2y$), $apr1$, $1$, $5$, $6$, DES crypt, {SHA}, {SSHA} or {PLAIN}")
}

func allCrypt(s string) bool {
	for i := 0; i < len(s); i++ {
		if cryptIndex(s[i]) < 0 {
			return false
		}
	}
	return true
}

// parseMD5 reads "$1$salt$hash" and "$apr1$salt$hash".
func parseMD5(h, magic string, s scheme) (*entry, error) {
	salt, sum, ok := strings.Cut(h[len(magic):], "$")
	if !ok || len(salt) > 8 || len(sum) != 22 || !allCrypt(sum) {
		return nil, fmt.Errorf("malformed %s hash: want %ssalt$ then 22 characters", s, magic)
	}
	return &entry{scheme: s, stored: []byte(h), magic: magic, salt: []byte(salt)}, nil
}

// parseSHA reads "$5$[rounds=N$]salt$hash" and the same with "$6$".
func parseSHA(h, magic string, s scheme, sumLen int) (*entry, error) {
	e := &entry{scheme: s, stored: []byte(h), magic: magic, rounds: shaRoundsDefault}
	rest := h[len(magic):]
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		n, after, ok := strings.Cut(r, "$")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < shaRoundsMin || v > maxShaRounds {
			return nil, fmt.Errorf("malformed %s hash: rounds=%q (want %d to %d)", s, n, shaRoundsMin, maxShaRounds)
		}
		e.rounds, e.explic, rest = v, true, after
	}
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok || len(salt) > 16 || len(sum) != sumLen || !allCrypt(sum) {
		return nil, fmt.Errorf("malformed %s hash: want %ssalt$ then %d characters", s, magic, sumLen)
	}
	e.salt = []byte(salt)
	return e, nil
}

// Users is a parsed htpasswd file.
type Users struct {
	entries  map[string]*entry
	pad      *entry // dummy at the file's highest cost
	warnings []string
	// ok caches successful checks: bcrypt costs tens of milliseconds by
	// design, and Grafana sends the same credentials with every request.
	mu sync.Mutex
	ok map[[32]byte]bool
}

// Parse reads an htpasswd file as nginx does: "user:hash[:comment]" lines;
// empty lines and lines starting with # are skipped; the first line of a
// user wins.
func Parse(r io.Reader) (*Users, error) {
	u := &Users{entries: map[string]*entry{}, ok: map[[32]byte]bool{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxFile))
	sc.Buffer(make([]byte, 4096), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		user, rest, ok := strings.Cut(line, ":")
		hash, _, _ := strings.Cut(rest, ":")
		if !ok || user == "" || hash == "" {
			return nil, fmt.Errorf("line %d: want user:hash", n)
		}
		if strings.ContainsAny(hash, " \t") {
			return nil, fmt.Errorf("line %d: user %q: the hash has blanks (nginx would never match it)", n, user)
		}
		e, err := parseEntry(hash)
		if err != nil {
			return nil, fmt.Errorf("line %d: user %q: %w", n, user, err)
		}
		if _, dup := u.entries[user]; dup {
			u.warnings = append(u.warnings, fmt.Sprintf("line %d: user %q appears again; the first line wins, as in nginx", n, user))
			continue
		}
		if e.scheme == schemePlain {
			u.warnings = append(u.warnings, fmt.Sprintf("line %d: user %q has a {PLAIN} password stored in clear", n, user))
		}
		u.entries[user] = e
		if u.pad == nil || e.work() > u.pad.work() {
			u.pad = e
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading htpasswd: %w", err)
	}
	if len(u.entries) == 0 {
		return nil, errors.New("htpasswd file has no users")
	}
	u.pad = u.pad.dummy()
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
func (u *Users) Len() int { return len(u.entries) }

// Warnings returns what the file holds that works but should not be there
// ({PLAIN} passwords, repeated users), one line each with its line number.
func (u *Users) Warnings() []string { return u.warnings }

// Schemes counts the users of each hash scheme, for the start-up log.
func (u *Users) Schemes() map[string]int {
	m := map[string]int{}
	for _, e := range u.entries {
		m[e.scheme.String()]++
	}
	return m
}

// basicCredentials decodes an Authorization header of the Basic scheme,
// whose name is matched case-insensitively (RFC 7617).
func basicCredentials(header []byte) (user, pass []byte, ok bool) {
	header = bytes.TrimLeft(header, " \t")
	if len(header) < 6 || !bytes.EqualFold(header[:5], []byte("basic")) || (header[5] != ' ' && header[5] != '\t') {
		return nil, nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(header[6:])))
	if err != nil {
		return nil, nil, false
	}
	return bytes.Cut(raw, []byte(":"))
}

// Check verifies an Authorization header value ("Basic base64(user:pass)").
// An unknown user costs what a known one does at the file's highest cost.
func (u *Users) Check(header []byte) bool {
	_, ok := u.Authenticate(header)
	return ok
}

// Has reports whether the file has an entry for user.
func (u *Users) Has(user string) bool {
	_, ok := u.entries[user]
	return ok
}

// Authenticate verifies an Authorization header value like Check and
// returns the user it names when the password is right.
func (u *Users) Authenticate(header []byte) (string, bool) {
	user, ok := u.verify(header)
	if !ok {
		return "", false
	}
	return string(user), true
}

func (u *Users) verify(header []byte) ([]byte, bool) {
	user, pass, ok := basicCredentials(header)
	if !ok {
		return nil, false
	}
	e, known := u.entries[string(user)]
	if !known {
		u.pad.verify(pass)
		return nil, false
	}
	h := sha256.New()
	h.Write(user)
	h.Write([]byte{0})
	h.Write(pass)
	var key [32]byte
	h.Sum(key[:0])
	u.mu.Lock()
	cached := u.ok[key]
	u.mu.Unlock()
	if cached {
		return user, true
	}
	good := e.verify(pass)
	if e.work() < u.pad.work() {
		// Pad a cheap entry to the file's cost, so an answer's time does
		// not tell which users exist.
		u.pad.verify(pass)
	}
	if !good {
		return nil, false
	}
	u.mu.Lock()
	if len(u.ok) > 10000 {
		clear(u.ok)
	}
	u.ok[key] = true
	u.mu.Unlock()
	return user, true
}
