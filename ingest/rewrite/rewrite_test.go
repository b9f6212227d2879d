package rewrite

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/plumbago/plumbago/internal/testenv"
)

var cases = []struct{ pat, repl, in string }{
	{`^collectd\.([a-z0-9]+)\.`, `\1.system.`, "collectd.host1.cpu.idle"},
	{`_`, `.`, "a_b_c"},
	{`\.`, `_`, "no.dots.here"},
	{`^(?P<first>[^.]+)\.(?P<second>[^.]+)`, `\g<second>.\g<first>`, "one.two.three"},
	{`(\w+)@(\w+)`, `\g<2>_at_\g<1>`, "x.user@host.y"},
	{`x`, `$1`, "axbxc"},
	{`a*`, `-`, "bc"},
	{`^prod\.`, ``, "prod.app.metric"},
	{`(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)`, `\11\10`, "abcdefghijk"},
	{`b`, `\\`, "abc"},
	{`b`, `[\.]`, "abc"},
	{`nomatch`, `zzz`, "abc"},
	{`é`, `e`, "café.au.lait"},
}

// TestAgainstPythonReSub checks each case against Python's re.sub, which is
// what carbon's RewriteRule.apply calls.
func TestAgainstPythonReSub(t *testing.T) {
	py := testenv.Command(t, "python3", "apt python3")
	in, _ := json.Marshal(cases2json())
	cmd := exec.Command(py, "-c", `
import json, re, sys
print(json.dumps([re.sub(p, r, s) for p, r, s in json.load(sys.stdin)]))
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
	for i, c := range cases {
		r, err := NewRule(c.pat, c.repl)
		if err != nil {
			t.Errorf("%q = %q: %v", c.pat, c.repl, err)
			continue
		}
		got := string(Ruleset{r}.Apply([]byte(c.in), nil))
		if got != want[i] {
			t.Errorf("re.sub(%q, %q, %q): got %q, python %q", c.pat, c.repl, c.in, got, want[i])
		}
	}
}

func cases2json() [][3]string {
	var out [][3]string
	for _, c := range cases {
		out = append(out, [3]string{c.pat, c.repl, c.in})
	}
	return out
}

func TestParseRewriteRules(t *testing.T) {
	rs, err := Parse(strings.NewReader(`
# carbon's example
[pre]
^collectd\.([a-z0-9]+)\. = \1.system.
_ = .
orphan line
(?<=x)y = z
[other]
a = b
[POST]
^agg\. = aggregated.
`))
	if err == nil || !strings.Contains(err.Error(), "line 6") || !strings.Contains(err.Error(), "line 7") {
		t.Errorf("err = %v, want lines 6 and 7 reported", err)
	}
	if len(rs.Pre) != 2 || len(rs.Post) != 1 || rs.Pre[1].Line != 5 {
		t.Fatalf("pre %d post %d", len(rs.Pre), len(rs.Post))
	}
	if got := string(rs.Pre.Apply([]byte("collectd.web01.cpu_idle"), nil)); got != "web01.system.cpu.idle" {
		t.Errorf("pre: %q", got)
	}
	if got := string(rs.Post.Apply([]byte("agg.x"), nil)); got != "aggregated.x" {
		t.Errorf("post: %q", got)
	}
	rs, err = Parse(strings.NewReader("[pre]\na = b\n[pre]\nc = d\n"))
	if err != nil || len(rs.Pre) != 1 || rs.Pre[0].Pattern != "c" {
		t.Errorf("repeated section should reset: %v %v", rs.Pre, err)
	}
	for _, bad := range []string{`\g<9>`, `\g<x`, `\q`, `\`, `\3`} {
		if _, err := NewRule(`(a)`, bad); err == nil {
			t.Errorf("replacement %q accepted", bad)
		}
	}
}

// Go's regexp skips an empty match right after a previous match, Python 3.7+
// does not: re.sub("a*", "-", "baaac") is "-b--c-" in Python, "-b-c-" here.
func TestEmptyMatchDifference(t *testing.T) {
	r, _ := NewRule("a*", "-")
	if got := string(Ruleset{r}.Apply([]byte("baaac"), nil)); got != "-b-c-" {
		t.Errorf("got %q", got)
	}
}

func TestApplyNoMatchDoesNotAllocate(t *testing.T) {
	rs, _ := Parse(strings.NewReader("[pre]\n^collectd\\. = c.\n_ = .\n"))
	name := []byte("servers.web01.cpu.idle")
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() {
		if out := rs.Pre.Apply(name, buf); &out[0] != &name[0] {
			t.Fatal("did not return name")
		}
	}); n != 0 {
		t.Errorf("%v allocs", n)
	}
}

func TestFilter(t *testing.T) {
	wl, err := ParseList(strings.NewReader("^servers\\.\n  # not a comment: a regex\n#comment\n\n^carbon\\.\n(\n"))
	if err == nil || wl.Len() != 3 {
		t.Fatalf("whitelist: %d patterns, err %v", wl.Len(), err)
	}
	bl, _ := ParseList(strings.NewReader("\\.secret\\.\n"))
	f := Filter{Whitelist: wl, Blacklist: bl}
	for name, want := range map[string]Verdict{
		"servers.a.cpu":              Accept,
		"carbon.agents.x":            Accept,
		"apps.x":                     WhitelistReject,
		"servers.secret.x":           BlacklistMatch,
		"apps.secret.x":              BlacklistMatch, // blacklist is checked first
		"x # not a comment: a regex": Accept,
	} {
		if got := f.Check([]byte(name)); got != want {
			t.Errorf("%q: %v, want %v", name, got, want)
		}
	}
	empty := Filter{}
	if empty.Check([]byte("anything")) != Accept {
		t.Error("empty filter rejects")
	}
	l, err := ParseListFile("/nonexistent/whitelist.conf")
	if err != nil || l.Len() != 0 {
		t.Errorf("missing file: %v %v", l, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("[pre]\n^a\\.(b) = \\1.x\n[post]\n_ = .\n")
	f.Add("[pre]\n(?P<n>x) = \\g<n>\\g<0>$\\\\\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, _ := Parse(strings.NewReader(s))
		if rs == nil {
			return
		}
		for _, line := range strings.Split(s, "\n") {
			rs.Pre.Apply([]byte(line), nil)
			rs.Post.Apply([]byte(line), make([]byte, 0, 8))
		}
		ParseList(strings.NewReader(s))
	})
}

func BenchmarkApply(b *testing.B) {
	rs, _ := Parse(strings.NewReader("[pre]\n^collectd\\.([a-z0-9]+)\\. = \\1.system.\n_ = .\n"))
	miss := []byte("servers.web01.cpu.idle")
	hit := []byte("collectd.web01.cpu_idle")
	buf := make([]byte, 0, 128)
	b.Run("no-match", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			rs.Pre.Apply(miss, buf)
		}
	})
	b.Run("two-rewrites", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf = rs.Pre.Apply(hit, buf)
		}
	})
}
