package clickhouse

import (
	"errors"
	"slices"
	"testing"

	"github.com/plumbago/plumbago/storage/tagged"
)

// TestTaggedPathForms: Plumbago's tagged names and carbon-clickhouse's
// Paths convert both ways (tags sorted by key there, by "k=v" here;
// escapes as carbon-clickhouse's url.PathEscape and url.QueryEscape).
func TestTaggedPathForms(t *testing.T) {
	for _, c := range []struct{ name, path string }{
		{"a.b", "a.b"},
		{"cpu.load;dc=eu;host=h1", "cpu.load?dc=eu&host=h1"},
		// "a-b=2" sorts before "a=1" in Plumbago's form; by key, a < a-b.
		{"m;a-b=2;a=1", "m?a=1&a-b=2"},
		{"disk used;path=/var/log;q=x&y=z+1 %", "disk%20used?path=%2Fvar%2Flog&q=x%26y%3Dz%2B1+%25"},
	} {
		if got := chPath(c.name); got != c.path {
			t.Errorf("chPath(%q) = %q, want %q", c.name, got, c.path)
		}
		got, err := plumbagoName(c.path)
		if err != nil || got != c.name {
			t.Errorf("plumbagoName(%q) = %q, %v; want %q", c.path, got, err, c.name)
		}
	}
	// Paths carbon-clickhouse may hold in another order or with tags
	// carbon drops come back canonical.
	for path, want := range map[string]string{
		"m?host=h1&dc=eu":     "m;dc=eu;host=h1",
		"m?name=x&dc=eu":      "m;dc=eu",
		"m?dc=eu&dc=us":       "m;dc=us",
		"m%2Ex?k=v%3Bw%3D1":   "",
		"m?k=v%3B":            "",
		"?k=v":                "",
		"m?name=x":            "",
		"m?k":                 "",
		"m?k=":                "",
		"m?k=%zz":             "",
		"m?k=~v":              "",
		"m?a%3Db=1":           "",
		"m%3Bx?k=v":           "",
		"m?k=v&&j=w":          "",
		"m?k=v&j=w&__name__=": "",
		"m;k=v":               "",
	} {
		got, err := plumbagoName(path)
		if want == "" {
			if !errors.Is(err, errTaggedPath) {
				t.Errorf("plumbagoName(%q) = %q, %v; want an errTaggedPath", path, got, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("plumbagoName(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	if got, want := taggedRowTags("disk used;path=/v;a-b=2;a=1"), []string{"__name__=disk%20used", "a=1", "a-b=2", "path=/v"}; !slices.Equal(got, want) {
		t.Errorf("taggedRowTags = %q, want %q", got, want)
	}
}

// FuzzTaggedPath: any path read from ClickHouse converts without a panic,
// to a canonical Plumbago name, bounded; a Plumbago name survives the
// round trip through carbon-clickhouse's form.
func FuzzTaggedPath(f *testing.F) {
	for _, s := range []string{"a.b", "cpu.load?dc=eu&host=h1", "m?a=1&a-b=2", "disk%20used?path=%2Fvar&q=x%26y+1",
		"m?k=%zz", "?k=v", "m?name=x", "m?k", "cpu.load;dc=eu;host=h1", "m;a-b=2;a=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if name, err := plumbagoName(s); err == nil && name != s {
			if len(name) > len(s)+maxTaggedPath/8 {
				t.Fatalf("plumbagoName(%q) grew to %d bytes", s, len(name))
			}
			n, nerr := tagged.Normalize(nil, []byte(name))
			if nerr != nil || string(n) != name {
				t.Fatalf("plumbagoName(%q) = %q, not canonical (%q, %v)", s, name, n, nerr)
			}
		}
		n, err := tagged.Normalize(nil, []byte(s))
		if err != nil || !tagged.IsTagged(n) || string(n) != s {
			return
		}
		back, err := plumbagoName(chPath(s))
		if err != nil || back != s {
			t.Fatalf("round trip of %q via %q = %q, %v", s, chPath(s), back, err)
		}
	})
}
