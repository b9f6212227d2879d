package carbonconf

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

// debianCarbonConf is the stock file of Debian's graphite-carbon package.
const debianCarbonConf = "/etc/carbon/carbon.conf"

func needDebianCarbonConf(t *testing.T) {
	t.Helper()
	testenv.Files(t, "apt graphite-carbon", debianCarbonConf)
}

func TestDebianCarbonConf(t *testing.T) {
	needDebianCarbonConf(t)
	f, err := Load(debianCarbonConf)
	if err != nil {
		t.Fatal(err)
	}
	get := func(program, key string) Setting {
		t.Helper()
		for _, s := range f.Program(program, "") {
			if s.Key == key {
				return s
			}
		}
		t.Fatalf("[%s] %s not found", program, key)
		return Setting{}
	}
	if v := get("cache", "MAX_UPDATES_PER_SECOND"); v.Value != "500" || v.Section != "cache" {
		t.Errorf("MAX_UPDATES_PER_SECOND = %+v", v)
	}
	if b, err := Bool(get("cache", "ENABLE_UDP_LISTENER")); err != nil || b {
		t.Errorf("ENABLE_UDP_LISTENER = %v, %v; want false", b, err)
	}
	if b, err := Bool(get("aggregator", "FORWARD_ALL")); err != nil || !b {
		t.Errorf("FORWARD_ALL = %v, %v; want true", b, err)
	}
	if n, err := Number(get("cache", "MAX_CACHE_SIZE")); err != nil || n < 1e308 {
		t.Errorf("MAX_CACHE_SIZE = %v, %v; want inf", n, err)
	}
	if l := List(get("relay", "DESTINATIONS")); len(l) != 1 || l[0] != "127.0.0.1:2004" {
		t.Errorf("DESTINATIONS = %q", l)
	}
}

// pyResult is what Python's configparser made of one file: {section:
// {KEY: value}} for every section (defaults merged), or the name of the
// exception it raised.
type pyResult struct {
	Items map[string]map[string]string `json:"items"`
	Error string                       `json:"error"`
}

// pythonItems reads each file with Python's configparser, as carbon does,
// in one Python process (starting one costs seconds on a loaded machine).
func pythonItems(t *testing.T, paths []string) map[string]pyResult {
	t.Helper()
	py := testenv.Command(t, "python3", "apt python3")
	script := `import configparser, json, sys
out = {}
for path in sys.argv[1:]:
    p = configparser.ConfigParser()
    try:
        p.read(path)
        out[path] = {"items": {s: {k.upper(): v for k, v in p.items(s)} for s in p.sections()}}
    except Exception as e:
        out[path] = {"error": str(type(e).__name__)}
print(json.dumps(out))`
	out, err := exec.Command(py, append([]string{"-c", script}, paths...)...).Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	var m map[string]pyResult
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("python output %s: %v", out, err)
	}
	if len(m) != len(paths) {
		t.Fatalf("python answered for %d files of %d", len(m), len(paths))
	}
	return m
}

func ours(f *File) map[string]map[string]string {
	m := map[string]map[string]string{}
	for _, s := range f.Sections {
		kv := map[string]string{}
		for _, st := range f.Program(s.Name, "") {
			kv[st.Key] = st.Value
		}
		m[s.Name] = kv
	}
	return m
}

// TestAgainstPython parses Debian's carbon.conf and tricky files with both
// this package and Python's configparser: the same sections, keys and values,
// and the same files refused.
func TestAgainstPython(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"continuation": "[cache]\nA = one\n  two\n\n    three\n\n# c\nB: x = y\n",
		"defaults":     "[DEFAULT]\nroot = /srv\n[cache]\nDIR = %(root)s/whisper\npct = 100%%\n[relay]\nx = %(ROOT)s\n",
		"comments":     "; top\n[cache]\n  # indented comment\nA = 1 # not a comment\n[cache:b]\nA = 2\n",
		"header-trail": "[cache] junk\nA=1\n",
		"dup-section":  "[cache]\n[cache]\n",
		"dup-key":      "[cache]\nA=1\na=2\n",
		"no-section":   "A=1\n",
		"bad-interp":   "[cache]\nA = 50%\n",
		"missing-ref":  "[cache]\nA = %(nope)s\n",
		"no-delim":     "[cache]\njust words\n",
		"crlf":         "[cache]\r\nA = 1\r\n B\r\n",
		// [DEFAULT] values are interpolated in each section's context.
		"default-ctx":  "[DEFAULT]\nroot = /a\ndir = %(root)s/x\nboth = %(dir)s:%(port)s\n[cache]\nroot = /b\nport = 1\n[relay]\nport = 2\nROOT = /c/%(port)s\n",
		"default-miss": "[DEFAULT]\nx = %(only_in_cache)s\n[cache]\nonly_in_cache = 1\n[relay]\n",
		"default-pct":  "[DEFAULT]\nfmt = 100%%\n[cache]\nfmt = %(fmt)s\n",
	}
	cases["debian"] = ""
	paths := map[string]string{}
	var all []string
	for name, body := range cases {
		path := filepath.Join(dir, name+".conf")
		if name == "debian" {
			needDebianCarbonConf(t)
			path = debianCarbonConf
		} else if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		paths[name] = path
		all = append(all, path)
	}
	py := pythonItems(t, all)
	for name, path := range paths {
		want, pyErr := py[path].Items, py[path].Error
		f, err := Load(path)
		if pyErr != "" {
			if err == nil {
				t.Errorf("%s: python refuses (%s), we accept", name, pyErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: python accepts, we refuse: %v", name, err)
			continue
		}
		got := ours(f)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%s:\n got  %s\n want %s", name, gj, wj)
		}
	}
}

func TestInstanceOverlay(t *testing.T) {
	f, err := Parse("c.conf", strings.NewReader("[DEFAULT]\nX = d\n[cache]\nA = 1\nB = 2\n[cache:b]\nB = 3\nC = 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range f.Program("cache", "b") {
		got = append(got, s.Key+"="+s.Value+"@"+s.Where())
	}
	want := "X=d@c.conf:2 A=1@c.conf:4 B=3@c.conf:7 C=4@c.conf:8"
	if strings.Join(got, " ") != want {
		t.Fatalf("Program(cache, b) = %s; want %s", strings.Join(got, " "), want)
	}
	// carbon reads [cache] then [cache:b], each with [DEFAULT]'s keys: a
	// default replaces [cache]'s value unless [cache:b] sets the key.
	f, err = Parse("d.conf", strings.NewReader("[DEFAULT]\nX = d\nY = %(Z)s-y\n[cache]\nX = 1\nZ = c\n[cache:b]\nZ = b\n"))
	if err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, s := range f.Program("cache", "b") {
		got = append(got, s.Key+"="+s.Value+"@"+s.Where())
	}
	if want := "Y=b-y@d.conf:3 X=d@d.conf:2 Z=b@d.conf:8"; strings.Join(got, " ") != want {
		t.Fatalf("Program(cache, b) with defaults = %s; want %s", strings.Join(got, " "), want)
	}
	if len(f.Program("relay", "")) != 0 {
		t.Fatal("a program without a section has settings")
	}
}

func TestErrorsCarryPosition(t *testing.T) {
	_, err := Parse("c.conf", strings.NewReader("[cache]\nA = 1\nA = 2\n"))
	if err == nil || err.Error() != "c.conf:3: A set twice in [cache] (carbon refuses the file)" {
		t.Fatalf("err = %v", err)
	}
	_, err = Bool(Setting{Key: "K", Value: "maybe", File: "c.conf", Line: 9})
	if err == nil || !strings.HasPrefix(err.Error(), "c.conf:9: K = \"maybe\"") {
		t.Fatalf("Bool err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("[cache]\nA = one\n  two\n\n    three\n# c\nB: x\n")
	f.Add("[DEFAULT]\nr = %(r)s\n[cache]\nA=%(r)s\n")
	f.Add("[DEFAULT]\na = %(b)s%(b)s%(b)s%(b)s\nb = %(c)s%(c)s%(c)s%(c)s\nc=%(d)s%(d)s%(d)s\nd=xxxxxxxxxxxxxxxxxxxxxxxx\n[x]\n")
	f.Add("[cache:a]\nA=1\n[]\n")
	f.Add("[DEFAULT]\nroot = /a\ndir = %(root)s/x\n[cache]\nroot = /b\n[cache:x]\nY = %(dir)s\n")
	f.Add("[DEFAULT]\nx = %(only_in_cache)s\n[cache]\nonly_in_cache = 1\n[relay]\n")
	if b, err := os.ReadFile(debianCarbonConf); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		cf, err := Parse("fuzz.conf", strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range cf.Sections {
			for _, st := range cf.Program(s.Name, "") {
				if len(st.Value) > maxValueBytes || st.Line < 1 || st.Key != strings.ToUpper(st.Key) {
					t.Fatalf("bad setting %+v", st)
				}
				_, _ = Bool(st)
				_, _ = Number(st)
				_ = List(st)
			}
		}
	})
}
