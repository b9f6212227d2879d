package tagged

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// FuzzFindSeries checks ParseExpr never panics and Find agrees with a
// brute-force evaluation of graphite-web's rules over every series.
func FuzzFindSeries(f *testing.F) {
	for _, s := range []string{"name=cpu", "host=~web", "env!=prod", "dc!=~e.*", "env=", "bad", "a=~(", "host=~^w.*2$", "x!="} {
		f.Add(s, "dc=eu")
	}
	names := []string{"cpu;dc=eu;env=prod;host=web01", "cpu;dc=eu;env=dev;host=web02", "cpu;dc=us;host=db01", "mem;dc=eu;host=web01"}
	x := NewTagIndex()
	for _, n := range names {
		if _, err := x.Add([]byte(n)); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, e1, e2 string) {
		got, err := x.FindSeries([]string{e1, e2})
		var es []Expr
		for _, s := range []string{e1, e2} {
			e, perr := ParseExpr(s)
			if perr != nil {
				if err == nil {
					t.Fatalf("%q parsed by FindSeries but not ParseExpr", s)
				}
				return
			}
			es = append(es, e)
		}
		if es[0].matches("") && es[1].matches("") {
			if !errors.Is(err, ErrAllMatchEmpty) {
				t.Fatalf("%q %q: %v, want ErrAllMatchEmpty", e1, e2, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q %q: %v", e1, e2, err)
		}
		var want []string
		for _, n := range names {
			tags, _ := Parse(n)
			ok := true
			for _, e := range es {
				ok = ok && bruteMatch(e, tags[e.Tag])
			}
			if ok {
				want = append(want, n)
			}
		}
		// names are in sorted order already except for mem.
		if fmt.Sprint(sorted(want)) != fmt.Sprint(got) {
			t.Fatalf("%q %q: got %v want %v", e1, e2, got, want)
		}
	})
}

func bruteMatch(e Expr, v string) bool {
	switch e.Op {
	case Eq:
		return v == e.Value
	case NotEq:
		return v != e.Value
	}
	re := regexp.MustCompile(`^(?:` + e.Value + `)`)
	m := re.MatchString(v)
	if e.Op == Match {
		return m
	}
	return !m
}

func sorted(l []string) []string {
	out := append([]string(nil), l...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && strings.Compare(out[j], out[j-1]) < 0; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
