package pebble

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/storetest"
)

// TestDecodedCacheFollowsWrites reads a series (its blocks cached
// decoded), then rewrites, extends and deletes and re-creates it: every
// fetch answers what was written last, never a cached block.
func TestDecodedCacheFollowsWrites(t *testing.T) {
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	defer s.Close()
	write := func(name string, pts ...storage.Point) {
		t.Helper()
		if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: pts}}}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, want map[int64]float64) {
		t.Helper()
		for range 2 { // the second fetch is answered from the cache
			got, err := s.Fetch(name, testNow-1000, testNow, testNow)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range got.Values {
				ts := got.Start + int64(i)*got.Step
				w, ok := want[ts]
				if !ok {
					w = math.NaN()
				}
				if math.Float64bits(v) != math.Float64bits(w) && !(math.IsNaN(v) && math.IsNaN(w)) {
					t.Fatalf("%s at %d: %v, want %v", name, ts, v, w)
				}
			}
		}
	}
	want := map[int64]float64{}
	var pts []storage.Point
	for i := int64(0); i < 50; i++ {
		ts := testNow - 990 + 10*i
		ts -= ts % 10
		pts = append(pts, storage.Point{Timestamp: ts, Value: float64(i) + 0.5})
		want[ts] = float64(i) + 0.5
	}
	write("bc.x", pts...)
	check("bc.x", want)
	if hits := s.decodedEntries(); hits == 0 {
		t.Fatal("nothing cached after two fetches")
	}
	// Overwrite one slot and add another: the block's bytes change.
	write("bc.x", storage.Point{Timestamp: pts[10].Timestamp, Value: -7}, storage.Point{Timestamp: pts[49].Timestamp + 10, Value: 99})
	want[pts[10].Timestamp] = -7
	want[pts[49].Timestamp+10] = 99
	check("bc.x", want)
	// Delete it and create it again with other values (the id may be reused).
	if _, _, err := s.DeleteSeries([]string{"bc.x"}); err != nil {
		t.Fatal(err)
	}
	write("bc.x", storage.Point{Timestamp: pts[3].Timestamp, Value: 3.25})
	check("bc.x", map[int64]float64{pts[3].Timestamp: 3.25})
}

// decodedEntries counts the blocks in the decoded-block cache.
func (s *Store) decodedEntries() int {
	n := 0
	for i := range s.decoded.shards {
		sh := &s.decoded.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// TestDecodedCacheBounded fills a small cache past its bound: every shard
// stays within its share.
func TestDecodedCacheBounded(t *testing.T) {
	c := newDecodedCache(decodedShards * 64 << 10) // 64 KiB a shard
	var buf slotBuf
	buf.reset()
	for i := range blockSlots {
		buf.set(i, float64(i))
	}
	enc := buf.appendEncode(nil)
	for i := range 1000 {
		k := makeDataKey(1, uint32(i)*1024, uint32(i))
		c.put(&k, enc, &buf, nil, 0)
		if b := c.get(&k); b == nil {
			t.Fatalf("block %d not cached right after put", i)
		}
	}
	for i := range c.shards {
		sh := &c.shards[i]
		if sh.bytes > sh.maxBytes {
			t.Errorf("shard %d holds %d bytes, bound %d", i, sh.bytes, sh.maxBytes)
		}
		var sum int64
		for _, b := range sh.m {
			sum += b.size()
		}
		if sum != sh.bytes {
			t.Errorf("shard %d counts %d bytes, holds %d", i, sh.bytes, sum)
		}
	}
	k := makeDataKey(1, 999*1024, 999)
	ser := &series{}
	if b := c.get(&k); b == nil || b.current(ser, 0) {
		t.Error("a block cached for another series is current for this one")
	}
}

// TestCopyPresent compares copyPresent with a slot-by-slot copy on random
// presence bitmaps and ranges.
func TestCopyPresent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		var s slotBuf
		s.reset()
		density := r.Float64()
		for i := range blockSlots {
			if r.Float64() < density {
				s.set(i, float64(i)+0.25)
			}
		}
		first := r.IntN(blockSlots)
		last := first + r.IntN(blockSlots-first+1)
		got := make([]float64, last-first)
		want := make([]float64, last-first)
		for i := range got {
			got[i], want[i] = -1, -1
		}
		for slot := first; slot < last; slot++ {
			if s.has(slot) {
				want[slot-first] = s.vals[slot]
			}
		}
		if !s.empty() {
			copyPresent(got, first, last, &s.present, s.vals[s.lo:s.hi+1], s.lo)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("density %.2f [%d, %d): slot %d = %v, want %v", density, first, last, first+i, got[i], want[i])
			}
		}
	}
}

// TestDecodedCacheAbsentBlock reads a range whose newest block holds
// nothing yet (cached as absent), then writes into that block: the next
// fetch sees the point, and a series never written there stays empty.
func TestDecodedCacheAbsentBlock(t *testing.T) {
	s := openTest(t, storetest.SuiteRules(t), func() int64 { return testNow })
	defer s.Close()
	write := func(name string, pts ...storage.Point) {
		t.Helper()
		if err := s.Write(&storage.Batch{Series: []storage.SeriesPoints{{Name: name, Points: pts}}}); err != nil {
			t.Fatal(err)
		}
	}
	// 6.5 days: the 5m archive, blocks of 1024 x 5 min; a point 6 days
	// back is in the block before the range's last, which stays empty.
	// (.xff0: every point reaches the 5m archive.)
	fetch := func(name string) *storage.Series {
		t.Helper()
		got, err := s.Fetch(name, testNow-6*86400-43200, testNow, testNow)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	old := int64(testNow - 6*86400)
	write("ab.x.xff0", storage.Point{Timestamp: old, Value: 1.5})
	write("ab.y.xff0", storage.Point{Timestamp: old, Value: 2.5})
	for range 2 {
		fetch("ab.x.xff0")
		fetch("ab.y.xff0")
	}
	absent := 0
	for i := range s.decoded.shards {
		sh := &s.decoded.shards[i]
		sh.mu.Lock()
		for _, b := range sh.m {
			if b.absent {
				absent++
			}
		}
		sh.mu.Unlock()
	}
	if absent == 0 {
		t.Fatal("no absent block cached")
	}
	recent := int64(testNow - 5)
	write("ab.x.xff0", storage.Point{Timestamp: recent, Value: 42})
	for _, name := range []string{"ab.x.xff0", "ab.y.xff0"} {
		got := fetch(name)
		n, last := 0, math.NaN()
		for i, v := range got.Values {
			if !math.IsNaN(v) {
				n++
				if got.Start+int64(i)*got.Step > testNow-got.Step*2 {
					last = v
				}
			}
		}
		switch {
		case name == "ab.x.xff0" && (n != 2 || last != 42):
			t.Fatalf("%s: %d points, newest %v; want 2 and 42", name, n, last)
		case name == "ab.y.xff0" && (n != 1 || !math.IsNaN(last)):
			t.Fatalf("%s: %d points, newest %v; want 1 and none", name, n, last)
		}
	}
}
