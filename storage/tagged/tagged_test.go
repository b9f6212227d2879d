package tagged

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

var names = []string{
	"a.b.c",
	"a.b;z=1;a=2",
	"a.b;a=2;z=1",
	"cpu.load;host=web01;dc=eu;env=prod",
	"x;a=1;a=2",
	"x;name=other;b=1",
	"~tilde;a=1",
	"~~only",
	"x;a.b=1;a=2",
	"x;a=2;a.b=1",
	"x;k=v=w",
	"x;k=v~",
	`m{b="x",a="y\"q"}`,
	`m{b="1":,a="2"}`,
	`m{a="1"}`,
	`~m{a="1"}`,
	"x;=1",
	"x;a=",
	"x;a",
	";a=1",
	"x;a!b=1",
	"x;a^b=1",
	"x;a=~v",
	"x;a=1;",
	"~",
	"~;a=1",
	`{a="1"}`,
	`m{a=1}`,
	`m{a="1",}`,
	`m{a="~1"}`,
	`m{{a="1"}`,
	`m{a="1"b="2"}`,
	`m{a="x\y"}`,
	"x;a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9;j=10;k=11;l=12;m=13;n=14;o=15;p=16;q=17;r=18",
	"x;r=18;q=17;p=16;o=15;n=14;m=13;l=12;k=11;j=10;i=9;h=8;g=7;f=6;e=5;d=4;c=3;b=2;a=1",
	"héllo;ü=ö",
}

// TestNormalizeAgainstCarbon compares Normalize with carbon's own
// TaggedSeries.parse(name).path for every case (error or result).
func TestNormalizeAgainstCarbon(t *testing.T) {
	py := "/usr/bin/python3"
	testenv.Files(t, "apt graphite-carbon", "/usr/lib/python3/dist-packages/carbon/util.py")
	in, _ := json.Marshal(names)
	cmd := exec.Command(py, "-c", `
import json, sys
from carbon.util import TaggedSeries
out = []
for n in json.load(sys.stdin):
    try:
        out.append(TaggedSeries.parse(n).path)
    except Exception as e:
        out.append("ERR")
print(json.dumps(out))
`)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		got, err := Normalize(nil, []byte(n))
		g := string(got)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%q: error %v does not wrap ErrInvalid", n, err)
			}
			g = "ERR"
		}
		if g != want[i] {
			t.Errorf("Normalize(%q) = %q (%v), carbon %q", n, g, err, want[i])
		}
	}
}

func TestNormalizeExact(t *testing.T) {
	for in, want := range map[string]string{
		"a.b":                           "a.b",
		"name;b=2;a=1":                  "name;a=1;b=2",
		`disk.used{dev="sda",host="h"}`: "disk.used;dev=sda;host=h",
	} {
		got, err := Normalize(nil, []byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestNormalizeAllocations(t *testing.T) {
	canon := []byte("cpu.load;dc=eu;env=prod;host=web01")
	unsorted := []byte("cpu.load;host=web01;dc=eu;env=prod")
	plain := []byte("servers.web01.cpu.load")
	dst := make([]byte, 0, 128)
	if n := testing.AllocsPerRun(100, func() {
		if out, _ := Normalize(dst, canon); &out[0] != &canon[0] {
			t.Fatal("canonical name copied")
		}
		if out, _ := Normalize(dst, plain); &out[0] != &plain[0] {
			t.Fatal("plain name copied")
		}
		if out, _ := Normalize(dst, unsorted); string(out) != string(canon) {
			t.Fatalf("got %q", out)
		}
	}); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func TestStoragePathLikeCarbon(t *testing.T) {
	testenv.Files(t, "apt graphite-carbon", "/usr/lib/python3/dist-packages/carbon/util.py")
	in := []string{"a.b.c", ".lead.dot", "some.metric;tag1=value2;tag2=value.2"}
	js, _ := json.Marshal(in)
	cmd := exec.Command("/usr/bin/python3", "-c", `
import json, sys
from carbon.util import TaggedSeries
print(json.dumps([[TaggedSeries.encode(n, "/", h) for h in (False, True)] for n in json.load(sys.stdin)]))
`)
	cmd.Stdin = strings.NewReader(string(js))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var want [][2]string
	json.Unmarshal(out, &want)
	for i, n := range in {
		for j, h := range []bool{false, true} {
			if got := StoragePath(n, "/", h); got != want[i][j] {
				t.Errorf("StoragePath(%q, %v) = %q, carbon %q", n, h, got, want[i][j])
			}
		}
	}
}

func TestValidatePath(t *testing.T) {
	ok := []string{"a", "a.b.c", "a-b_c.d:e", "x;tag=a/b", "héllo.wörld"}
	bad := []string{"", "a/b", "../etc.passwd", "a..b", ".a", "a.", "a\x00b", "a\nb", `a\b`, "_tagged.x", "_tagged",
		strings.Repeat("x", 256), strings.Repeat("a.", 600) + "a"}
	for _, n := range ok {
		if err := ValidatePath([]byte(n), 0); err != nil {
			t.Errorf("%q rejected: %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidatePath([]byte(n), 0); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
	if err := ValidatePath([]byte("abcdef"), 5); err == nil {
		t.Error("maxLen not enforced")
	}
}

func newIndex(t *testing.T, series ...string) *TagIndex {
	x := NewTagIndex()
	for _, s := range series {
		n, err := Normalize(nil, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := x.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func TestFindSeries(t *testing.T) {
	x := newIndex(t,
		"cpu;host=web01;dc=eu;env=prod",
		"cpu;host=web02;dc=eu;env=dev",
		"cpu;host=db01;dc=us",
		"mem;host=web01;dc=eu;env=prod",
		"disk;host=web01",
	)
	if added, _ := x.Add([]byte("cpu;dc=eu;env=prod;host=web01")); added || x.Len() != 5 {
		t.Errorf("re-add: %v len %d", added, x.Len())
	}
	cases := []struct {
		exprs []string
		want  string
	}{
		{[]string{"name=cpu"}, "[cpu;dc=eu;env=dev;host=web02 cpu;dc=eu;env=prod;host=web01 cpu;dc=us;host=db01]"},
		{[]string{"name=cpu", "env=prod"}, "[cpu;dc=eu;env=prod;host=web01]"},
		{[]string{"name=cpu", "env!=prod"}, "[cpu;dc=eu;env=dev;host=web02 cpu;dc=us;host=db01]"},
		{[]string{"name=cpu", "env="}, "[cpu;dc=us;host=db01]"}, // missing tag = empty value
		{[]string{"host=~web"}, "[cpu;dc=eu;env=dev;host=web02 cpu;dc=eu;env=prod;host=web01 disk;host=web01 mem;dc=eu;env=prod;host=web01]"},
		{[]string{"host=~eb"}, "[]"}, // anchored at the start
		{[]string{"host=~.*01", "name!=~d.*"}, "[cpu;dc=eu;env=prod;host=web01 cpu;dc=us;host=db01 mem;dc=eu;env=prod;host=web01]"},
		{[]string{"env!="}, "[cpu;dc=eu;env=dev;host=web02 cpu;dc=eu;env=prod;host=web01 mem;dc=eu;env=prod;host=web01]"},
		{[]string{"dc=eu", "host!=~web0[12]"}, "[]"},
		{[]string{"name=nope"}, "[]"},
	}
	for _, c := range cases {
		got, err := x.FindSeries(c.exprs)
		if err != nil || fmt.Sprint(got) != c.want {
			t.Errorf("%v: %v %v, want %s", c.exprs, got, err, c.want)
		}
	}
	for _, bad := range [][]string{{"env!=prod"}, {"env=~.*"}, {"env="}, {"bad"}, {"a=~("}, {"=x"}} {
		if _, err := x.FindSeries(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if !x.Delete("cpu;dc=us;host=db01") || x.Delete("cpu;dc=us;host=db01") {
		t.Error("Delete")
	}
	if got, _ := x.FindSeries([]string{"dc=us"}); len(got) != 0 {
		t.Errorf("after delete: %v", got)
	}
	if got, _ := x.ListTags("", 0); fmt.Sprint(got) != "[dc env host name]" {
		t.Errorf("tags after delete: %v", got)
	}
}

func TestListingsAndAutocomplete(t *testing.T) {
	x := newIndex(t,
		"cpu;host=web01;dc=eu;env=prod",
		"cpu;host=web02;dc=eu;env=dev",
		"cpu;host=db01;dc=us;rack=r1",
		"mem;host=web01;dc=eu;env=prod",
	)
	check := func(what string, got any, err error, want string) {
		t.Helper()
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("%s: %v %v, want %s", what, got, err, want)
		}
	}
	got, err := x.ListTags("", 0)
	check("ListTags", got, err, "[dc env host name rack]")
	got, err = x.ListTags("e|h", 0)
	check("ListTags filter", got, err, "[env host]")
	got, err = x.ListTags("", 2)
	check("ListTags limit", got, err, "[dc env]")
	vc, err := x.ListValues("host", "web", 0)
	check("ListValues", vc, err, "[{web01 2} {web02 1}]")
	got, err = x.AutoCompleteTags(nil, "r", 0)
	check("tags prefix", got, err, "[rack]")
	got, err = x.AutoCompleteTags([]string{"name=cpu"}, "", 0)
	check("tags exprs", got, err, "[dc env host rack]")
	got, err = x.AutoCompleteTags([]string{"name=cpu", "dc=eu"}, "", 1)
	check("tags exprs limit", got, err, "[env]")
	got, err = x.AutoCompleteValues(nil, "host", "w", 0)
	check("values prefix", got, err, "[web01 web02]")
	got, err = x.AutoCompleteValues([]string{"name=mem"}, "host", "", 0)
	check("values exprs", got, err, "[web01]")
	got, err = x.AutoCompleteValues([]string{"name=cpu"}, "env", "", 0)
	check("values exprs skip missing", got, err, "[dev prod]")
}

func FuzzNormalize(f *testing.F) {
	for _, n := range names {
		f.Add([]byte(n))
	}
	f.Fuzz(func(t *testing.T, name []byte) {
		n, err := Normalize(nil, name)
		if err != nil {
			return
		}
		// Canonical form is a fixed point.
		n2, err := Normalize(nil, n)
		if err != nil || string(n2) != string(n) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", name, n, n2, err)
		}
		_ = ValidatePath(n, 0)
		_, _ = Parse(string(n))
	})
}

func BenchmarkNormalize(b *testing.B) {
	dst := make([]byte, 0, 128)
	for _, c := range []struct{ name, in string }{
		{"plain", "servers.web01.cpu.load"},
		{"canonical", "cpu.load;dc=eu;env=prod;host=web01"},
		{"unsorted", "cpu.load;host=web01;dc=eu;env=prod"},
	} {
		in := []byte(c.in)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				dst, _ = Normalize(dst, in)
			}
		})
	}
}

func BenchmarkValidatePath(b *testing.B) {
	name := []byte("servers.web01.cpu.total.user")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if ValidatePath(name, 0) != nil {
			b.Fatal("rejected")
		}
	}
}

// TestNormalizeRefusesUnreadableForms covers names carbon accepts although
// its canonical form of them cannot be parsed again (carbon 1.1:
// ';{0="0"}' -> ';;0=0', "no metric found"; 'm;b="};a={' -> 'm;a={;b="}',
// "invalid segment"). Plumbago refuses them, so a stored name always
// normalizes to itself (found by FuzzNormalize).
func TestNormalizeRefusesUnreadableForms(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`;{0="0"}`, `invalid tagged series: character ';' is not allowed in metric name of ";{0=\"0\"}"`},
		{`a;b{c="1"}`, `invalid tagged series: character ';' is not allowed in metric name of "a;b{c=\"1\"}"`},
		{`m;b="};a={`, `invalid tagged series: canonical form of "m;b=\"};a={" would read as OpenMetrics`},
	} {
		got, err := Normalize(nil, []byte(c.in))
		if err == nil || err.Error() != c.want || !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want error %s", c.in, got, err, c.want)
		}
	}
	// The same characters in a form that reads back are still accepted.
	got, err := Normalize(nil, []byte(`m;b=x";a={`))
	if err != nil || string(got) != `m;a={;b=x"` {
		t.Errorf("got %q, %v", got, err)
	}
}
