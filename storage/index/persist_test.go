package index

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
)

func names(x *Index) []string {
	var out []string
	x.Walk(func(n string) bool { out = append(out, n); return true })
	slices.Sort(out)
	return out
}

func TestSnapshotRoundTrip(t *testing.T) {
	x := newIndex(sample...)
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v (buffer %d)", n, err, buf.Len())
	}
	y := newIndex("other.name")
	m, err := y.ReadFrom(&buf)
	if err != nil || m != n {
		t.Fatalf("ReadFrom = %d, %v", m, err)
	}
	want := append(slices.Clone(sample), "other.name")
	slices.Sort(want)
	if got := names(y); !slices.Equal(got, want) || y.Len() != len(want) {
		t.Fatalf("after ReadFrom: %q (Len %d)", got, y.Len())
	}
	// Exact encoding of a tiny index.
	z := newIndex("a.b", "a.c")
	buf.Reset()
	z.WriteTo(&buf)
	body := []byte("PLGIDX1\n\x00\x03a.b\x02\x01c\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00")
	want2 := binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, crcTable))
	if !bytes.Equal(buf.Bytes(), want2) {
		t.Fatalf("encoding = %q, want %q", buf.Bytes(), want2)
	}
	// Empty index.
	buf.Reset()
	New().WriteTo(&buf)
	e := New()
	if _, err := e.ReadFrom(&buf); err != nil || e.Len() != 0 {
		t.Fatalf("empty snapshot: %v", err)
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	x := newIndex(sample...)
	var buf bytes.Buffer
	x.WriteTo(&buf)
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XLGIDX1\n"), good[8:]...),
		"truncated": good[:len(good)-1],
		"flipped":   func() []byte { b := slices.Clone(good); b[12] ^= 1; return b }(),
		"trailing":  append(slices.Clone(good), 0),
	}
	for name, data := range cases {
		y := New()
		if _, err := y.ReadFrom(bytes.NewReader(data)); !errors.Is(err, errCorrupt) {
			t.Errorf("%s: err = %v, want corrupt", name, err)
		}
		if y.Len() != 0 {
			t.Errorf("%s: %d names added from a corrupt snapshot", name, y.Len())
		}
	}
	// A valid checksum over invalid records is still rejected.
	body := []byte("PLGIDX1\n\x05\x03a.b\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00")
	bad := binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable))
	if _, err := New().ReadFrom(bytes.NewReader(bad)); !errors.Is(err, errCorrupt) {
		t.Errorf("shared > prev: err = %v", err)
	}
	body = []byte("PLGIDX1\n\x00\x03a;b\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00")
	bad = binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable))
	if _, err := New().ReadFrom(bytes.NewReader(bad)); !errors.Is(err, errCorrupt) {
		t.Errorf("tagged name: err = %v", err)
	}
	body = []byte("PLGIDX1\n\x00\x03a.b\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00")
	bad = binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable))
	if _, err := New().ReadFrom(bytes.NewReader(bad)); !errors.Is(err, errCorrupt) {
		t.Errorf("count mismatch: err = %v", err)
	}
}

func FuzzReadFrom(f *testing.F) {
	var buf bytes.Buffer
	newIndex(sample...).WriteTo(&buf)
	f.Add(buf.Bytes())
	f.Add([]byte("PLGIDX1\n\x00\x00"))
	f.Add([]byte("PLGIDX1\n\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Re-seal with a valid checksum half the time so the record decoder
		// is exercised, not just the CRC check.
		if len(data) > 12 && data[len(data)-1]&1 == 0 {
			body := data[:len(data)-4]
			data = binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, crcTable))
		}
		x := New()
		if _, err := x.ReadFrom(bytes.NewReader(data)); err != nil {
			if x.Len() != 0 {
				t.Fatalf("error %v but %d names added", err, x.Len())
			}
			return
		}
		// Whatever was accepted must round-trip exactly.
		var out bytes.Buffer
		x.WriteTo(&out)
		y := New()
		if _, err := y.ReadFrom(&out); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names(x), names(y)) {
			t.Fatal("round trip differs")
		}
	})
}

func BenchmarkWriteTo1M(b *testing.B) {
	x := benchIndex()
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		x.WriteTo(&buf)
	}
	b.ReportMetric(float64(buf.Len())/float64(x.Len()), "bytes/name")
}

func BenchmarkReadFrom1M(b *testing.B) {
	var buf bytes.Buffer
	benchIndex().WriteTo(&buf)
	data := buf.Bytes()
	b.ReportAllocs()
	for b.Loop() {
		x := New()
		if _, err := x.ReadFrom(bytes.NewReader(data)); err != nil || x.Len() != benchHosts*benchMetrics {
			b.Fatal(err, x.Len())
		}
	}
}
