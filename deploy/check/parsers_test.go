package check

import (
	"reflect"
	"strings"
	"testing"
)

func TestPromRefs(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want Refs
	}{
		{`rate(plumbago_points_received_total{job="plumbago"}[$__rate_interval])`,
			Refs{Selectors: []Selector{{"plumbago_points_received_total", []string{"job"}}}}},
		{`sum by (reason) (rate(plumbago_points_dropped_total{job="plumbago", reason!~"a,b}"}[5m]))`,
			Refs{Selectors: []Selector{{"plumbago_points_dropped_total", []string{"job", "reason"}}}, Grouping: []string{"reason"}}},
		{`histogram_quantile(0.99, sum by (le) (rate(x_bucket{job="g"}[1m]))) * 1e3`,
			Refs{Selectors: []Selector{{"x_bucket", []string{"job"}}}, Grouping: []string{"le"}}},
		{`a - b offset 5m`, Refs{Selectors: []Selector{{"a", nil}, {"b", nil}}}},
		{`up`, Refs{Selectors: []Selector{{"up", nil}}}},
		{`{__name__="foo", job="x"}`, Refs{Selectors: []Selector{{"foo", []string{"job"}}}}},
		{`sum(a) by (x, y) / on(x) group_left(z) b`,
			Refs{Selectors: []Selector{{"a", nil}, {"b", nil}}, Grouping: []string{"x", "y", "x", "z"}}},
	} {
		got, err := PromRefs(tc.expr)
		if err != nil {
			t.Errorf("PromRefs(%q): %v", tc.expr, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("PromRefs(%q) = %+v, want %+v", tc.expr, got, tc.want)
		}
	}
	for _, bad := range []string{`a{b="c"`, `rate(a[5m`, `a{b=c}`, `a{="x"}`, `"open`} {
		if _, err := PromRefs(bad); err == nil {
			t.Errorf("PromRefs(%q): no error", bad)
		}
	}
}

func FuzzPromRefs(f *testing.F) {
	for _, s := range []string{`rate(a{b="c"}[5m])`, `sum by (x) (y)`, `{__name__="z"}`, `a{b=~"\"}"}`, "`", `$__x[`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		refs, err := PromRefs(s)
		if err != nil {
			return
		}
		for _, sel := range refs.Selectors {
			if sel.Metric != "" && !strings.Contains(s, sel.Metric) {
				t.Fatalf("metric %q not in %q", sel.Metric, s)
			}
		}
	})
}

func TestParseDockerfile(t *testing.T) {
	src := "# syntax=docker/dockerfile:1\nARG V=1.2\n\nFROM golang:${V} AS build\nRUN a \\\n  # comment inside\n  b\nCOPY --from=x --chown=1:2 /a /b\nfrom scratch\nUSER 1\nCMD [\"/x\", \"y\"]\n"
	d, err := ParseDockerfile(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	if d.GlobalArgs["V"] != "1.2" || len(d.Stages) != 2 {
		t.Fatalf("args %v, %d stages", d.GlobalArgs, len(d.Stages))
	}
	b := d.Stage("build")
	if b == nil || b.Base != "golang:${V}" {
		t.Fatalf("build stage %+v", b)
	}
	want := []Instruction{{"RUN", "a  b", 5}, {"COPY", "--from=x --chown=1:2 /a /b", 8}}
	if !reflect.DeepEqual(b.Instructions, want) {
		t.Fatalf("instructions %+v, want %+v", b.Instructions, want)
	}
	flags, rest := b.Instructions[1].Flags()
	if flags["from"] != "x" || flags["chown"] != "1:2" || rest != "/a /b" {
		t.Fatalf("flags %v rest %q", flags, rest)
	}
	if argv, ok := Exec(d.Stages[1].Find("CMD")[0].Args); !ok || !reflect.DeepEqual(argv, []string{"/x", "y"}) {
		t.Fatalf("exec %v %v", argv, ok)
	}
	for _, bad := range []string{"", "RUN x\n", "FROM a b c d\n", "FROM a\nRUN x \\\n", "FROM a\nRUN <<EOF\nx\nEOF\n"} {
		if _, err := ParseDockerfile(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseDockerfile(%q): no error", bad)
		}
	}
}

func FuzzParseDockerfile(f *testing.F) {
	f.Add("FROM a AS b\nRUN x \\\n y\nCOPY --from=b /x /y\n")
	f.Add("ARG X=1\nFROM scratch\nCMD [\"a\"]\n")
	f.Add("FROM\tx\n#c\n\n")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDockerfile(strings.NewReader(s))
		if err != nil {
			return
		}
		if len(d.Stages) == 0 {
			t.Fatal("no stages without error")
		}
		for _, st := range d.Stages {
			for _, in := range st.Instructions {
				in.Flags()
				Exec(in.Args)
			}
		}
	})
}

func TestIgnore(t *testing.T) {
	ig, err := ParseIgnore(strings.NewReader("# c\n*\n!go.mod\n!cmd/\n**/*_test.go\n**/testdata/\n!cmd/keep_test.go\n"))
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{
		"go.mod": false, "go.sum": true, "cmd/plumbago/main.go": false, "cmd/plumbago/main_test.go": true,
		"cmd/keep_test.go": false, "cmd/x/testdata/a": true, "docs/a.md": true, "README.md": true,
	} {
		if got := ig.Excluded(p); got != want {
			t.Errorf("Excluded(%q) = %v, want %v", p, got, want)
		}
	}
	for dir, want := range map[string]bool{"docs": true, "cmd": false, "data/whisper": true} {
		if got := ig.SkipDir(dir); got != want {
			t.Errorf("SkipDir(%q) = %v, want %v", dir, got, want)
		}
	}
	// A pattern re-including a file below an excluded directory keeps it walked.
	ig2, _ := ParseIgnore(strings.NewReader("*\n!docs/keep.md\n"))
	if ig2.SkipDir("docs") || ig2.Excluded("docs/keep.md") || !ig2.Excluded("docs/other.md") {
		t.Error("docs/keep.md re-include not honoured")
	}
}

func FuzzIgnore(f *testing.F) {
	f.Add("*\n!cmd/\n**/*_test.go\n", "cmd/a_test.go")
	f.Add("# c\n!a/[b-c]?\n/x/**\n", "x/y/z")
	f.Add("\\\n[\n", "a")
	f.Fuzz(func(t *testing.T, patterns, p string) {
		ig, err := ParseIgnore(strings.NewReader(patterns))
		if err != nil {
			return
		}
		if ig.SkipDir(p) && !ig.Excluded(p) {
			t.Fatalf("SkipDir(%q) without Excluded", p)
		}
	})
}
