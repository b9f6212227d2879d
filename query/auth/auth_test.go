package auth

import (
	"crypto/des"
	"encoding/base64"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plumbago/plumbago/internal/testenv"
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
	f([]byte("basic "+base64.StdEncoding.EncodeToString([]byte("grafana:s3cret"))), true)
	f([]byte("BASIC  "+base64.StdEncoding.EncodeToString([]byte("grafana:s3cret"))), true)
	f(basic("grafana", "wrong"), false)
	f(basic("nobody", "s3cret"), false)
	f([]byte("Bearer x"), false)
	f([]byte("Basicx"+base64.StdEncoding.EncodeToString([]byte("grafana:s3cret"))), false)
	f([]byte("Basic !!!"), false)
	f([]byte("Basic "+base64.StdEncoding.EncodeToString([]byte("nocolon"))), false)
	f(nil, false)
}

// Published and tool-made vectors for every scheme, each with its password.
var vectors = []struct{ hash, pass string }{
	// Drepper's specification, test vectors 1 and 2 of each.
	{"$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "Hello world!"},
	{"$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "Hello world!"},
	{"$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "Hello world!"},
	{"$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.", "Hello world!"},
	// Made here by htpasswd (-m, -s, -d, -2, -5 -r) and openssl passwd (-1, -5, -6, -apr1).
	{"$apr1$tbiFxkQ2$7IGKIML/Lmk3viiiR49zS/", "pa:ss word"},
	{"{SHA}wLRj6V1KMJOvfvMeovciA0CKWSg=", "pa:ss word"},
	{"ldSthgX/9tl2M", "pa:ss word"},
	{"$5$0TLSojtCbWAU84KE$2yKJ0Xd.HpKDUcibC2/YxdiNHzP3ZPL4zBOOLsyn3Q3", "pa:ss word"},
	{"$5$rounds=1234$583K.mUZmtWmRr6x$l9iJFGxQItAOXRybwjkTXr7bjEdAYOYPp/1KivcQ1zC", "pa:ss word"},
	{"$6$cca5d9EdvKoJznyZ$hGjzbMDYBVFbX.EhHdTbiOnUa2sNhO0r5vMw4poURanOqkw4y5jl.YO/27b/KTBPiQeWTeA8AleVTSsYVY9AS/", "pa:ss word"},
	{"$1$abc$h8t9thHy3Yjq64RHLjIcJ.", "pa:ss"},
	{"$5$jPxFap1wcsFzkpku$CuazMaZyAkNgQIs01U8BGbkmFEAKRZSQNEpvJN3RkwD", "x"},
	{"$6$uSIZX.fOEKfvxUlj$RyvjoXDarzzZqFfBF5/8CrCHVPrKbYT6GFOAz4YDsFRDZnSGGGJDCxLdmKMj5VjK85VEEk3ZkIMM62hiKeKd1.", "x"},
	{"$apr1$322pI5hM$iarj7PWt1I3mV5P8R/O3G1", "x"},
	{"{PLAIN}open sesame", "open sesame"},
}

func TestVectors(t *testing.T) {
	for _, v := range vectors {
		e, err := parseEntry(v.hash)
		if err != nil {
			t.Fatalf("parseEntry(%q): %v", v.hash, err)
		}
		if !e.verify([]byte(v.pass)) {
			t.Errorf("%s: %q not accepted", v.hash, v.pass)
		}
		if e.verify([]byte("x" + v.pass)) {
			t.Errorf("%s: a wrong password accepted", v.hash)
		}
		if e.dummy().verify([]byte(v.pass)) {
			t.Errorf("%s: the dummy matches the password", v.hash)
		}
	}
}

// TestDESCore checks the DES rounds against crypto/des with a zero salt,
// where traditional crypt is 25 plain DES encryptions of a zero block.
func TestDESCore(t *testing.T) {
	key := uint64(0x133457799bbcdff1)
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], key)
	c, _ := des.NewCipher(k[:])
	ks := desSubkeys(key)
	var block uint64
	buf := make([]byte, 8)
	for i := 0; i < 25; i++ {
		c.Encrypt(buf, buf)
		block = desEncrypt(block, &ks, 0)
		if got := binary.BigEndian.Uint64(buf); got != block {
			t.Fatalf("round %d: %016x; crypto/des gives %016x", i, block, got)
		}
	}
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
	f("# only a comment\n", "no users")
	f("user\n", "line 1: want user:hash")
	f("a:$apr1$xyz$abc\n", `line 1: user "a": malformed apr1 hash`)
	f("a:{SHA}abc=\n", "malformed {SHA}")
	f("a:$2y$99$abc\n", "line 1: user \"a\": malformed bcrypt")
	f("\nb:$5$rounds=10$salt$2yKJ0Xd.HpKDUcibC2/YxdiNHzP3ZPL4zBOOLsyn3Q3\n", `line 2: user "b": malformed sha256-crypt hash: rounds="10"`)
	f("a:$y$j9T$salt$hash\n", "yescrypt")
	f("a:plaintext\n", "unrecognised hash")
	f("a:{SHA}wLRj6V1KMJOvfvMeovciA0CKWSg= \n", "blanks")
}

func TestWarningsAndComments(t *testing.T) {
	u, err := Parse(strings.NewReader("a:{PLAIN}x:the comment field\r\na:{PLAIN}y\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`line 1: user "a" has a {PLAIN} password stored in clear`, `line 2: user "a" appears again; the first line wins, as in nginx`}
	if got := u.Warnings(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("warnings %q; want %q", got, want)
	}
	if !u.Check(basic("a", "x")) || u.Check(basic("a", "y")) {
		t.Fatal("the first line of a user must win, without its comment field")
	}
}

// TestToolMadeFiles writes one file with every format Debian's htpasswd
// (apache2-utils) and openssl passwd make, and checks the same users get in
// and out as nginx would let.
func TestToolMadeFiles(t *testing.T) {
	need := func(name string) string {
		return testenv.Command(t, name, "apt apache2-utils, openssl")
	}
	htpasswd, openssl := need("htpasswd"), need("openssl")
	path := filepath.Join(t.TempDir(), "htpasswd")
	users := map[string]string{}
	for i, flags := range [][]string{{"-m"}, {"-s"}, {"-B", "-C", "4"}, {"-d"}, {"-2"}, {"-5", "-r", "2000"}} {
		user, pass := "h"+strings.TrimPrefix(flags[0], "-"), "pw:"+strings.Repeat("z", i)+" é"
		if flags[0] == "-d" {
			pass = "pw8char!" // crypt uses 8 bytes
		}
		args := append([]string{"-b"}, flags...)
		if i == 0 {
			args[0] = "-cb"
		}
		if out, err := exec.Command(htpasswd, append(args, path, user, pass)...).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd %v: %v %s", flags, err, out)
		}
		users[user] = pass
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"-1", "-5", "-6", "-apr1"} {
		user, pass := "o"+alg[1:], "open "+alg
		out, err := exec.Command(openssl, "passwd", alg, pass).Output()
		if err != nil {
			t.Fatalf("openssl passwd %s: %v", alg, err)
		}
		f.WriteString(user + ":" + string(out))
		users[user] = pass
	}
	f.Close()
	u, err := Load(path)
	if err != nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("%v\n%s", err, b)
	}
	if got, want := u.Len(), 10; got != want {
		t.Fatalf("%d users; want %d", got, want)
	}
	wantSchemes := map[string]int{"apr1": 2, "{SHA}": 1, "bcrypt": 1, "des-crypt": 1, "sha256-crypt": 2, "sha512-crypt": 2, "md5-crypt": 1}
	for k, v := range wantSchemes {
		if u.Schemes()[k] != v {
			t.Errorf("schemes %v; want %v", u.Schemes(), wantSchemes)
			break
		}
	}
	for user, pass := range users {
		if !u.Check(basic(user, pass)) {
			t.Errorf("%s: right password refused", user)
		}
		if u.Check(basic(user, "X"+pass[1:])) || u.Check(basic(user, "")) {
			t.Errorf("%s: wrong password let in", user)
		}
		if u.Check(basic(user+"x", pass)) {
			t.Errorf("%sx: unknown user let in", user)
		}
	}
	// Apache's own verification agrees with ours on its file.
	for user, pass := range users {
		if err := exec.Command(htpasswd, "-vb", path, user, pass).Run(); err != nil && !strings.HasPrefix(user, "o") {
			t.Errorf("htpasswd -v %s refuses the password we accept: %v", user, err)
		}
	}
}

// TestUnknownUserCostsTheSame compares the median time of failed checks of
// a known user and an unknown one at bcrypt cost 8 (about 15 ms): an
// unknown user must not answer early. The bound is loose (3x) so a loaded
// machine cannot fail it; the difference it guards against is 60x.
func TestUnknownUserCostsTheSame(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), 8)
	u, err := Parse(strings.NewReader("cheap:{SHA}wLRj6V1KMJOvfvMeovciA0CKWSg=\ngrafana:" + string(h) + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The three users are timed in turn within each round, so a burst of
	// load on a shared machine slows all three alike; medians of 9 rounds.
	users := []string{"grafana", "nobody", "cheap"}
	times := make([][]time.Duration, len(users))
	for range 9 {
		for i, user := range users {
			t0 := time.Now()
			if u.Check(basic(user, "wrong")) {
				t.Fatal("wrong password let in")
			}
			times[i] = append(times[i], time.Since(t0))
		}
	}
	median := func(d []time.Duration) time.Duration {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2]
	}
	known, unknown, cheap := median(times[0]), median(times[1]), median(times[2])
	for name, d := range map[string]time.Duration{"unknown": unknown, "{SHA} user": cheap} {
		if d*3 < known || d > known*3 {
			t.Errorf("%s user: %v a check; known bcrypt user: %v", name, d, known)
		}
	}
}

func TestFailureLimiter(t *testing.T) {
	l := NewFailureLimiter(3)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		l.Fail("a", now)
	}
	ok, wait := l.Allow("a", now)
	if ok || wait != 20*time.Second {
		t.Fatalf("after 3 failures: allowed=%v wait=%v; want refused for 20s", ok, wait)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Fatal("another client refused")
	}
	if ok, _ := l.Allow("a", now.Add(20*time.Second)); !ok {
		t.Fatal("not allowed again after 20s")
	}
	if NewFailureLimiter(0) != nil {
		t.Fatal("a zero limit must mean none")
	}
	var none *FailureLimiter
	if ok, _ := none.Allow("a", now); !ok {
		t.Fatal("nil limiter refused")
	}
}

func FuzzParse(f *testing.F) {
	h, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	f.Add("u:" + string(h) + "\n")
	f.Add("# c\nu:$2y$04$abc\n")
	f.Add("::::\n")
	for _, v := range vectors {
		f.Add("u:" + v.hash + ":comment\r\n#x\n\nv:{PLAIN}x\n")
	}
	f.Fuzz(func(t *testing.T, in string) {
		u, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		if u.Len() == 0 {
			t.Fatal("parsed a file with no users")
		}
		if u.pad.work() > 1e8 {
			return // a check would take seconds; the parse was the point
		}
		_ = u.Check(basic("u", "x"))
		_ = u.Check(basic("nobody", "x"))
	})
}

func TestAuthenticateNamesTheUser(t *testing.T) {
	h, _ := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	u, err := Parse(strings.NewReader("alice:" + string(h) + "\nbob:{PLAIN}pw\n"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // second time through the cache
		if user, ok := u.Authenticate(basic("alice", "s3cret")); !ok || user != "alice" {
			t.Fatalf("Authenticate(alice) = %q, %v; want alice, true", user, ok)
		}
		if user, ok := u.Authenticate(basic("bob", "pw")); !ok || user != "bob" {
			t.Fatalf("Authenticate(bob) = %q, %v; want bob, true", user, ok)
		}
		if user, ok := u.Authenticate(basic("bob", "s3cret")); ok || user != "" {
			t.Fatalf("Authenticate(bob, wrong) = %q, %v; want \"\", false", user, ok)
		}
	}
	if !u.Has("alice") || u.Has("carol") {
		t.Fatalf("Has(alice), Has(carol) = %v, %v; want true, false", u.Has("alice"), u.Has("carol"))
	}
}
