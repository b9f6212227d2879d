package pebble

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/schema"
)

// loadTestNow is the clock of the load tests: points at loadTestNow-60.
const loadTestNow = 1_700_000_000

func loadTestOptions(dir string) Options {
	opts := DefaultOptions()
	opts.Dir = dir
	opts.Rules = schema.Default()
	opts.Now = func() int64 { return loadTestNow }
	opts.Index = index.New()
	return opts
}

// writeNames stores name i with the value i at loadTestNow-60.
func writeNames(t *testing.T, s *Store, names []string) {
	t.Helper()
	var b storage.Batch
	for i, n := range names {
		b.Series = append(b.Series, storage.SeriesPoints{Name: n, Points: []storage.Point{{Timestamp: loadTestNow - 60, Value: float64(i)}}})
	}
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
}

func waitLoaded(t *testing.T, s *Store) {
	t.Helper()
	select {
	case <-s.Loaded():
	case <-time.After(60 * time.Second):
		t.Fatal("names not loaded within 60 s")
	}
}

// lastValue fetches name's value at loadTestNow-60.
func lastValue(t *testing.T, s *Store, name string) float64 {
	t.Helper()
	ser, err := s.Fetch(name, loadTestNow-120, loadTestNow, loadTestNow)
	if err != nil {
		t.Fatalf("fetch %q: %v", name, err)
	}
	i := int((loadTestNow - 60 - ser.Start) / ser.Step)
	return ser.Values[i]
}

// TestLoadNamesInBackground reopens a store of 10,000 series (plus tagged
// ones) with the names loaded in the background: Write and Fetch issued at
// once wait for the names, the index ends up with every name, and a series
// created after the load gets an id of its own (its points and the stored
// ones' stay apart after another reopen).
func TestLoadNamesInBackground(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 10000 {
		names = append(names, fmt.Sprintf("app.h%03d.m%02d", i/100, i%100))
	}
	names = append(names, "tagged;dc=a;host=h1", "tagged;dc=b;host=h1")
	writeNames(t, s, names)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	opts := loadTestOptions(dir)
	opts.LoadNamesInBackground = true
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	// Issued before the load is known to be done: both wait for it.
	if got := lastValue(t, s, "app.h099.m99"); got != 9999 {
		t.Fatalf("app.h099.m99 = %v, want 9999", got)
	}
	writeNames(t, s, []string{"new.series"}) // value 0
	waitLoaded(t, s)
	if err := s.LoadErr(); err != nil {
		t.Fatal(err)
	}
	if n := opts.Index.Len(); n != 10001 { // the tree's names; the tagged ones are below
		t.Fatalf("index holds %d names, want 10001", n)
	}
	nodes, err := opts.Index.Find("app.h042.*")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, n.Path)
	}
	var want []string
	for i := range 100 {
		want = append(want, fmt.Sprintf("app.h042.m%02d", i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("find app.h042.* = %v, want %v", got, want)
	}
	tagged, err := opts.Index.FindTagged([]string{"dc=b"})
	if err != nil || !slices.Equal(tagged, []string{"tagged;dc=b;host=h1"}) {
		t.Fatalf("seriesByTag dc=b = %v, %v", tagged, err)
	}
	if st := s.Stats(); st.Series != 10003 {
		t.Fatalf("Stats().Series = %d, want 10003", st.Series)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(loadTestOptions(dir)) // loaded before Open returns
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, want := range map[string]float64{"app.h000.m00": 0, "app.h050.m07": 5007, "new.series": 0, "tagged;dc=b;host=h1": 10001} {
		if got := lastValue(t, s, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if st := s.Stats(); st.Series != 10003 {
		t.Fatalf("Stats().Series = %d after reopen, want 10003", st.Series)
	}
}

// TestLoadNamesCloseWhileLoading closes a store whose names are still
// loading: Close returns without error and the store opens again whole.
func TestLoadNamesCloseWhileLoading(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := range 50000 {
		names = append(names, fmt.Sprintf("c.h%03d.m%03d", i/1000, i%1000))
	}
	writeNames(t, s, names)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	opts := loadTestOptions(dir)
	opts.LoadNamesInBackground = true
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	<-s.Loaded() // closed by the stopped loader
	s, err = Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if st := s.Stats(); st.Series != 50000 {
		t.Fatalf("Stats().Series = %d, want 50000", st.Series)
	}
}

// TestLoadNamesBadRecord: a name record that does not decode fails a
// synchronous Open, and with the background load it is reported by
// LoadErr and Health, and writes are refused.
func TestLoadNamesBadRecord(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	writeNames(t, s, []string{"good.one"})
	if err := s.db.Set(nameKey(nil, "bad.one"), []byte{0xff}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(loadTestOptions(dir)); err == nil {
		t.Fatal("Open succeeded with a bad name record")
	}
	opts := loadTestOptions(dir)
	opts.LoadNamesInBackground = true
	s, err = Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	waitLoaded(t, s)
	if s.LoadErr() == nil || s.Health() == nil {
		t.Fatalf("LoadErr %v, Health %v: want both to report the bad record", s.LoadErr(), s.Health())
	}
	var b storage.Batch
	b.Series = []storage.SeriesPoints{{Name: "x.y", Points: []storage.Point{{Timestamp: loadTestNow - 60, Value: 1}}}}
	if err := s.Write(&b); err == nil || !errors.Is(err, s.LoadErr()) {
		t.Fatalf("Write after a failed load: %v, want the load error", err)
	}
}

// TestLoadSortedLookups: the first step of the load reads the names in
// strictly increasing order (what the binary search between the steps
// relies on, names with bytes above '.' and below it included), and
// lookups and Names answered from those entries give what the name map
// gives afterwards.
func TestLoadSortedLookups(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"a.b", "a.b.c", "a-b.c", "a.b-c", "a.bc", "a", "z", "A.x", "é.ü", "a.b~", "tagged;dc=a;h=1", "tagged;dc=a"}
	for i := range 3000 {
		names = append(names, fmt.Sprintf("m.h%d.x%d", i%37, i))
	}
	writeNames(t, s, names)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(loadTestOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case <-s.Indexed():
	default:
		t.Fatal("Indexed not closed after a synchronous Open")
	}
	s.writeMu.Lock()
	s.mu.Lock()
	_, err = s.readNames(map[uint32]*seriesSchema{}, newNameTable())
	s.mu.Unlock()
	s.writeMu.Unlock()
	if err == nil {
		t.Fatal("readNames without the schemas succeeded")
	}
	byID := map[uint32]*seriesSchema{}
	for _, sc := range s.schemas {
		byID[sc.id] = sc
	}
	entries, err := s.readNames(byID, newNameTable())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(names) {
		t.Fatalf("read %d names, want %d", len(entries), len(names))
	}
	for i := 1; i < len(entries); i++ {
		if entries[i-1].name >= entries[i].name {
			t.Fatalf("%q before %q", entries[i-1].name, entries[i].name)
		}
	}
	want := map[string]uint32{}
	for _, n := range names {
		want[n] = s.names.get(n).id
	}
	s.mu.Lock()
	s.sorted = entries
	s.mu.Unlock()
	for n, id := range want {
		if ser := s.lookup(n); ser == nil || ser.id != id {
			t.Fatalf("lookup %q between the steps: %v, want id %d", n, ser, id)
		}
	}
	for _, n := range []string{"", "a.b.", "a.b.c.d", "m.h1", "tagged", "zz", "0"} {
		if ser := s.lookup(n); ser != nil {
			t.Fatalf("lookup %q between the steps: id %d, want none", n, ser.id)
		}
	}
	got := s.Names()
	slices.Sort(got)
	sortedNames := slices.Sorted(maps.Keys(want))
	if !slices.Equal(got, sortedNames) {
		t.Fatalf("Names between the steps: %d names, want %d", len(got), len(sortedNames))
	}
	if got := lastValue(t, s, "a.b~"); got != 9 {
		t.Fatalf("a.b~ between the steps = %v, want 9", got)
	}
	s.mu.Lock()
	s.sorted = nil
	s.mu.Unlock()
}
