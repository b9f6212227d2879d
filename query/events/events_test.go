package events

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseTagInput(t *testing.T) {
	cases := map[string][]string{
		"":                  nil,
		"b a  a":            {"a", "b"},
		"a,b  x":            {"a", "b  x"},
		`é "q r" s`:         {"q r", "s", "é"},
		`x,y "q`:            {"q", "x", "y"},
		`"a,b" c`:           {"a,b", "c"},
		"a\tb c":            {"a\tb", "c"},
		` , ,`:              nil,
		`"unclosed, comma`:  {"comma", "unclosed"},
		`"" "  " x`:         {"x"},
		"\u00a0a\u00a0 b":   {"a", "b"},
		`one "two three"`:   {"one", "two three"},
		`a, "b c", d e`:     {"a", "b c", "d e"},
		`tag1 tag2 "tag 3"`: {"tag 3", "tag1", "tag2"},
	}
	for in, want := range cases {
		got := ParseTagInput(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseTagInput(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStoreFindAndPersist(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	add := func(when int64, what, tags string) int64 {
		id, err := s.Add(when*1e6, what, "d", tags)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	add(300, "c", "x y")
	add(100, "a", "x")
	add(200, "b", "y,z w")
	add(100, "a2", "")
	ids := func(evs []Event) string {
		var b []string
		for _, e := range evs {
			b = append(b, e.What)
		}
		return strings.Join(b, " ")
	}
	for _, c := range []struct {
		q    Query
		want string
	}{
		{Query{From: 0, Until: 1e12}, "a a2 b c"},
		{Query{From: 100e6, Until: 200e6}, "a a2 b"},
		{Query{From: 101e6, Until: 299e6}, "b"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"x"}}, "a c"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"x", "nope"}}, "a c"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"nope"}}, ""},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"z w"}}, "b"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"x", "y"}}, "c"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"x", "y"}, Set: "union"}, "a b c"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"x", "y"}, Set: "intersection"}, "c"},
		{Query{Until: 1e12, HasTags: true, Tags: []string{"y"}, Set: "intersection"}, "c"},
	} {
		if got := ids(s.Find(c.q)); got != c.want {
			t.Errorf("Find(%+v) = %q, want %q", c.q, got, c.want)
		}
	}
	if got := s.EventTimes(100, 300, []string{"y"}); !reflect.DeepEqual(got, []int64{200, 300}) {
		t.Errorf("EventTimes = %v", got)
	}
	s.Close()
	// A torn last line (crash while appending) is skipped on load.
	f, _ := os.OpenFile(filepath.Join(dir, fileName), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":9,"when":1,"wha`)
	f.Close()
	s2, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := ids(s2.Find(Query{Until: 1e12})); got != "a a2 b c" {
		t.Fatalf("reloaded: %q", got)
	}
	if e, ok := s2.Get(3); !ok || e.What != "b" || e.Tags != "y,z w" || e.When != 200e6 || e.Data != "d" {
		t.Fatalf("Get(3) = %+v %v", e, ok)
	}
	if id, _ := s2.Add(50e6, "new", "", ""); id != 5 {
		t.Fatalf("next id %d, want 5", id)
	}
}

func TestStoreBounds(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, MaxEvents: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 2500; i++ {
		if _, err := s.Add(i*1e6, "e", "", "t"); err != nil {
			t.Fatal(err)
		}
	}
	evs := s.Find(Query{Until: 1e12})
	if len(evs) != 3 || evs[0].ID != 2498 || s.Dropped() != 2497 {
		t.Fatalf("kept %+v, dropped %d", evs, s.Dropped())
	}
	// The file was compacted along the way (lines <= 2*3+1000).
	s.Close()
	b, _ := os.ReadFile(filepath.Join(dir, fileName))
	if n := strings.Count(string(b), "\n"); n > 1006 {
		t.Fatalf("file has %d lines", n)
	}
	s2, _ := Open(Options{Dir: dir, MaxEvents: 3})
	if got := s2.Len(); got != 3 {
		t.Fatalf("reloaded %d events", got)
	}
	s2.Close()
	// Byte bound: large events push out old ones.
	m, _ := Open(Options{MaxBytes: 10_000})
	for i := int64(0); i < 10; i++ {
		m.Add(i, "w", strings.Repeat("x", 3000), "")
	}
	if m.Len() != 3 {
		t.Fatalf("byte-bounded store holds %d events", m.Len())
	}
}
