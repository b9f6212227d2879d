package cache

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plumbago/plumbago/storage"
	"github.com/plumbago/plumbago/storage/index"
	"github.com/plumbago/plumbago/storage/whisper"
)

// partialSetup is a real whisper store with 1,000 good series and one whose
// file is corrupt, behind a cache with a write-ahead log. The writer only
// runs when Sync forces it (FlushInterval is an hour).
type partialSetup struct {
	c      *Cache
	st     *whisper.Store
	wal    string
	bad    string // the corrupt file
	ts     int64
	points int // per series
}

const goodSeries = 1000

func newPartialSetup(t *testing.T, maxRetries int) *partialSetup {
	t.Helper()
	dir := t.TempDir()
	st, err := whisper.Open(whisper.Options{Dir: filepath.Join(dir, "whisper"), Index: index.New()})
	if err != nil {
		t.Fatal(err)
	}
	<-st.ScanDone()
	t.Cleanup(func() { st.Close() })
	bad, err := st.FilePath("bad.series")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	// A header naming aggregation type 99: not a whisper file.
	junk := make([]byte, 4096)
	junk[3] = 99
	if err := os.WriteFile(bad, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	p := &partialSetup{st: st, wal: filepath.Join(dir, "wal"), bad: bad, points: 5}
	p.ts = time.Now().Unix() - 120
	p.c, err = New(st, nil, Options{
		Shards: 4, FlushInterval: time.Hour, Step: step10, WALDir: p.wal,
		MaxWriteRetries: maxRetries, RetryBackoff: time.Millisecond, MaxRetryBackoff: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	pr := p.c.NewProducer()
	for k := 0; k < p.points; k++ {
		for i := 0; i < goodSeries; i++ {
			pr.AddPoint([]byte(fmt.Sprintf("good.s%04d", i)), p.ts+int64(k)*10, float64(i+k))
		}
		pr.AddPoint([]byte("bad.series"), p.ts+int64(k)*10, float64(k))
	}
	pr.Flush()
	return p
}

// walPoints counts the points of name (all points for "") in the
// write-ahead log's segments.
func walPoints(t *testing.T, dir, name string) int {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, sg := range segs {
		f, err := os.Open(filepath.Join(dir, sg.name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readSegment(f, func(nm []byte, _ int64, _ float64) {
			if name == "" || string(nm) == name {
				n++
			}
		}); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return n
}

func storedValues(t *testing.T, st storage.Store, name string, from, until int64) int {
	t.Helper()
	ser, err := st.Fetch(name, from, until, until)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", name, err)
	}
	n := 0
	for _, v := range ser.Values {
		if !math.IsNaN(v) {
			n++
		}
	}
	return n
}

// TestOneCorruptFileAmongMany: the 1,000 good series are committed and
// counted although one series of the same batch fails; the failing
// series' points stay buffered and in the write-ahead log, and are written
// once its file is repaired.
func TestOneCorruptFileAmongMany(t *testing.T) {
	p := newPartialSetup(t, 8)
	p.c.Sync()
	st := p.c.Stats()
	want := Stats{Received: goodSeries*5 + 5, Committed: goodSeries * 5, WriteRetries: 1, Buffered: 5, Waiting: 0}
	if st.Received != want.Received || st.Committed != want.Committed || st.WriteErrors != 0 ||
		st.WriteRetries != want.WriteRetries || st.Buffered != want.Buffered {
		t.Fatalf("after one cycle: %+v; want received %d committed %d retries %d buffered %d write errors 0",
			st, want.Received, want.Committed, want.WriteRetries, want.Buffered)
	}
	if n := walPoints(t, p.wal, "bad.series"); n != 5 {
		t.Fatalf("write-ahead log holds %d points of the failing series; want 5", n)
	}
	// A written series of another shard (the failing series' segment also
	// holds its own shard's other series, so it stays whole).
	other := ""
	for i := 0; i < goodSeries && other == ""; i++ {
		if name := fmt.Sprintf("good.s%04d", i); p.c.shardOfString(name) != p.c.shardOfString("bad.series") {
			other = name
		}
	}
	if n := walPoints(t, p.wal, other); n != 0 {
		t.Fatalf("write-ahead log still holds %d points of %s, written, of another shard; want 0", n, other)
	}
	if n := storedValues(t, p.st, "good.s0007", p.ts-10, p.ts+60); n != 5 {
		t.Fatalf("good series has %d stored values; want 5", n)
	}
	// The points are still visible to queries through the cache.
	if got := len(p.c.Buffered("bad.series", nil)); got != 5 {
		t.Fatalf("Buffered(bad.series) = %d points; want 5", got)
	}
	// Repair: remove the corrupt file; the retry creates it and writes.
	if err := os.Remove(p.bad); err != nil {
		t.Fatal(err)
	}
	p.c.Sync()
	st = p.c.Stats()
	if st.Committed != goodSeries*5+5 || st.Buffered != 0 || st.WriteErrors != 0 || st.WriteRetries != 1 {
		t.Fatalf("after the retry: %+v; want committed %d, buffered 0, write errors 0, retries 1", st, goodSeries*5+5)
	}
	if n := storedValues(t, p.st, "bad.series", p.ts-10, p.ts+60); n != 5 {
		t.Fatalf("repaired series has %d stored values; want 5", n)
	}
	if n := walPoints(t, p.wal, "bad.series"); n != 0 {
		t.Fatalf("write-ahead log still holds %d points of the written series; want 0", n)
	}
	if err := p.c.Close(); err != nil {
		t.Fatal(err)
	}
	if segs, _ := listSegments(p.wal); len(segs) != 0 {
		t.Fatalf("Close left %d segments; want none", len(segs))
	}
}

// TestPermanentFailureDroppedAfterRetries: a series that fails every write
// is tried 1 + MaxWriteRetries times, then its points are dropped and
// counted, and its write-ahead log segment goes.
func TestPermanentFailureDroppedAfterRetries(t *testing.T) {
	const retries = 3
	p := newPartialSetup(t, retries)
	for i := 0; i <= retries; i++ {
		p.c.Sync()
		st := p.c.Stats()
		if i < retries && (st.Buffered != 5 || st.WriteRetries != uint64(i+1) || st.WriteErrors != 0) {
			t.Fatalf("after attempt %d: %+v; want buffered 5, retries %d, write errors 0", i+1, st, i+1)
		}
		if i < retries && walPoints(t, p.wal, "bad.series") != 5 {
			t.Fatalf("after attempt %d the write-ahead log lost the failing points", i+1)
		}
	}
	st := p.c.Stats()
	if st.Committed != goodSeries*5 || st.WriteErrors != 5 || st.WriteRetries != retries || st.Buffered != 0 {
		t.Fatalf("after %d attempts: %+v; want committed %d, write errors 5, retries %d, buffered 0", retries+1, st, goodSeries*5, retries)
	}
	if n := walPoints(t, p.wal, "bad.series"); n != 0 {
		t.Fatalf("write-ahead log holds %d points of the dropped series; want 0", n)
	}
	if err := p.c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCloseKeepsUnwrittenInWAL: points the store still refuses at Close
// stay in the write-ahead log, and the next start replays and writes them.
func TestCloseKeepsUnwrittenInWAL(t *testing.T) {
	p := newPartialSetup(t, 8)
	if err := p.c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walPoints(t, p.wal, "bad.series"); n != 5 {
		t.Fatalf("after Close the write-ahead log holds %d points of the failing series; want 5", n)
	}
	// The kept segment also holds points of the shard's other series,
	// which were written; replaying them writes the same values again.
	kept := walPoints(t, p.wal, "")
	if err := os.Remove(p.bad); err != nil {
		t.Fatal(err)
	}
	c, err := New(p.st, nil, Options{Shards: 4, FlushInterval: time.Hour, Step: step10, WALDir: p.wal})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if n != kept || n < 5 || n >= goodSeries*5 {
		t.Fatalf("replayed %d points; want the %d of the kept segment (5 unwritten among them)", n, kept)
	}
	if got := storedValues(t, p.st, "bad.series", p.ts-10, p.ts+60); got != 5 {
		t.Fatalf("replayed series has %d stored values; want 5", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBackoffDoubles(t *testing.T) {
	c := &Cache{opts: Options{RetryBackoff: time.Second, MaxRetryBackoff: 10 * time.Second}}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for k, w := range want {
		if got := c.backoff(k + 1); got != w {
			t.Errorf("backoff(%d) = %v; want %v", k+1, got, w)
		}
	}
}
