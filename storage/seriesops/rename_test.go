package seriesops

import (
	"errors"
	"testing"
)

func TestCompileRewrite(t *testing.T) {
	cases := []struct {
		glob, repl, name, want string
		ok                     bool
	}{
		{"servers.*.cpu", `hosts.\1.cpu`, "servers.web1.cpu", "hosts.web1.cpu", true},
		{"servers.*.cpu", `hosts.\1.cpu`, "servers.web1.mem", "", false},
		{"a.{x,y}.*", `b.\2.\1`, "a.y.z", "b.z.y", true},
		{"a.w?b[0-9].c", `\2\1`, "a.wxb7.c", "7x", true},
		{"a.[!x]", `z.\1`, "a.y", "z.y", true},
		{"a.[!x]", `z.\1`, "a.x", "", false},
		{"a.**", `b.\1`, "a.b.c.d", "b.b.c.d", true},
		{"a.(b).*", `\1`, "a.(b).c", "c", true},
		{"x.*.*.*.*.*.*.*.*.*.*", `\10.\1`, "x.1.2.3.4.5.6.7.8.9.10", "10.1", true},
	}
	for _, c := range cases {
		rw, err := compileRewrite(c.glob, c.repl)
		if err != nil {
			t.Errorf("compileRewrite(%q, %q): %v", c.glob, c.repl, err)
			continue
		}
		got, ok := rw.apply(c.name)
		if got != c.want || ok != c.ok {
			t.Errorf("%q → %q on %q = %q %v, want %q %v", c.glob, c.repl, c.name, got, ok, c.want, c.ok)
		}
	}
	for _, bad := range [][2]string{{"a.*", `\2`}, {"a.*", `\0`}, {"a.[x", "b"}, {"a.{x", "b"}} {
		if _, err := compileRewrite(bad[0], bad[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("compileRewrite(%q, %q) = %v, want ErrInvalid", bad[0], bad[1], err)
		}
	}
}

// FuzzCompileRewrite: any glob and replacement either fail with
// ErrInvalid or give a rewriter that never panics.
func FuzzCompileRewrite(f *testing.F) {
	for _, s := range [][3]string{
		{"servers.*.cpu", `hosts.\1.cpu`, "servers.web1.cpu"},
		{"a.{x,y}.*", `b.\2.\1`, "a.y.z"},
		{"a.w?b[0-9].c", `\2\1`, "a.wxb7.c"},
		{"a.**", `b.\1\`, "a.b"},
		{"[]]", `\99`, "]"},
		{"{,}", `\1`, ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, glob, repl, name string) {
		if len(glob) > 4096 || len(repl) > 4096 {
			return
		}
		rw, err := compileRewrite(glob, repl)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		rw.apply(name)
	})
}
