package cache

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestWALReplayAfterCrash abandons a cache without Close (as a kill -9
// would), then replays its log into a new cache over a fresh store.
func TestWALReplayAfterCrash(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 3, FlushInterval: time.Hour, SyncInterval: 10 * time.Millisecond, WALDir: dir, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	p := c.NewProducer()
	for i := 0; i < 100; i++ {
		for m := 0; m < 20; m++ {
			p.AddPoint([]byte("wal.m"+strconv.Itoa(m)), int64(1000+i), float64(m*1000+i))
		}
	}
	p.Flush()
	for c.ingested.Load() < 2000 {
		time.Sleep(time.Millisecond)
	}
	// The sync loop (every 10 ms) writes the log's buffers out: wait
	// until the segments on disk hold every point, as a crash would find
	// them.
	deadline := time.Now().Add(30 * time.Second)
	for logged := pointsOnDisk(t, dir); logged < 2000; logged = pointsOnDisk(t, dir) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2000 points in the log's segments after 30 s", logged)
		}
		time.Sleep(time.Millisecond)
	}
	if len(rec.points) != 0 {
		t.Fatal("points reached the store; the test needs them only in the buffer")
	}
	// "Crash": the first cache is abandoned, never closed.

	rec2 := newRecorder()
	c2, err := New(rec2, nil, Options{Shards: 2, FlushInterval: time.Hour, WALDir: dir, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	n, err := c2.Replay()
	if err != nil {
		t.Fatal(err)
	}
	if n != 2000 {
		t.Fatalf("replayed %d points; want 2000", n)
	}
	for m := 0; m < 20; m++ {
		pts := rec2.points["wal.m"+strconv.Itoa(m)]
		if len(pts) != 100 {
			t.Fatalf("wal.m%d: %d points after replay; want 100", m, len(pts))
		}
		for i, pt := range pts {
			if pt.Timestamp != int64(1000+i) || pt.Value != float64(m*1000+i) {
				t.Fatalf("wal.m%d point %d = %+v", m, i, pt)
			}
		}
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	left, _ := listSegments(dir)
	if len(left) != 0 {
		t.Fatalf("segments left after a clean close: %v", left)
	}
}

// pointsOnDisk counts the points the segments in dir hold now (a record
// not yet complete on disk ends its segment's count).
func pointsOnDisk(t *testing.T, dir string) int {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, sg := range segs {
		f, err := os.Open(filepath.Join(dir, sg.name))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := readSegment(f, func([]byte, int64, float64) {})
		f.Close()
		total += n
	}
	return total
}

// TestWALSegmentsDroppedAfterWrite checks the log does not grow while the
// backend keeps up: written segments are deleted.
func TestWALSegmentsDroppedAfterWrite(t *testing.T) {
	dir := t.TempDir()
	rec := newRecorder()
	c, err := New(rec, nil, Options{Shards: 1, FlushInterval: time.Hour, WALDir: dir, Step: step10})
	if err != nil {
		t.Fatal(err)
	}
	p := c.NewProducer()
	for round := 0; round < 5; round++ {
		p.AddPoint([]byte("x"), int64(round), 1)
		p.Flush()
		c.Sync()
	}
	segs, _ := listSegments(dir)
	if len(segs) != 1 {
		t.Fatalf("%d segments after five written cycles; want only the current one", len(segs))
	}
	c.Close()
}

func encodeRecord(entries ...[]byte) []byte {
	var payload []byte
	for _, e := range entries {
		payload = append(payload, e...)
	}
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(payload, crcTable))
	return append(b, payload...)
}

func encodeEntry(name string, ts int64, v float64) []byte {
	var b []byte
	b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
	b = append(b, name...)
	b = binary.LittleEndian.AppendUint64(b, uint64(ts))
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
}

func TestReadSegmentTornTail(t *testing.T) {
	good := append(encodeRecord(encodeEntry("a", 1, 1), encodeEntry("b", 2, 2)), encodeRecord(encodeEntry("c", 3, 3))...)
	f := func(data []byte, wantN int, wantErr bool) {
		t.Helper()
		var names []string
		n, err := readSegment(bytes.NewReader(data), func(name []byte, ts int64, v float64) { names = append(names, string(name)) })
		if n != wantN || len(names) != wantN || (err != nil) != wantErr {
			t.Fatalf("readSegment = %d points %v, err %v; want %d points, error %v", n, names, err, wantN, wantErr)
		}
	}
	f(good, 3, false)
	f(good[:len(good)-3], 2, true) // torn last record
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff // corrupt last record
	f(bad, 2, true)
	f(append(append([]byte(nil), good...), 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0), 3, true) // absurd length
	f(nil, 0, false)
	_ = os.Remove(filepath.Join(t.TempDir(), "none"))
}

func FuzzReadSegment(f *testing.F) {
	f.Add(encodeRecord(encodeEntry("a.b", 1, 1)))
	f.Add(append(encodeRecord(encodeEntry("a", 1, 1)), 1, 2, 3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		n, _ := readSegment(bytes.NewReader(data), func(name []byte, ts int64, v float64) {
			if len(name) > len(data) {
				t.Fatalf("name longer than input")
			}
		})
		if n*18 > len(data) {
			t.Fatalf("%d points from %d bytes", n, len(data))
		}
	})
}
